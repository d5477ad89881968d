//! E2 and D1: the findings history dataset against pyarrow and DuckDB, side by side in one run.
//!
//! - E2: writing one run's findings as Parquet with the writer the dataset writes every table
//!   with (`cyrisma_dataset::write::table_writer`: typed rows in memory → Arrow → Snappy Parquet,
//!   the columns encoded on every core, row groups ended at 131,072 rows or 2 MiB encoded) vs
//!   `pyarrow.parquet.write_table` of the same rows, already a pyarrow Table read from the file our
//!   writer wrote, with the same settings (`writer_properties`, spelt out in `py_dataset.py`:
//!   Snappy and dictionaries but for the fingerprints (uncompressed `DELTA_LENGTH_BYTE_ARRAY`),
//!   chunk and page statistics with the column index for the filtered columns only, the offset
//!   index for all, 1 MiB and 20,000-row pages; pyarrow has no byte cap, so it gets our row
//!   groups' mean row count).
//!   The same file written by `parquet`'s one-thread `ArrowWriter` (which must write the same
//!   bytes) and the JSON path the dataset used before are timed too, as information.
//! - D1: `History::diff` of the last two of three synthetic runs (1,000,000 findings each; 20,000
//!   in `--quick`) vs one DuckDB query computing the same classes over the same Hive-partitioned
//!   files and fetching the changed rows as an Arrow table. The two must agree on the count of
//!   every class, or the row fails.
//!
//! The Rust side is `crates/cyrisma-fleet/benches/history.rs`; the Python side
//! `xtask/bench/py_dataset.py`. Rounds alternate the contenders and the figures are medians.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow};

use super::{Cmp, Report, cargo, json, median, num, output};

const E2: &str = "typed rows → findings Parquet vs pyarrow `write_table`, same rows and settings";
const D1: &str = "diff of two runs (1,000,000 findings each) vs DuckDB, same set differences and files";

/// Builds the history bench binary (release, or the dev profile for the smoke run).
fn build(root: &Path, quick: bool) -> Result<PathBuf> {
    let mut child = Command::new(cargo())
        .args(["bench", "-p", "cyrisma-fleet", "--bench", "history", "--no-run"])
        .args(if quick { &["--profile", "dev"][..] } else { &[][..] })
        .args(["--message-format=json-render-diagnostics"])
        .current_dir(root)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start cargo")?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut found = None;
    for message in cargo_metadata::Message::parse_stream(BufReader::new(stdout)) {
        if let cargo_metadata::Message::CompilerArtifact(artifact) = message?
            && let Some(executable) = artifact.executable
            && artifact.target.name == "history"
        {
            found = Some(executable.into_std_path_buf());
        }
    }
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "building the history bench failed ({status})");
    found.ok_or_else(|| anyhow!("cargo did not report the `history` bench binary"))
}

/// Installs pyarrow and DuckDB into the bench's Python environment when they are missing.
fn python_peers(python: &Path) -> Result<()> {
    let have =
        Command::new(python).args(["-c", "import pyarrow, duckdb"]).output().is_ok_and(|out| out.status.success());
    if !have {
        eprintln!("xtask bench: pip install pyarrow duckdb");
        output(Command::new(python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "pyarrow",
            "duckdb",
        ]))?;
    }
    Ok(())
}

