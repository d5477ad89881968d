//! `cyrisma usage`: endpoints (agents) per instance, per organization and in total; standard,
//! consulting and suspended instance counts; users per organization. Derived from the structure
//! listing and the user listing, as the contract prescribes (no usage endpoint is published),
//! by the fleet layer; the rows are the core's `UsageRow`s, rendered as they are.

use anyhow::Context as _;
use cyrisma_fleet::Fleet;

use crate::args::UsageArgs;
use crate::commands::Context;
use crate::exit::fleet_error;

/// Runs `usage`.
pub(crate) async fn run(context: &Context, args: UsageArgs) -> anyhow::Result<()> {
    let fleet = Fleet::new(context.client()?);
    let rows = fleet
        .usage(args.organization.as_deref())
        .await
        .map_err(fleet_error)
        .context("cannot read the structure and the users")?;
    if rows.is_empty() {
        context.ui.note("no organization matches");
    }
    context.out.rows(&rows)
}
