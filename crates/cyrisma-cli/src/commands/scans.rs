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
                return context.out.api_document(&detail, &rows);
            }
            let scans = instance
                .vulnerability_scans()
                .await
                .with_context(|| format!("cannot list the vulnerability scans of `{}`", args.instance.instance))?;
            let rows = scans.vulnerability_scans.iter().map(|scan| (scan, VulnerabilityScanRow::from_core(scan)));
            let (objects, rows) = newest_first(rows, |row| (&row.started, &row.scan_id));
            context.out.api_rows(&objects, &rows)
        }
        ScansCommand::Data(args) => {
            let scans = client
                .instance(args.instance.clone())
                .data_scans()
                .await
                .with_context(|| format!("cannot list the data scans of `{}`", args.instance))?;
            let rows = scans.data_scans.iter().map(|scan| (scan, DataScanRow::from_core(scan)));
            let (objects, rows) = newest_first(rows, |row| (&row.started, &row.scan_id));
            context.out.api_rows(&objects, &rows)
        }
        ScansCommand::Baseline(args) => {
            let scans = client
                .instance(args.instance.clone())
                .baseline_scans()
                .await
                .with_context(|| format!("cannot list the baseline scans of `{}`", args.instance))?;
            let rows = scans.baseline_scans.iter().map(|scan| (scan, BaselineScanRow::from_core(scan)));
            let (objects, rows) = newest_first(rows, |row| (&row.started, &row.scan_id));
            context.out.api_rows(&objects, &rows)
        }
    }
}

/// Scans and their rows sorted newest first by the row's `(started, scan_id)` (ties by id), split
/// into the API's objects (`-o json`) and the rows (table, CSV).
fn newest_first<'a, T, R, K: Ord + ?Sized, I: Ord + ?Sized>(
    pairs: impl Iterator<Item = (&'a T, R)>,
    key: impl Fn(&R) -> (&K, &I),
) -> (Vec<&'a T>, Vec<R>) {
    let mut pairs: Vec<(&'a T, R)> = pairs.collect();
    pairs.sort_by(|(_, a), (_, b)| {
        let (a_started, a_id) = key(a);
        let (b_started, b_id) = key(b);
        b_started.cmp(a_started).then_with(|| a_id.cmp(b_id))
    });
    pairs.into_iter().unzip()
}
