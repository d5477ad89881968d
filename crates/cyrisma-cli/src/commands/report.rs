//! `cyrisma report`: current and previous grades of the five areas and the vulnerability counts
//! of every instance, fanned out with bounded concurrency.

use serde::Serialize;

use crate::args::{OutputFormat, ReportArgs};
use crate::commands::{Context, fanout};
use crate::output::rows::{InstanceError, ReportRow};

/// The JSON document of `report`: every instance that answered, and every one that did not.
#[derive(Serialize)]
struct ReportDocument {
    instances: Vec<ReportRow>,
    errors: Vec<InstanceError>,
}

/// Runs `report`.
pub(crate) async fn run(context: &Context, args: ReportArgs) -> anyhow::Result<()> {
    let client = context.client()?;
    let outcome = fanout::run(
        context,
        &client,
        &args.filter,
        "reporting",
        |instance| async move {
            futures_util::future::try_join(instance.dashboard_overall(), instance.dashboard_vulnerability()).await
        },
        |_, _, value| Ok(value),
    )
    .await?;
    let rows: Vec<ReportRow> = outcome
        .succeeded
        .iter()
        .map(|done| ReportRow::from_dashboards(&done.instance_id, done.name.as_deref(), &done.value.0, &done.value.1))
        .collect();
    match context.out.format() {
        OutputFormat::Json => context.out.document(&ReportDocument { instances: rows, errors: outcome.errors() })?,
        _ => context.out.rows(&rows)?,
    }
    outcome.check()
}
