//! `client.report()`, `client.export_findings()` and `client.usage()`: thin calls into the fleet
//! layer (`cyrisma_fleet`), the same code as `cyrisma report`, `cyrisma export findings` and
//! `cyrisma usage`, and the Python views over the rows and failure records it produces.

use std::path::PathBuf;

use cyrisma_fleet::{ExportFormat, Fleet, ScanChoice, Selection};
use cyrisma_transport::Client;

use crate::errors::Failure;
use crate::models::view_class;

/// One instance of the report (`cyrisma_core::report`, the CLI's `report` rows).
pub(crate) use cyrisma_core::report::ReportRow as ReportEntry;
/// One line of the usage (`cyrisma_core::usage`, the same figures as `cyrisma usage`).
pub(crate) use cyrisma_core::usage::UsageRow;
/// The fleet layer's report, failure record and export summary.
pub(crate) use cyrisma_fleet::{ExportSummary, InstanceFailure, Report};

/// A fleet error as the Python exception it maps to.
fn failure(error: cyrisma_fleet::Error) -> Failure {
    let listed = match &error {
        cyrisma_fleet::Error::Partial { failures, .. } => error_text(failures),
        _ => String::new(),
    };
    match error {
        cyrisma_fleet::Error::Transport(error) => error.into(),
        cyrisma_fleet::Error::Io { context, source } => Failure::Io { context, source },
        // The layer's own message (`N of M instances failed, so `path` was not written`).
        other => {
            Failure::Partial { message: format!("{other} (pass allow_partial=True to keep what succeeded): {listed}") }
        }
    }
}

/// `id: message; id: message` for a list of failures.
fn error_text(failures: &[InstanceFailure]) -> String {
    let listed: Vec<String> =
        failures.iter().map(|failure| format!("{}: {}", failure.instance_id, failure.error)).collect();
    listed.join("; ")
}

/// Reads the `format` argument.
pub(crate) fn parse_format(text: &str) -> Result<ExportFormat, Failure> {
    ExportFormat::parse(text).ok_or_else(|| Failure::argument("format", "`format` must be `jsonl`, `json` or `csv`"))
}

fn fleet(client: Client, concurrency: usize) -> Fleet {
    Fleet::new(client).with_concurrency(concurrency)
}

/// `client.report()`.
pub(crate) async fn report(client: Client, wanted: Option<Vec<String>>, concurrency: usize) -> Result<Report, Failure> {
    let selection = Selection::ids(wanted.unwrap_or_default());
    fleet(client, concurrency).report(&selection, |_| {}).await.map_err(failure)
}

/// `client.export_findings()`.
pub(crate) async fn export_findings(
    client: Client,
    path: PathBuf,
    format: ExportFormat,
    wanted: Option<Vec<String>>,
    all_scans: bool,
    allow_partial: bool,
    concurrency: usize,
) -> Result<ExportSummary, Failure> {
    let selection = Selection::ids(wanted.unwrap_or_default());
    fleet(client, concurrency)
        .export_findings_to_file(&selection, ScanChoice::all(all_scans), &path, format, allow_partial, |_| {})
        .await
        .map_err(failure)
}

/// What `client.snapshot()` wrote: the run's summary and the instances that failed.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct SnapshotResult {
    run_id: String,
    started_at: String,
    finished_at: String,
    instances_pulled: i64,
    instances_failed: i64,
    instances_skipped: i64,
    findings: u64,
    errors: Vec<InstanceFailure>,
}

/// `client.snapshot()`.
pub(crate) async fn snapshot(
    client: Client,
    dir: PathBuf,
    wanted: Option<Vec<String>>,
    concurrency: usize,
) -> Result<SnapshotResult, Failure> {
    let selection = Selection::ids(wanted.unwrap_or_default());
    let dataset = crate::history::open(&dir)?;
    dataset.prepare().map_err(|error| Failure::Partial { message: error.to_string() })?;
    let snapshot = fleet(client, concurrency)
        .snapshot(&selection, &dataset, env!("CARGO_PKG_VERSION"), |_| {})
        .await
        .map_err(failure)?;
    let run = snapshot.run;
    Ok(SnapshotResult {
        run_id: run.run_id,
        started_at: cyrisma_fleet::history::timestamp(run.started_at),
        finished_at: cyrisma_fleet::history::timestamp(run.finished_at),
        instances_pulled: run.instances_pulled,
        instances_failed: run.instances_failed,
        instances_skipped: run.instances_skipped,
        findings: snapshot.findings,
        errors: snapshot.failures,
    })
}

