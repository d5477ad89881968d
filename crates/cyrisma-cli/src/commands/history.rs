//! `cyrisma snapshot`, `cyrisma diff` and `cyrisma history`: one run of every selected instance
//! into the history dataset, and what the dataset says about change over time. The operations
//! and their rows are the fleet layer's (`cyrisma_fleet::{Fleet::snapshot, History}`); this file
//! only resolves the dataset directory, renders and maps failures to exit codes.

use std::path::PathBuf;

use anyhow::Context as _;
use cyrisma_dataset::Dataset;
use cyrisma_fleet::{Fleet, History, Selection};

use crate::args::{DiffArgs, HistoryCommand, HistoryDir, OutputFormat, SnapshotArgs};
use crate::commands::Context;
use crate::config::Profile;
use crate::exit::{CliError, PartialFailure, fleet_error};

/// The dataset's location: `--dir`, else `CYRISMA_HISTORY_DIR` (clap reads both into `dir`), else
/// the profile's `history_dir`, else the platform's data directory; a directory or an object store
/// URL
/// (`$XDG_DATA_HOME/cyrisma/history`, else `~/.local/share/cyrisma/history`;
/// `%LOCALAPPDATA%\cyrisma\history` on Windows). Empty values count as unset.
pub(crate) fn dataset_dir(dir: &HistoryDir, profile: &Profile) -> anyhow::Result<PathBuf> {
    if let Some(dir) = dir.dir.as_ref().filter(|dir| !dir.as_os_str().is_empty()) {
        return Ok(dir.clone());
    }
    if let Some(dir) = profile.history_dir.as_deref().filter(|dir| !dir.trim().is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        if let Some(local) = var("LOCALAPPDATA") {
            return Ok(local.join("cyrisma").join("history"));
        }
    } else if let Some(xdg) = var("XDG_DATA_HOME").filter(|path| path.is_absolute()) {
        return Ok(xdg.join("cyrisma").join("history"));
    }
    if let Some(home) = var("HOME").or_else(|| var("USERPROFILE")) {
        return Ok(home.join(".local").join("share").join("cyrisma").join("history"));
    }
    Err(CliError::usage("cannot find a data directory for the history: neither `HOME` nor `XDG_DATA_HOME` is set")
        .with_hint("pass `--dir`, set `CYRISMA_HISTORY_DIR`, or add `history_dir` to the profile")
        .into())
}

/// The dataset at the location `dir` resolves to; a location that cannot be used (an unknown
/// scheme, credentials in the URL) is a usage error.
pub(crate) fn dataset(context: &Context, dir: &HistoryDir) -> anyhow::Result<(PathBuf, Dataset)> {
    let path = dataset_dir(dir, &context.profile)?;
    let dataset = Dataset::open(&path).map_err(|error| {
        CliError::usage(error.to_string()).with_hint(
            "`--dir` takes a directory or s3://bucket/prefix, az://container/prefix, gs://bucket/prefix; \
             credentials come from the cloud's standard environment variables (see docs/storage.md)",
        )
    })?;
    Ok((path, dataset))
}

fn history(context: &Context, dir: &HistoryDir) -> anyhow::Result<(PathBuf, History)> {
    let (path, dataset) = dataset(context, dir)?;
    Ok((path, History::new(dataset)))
}

/// Runs `snapshot`.
pub(crate) async fn snapshot(context: &Context, args: SnapshotArgs) -> anyhow::Result<()> {
    let (path, dataset) = dataset(context, &args.dir)?;
    dataset.prepare().with_context(|| format!("cannot create the history directory {}", path.display()))?;
    let fleet = Fleet::new(context.client()?).with_concurrency(context.concurrency());
    let selection = Selection::ids(&args.filter.instances);
    // Against the embedded emulator the run is dated by the emulator's clock (which
    // `--emulator-period` and advances move), else by the wall clock.
    let emulator = context.emulator.as_ref();
    let clock = || emulator.map_or_else(wall_clock_micros, |emulator| emulator.now_micros());
    let snapshot = fleet
        .snapshot_with_clock(
            &selection,
            &dataset,
            env!("CARGO_PKG_VERSION"),
            clock,
            context.ui.fleet_progress("snapshot"),
        )
        .await
        .map_err(fleet_error)
        .with_context(|| format!("cannot write a snapshot into {}", path.display()))?;
    let run = &snapshot.run;
    context.ui.note(&format!(
        "run {} written to {}: {} instances pulled, {} failed, {} findings",
        run.run_id,
        path.display(),
        run.instances_pulled,
        run.instances_failed,
        snapshot.findings
    ));
    // The run's summary from what was written: reading it back (`History::runs`) would read
    // every finding's fingerprint, the peak of the whole command at a thousand instances.
    context.out.one(&snapshot.summary())?;
    PartialFailure::check(usize::try_from(run.instances_pulled).unwrap_or_default(), &snapshot.failures)
}

fn wall_clock_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
}

/// Runs `diff`.
pub(crate) async fn diff(context: &Context, args: DiffArgs) -> anyhow::Result<()> {
    let (path, history) = history(context, &args.dir)?;
    let report = history
        .diff(args.from.as_deref(), args.to.as_deref(), args.all)
        .map_err(fleet_error)
        .with_context(|| format!("in the history at {}", path.display()))?;
    for warning in &report.warnings {
        context.ui.warn(warning);
    }
    match (context.out.format(), args.grades) {
        (OutputFormat::Json, _) => context.out.document(&report)?,
        (OutputFormat::Table, _) => {
            context.ui.note(&format!(
                "{} → {}: {} new, {} reopened, {} fixed, {} not covered, {} grade changes",
                report.from,
                report.to,
                report.count("new"),
                report.count("reopened"),
                report.count("fixed"),
                report.count("not_covered"),
                report.grades.len()
            ));
            context.out.rows(&report.findings)?;
            if !report.grades.is_empty() {
                context.out.rows(&report.grades)?;
            }
        }
        (_, true) => context.out.rows(&report.grades)?,
        (_, false) => context.out.rows(&report.findings)?,
    }
    Ok(())
}

/// Runs `history ...`.
pub(crate) async fn run(context: &Context, command: HistoryCommand) -> anyhow::Result<()> {
    match command {
        HistoryCommand::Runs { dir } => {
            let (path, history) = history(context, &dir)?;
            let runs = history.runs().map_err(fleet_error)?;
            if runs.is_empty() {
                context.ui.note(&format!("no complete run in {} yet: `cyrisma snapshot` writes one", path.display()));
            }
            context.out.rows(&runs)
        }
        HistoryCommand::Findings { dir, per_instance } => {
            let (_, history) = history(context, &dir)?;
            let (findings, instances) = history.lifecycles().map_err(fleet_error)?;
            if per_instance { context.out.rows(&instances) } else { context.out.rows(&findings) }
        }
    }
}
