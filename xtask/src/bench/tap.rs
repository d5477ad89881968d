//! The Singer tap's row: `cyrisma tap` with a catalog selecting the `findings` stream, against
//! `cyrisma export findings --format jsonl` over the same emulator (the same instances, scans
//! and details), both writing to a file; the ratio of their median wall times, alternated runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};

use super::{Cmp, EmulatorProcess, Report, cargo, cargo_target_dir};

const WHAT: &str = "`cyrisma tap` findings stream vs `cyrisma export findings --format jsonl`, wall time";
const GOAL: &str = "≤ 1.2x";

/// A catalog with the `findings` stream selected, from `cyrisma tap --discover`.
fn findings_catalog(cli: &Path, dir: &Path) -> Result<std::path::PathBuf> {
    let out = Command::new(cli).args(["tap", "--discover"]).output().context("cannot run `cyrisma tap --discover`")?;
    anyhow::ensure!(out.status.success(), "`cyrisma tap --discover` failed");
    let mut catalog: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for stream in catalog["streams"].as_array_mut().context("no streams in the catalog")? {
        let selected = stream["stream"] == "findings";
        stream["metadata"][0]["metadata"]["selected"] = serde_json::Value::Bool(selected);
    }
    let path = dir.join("tap-catalog.json");
    std::fs::write(&path, serde_json::to_vec(&catalog)?)?;
    Ok(path)
}

/// Wall time of `command` with its stdout to `out`.
fn timed(command: &mut Command, out: &Path) -> Result<f64> {
    let file = std::fs::File::create(out)?;
    let start = Instant::now();
    let status = command.stdout(Stdio::from(file)).stderr(Stdio::null()).status()?;
    let wall = start.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "{:?} failed: {status}", command.get_args().collect::<Vec<_>>());
    Ok(wall)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The row `TAP`: builds the CLI and the emulator, then alternates the two commands.
pub(super) fn goals(report: &mut Report, root: &Path, dir: &Path) -> Result<()> {
    let (profile, flag) = if report.quick { ("debug", "--profile=dev") } else { ("release", "--release") };
    let built = Command::new(cargo())
        .args(["build", flag, "-p", "cyrisma-cli", "-p", "cyrisma-emulator"])
        .current_dir(root)
        .status()?;
    let target = cargo_target_dir(root).join(profile);
    let (cli, emulator) = (target.join("cyrisma"), target.join("cyrisma-emulator"));
    if !built.success() || !cli.exists() {
        report.missing("TAP", WHAT, GOAL, "cyrisma-cli does not build");
        return Ok(());
    }
    let (instances, runs) = if report.quick { (20, 1) } else { (300, 5) };
    eprintln!("xtask bench: cyrisma tap vs cyrisma export findings over {instances} instances");
    let server = EmulatorProcess::start(&emulator, instances)?;
    let catalog = findings_catalog(&cli, dir)?;
    let config_dir = dir.join("cli-config");
    std::fs::create_dir_all(&config_dir)?;
    let command = |args: &[&str]| {
        let mut command = Command::new(&cli);
        command
            .args(args)
            .env("CYRISMA_CONFIG_DIR", &config_dir)
            .env("CYRISMA_NO_PROGRESS", "true")
            .envs(server.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    };
    let (export_out, tap_out) = (dir.join("tap-export.jsonl"), dir.join("tap-findings.jsonl"));
    let catalog = catalog.display().to_string();
    let (mut exports, mut taps) = (vec![], vec![]);
    // One warm-up each, then alternated runs.
    for round in 0..=runs {
        let export = timed(&mut command(&["export", "findings", "--format", "jsonl", "--out", "-"]), &export_out)?;
        let tap = timed(&mut command(&["tap", "--catalog", &catalog]), &tap_out)?;
        if round > 0 {
            exports.push(export);
            taps.push(tap);
        }
    }
    let rows = |path: &Path| std::fs::read_to_string(path).map(|text| text.lines().count()).unwrap_or(0);
    let (export_rows, tap_lines) = (rows(&export_out), rows(&tap_out));
    let _ = (std::fs::remove_file(&export_out), std::fs::remove_file(&tap_out));
    let (export, tap) = (median(exports), median(taps));
    let detail = format!(
        "{instances} instances, {export_rows} findings; tap {:.2} s ({tap_lines} messages) vs export {:.2} s, \
         median of {runs} alternated runs",
        tap, export
    );
    report.goal("TAP", WHAT, tap / export, Cmp::AtMost(1.2), "x", &detail);
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The row alone (`cargo test -p xtask tap_row -- --ignored --nocapture`): in `--quick` mode,
    /// what `cargo xtask bench --quick` runs for it, without the other rows; with
    /// `CYRISMA_BENCH_TAP_FULL=1`, at the full size of `cargo xtask bench` (release build).
    #[test]
    #[ignore = "builds the CLI and runs it; run by hand"]
    fn tap_row_runs_in_quick_mode() {
        let root = crate::tidy::workspace_root();
        let dir = root.join("target/bench");
        std::fs::create_dir_all(&dir).unwrap();
        let quick = std::env::var_os("CYRISMA_BENCH_TAP_FULL").is_none_or(|full| full != "1");
        let mut report = super::Report { quick, rows: vec![], notes: vec![] };
        super::goals(&mut report, &root, &dir).unwrap();
        let row = &report.rows[0];
        eprintln!("{} | {} | {} | {}", row.id, row.what, row.measured, row.result);
        assert_eq!(row.id, "TAP");
        assert!(row.measured.contains("findings"), "{}", row.measured);
    }
}
