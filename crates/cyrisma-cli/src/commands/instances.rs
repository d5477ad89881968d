//! `cyrisma instances ...`: the structure listing, provisioning, conversion, suspension, MFA,
//! instance authentication and waiting for provisioning.

use std::time::Duration;

use anyhow::Context as _;
use cyrisma_core::api::instances::create_instance;
use cyrisma_core::types::{InstanceStatus, InstanceType, MfaType};

use crate::args::{InstanceTypeArg, InstancesCommand, InstancesCreateArgs, InstancesListArgs, MfaArg, StatusArg};
use crate::commands::Context;
use crate::output::rows::{
    AuthenticatedRow, ConvertedRow, CreatedInstanceRow, InstanceDetailRow, InstanceRow, MfaRow, StatusChangeRow,
    mfa_label,
};

/// Runs an `instances` command.
pub(crate) async fn run(context: &Context, command: InstancesCommand) -> anyhow::Result<()> {
    let client = context.client()?;
    match command {
        InstancesCommand::List(args) => list(context, &client, &args).await,
        InstancesCommand::Get(args) => {
            let instance =
                client.instances().get(&args.id).await.with_context(|| format!("cannot get instance `{}`", args.id))?;
            context.out.api_one(&instance, &InstanceDetailRow::from_core(&instance))
        }
        InstancesCommand::Create(args) => create(context, &client, *args).await,
        InstancesCommand::Convert(args) => {
            let converted = client
                .instances()
                .convert(&args.id)
                .await
                .with_context(|| format!("cannot convert instance `{}`", args.id))?;
            let row = ConvertedRow {
                instance_id: converted.instance_id.clone(),
                name: converted.name.clone(),
                consulting_status: converted.consulting_status.clone(),
            };
            context.out.api_one(&converted, &row)
        }
        InstancesCommand::Suspend(args) => {
            let changed = client
                .instances()
                .suspend(&args.id)
                .await
                .with_context(|| format!("cannot suspend instance `{}`", args.id))?;
            let row = StatusChangeRow {
                instance_id: changed.instance_id.clone(),
                name: changed.name.clone(),
                status: changed.status.as_ref().map(|status| status.as_str().to_owned()),
            };
            context.out.api_one(&changed, &row)
        }
        InstancesCommand::Reactivate(args) => {
            let changed = client
                .instances()
                .reactivate(&args.id)
                .await
                .with_context(|| format!("cannot reactivate instance `{}`", args.id))?;
            let row = StatusChangeRow {
                instance_id: changed.instance_id.clone(),
                name: changed.name.clone(),
                status: changed.status.as_ref().map(|status| status.as_str().to_owned()),
            };
            context.out.api_one(&changed, &row)
        }
        InstancesCommand::SetMfa(args) => {
            let changed = client
                .instances()
                .set_mfa(&args.id, mfa_type(args.method))
                .await
                .with_context(|| format!("cannot set the mfa method of `{}`", args.id))?;
            let row =
                MfaRow { instance_id: changed.instance_id.clone(), mfa: changed.mfa_type.as_ref().map(mfa_label) };
            context.out.api_one(&changed, &row)
        }
        InstancesCommand::Authenticate(args) => {
            let login = client
                .instances()
                .authenticate(args.id.as_deref())
                .await
                .context("cannot authenticate instances for reporting")?;
            let mut rows: Vec<AuthenticatedRow> = login
                .succeeded_ids()
                .into_iter()
                .map(|instance_id| AuthenticatedRow { instance_id, result: "accepted" })
                .chain(
                    login
                        .failed_ids()
                        .into_iter()
                        .map(|instance_id| AuthenticatedRow { instance_id, result: "refused" }),
                )
                .collect();
            rows.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
            context.out.api_document(&login, &rows)
        }
        InstancesCommand::Wait(args) => {
            let instance = wait(context, &client, &args.id, args.wait_timeout).await?;
            context.out.api_one(&instance, &InstanceDetailRow::from_core(&instance))
        }
    }
}

