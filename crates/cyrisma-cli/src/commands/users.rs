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
            context.out.rows(&rows)
        }
        UsersCommand::Get(args) => {
            let user =
                client.users().get(&args.user).await.with_context(|| format!("cannot get user `{}`", args.user))?;
            context.out.one(&UserRow::from_core(&user))
        }
        UsersCommand::Create(args) => {
            let request = create_user::Request::new(args.organization, args.username, args.first_name, args.last_name);
            let user = client.users().create(&request).await.context("cannot create the user")?;
            context.ui.note("the user sets a password through the self-service reset");
            context.out.one(&UserRow::from_core(&user))
        }
        UsersCommand::Disable(args) => {
            let user = client
                .users()
                .disable(&args.user)
                .await
                .with_context(|| format!("cannot disable user `{}`", args.user))?;
            context.out.one(&UserRow::from_core(&user))
        }
    }
}
