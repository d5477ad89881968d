//! Cross-instance operations built on the transport's typed calls: `client.report()`,
//! `client.export_findings()` and `client.usage()`, with the CLI's selection rules, row shapes
//! and column names.
//!
//! The finding rows, their JSONL encoding and the scan selection come from `cyrisma_core::export`
//! and the usage figures from `cyrisma_core::usage`, exactly as in the CLI. The report rows and
//! the fan-out bookkeeping still mirror `cyrisma report` and the CLI's `commands/fanout.rs`
//! (which the bindings may not depend on): those two must change together.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cyrisma_core::export::{self, JsonlWriter};
use cyrisma_core::types::{Instance, ScanDetail, VulnerabilityScan};
use cyrisma_transport::{Client, InstanceClient};
use futures_util::StreamExt;
use serde::Serialize;

use crate::errors::Failure;
use crate::models::view_class;

// ----- result shapes -----

/// One instance of the report (`cyrisma_core::report`, the CLI's `report` rows).
pub(crate) use cyrisma_core::report::ReportRow as ReportEntry;

/// An instance that could not be reached or read during a fan-out.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct InstanceFailure {
    pub(crate) instance_id: String,
    pub(crate) name: Option<String>,
    pub(crate) error: String,
    pub(crate) status: Option<u16>,
    pub(crate) code: Option<String>,
    pub(crate) request_id: Option<String>,
}

/// The report: every instance that answered, and every one that did not.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) instances: Vec<ReportEntry>,
    pub(crate) errors: Vec<InstanceFailure>,
}

/// What `export_findings` wrote.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct ExportSummary {
    pub(crate) path: String,
    pub(crate) format: &'static str,
    pub(crate) findings: u64,
    pub(crate) instances: u64,
    pub(crate) errors: Vec<InstanceFailure>,
}

/// One line of the usage, computed by the core (the same figures as `cyrisma usage`).
pub(crate) use cyrisma_core::usage::UsageRow;

