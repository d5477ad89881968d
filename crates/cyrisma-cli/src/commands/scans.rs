//! `cyrisma scans ...`: the scan summaries of one instance, and one vulnerability scan's
//! findings.

use anyhow::Context as _;

use crate::args::ScansCommand;
use crate::commands::Context;
use crate::output::rows::{BaselineScanRow, DataScanRow, FindingRow, VulnerabilityScanRow};

/// Runs a `scans` command.
pub(crate) async fn run(context: &Context, command: ScansCommand) -> anyhow::Result<()> {
    let client = context.client()?;
    match command {
        ScansCommand::Vulnerability(args) => {
            let instance = client.instance(args.instance.instance.clone());
            if let Some(scan_id) = &args.scan {
                let detail = instance
                    .vulnerability_scan(scan_id)
                    .await
                    .with_context(|| format!("cannot get scan `{scan_id}` of instance `{}`", args.instance.instance))?;
                let rows: Vec<FindingRow> = detail.assets.iter().flat_map(FindingRow::all_of).collect();
                if rows.is_empty() {
                    context.ui.note("the scan found nothing");
                }
                return context.out.rows(&rows);
            }
            let scans = instance
                .vulnerability_scans()
                .await
                .with_context(|| format!("cannot list the vulnerability scans of `{}`", args.instance.instance))?;
            let mut rows: Vec<VulnerabilityScanRow> =
                scans.vulnerability_scans.iter().map(VulnerabilityScanRow::from_core).collect();
            rows.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.scan_id.cmp(&b.scan_id)));
            context.out.rows(&rows)
        }
        ScansCommand::Data(args) => {
            let scans = client
                .instance(args.instance.clone())
                .data_scans()
                .await
                .with_context(|| format!("cannot list the data scans of `{}`", args.instance))?;
            let mut rows: Vec<DataScanRow> = scans.data_scans.iter().map(DataScanRow::from_core).collect();
            rows.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.scan_id.cmp(&b.scan_id)));
            context.out.rows(&rows)
        }
        ScansCommand::Baseline(args) => {
            let scans = client
                .instance(args.instance.clone())
                .baseline_scans()
                .await
                .with_context(|| format!("cannot list the baseline scans of `{}`", args.instance))?;
            let mut rows: Vec<BaselineScanRow> = scans.baseline_scans.iter().map(BaselineScanRow::from_core).collect();
            rows.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.scan_id.cmp(&b.scan_id)));
            context.out.rows(&rows)
        }
    }
}