async fn list(context: &Context, client: &cyrisma_transport::Client, args: &InstancesListArgs) -> anyhow::Result<()> {
    let mut instances = client.instances().list().await.context("cannot list instances")?;
    if let Some(wanted) = args.instance_type {
        let wanted = instance_type(wanted);
        instances.retain(|instance| instance.instance_type.as_ref() == Some(&wanted));
    }
    if let Some(wanted) = args.status {
        let wanted = match wanted {
            StatusArg::Provisioning => InstanceStatus::Provisioning,
            StatusArg::Active => InstanceStatus::Active,
            StatusArg::Suspended => InstanceStatus::Suspended,
        };
        instances.retain(|instance| instance.status.as_ref() == Some(&wanted));
    }
    instances.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    let rows: Vec<InstanceRow> = instances.iter().map(InstanceRow::from_core).collect();
    if rows.is_empty() {
        context.ui.note("no instances match");
    }
    context.out.api_rows(&instances, &rows)
}

async fn create(
    context: &Context,
    client: &cyrisma_transport::Client,
    args: InstancesCreateArgs,
) -> anyhow::Result<()> {
    let mut request = create_instance::Request::new(
        instance_type(args.instance_type),
        args.consulting,
        args.parent,
        args.name,
        args.short_name,
        args.country,
        args.email,
    );
    request.mfa_type = args.mfa.map(mfa_type);
    request.tenant_id = args.tenant_id;
    request.state = args.state;
    request.city = args.city;
    request.postal = args.postal;
    request.street = args.street;
    let created = client.instances().create(&request).await.context("cannot create the instance")?;
    let mut row = CreatedInstanceRow {
        instance_id: created.instance_id.clone(),
        agent_key: created.agent_key.clone(),
        status: None,
    };
    // The API's answer for `-o json`: the creation's object, and with `--wait` the instance's
    // fields that it lacks (its status, once active).
    let mut waited = serde_json::Map::new();
    if args.wait {
        let instance = wait(context, client, &created.instance_id, args.wait_timeout).await?;
        row.status = instance.status.as_ref().map(|status| status.as_str().to_owned());
        if let serde_json::Value::Object(fields) = serde_json::to_value(&instance)? {
            let sent = serde_json::to_value(&created)?;
            waited = fields.into_iter().filter(|(key, _)| sent.get(key).is_none()).collect();
        }
    } else {
        context.ui.note(&format!(
            "created `{}`; provisioning usually takes a few minutes: `cyrisma instances wait {}`",
            created.instance_id, created.instance_id
        ));
    }
    context.out.api_one(&CreatedAndWaited { created: &created, waited }, &row)
}

/// Waits until an instance is active, with a spinner.
pub(crate) async fn wait(
    context: &Context,
    client: &cyrisma_transport::Client,
    id: &str,
    timeout_secs: u64,
) -> anyhow::Result<cyrisma_core::types::Instance> {
    let spinner = context.ui.spinner(&format!("waiting for `{id}` to finish provisioning"));
    let result = client.instances().wait_until_active(id, Duration::from_secs(timeout_secs)).await;
    spinner.finish_and_clear();
    result.with_context(|| format!("instance `{id}` did not become active"))
}

fn instance_type(arg: InstanceTypeArg) -> InstanceType {
    match arg {
        InstanceTypeArg::Msp => InstanceType::Msp,
        InstanceTypeArg::Mssp => InstanceType::Mssp,
        InstanceTypeArg::Standard => InstanceType::Standard,
    }
}

fn mfa_type(arg: MfaArg) -> MfaType {
    match arg {
        MfaArg::None => MfaType::None,
        MfaArg::Email => MfaType::Email,
        MfaArg::Authenticator => MfaType::Authenticator,
    }
}

/// The answer to a creation, then the fields of the waited-for instance that it lacks.
#[derive(serde::Serialize)]
struct CreatedAndWaited<'a> {
    #[serde(flatten)]
    created: &'a cyrisma_core::types::CreatedInstance,
    #[serde(flatten)]
    waited: serde_json::Map<String, serde_json::Value>,
}
