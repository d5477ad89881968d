//! `cyrisma usage`: endpoints (agents) per instance, per organization and in total; standard,
//! consulting and suspended instance counts; users per organization. Derived from the structure
//! listing and the user listing, as the contract prescribes (no usage endpoint is published).

use anyhow::Context as _;
use cyrisma_core::usage::usage_rows;

use crate::args::UsageArgs;
use crate::commands::Context;
use crate::output::rows::UsageRow;

/// Runs `usage`.
pub(crate) async fn run(context: &Context, args: UsageArgs) -> anyhow::Result<()> {
    let client = context.client()?;
    let (instances, users) = futures_util::future::try_join(client.instances().list(), client.users().list())
        .await
        .context("cannot read the structure and the users")?;
    let rows: Vec<UsageRow> =
        usage_rows(&instances, &users, args.organization.as_deref()).into_iter().map(UsageRow::from).collect();
    if rows.is_empty() {
        context.ui.note("no organization matches");
    }
    context.out.rows(&rows)
}

impl From<cyrisma_core::usage::UsageRow> for UsageRow {
    fn from(row: cyrisma_core::usage::UsageRow) -> Self {
        UsageRow {
            scope: row.scope,
            id: row.id,
            name: row.name,
            organization_id: row.organization_id,
            endpoints: row.endpoints,
            instances: row.instances,
            standard: row.standard,
            consulting: row.consulting,
            suspended: row.suspended,
            users: row.users,
        }
    }
}
