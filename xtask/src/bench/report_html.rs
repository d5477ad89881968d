//! RH1: the customer report pages (`cyrisma report html`) of 1,000 customers with 12 runs of
//! history, against the snapshot of those 1,000 instances (`cyrisma snapshot`), measured side by
//! side in one run. The history is built for the measurement: an emulator process with 1,000
//! instances, 12 snapshots with `POST /__emulator/advance` (30 days of churn) between them.
//! The reference is the median of the 12 snapshots' wall times.
//!
//! The pages are measured as an MSP makes them each month: a report after every snapshot, so the
//! report after the 12th finds the change counts of the first 11 runs in the history's cache
//! (`.cache/report-html`, as the report after the 11th left it) and counts only the new pair.
//! That report is written 3 times, the cache put back as the 11th left it before each, and the
//! median is judged. The same report with no cache at all (every pair counted, as the first
//! report of a history taken without reports in between) is measured as often and stated
//! beside it. `--quick`: 10 instances, 2 runs, one write of each, nothing judged.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use super::{Cmp, EmulatorProcess, Report, cargo, cargo_target_dir, median};

const WHAT: &str = "`cyrisma report html` of N instances × 12 runs after the 12th snapshot (a report after each) vs `cyrisma snapshot` of those N (1,000; 10 × 2 in `--quick`)";
const GOAL: &str = "≤ 0.25x";

/// `POST /__emulator/advance` with `{"days": 30}` to the emulator's central host.
fn advance(env: &[(String, String)]) -> Result<()> {
    let base = env
        .iter()
        .find(|(name, _)| name == "CYRISMA_BASE_URL")
        .map(|(_, value)| value.clone())
        .ok_or_else(|| anyhow!("the emulator printed no base URL"))?;
    let authority = base
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| anyhow!("unexpected base URL {base}"))?;
    let port = authority.rsplit(':').next().ok_or_else(|| anyhow!("no port in {base}"))?;
    let mut stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>()?))?;
    stream.set_read_timeout(Some(Duration::from_secs(300)))?;
    let body = r#"{"days": 30}"#;
    write!(
        stream,
        "POST /__emulator/advance HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    anyhow::ensure!(answer.starts_with("HTTP/1.1 200"), "advance failed: {}", answer.lines().next().unwrap_or(""));
    Ok(())
}