impl InstanceFailure {
    fn from_error(instance_id: String, name: Option<String>, error: &cyrisma_transport::Error) -> Self {
        Self {
            instance_id,
            name,
            // The whole chain: an api error's details are its source.
            error: format!("{error:#}"),
            status: error.status().map(|status| status.as_u16()),
            code: error.api_code().map(|code| code.as_str().to_owned()),
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

// ----- fan-out -----

/// What a fan-out produced, in instance-id order: `(instance_id, name, value)` and failures.
struct Outcome<K> {
    succeeded: Vec<(String, Option<String>, K)>,
    failed: Vec<InstanceFailure>,
}

/// Runs `operation` on the instances `wanted` (or, when `None`, every instance that is not an
/// organization and not suspended), at most `concurrency` at a time; `on_success` is called as
/// each instance completes successfully.
async fn fan_out<T, K, F, Fut>(
    client: &Client,
    wanted: Option<Vec<String>>,
    concurrency: usize,
    operation: F,
    mut on_success: impl FnMut(&str, Option<&str>, T) -> Result<K, Failure>,
) -> Result<Outcome<K>, Failure>
where
    F: Fn(InstanceClient) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, cyrisma_transport::Error>> + Send + 'static,
    T: Send + 'static,
{
    let wanted: BTreeSet<String> =
        wanted.unwrap_or_default().iter().map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()).collect();
    let selector = {
        let wanted = wanted.clone();
        move |instance: &Instance| {
            if wanted.is_empty() {
                cyrisma_transport::fan_out::is_reportable(instance)
            } else {
                wanted.contains(&instance.instance_id)
            }
        }
    };
    let mut stream = client.fan_out(selector, concurrency, operation).await?;
    let mut seen = BTreeSet::new();
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    while let Some(item) = stream.next().await {
        seen.insert(item.instance_id.clone());
        match item.result {
            Ok(value) => {
                let kept = on_success(&item.instance_id, item.name.as_deref(), value)?;
                succeeded.push((item.instance_id, item.name, kept));
            }
            Err(error) => failed.push(InstanceFailure::from_error(item.instance_id, item.name, &error)),
        }
    }
    for id in wanted.difference(&seen) {
        failed.push(InstanceFailure {
            instance_id: id.clone(),
            error: "no such instance in the partner's structure".to_owned(),
            status: Some(404),
            ..InstanceFailure::default()
        });
    }
    succeeded.sort_by(|a, b| a.0.cmp(&b.0));
    failed.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    Ok(Outcome { succeeded, failed })
}

// ----- report -----

/// `client.report()`.
pub(crate) async fn report(client: Client, wanted: Option<Vec<String>>, concurrency: usize) -> Result<Report, Failure> {
    let outcome = fan_out(
        &client,
        wanted,
        concurrency,
        |instance| async move {
            futures_util::future::try_join(instance.dashboard_overall(), instance.dashboard_vulnerability()).await
        },
        |_, _, value| Ok(value),
    )
    .await?;
    let instances = outcome
        .succeeded
        .iter()
        .map(|(id, name, (overall, vulnerability))| {
            ReportEntry::from_dashboards(id, name.as_deref(), overall, vulnerability)
        })
        .collect();
    Ok(Report { instances, errors: outcome.failed })
}

// ----- export -----

/// The export file formats.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ExportFormat {
    Jsonl,
    Json,
    Csv,
}

impl ExportFormat {
    /// Reads the `format` argument.
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        match text.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Ok(ExportFormat::Jsonl),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err(Failure::argument("format", "`format` must be `jsonl`, `json` or `csv`")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

/// The scans of one instance with their details: the latest of each type, or every scan.
async fn collect(
    instance: InstanceClient,
    all_scans: bool,
) -> Result<Vec<(VulnerabilityScan, ScanDetail)>, cyrisma_transport::Error> {
    let scans = instance.vulnerability_scans().await?.vulnerability_scans;
    let chosen = if all_scans { scans } else { export::latest_per_type(scans) };
    let details =
        futures_util::future::try_join_all(chosen.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
            .await?;
    Ok(chosen.into_iter().zip(details).collect())
}

/// Writes the findings of scan details in one of the formats, row by row: JSON lines through the
/// CLI's encoder (`cyrisma_core::export`), JSON and CSV by serializing the same rows.
enum RowWriter {
    Jsonl(JsonlWriter<BufWriter<std::fs::File>>),
    Json { sink: BufWriter<std::fs::File>, first: bool },
    Csv(Box<csv::Writer<BufWriter<std::fs::File>>>),
}

impl RowWriter {
    fn new(file: std::fs::File, format: ExportFormat) -> std::io::Result<Self> {
        let mut sink = BufWriter::new(file);
        Ok(match format {
            ExportFormat::Jsonl => RowWriter::Jsonl(JsonlWriter::new(sink)),
            ExportFormat::Json => {
                sink.write_all(b"[")?;
                RowWriter::Json { sink, first: true }
            }
            ExportFormat::Csv => RowWriter::Csv(Box::new(csv::Writer::from_writer(sink))),
        })
    }

    /// Writes every finding of one scan of an instance; returns how many rows that was.
    fn write_scan(
        &mut self,
        instance_id: &str,
        name: Option<&str>,
        scan: &VulnerabilityScan,
        detail: &ScanDetail,
    ) -> std::io::Result<u64> {
        if let RowWriter::Jsonl(writer) = self {
            return writer.write_scan(instance_id, name, scan, detail);
        }
        let mut rows = 0;
        for row in export::finding_rows(instance_id, name, scan, detail) {
            match self {
                RowWriter::Jsonl(_) => unreachable!("handled above"),
                RowWriter::Json { sink, first } => {
                    sink.write_all(if *first { b"\n  " } else { b",\n  " })?;
                    *first = false;
                    serde_json::to_writer(&mut *sink, &row).map_err(std::io::Error::from)?;
                }
                RowWriter::Csv(writer) => writer.serialize(row).map_err(std::io::Error::other)?,
            }
            rows += 1;
        }
        Ok(rows)
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            RowWriter::Jsonl(writer) => writer.into_inner()?.flush(),
            RowWriter::Json { mut sink, first } => {
                sink.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                sink.flush()
            }
            RowWriter::Csv(mut writer) => writer.flush(),
        }
    }
}

/// A temporary file beside `path` (mode 0600), renamed over it on success.
fn temporary_beside(path: &Path) -> Result<tempfile::NamedTempFile, Failure> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "export".to_owned());
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(&dir)
        .map_err(|source| Failure::Io { context: format!("cannot create a file in `{}`", dir.display()), source })
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
    let temp = temporary_beside(&path)?;
    let io = |context: &str| {
        let context = format!("{context} `{}`", path.display());
        move |source| Failure::Io { context, source }
    };
    let file = temp.reopen().map_err(io("cannot open the temporary file for"))?;
    let mut writer = RowWriter::new(file, format).map_err(io("cannot write"))?;
    let mut findings: u64 = 0;
    let outcome = fan_out(
        &client,
        wanted,
        concurrency,
        move |instance| collect(instance, all_scans),
        |instance_id, name, scans: Vec<(VulnerabilityScan, ScanDetail)>| {
            let mut rows = 0;
            for (scan, detail) in &scans {
                rows += writer.write_scan(instance_id, name, scan, detail).map_err(io("cannot write"))?;
            }
            findings += rows;
            Ok(rows as usize)
        },
    )
    .await?;
    writer.finish().map_err(io("cannot write"))?;
    if !outcome.failed.is_empty() && !allow_partial {
        let listed: Vec<String> =
            outcome.failed.iter().map(|failed| format!("{}: {}", failed.instance_id, failed.error)).collect();
        return Err(Failure::Partial {
            message: format!(
                "{} of {} instances failed, so `{}` was not written (pass allow_partial=True to keep what succeeded): {}",
                outcome.failed.len(),
                outcome.failed.len() + outcome.succeeded.len(),
                path.display(),
                listed.join("; ")
            ),
        });
    }
    temp.as_file().sync_all().map_err(io("cannot flush"))?;
    temp.persist(&path)
        .map_err(|error| Failure::Io { context: format!("cannot write `{}`", path.display()), source: error.error })?;
    Ok(ExportSummary {
        path: path.display().to_string(),
        format: format.name(),
        findings,
        instances: outcome.succeeded.len() as u64,
        errors: outcome.failed,
    })
}

// ----- usage -----

/// `client.usage()`.
pub(crate) async fn usage(client: Client, organization: Option<String>) -> Result<Vec<UsageRow>, Failure> {
    let (instances, users) = futures_util::future::try_join(client.instances().list(), client.users().list()).await?;
    Ok(cyrisma_core::usage::usage_rows(&instances, &users, organization.as_deref().map(str::trim)))
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
