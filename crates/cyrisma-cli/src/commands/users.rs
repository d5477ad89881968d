//! `cyrisma users ...`: list, show, create and disable users under organizations.

use anyhow::Context as _;
use cyrisma_core::api::users::create_user;

use crate::args::UsersCommand;
use crate::commands::Context;
use crate::output::rows::UserRow;

/// Runs a `users` command.
pub(crate) async fn run(context: &Context, command: UsersCommand) -> anyhow::Result<()> {
    let client = context.client()?;
    match command {
        UsersCommand::List(args) => {
            let mut users = client.users().list().await.context("cannot list users")?;
            if let Some(organization) = &args.organization {
                users.retain(|user| user.instance_id.as_deref() == Some(organization.as_str()));
            }
            users.sort_by(|a, b| a.username.cmp(&b.username).then_with(|| a.id.cmp(&b.id)));
            let rows: Vec<UserRow> = users.iter().map(UserRow::from_core).collect();
            if rows.is_empty() {
                context.ui.note("no users match");
            }
            let objects: Vec<ApiUser<'_>> = users.iter().map(api_user).collect();
            context.out.api_rows(&objects, &rows)
        }
        UsersCommand::Get(args) => {
            let user =
                client.users().get(&args.user).await.with_context(|| format!("cannot get user `{}`", args.user))?;
            context.out.api_one(&api_user(&user), &UserRow::from_core(&user))
        }
        UsersCommand::Create(args) => {
            let request = create_user::Request::new(args.organization, args.username, args.first_name, args.last_name);
            let user = client.users().create(&request).await.context("cannot create the user")?;
            context.ui.note("the user sets a password through the self-service reset");
            context.out.api_one(&api_user(&user), &UserRow::from_core(&user))
        }
        UsersCommand::Disable(args) => {
            let user = client
                .users()
                .disable(&args.user)
                .await
                .with_context(|| format!("cannot disable user `{}`", args.user))?;
            context.out.api_one(&api_user(&user), &UserRow::from_core(&user))
        }
    }
}

/// A user as the API sent it (its field names, in its order, unknown fields included), with
/// `enabled` as a JSON boolean: the contract sends the string `"true"` or `"false"`, which the
/// core parses as a boolean.
#[derive(serde::Serialize)]
struct ApiUser<'a> {
    id: &'a str,
    username: &'a Option<String>,
    first_name: &'a Option<String>,
    last_name: &'a Option<String>,
    enabled: Option<bool>,
    instance_id: &'a Option<String>,
    #[serde(flatten)]
    extra: &'a cyrisma_core::wire::Extra,
}

fn api_user(user: &cyrisma_core::types::User) -> ApiUser<'_> {
    ApiUser {
        id: &user.id,
        username: &user.username,
        first_name: &user.first_name,
        last_name: &user.last_name,
        enabled: user.enabled.map(|enabled| enabled.get()),
        instance_id: &user.instance_id,
        extra: &user.extra,
    }
}