/// E2 and D1; with no Python, both rows say why they were not measured.
pub(super) fn goals(report: &mut Report, root: &Path, dir: &Path, python: Option<&Path>) -> Result<()> {
    let Some(python) = python else {
        report.missing("E2", E2, "≤ 1.0x", "the Python peers could not be installed");
        report.missing("D1", D1, "≤ 1.0x", "the Python peers could not be installed");
        return Ok(());
    };
    if let Err(error) = python_peers(python) {
        report.missing("E2", E2, "≤ 1.0x", format!("pyarrow could not be installed: {error:#}"));
        report.missing("D1", D1, "≤ 1.0x", format!("DuckDB could not be installed: {error:#}"));
        return Ok(());
    }
    let exe = build(root, report.quick)?;
    let script = root.join("xtask/bench/py_dataset.py");
    let (findings, rounds, repeat) = if report.quick { (20_000, 1, "1") } else { (1_000_000, 5, "3") };
    let work = dir.join("dataset");
    std::fs::create_dir_all(&work)?;

    // E2: the same rows written by both, alternated.
    eprintln!("xtask bench: E2 (findings Parquet vs pyarrow), {findings} rows, {rounds} rounds");
    let ours = work.join("e2-rust.parquet");
    let theirs = work.join("e2-pyarrow.parquet");
    let (mut rust_s, mut one_s, mut json_s, mut py_s, mut ratios) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut rows, mut groups) = (0.0, 0.0);
    for _ in 0..rounds {
        let rust = json(&output(Command::new(&exe).arg("write").arg(&ours).arg(findings.to_string()).arg(repeat))?)?;
        rows = num(&rust, "rows")?;
        groups = num(&rust, "row_groups")?;
        let group_rows = format!("{:.0}", (rows / groups.max(1.0)).ceil());
        let py = json(&output(
            Command::new(python).arg(&script).arg("write").arg(&ours).arg(&theirs).arg(repeat).arg(&group_rows),
        )?)?;
        anyhow::ensure!(rows == num(&py, "rows")?, "E2: the two sides wrote different row counts");
        let (r, p) = (num(&rust, "dataset_median")?, num(&py, "median")?);
        rust_s.push(r);
        one_s.push(num(&rust, "arrow_writer_median")?);
        json_s.push(num(&rust, "json_path_median")?);
        py_s.push(p);
        ratios.push(r / p);
    }
    let detail = format!(
        "{:.0} ms ours ({} threads) vs {:.0} ms pyarrow for {rows:.0} rows, 15 columns, {groups:.0} row groups, \
         median of {rounds}; the same file by ArrowWriter on one thread: {:.0} ms; the JSON path before: {:.0} ms",
        median(&rust_s) * 1e3,
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        median(&py_s) * 1e3,
        median(&one_s) * 1e3,
        median(&json_s) * 1e3
    );
    report.goal("E2", E2, median(&ratios), Cmp::AtMost(1.0), "x", &detail);

    // D1: three runs written once, then the diff of the last two, alternated with DuckDB.
    let data = work.join("history");
    eprintln!("xtask bench: D1 (diff vs DuckDB), writing 3 runs of about {findings} findings");
    let generated = json(&output(Command::new(&exe).arg("generate").arg(&data).arg(findings.to_string()))?)?;
    let runs: Vec<String> = generated["runs"]
        .as_array()
        .ok_or_else(|| anyhow!("no runs in {generated}"))?
        .iter()
        .filter_map(|run| run.as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(runs.len() == 3, "D1: expected 3 runs, got {runs:?}");
    let (mut rust_s, mut duck_s, mut ratios) = (vec![], vec![], vec![]);
    let mut counts = String::new();
    let mut threads = String::new();
    for _ in 0..rounds {
        let rust = json(&output(Command::new(&exe).arg("diff").arg(&data).arg(repeat))?)?;
        let duck = json(&output(
            Command::new(python).arg(&script).arg("diff").arg(&data).arg(&runs[1]).arg(&runs[2]).arg(repeat),
        )?)?;
        anyhow::ensure!(
            rust["counts"] == duck["counts"],
            "D1: the diff and DuckDB disagree: {} vs {}",
            rust["counts"],
            duck["counts"]
        );
        counts = rust["counts"].to_string();
        threads = duck["threads"].to_string();
        let (r, d) = (num(&rust, "median")?, num(&duck, "median")?);
        rust_s.push(r);
        duck_s.push(d);
        ratios.push(r / d);
    }
    let sizes: Vec<String> = generated["findings"]
        .as_array()
        .map(|sizes| sizes.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let detail = format!(
        "{:.0} ms ours vs {:.0} ms DuckDB ({threads} threads), runs of {} findings on {} instances, median of \
         {rounds}; both found {counts}",
        median(&rust_s) * 1e3,
        median(&duck_s) * 1e3,
        sizes.join("/"),
        generated["instances"]
    );
    let what = if report.quick { D1.replace("1,000,000", &format!("{findings}")) } else { D1.to_owned() };
    report.goal("D1", what, median(&ratios), Cmp::AtMost(1.0), "x", &detail);
    Ok(())
}
