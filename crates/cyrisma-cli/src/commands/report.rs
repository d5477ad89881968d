//! `cyrisma report`: current and previous grades of the five areas and the vulnerability counts
//! of every instance, through the fleet layer (`cyrisma_fleet`), rendered as rows or, with
//! `-o json`, as the layer's report document (`instances` and `errors`).

use cyrisma_fleet::{Fleet, Selection};

use crate::args::{OutputFormat, ReportArgs};
use crate::commands::Context;
use crate::exit::{PartialFailure, fleet_error};

/// Runs `report`.
pub(crate) async fn run(context: &Context, args: ReportArgs) -> anyhow::Result<()> {
    let fleet = Fleet::new(context.client()?).with_concurrency(context.concurrency());
    let selection = Selection::ids(&args.filter.instances);
    let report = fleet.report(&selection, context.ui.fleet_progress("reporting")).await.map_err(fleet_error)?;
    if selection.is_reportable() && report.instances.is_empty() && report.errors.is_empty() {
        context.ui.note("no instances to report on (organizations and suspended instances are left out)");
    }
    match context.out.format() {
        OutputFormat::Json => context.out.document(&report)?,
        _ => context.out.rows(&report.instances)?,
    }
    PartialFailure::check(report.instances.len(), &report.errors)
}
