//! `cyrisma api METHOD PATH`: the escape hatch for any call of the contract.
//!
//! The method and path are matched against the core's endpoint table, so the call goes through
//! the same request building, authentication, host validation, retries and error handling as
//! every typed command; only the answer is kept as raw JSON. `-f key=value` fields go into the
//! query string of body-less calls and into the form body of the others. Login and secret
//! rotation are refused here: `cyrisma auth status` and `cyrisma auth rotate-secret` do them
//! safely.

use std::marker::PhantomData;

use cyrisma_core::api::{RouteError, route};
use cyrisma_core::endpoint::{BodyKind, HostKind, Metadata, Params};
use cyrisma_core::wire::FieldError;
use cyrisma_core::{Endpoint, RequestError};
use cyrisma_transport::Client;

use crate::args::ApiArgs;
use crate::commands::Context;
use crate::exit::CliError;

/// Any endpoint `E`, with path parameters and fields given at run time and a raw JSON answer.
struct Raw<E> {
    params: Vec<(&'static str, String)>,
    fields: Vec<(&'static str, String)>,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> Endpoint for Raw<E> {
    const METADATA: Metadata = E::METADATA;
    type Response = serde_json::Value;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        self.params.iter().map(|(name, value)| (*name, value.as_str())).collect()
    }

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        if Self::METADATA.body == BodyKind::None {
            for (name, value) in &self.fields {
                query.push(name, value.clone());
            }
        }
        Ok(())
    }

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        if Self::METADATA.body == BodyKind::Form {
            for (name, value) in &self.fields {
                form.push(name, value.clone());
            }
        }
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<serde_json::Value, FieldError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        cyrisma_core::wire::from_slice(body)
    }
}

/// Runs `api`.
pub(crate) async fn run(context: &Context, args: ApiArgs) -> anyhow::Result<()> {
    let method = http::Method::from_bytes(args.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| CliError::usage(format!("`{}` is not an http method", args.method)))?;
    let (path, query) = match args.path.trim().split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (args.path.trim().to_owned(), None),
    };
    let path = path.strip_prefix("/app").filter(|rest| rest.starts_with('/')).unwrap_or(&path).to_owned();
    let matched = route(&method, &path).map_err(|error| match error {
        RouteError::MethodNotAllowed { allowed } => {
            let allowed: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            CliError::usage(format!("`{path}` does not take {method}"))
                .with_hint(format!("it takes {}", allowed.join(", ")))
        }
        _ => CliError::usage(format!("no endpoint of the api has the path `{path}`")).with_hint(
            "paths start with `/partner/`, as in the api reference: `cyrisma api GET /partner/instances/info/`",
        ),
    })?;
    let metadata = matched.metadata;
    if metadata.name.starts_with("auth.") {
        return Err(CliError::usage(format!("`{}` is not available through `cyrisma api`", metadata.name))
            .with_hint(
                "use `cyrisma auth status` to log in, and `cyrisma auth rotate-secret` to rotate the secret safely",
            )
            .into());
    }
    match (metadata.host, &args.instance) {
        (HostKind::Instance, None) => {
            return Err(CliError::usage(format!("`{path}` is served by an instance host: give `--instance ID`")).into());
        }
        (HostKind::Central, Some(_)) => {
            return Err(CliError::usage(format!("`{path}` is served by the central host: drop `--instance`")).into());
        }
        _ => {}
    }
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    if let Some(query) = query {
        for (name, value) in form_urlencoded_pairs(&query) {
            fields.push((leak(name), value));
        }
    }
    for (name, value) in args.fields {
        fields.push((leak(name), value));
    }
    let client = context.client()?;
    let call = Call { client: &client, instance: args.instance.as_deref(), params: matched.params.clone(), fields };
    let value =
        dispatch(metadata.name, call).await.map_err(|error| error.context(format!("{method} {path} failed")))?;
    context.out.document(&value)
}

/// Field names must be `'static` for the core's parameter lists; the process is short-lived.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

/// One call's inputs.
struct Call<'a> {
    client: &'a Client,
    instance: Option<&'a str>,
    params: Vec<(&'static str, String)>,
    fields: Vec<(&'static str, String)>,
}

impl Call<'_> {
    async fn send<E: Endpoint>(self) -> Result<serde_json::Value, cyrisma_transport::Error> {
        let request = Raw::<E> { params: self.params, fields: self.fields, endpoint: PhantomData };
        match self.instance {
            Some(instance) => self.client.instance(instance.to_owned()).send(&request).await,
            None => self.client.send(&request).await,
        }
    }
}

macro_rules! dispatch_endpoints {
    ($name:expr, $call:expr, [$($resource:ident :: $endpoint:ident),* $(,)?]) => {{
        $(
            if $name == cyrisma_core::api::$resource::$endpoint::METADATA.name {
                return $call
                    .send::<cyrisma_core::api::$resource::$endpoint::Request>()
                    .await
                    .map_err(anyhow::Error::new);
            }
        )*
    }};
}

async fn dispatch(name: &str, call: Call<'_>) -> anyhow::Result<serde_json::Value> {
    dispatch_endpoints!(
        name,
        call,
        [
            instances::authenticate_instance,
            instances::authenticate_all_instances,
            instances::list_instances,
            instances::get_instance,
            instances::create_instance,
            instances::convert_instance,
            instances::suspend_instance,
            instances::reactivate_instance,
            instances::set_mfa,
            users::create_user,
            users::list_users,
            users::get_user,
            users::disable_user,
            scans::list_data_scans,
            scans::list_baseline_scans,
            scans::list_vulnerability_scans,
            scans::get_vulnerability_scan,
            dashboards::get_overall_dashboard,
            dashboards::get_data_dashboard,
            dashboards::get_baseline_dashboard,
            dashboards::get_vulnerability_dashboard,
            dashboards::list_cves,
            assets::list_assets,
            assets::get_authenticated_asset,
            assets::get_ip_asset,
            webhooks::list_webhooks,
            webhooks::create_webhook,
            webhooks::delete_webhook,
        ]
    );
    Err(CliError::usage(format!("`{name}` is not available through `cyrisma api`")).into())
}