/// `client.usage()`.
pub(crate) async fn usage(client: Client, organization: Option<String>) -> Result<Vec<UsageRow>, Failure> {
    Fleet::new(client).usage(organization.as_deref()).await.map_err(failure)
}

// ----- Python views -----

view_class! {
    /// One instance of :meth:`Client.report`: current and previous grades of the five areas and
    /// the vulnerability counts.
    PyReportEntry = "ReportEntry" (ReportEntry) {
        repr: [instance_id, name, overall_current],
        fields: {
            /// The instance id.
            instance_id,
            /// The instance's name.
            name,
            /// ``monthly`` or ``quarterly``.
            grading_period,
            /// Overall risk grade, current period.
            overall_current,
            /// Overall risk grade, previous period.
            overall_previous,
            /// Data grade, current period.
            data_current,
            /// Data grade, previous period.
            data_previous,
            /// Vulnerability grade, current period.
            vulnerability_current,
            /// Vulnerability grade, previous period.
            vulnerability_previous,
            /// Secure baseline grade, current period.
            baseline_current,
            /// Secure baseline grade, previous period.
            baseline_previous,
            /// Compliance grade, current period.
            compliance_current,
            /// Compliance grade, previous period.
            compliance_previous,
            /// Critical findings.
            critical,
            /// High findings.
            high,
            /// Medium findings.
            medium,
            /// Low findings.
            low,
        },
        lists: {},
    }
}

view_class! {
    /// An instance that failed during a cross-instance operation.
    PyInstanceFailure = "InstanceFailure" (InstanceFailure) {
        repr: [instance_id, error],
        fields: {
            /// The instance id.
            instance_id,
            /// The instance's name, when known.
            name,
            /// What went wrong.
            error,
            /// The HTTP status, when the API answered.
            status,
            /// The API's error code, when it sent one.
            code,
            /// The request id of the failed answer.
            request_id,
        },
        lists: {},
    }
}

view_class! {
    /// The cross-instance report (a sequence of :class:`ReportEntry`, in instance-id order).
    PyReport = "Report" (Report) {
        repr: [],
        fields: {},
        lists: {
            /// The instances that could not be reported on.
            errors: InstanceFailure = |report| &report.errors,
        },
        sequence: instances: ReportEntry = |report| &report.instances,
    }
}

view_class! {
    /// What :meth:`Client.export_findings` wrote.
    PyExportSummary = "ExportSummary" (ExportSummary) {
        repr: [path, format, findings, instances],
        fields: {
            /// The file written.
            path,
            /// ``jsonl``, ``json`` or ``csv``.
            format,
            /// How many findings (rows) were written.
            findings,
            /// How many instances were exported.
            instances,
        },
        lists: {
            /// The instances that failed (only with ``allow_partial=True``).
            errors: InstanceFailure = |summary| &summary.errors,
        },
    }
}

view_class! {
    /// What :meth:`Client.snapshot` wrote: one complete run of the history dataset.
    PySnapshotResult = "SnapshotResult" (SnapshotResult) {
        repr: [run_id, instances_pulled, instances_failed, findings],
        fields: {
            /// The run's id (``cyrisma diff --from``/``--to``, :meth:`History.diff`).
            run_id,
            /// When the run started (RFC 3339, UTC).
            started_at,
            /// When it was committed.
            finished_at,
            /// Instances pulled completely.
            instances_pulled,
            /// Instances that failed (listed in ``errors``; what succeeded is still written).
            instances_failed,
            /// Instances listed but not selected.
            instances_skipped,
            /// Findings written.
            findings,
        },
        lists: {
            /// The instances that failed, and explicit ids not in the structure.
            errors: InstanceFailure = |result| &result.errors,
        },
    }
}

view_class! {
    /// One row of :meth:`Client.usage`: an instance, an organization's total, or the grand total.
    PyUsageRow = "UsageRow" (UsageRow) {
        repr: [scope, id, endpoints],
        fields: {
            /// ``instance``, ``organization`` or ``total``.
            scope,
            /// The instance or organization id (``None`` for the total).
            id,
            /// Its name.
            name,
            /// The organization an instance belongs to.
            organization_id,
            /// Endpoints (agents) deployed.
            endpoints,
            /// Instances counted.
            instances,
            /// Standard (not consulting) instances.
            standard,
            /// Consulting instances.
            consulting,
            /// Suspended instances.
            suspended,
            /// Users (organizations and the total only).
            users,
        },
        lists: {},
    }
}
