//! `cyrisma export findings`: one row per vulnerability, open port and web flaw of the selected
//! instances, streamed as each instance completes into a temporary file in the target's
//! directory (mode 0600: findings are sensitive), which is renamed over the target only on
//! success. On a partial failure the file is dropped unless `--allow-partial`.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cyrisma_core::types::VulnerabilityScan;
use cyrisma_transport::InstanceClient;

use crate::args::{ExportCommand, ExportFindingsArgs, ExportFormat};
use crate::commands::{Context, fanout};
use crate::output::rows::{ExportRow, FindingRow};
use crate::output::{CsvRows, Row};

/// Runs an `export` command.
pub(crate) async fn run(context: &Context, command: ExportCommand) -> anyhow::Result<()> {
    match command {
        ExportCommand::Findings(args) => findings(context, args).await,
    }
}

async fn findings(context: &Context, args: ExportFindingsArgs) -> anyhow::Result<()> {
    let client = context.client()?;
    let target = Target::open(&args.out)?;
    let mut writer = FindingWriter::new(target.writer()?, args.format)?;
    let all_scans = args.all_scans;
    let mut written: u64 = 0;
    let mut write_error: Option<anyhow::Error> = None;
    let outcome = fanout::run(
        context,
        &client,
        &args.filter,
        "exporting",
        move |instance| collect(instance, all_scans),
        |_, _, rows: Vec<ExportRow>| {
            for row in &rows {
                if let Err(error) = writer.write(row) {
                    write_error.get_or_insert(error);
                    anyhow::bail!("cannot write the export");
                }
                written += 1;
            }
            Ok(rows.len())
        },
    )
    .await;
    if let Some(error) = write_error {
        return Err(error.context(format!("cannot write `{}`", args.out.display())));
    }
    let outcome = outcome?;
    let sink = writer.finish()?;
    let check = outcome.check();
    let instances = outcome.succeeded.len();
    match (&check, args.allow_partial) {
        (Err(_), false) if target.is_file() => {
            drop(sink);
            drop(target);
            context.ui.warn("some instances failed, so no file was written: rerun, or pass `--allow-partial` to keep what succeeded");
        }
        _ => {
            let path = target.commit(sink)?;
            if let Some(path) = path {
                context
                    .ui
                    .note(&format!("wrote {written} findings from {instances} instances to `{}`", path.display()));
            }
        }
    }
    check
}

/// The findings of one instance: the latest scan of each scan type (or every scan), each scan's
/// assets in the order the server sent them.
async fn collect(instance: InstanceClient, all_scans: bool) -> Result<Vec<ExportRow>, cyrisma_transport::Error> {
    let scans = instance.vulnerability_scans().await?.vulnerability_scans;
    let chosen = if all_scans { scans } else { latest_per_type(scans) };
    let details =
        futures_util::future::try_join_all(chosen.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
            .await?;
    let name = instance.name().map(str::to_owned);
    let mut rows = Vec::new();
    for (scan, detail) in chosen.iter().zip(details) {
        for asset in &detail.assets {
            for finding in FindingRow::all_of(asset) {
                rows.push(ExportRow::new(instance.id(), name.as_deref(), scan, finding));
            }
        }
    }
    Ok(rows)
}

/// The most recent scan of each scan type (by finish, then start time), in scan-id order.
fn latest_per_type(scans: Vec<VulnerabilityScan>) -> Vec<VulnerabilityScan> {
    let mut latest: BTreeMap<String, VulnerabilityScan> = BTreeMap::new();
    for scan in scans {
        let key = scan.scan_type.as_ref().map(|kind| kind.as_str().to_owned()).unwrap_or_default();
        let newer = match latest.get(&key) {
            None => true,
            Some(current) => {
                (&scan.scan_finished, &scan.scan_started, &scan.scan_id)
                    > (&current.scan_finished, &current.scan_started, &current.scan_id)
            }
        };
        if newer {
            latest.insert(key, scan);
        }
    }
    let mut chosen: Vec<VulnerabilityScan> = latest.into_values().collect();
    chosen.sort_by(|a, b| a.scan_id.cmp(&b.scan_id));
    chosen
}

/// Where the export goes: a temporary file beside the target, or stdout.
enum Target {
    File { temp: tempfile::NamedTempFile, path: PathBuf },
    Stdout,
}

impl Target {
    fn open(path: &Path) -> anyhow::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Target::Stdout);
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name =
            path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "export".to_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a file in `{}`", dir.display()))?;
        Ok(Target::File { temp, path: path.to_path_buf() })
    }

    fn is_file(&self) -> bool {
        matches!(self, Target::File { .. })
    }

    fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match self {
            Target::File { temp, .. } => {
                Box::new(BufWriter::new(temp.reopen().context("cannot open the temporary file")?))
            }
            Target::Stdout => Box::new(BufWriter::new(std::io::stdout())),
        })
    }

    /// Syncs and renames the temporary file over the target; returns the target's path.
    fn commit(self, sink: Box<dyn Write>) -> anyhow::Result<Option<PathBuf>> {
        drop(sink);
        match self {
            Target::File { temp, path } => {
                temp.as_file().sync_all().context("cannot flush the export to disk")?;
                temp.persist(&path)
                    .map_err(|error| error.error)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    sync_dir(dir);
                }
                Ok(Some(path))
            }
            Target::Stdout => Ok(None),
        }
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// Writes export rows in one of the three formats, one row at a time.
enum FindingWriter {
    Jsonl(Box<dyn Write>),
    Json { sink: Box<dyn Write>, first: bool },
    Csv(Box<CsvRows<Box<dyn Write>>>),
}

impl FindingWriter {
    fn new(mut sink: Box<dyn Write>, format: ExportFormat) -> anyhow::Result<Self> {
        Ok(match format {
            ExportFormat::Jsonl => FindingWriter::Jsonl(sink),
            ExportFormat::Json => {
                sink.write_all(b"[")?;
                FindingWriter::Json { sink, first: true }
            }
            ExportFormat::Csv => FindingWriter::Csv(Box::new(CsvRows::new(sink, ExportRow::COLUMNS)?)),
        })
    }

    fn write(&mut self, row: &ExportRow) -> anyhow::Result<()> {
        match self {
            FindingWriter::Jsonl(sink) => {
                serde_json::to_writer(&mut *sink, row)?;
                sink.write_all(b"\n")?;
            }
            FindingWriter::Json { sink, first } => {
                sink.write_all(if *first { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut *sink, row)?;
                *first = false;
            }
            FindingWriter::Csv(rows) => rows.write(&row.cells())?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<Box<dyn Write>> {
        let mut sink = match self {
            FindingWriter::Jsonl(sink) => sink,
            FindingWriter::Json { mut sink, first } => {
                sink.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                sink
            }
            FindingWriter::Csv(rows) => rows.finish()?,
        };
        sink.flush()?;
        Ok(sink)
    }
}