fn timed(command: &mut Command) -> Result<(f64, String)> {
    let start = Instant::now();
    let output = command.output()?;
    let wall = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        output.status.success(),
        "`{}` failed ({}): {}",
        command.get_args().map(|arg| arg.to_string_lossy()).collect::<Vec<_>>().join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((wall, String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// The report's cache in a history.
const CACHE: &str = ".cache";

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    if !from.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn remove_cache(history: &Path) -> Result<()> {
    match std::fs::remove_dir_all(history.join(CACHE)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}

/// Puts the history's cache back as it was saved.
fn restore_cache(history: &Path, saved: &Path) -> Result<()> {
    remove_cache(history)?;
    copy_dir(saved, &history.join(CACHE))
}

/// RH1, when the CLI builds.
pub(super) fn goals(report: &mut Report, root: &Path, dir: &Path) -> Result<()> {
    let (profile, flag) = if report.quick { ("debug", "--profile=dev") } else { ("release", "--release") };
    let built = Command::new(cargo())
        .args(["build", flag, "-p", "cyrisma-cli", "-p", "cyrisma-emulator"])
        .current_dir(root)
        .status()?;
    let target = cargo_target_dir(root).join(profile);
    let (cli, emulator) = (target.join("cyrisma"), target.join("cyrisma-emulator"));
    if !built.success() || !cli.exists() {
        report.missing("RH1", WHAT, GOAL, "cyrisma-cli does not build");
        return Ok(());
    }
    let (instances, runs, writes) = if report.quick { (10, 2, 1) } else { (1000, 12, 3) };
    let work = dir.join("report-html");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let history = work.join("history");
    let config = work.join("cli-config");
    std::fs::create_dir_all(&config)?;
    let server = EmulatorProcess::start(&emulator, instances)?;
    let server_env = server.env.clone();
    let command = |args: &[&str]| {
        let mut command = Command::new(&cli);
        command
            .args(args)
            .env_clear()
            .env("CYRISMA_CONFIG_DIR", &config)
            .env("CYRISMA_NO_PROGRESS", "true")
            .env("HOME", &work)
            .envs(server_env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    };
    let history_arg = history.to_str().context("a utf-8 path")?.to_owned();
    let saved = work.join("saved-cache");
    let out_arg_before = work.join("report-before").to_str().context("a utf-8 path")?.to_owned();
    let mut snapshots = Vec::with_capacity(runs);
    for run in 0..runs {
        if run > 0 {
            advance(&server.env)?;
        }
        if run + 1 == runs {
            // The report after the snapshot before the last, as a monthly report leaves the cache.
            timed(&mut command(&["report", "html", "--dir", &history_arg, "--out", &out_arg_before, "-q"]))?;
            copy_dir(&history.join(CACHE), &saved)?;
        }
        eprintln!("xtask bench: RH1 snapshot {} of {runs} ({instances} instances)", run + 1);
        snapshots.push(timed(&mut command(&["snapshot", "--dir", &history_arg, "-q"]))?.0);
    }
    drop(server);
    let out = work.join("report");
    let out_arg = out.to_str().context("a utf-8 path")?.to_owned();
    let write_pages = || -> Result<(f64, usize)> {
        let (wall, stdout) =
            timed(&mut command(&["report", "html", "--dir", &history_arg, "--out", &out_arg, "-q", "-o", "json"]))?;
        let summary: serde_json::Value = serde_json::from_str(&stdout).context("the summary is JSON")?;
        Ok((wall, super::num(&summary, "customers")? as usize))
    };
    let (mut pages, mut cold) = (Vec::with_capacity(writes), Vec::with_capacity(writes));
    let mut customers = 0;
    for _ in 0..writes {
        eprintln!("xtask bench: RH1 report html after a new snapshot, and with no cache");
        restore_cache(&history, &saved)?;
        let (wall, count) = write_pages()?;
        pages.push(wall);
        customers = count;
        remove_cache(&history)?;
        cold.push(write_pages()?.0);
    }
    let written = std::fs::read_dir(&out)?.count();
    anyhow::ensure!(customers > 0 && written == customers + 1, "{written} pages written for {customers} customers");
    let (snapshot, html, cold) = (median(&snapshots), median(&pages), median(&cold));
    let detail = format!(
        "pages after a new snapshot {html:.2} s (median of {writes}; the change counts of the earlier runs from the \
         cache the report after the one before left) vs snapshot {snapshot:.2} s (median of {runs}); with no cache \
         (every pair counted) {cold:.2} s = {:.3}x; {customers} customers of {instances} instances, {runs} runs, \
         {profile}",
        cold / snapshot
    );
    report.goal("RH1", WHAT, html / snapshot, Cmp::AtMost(0.25), "x", &detail);
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The row alone in its smoke mode, for development:
    /// `cargo test -p xtask report_html_row -- --ignored --nocapture`.
    #[test]
    #[ignore = "builds the CLI and runs snapshots; run by hand"]
    fn report_html_row() {
        let root = crate::tidy::workspace_root();
        let dir = root.join("target/bench");
        std::fs::create_dir_all(&dir).unwrap();
        let mut report = super::Report { quick: std::env::var_os("RH1_FULL").is_none(), rows: vec![], notes: vec![] };
        super::goals(&mut report, &root, &dir).unwrap();
        for row in &report.rows {
            eprintln!("{} | {} | {} | {} | {}", row.id, row.what, row.measured, row.goal, row.result);
        }
        assert_eq!(report.rows.len(), 1);
    }
}
