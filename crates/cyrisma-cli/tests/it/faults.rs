//! Fan-out faults through the CLI: `report` and `export findings` over 500 emulator instances of
//! which 5 % answer `500` and 1 % hang (exit code 3, every healthy instance's data in the output,
//! every failed instance listed with its reason, concurrency within the limits as seen by the
//! emulator), and Ctrl-C in the middle of a fan-out (exit code 130, no partial file, an existing
//! file untouched). Timings are printed as figures, never asserted beyond generous hang guards.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{EmulatorConfig, Fault};

use crate::support::{ANCHOR, API_KEY, API_SECRET, Env, Run};

/// Instances fanned out over.
const INSTANCES: usize = 500;

/// `--concurrency` of the fan-out runs; the CLI's client allows `max(concurrency, 16)` requests
/// at once overall and 4 per host.
const CONCURRENCY: u64 = 8;
const GLOBAL_LIMIT: u64 = 16;
const PER_HOST_LIMIT: u64 = 4;

fn plain(organizations: u32, instances: u32) -> EmulatorConfig {
    EmulatorConfig::plain()
        .with_seed(7)
        .with_size(organizations, instances, 1, 2)
        .with_anchor_time(ANCHOR)
        .with_provisioning_delay(Duration::from_secs(1))
        .with_credentials(API_KEY, ApiSecret::new(API_SECRET))
}

fn reportable(env: &Env) -> Vec<String> {
    env.emu
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| instance.instance_id)
        .collect()
}

/// The instance ids of the lines of a JSONL export, and the lines sorted.
fn export_lines(path: &Path) -> (BTreeSet<String>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    let ids = lines
        .iter()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["instance_id"].as_str().unwrap().to_owned()
        })
        .collect();
    (ids, lines)
}

/// Checks a run that failed on the faulty instances: exit code 3, and each failed instance on
/// stderr with its reason (status 500 or a timeout).
#[track_caller]
fn check_partial(run: &Run, failing: &BTreeSet<String>, hanging: &BTreeSet<String>) {
    assert_eq!(run.code, 3, "{}", run.transcript());
    let listed = failing.len() + hanging.len();
    assert!(run.stderr.contains(&format!("{listed} of {INSTANCES} instances failed")), "{}", run.stderr);
    for id in failing {
        let line = run.stderr.lines().find(|line| line.trim_start().starts_with(&format!("{id}: ")));
        let line = line.unwrap_or_else(|| panic!("{id} is not listed:\n{}", run.stderr));
        assert!(line.contains("500"), "{id} is listed with its status: {line}");
    }
    for id in hanging {
        let line = run.stderr.lines().find(|line| line.trim_start().starts_with(&format!("{id}: ")));
        let line = line.unwrap_or_else(|| panic!("{id} is not listed:\n{}", run.stderr));
        assert!(line.contains("timed out"), "{id} is listed as timed out: {line}");
    }
}

#[test]
fn a_fan_out_over_500_instances_with_5_percent_failing_and_1_percent_hanging_exits_3_and_keeps_the_rest() {
    let env = Env::start(plain(10, 540));
    let ids: Vec<String> = reportable(&env).into_iter().take(INSTANCES).collect();
    assert_eq!(ids.len(), INSTANCES);
    let failing: BTreeSet<String> = ids.iter().step_by(20).cloned().collect();
    let hanging: BTreeSet<String> = ids.iter().skip(7).step_by(100).cloned().collect();
    assert_eq!((failing.len(), hanging.len()), (25, 5));
    assert!(failing.is_disjoint(&hanging));
    for id in &failing {
        env.emu.add_fault(Fault::status(500).at_host(id.as_str()));
    }
    for id in &hanging {
        env.emu.add_fault(Fault::latency(120_000).at_host(id.as_str()));
    }
    let healthy: BTreeSet<String> =
        ids.iter().filter(|id| !failing.contains(*id) && !hanging.contains(*id)).cloned().collect();
    let selection = ids.join(",");
    // A hanging instance times out after 5 s (the total timeout of a call): short enough for a quick
    // test, long enough for a healthy call on a loaded machine.
    let fan_out = |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend_from_slice(&["--instance", &selection, "--concurrency", "8", "--timeout", "5"]);
        let mut command = env.command(&full);
        command.env("CYRISMA_MAX_RETRIES", "0");
        env.emu.reset_in_flight_max();
        let started = Instant::now();
        let run = env.run_command(command, None);
        (run, started.elapsed(), env.emu.in_flight())
    };

    // The report: every healthy instance in the document, every failed one listed.
    let (run, elapsed, in_flight) = fan_out(&["report", "-o", "json"]);
    check_partial(&run, &failing, &hanging);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).expect("one json document");
    let reported: BTreeSet<String> = document["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["instance_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, healthy, "every healthy instance is in the report, and only those");
    let errors: BTreeSet<String> = document["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["instance_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors, failing.union(&hanging).cloned().collect(), "the document lists the failed instances");
    assert!(in_flight.max <= GLOBAL_LIMIT, "in flight at the emulator: {in_flight:?}");
    assert!(in_flight.max_per_host <= PER_HOST_LIMIT, "in flight at the emulator: {in_flight:?}");
    // Each instance makes two calls at once, so at most twice `--concurrency` overall.
    assert!(in_flight.max <= 2 * CONCURRENCY, "in flight at the emulator: {in_flight:?}");
    assert!(in_flight.max > 1, "the fan-out ran concurrently: {in_flight:?}");
    eprintln!(
        "cli report over {INSTANCES}: {} healthy, {} failed (25 x 500, 5 timeouts), max in flight {} overall / {} per host \
         (limits {GLOBAL_LIMIT} / {PER_HOST_LIMIT}, --concurrency {CONCURRENCY}), {elapsed:?}",
        reported.len(),
        errors.len(),
        in_flight.max,
        in_flight.max_per_host
    );

    // The export: nothing written on a partial failure unless asked; with `--allow-partial`,
    // exactly the rows an export of the healthy instances alone gives.
    let out = env.home.path().join("findings.jsonl");
    let out_arg = out.to_str().unwrap();
    let (run, _, _) = fan_out(&["export", "findings", "--format", "jsonl", "--out", out_arg]);
    check_partial(&run, &failing, &hanging);
    assert!(!out.exists(), "no file after a partial failure");
    let (run, elapsed, in_flight) =
        fan_out(&["export", "findings", "--format", "jsonl", "--out", out_arg, "--allow-partial"]);
    check_partial(&run, &failing, &hanging);
    let (exported_ids, partial_lines) = export_lines(&out);
    assert!(exported_ids.is_subset(&healthy), "only healthy instances in the export");
    assert!(in_flight.max <= GLOBAL_LIMIT && in_flight.max_per_host <= PER_HOST_LIMIT, "{in_flight:?}");
    let reference = env.home.path().join("healthy.jsonl");
    let healthy_ids = healthy.iter().cloned().collect::<Vec<_>>().join(",");
    let mut command = env.command(&[
        "export",
        "findings",
        "--format",
        "jsonl",
        "--out",
        reference.to_str().unwrap(),
        "--instance",
        &healthy_ids,
    ]);
    command.env("CYRISMA_MAX_RETRIES", "0");
    env.run_command(command, None).ok();
    let (reference_ids, reference_lines) = export_lines(&reference);
    assert!(!reference_lines.is_empty());
    assert_eq!(exported_ids, reference_ids);
    assert_eq!(partial_lines, reference_lines, "every healthy instance's rows are in the partial export");
    eprintln!(
        "cli export over {INSTANCES}: {} rows from {} instances, 30 failed, max in flight {} overall / {} per host, {elapsed:?}",
        partial_lines.len(),
        exported_ids.len(),
        in_flight.max,
        in_flight.max_per_host
    );
}

/// Spawns a command with piped stdout and stderr.
fn spawn(env: &Env, args: &[&str]) -> Child {
    let mut command = env.command(args);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("the binary runs")
}

/// Requests held by the emulator's latency faults so far.
fn held(env: &Env) -> u64 {
    env.emu.faults().iter().map(|fault| fault.fired).sum()
}

/// Waits (bounded) until `count` more requests than `before` are held at the emulator: the
/// fan-out is under way, so the CLI's Ctrl-C handler is installed.
fn wait_held(env: &Env, before: u64, count: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while held(env) < before + count {
        assert!(Instant::now() < deadline, "the fan-out never got going: {:?}", env.emu.in_flight());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends SIGINT (what Ctrl-C sends) and waits for the exit, with a generous hang guard; returns
/// the run and the time from the signal to the exit.
fn interrupt(mut child: Child) -> (Run, Duration) {
    let pid = child.id().to_string();
    let sent = Instant::now();
    let status = std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
    assert!(status.success());
    let guard = Duration::from_secs(15);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if sent.elapsed() > guard {
            let _ = child.kill();
            panic!("no exit within {guard:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let took = sent.elapsed();
    let output = child.wait_with_output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    (run, took)
}

/// Files in `dir` other than `keep`.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !keep.contains(&name.as_str()))
        .collect()
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_fan_out_exits_130_and_leaves_no_partial_file() {
    let env = Env::start(plain(2, 40));
    // Every instance answers its first calls, then hangs: the fan-out is mid-way when interrupted.
    env.emu.add_fault(Fault::latency(60_000).on("scans.get_vulnerability_scan").skip(6));
    env.emu.add_fault(Fault::latency(60_000).on("dashboards.get_vulnerability_dashboard").skip(6));
    let out_dir = env.home.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut figures = Vec::new();

    // An export over an existing file: the file is left exactly as it was.
    let existing = out_dir.join("existing.jsonl");
    std::fs::write(&existing, "the previous export\n").unwrap();
    let before = held(&env);
    let child = spawn(&env, &["export", "findings", "--out", existing.to_str().unwrap(), "--concurrency", "4"]);
    wait_held(&env, before, 4);
    let (run, took) = interrupt(child);
    assert_eq!(run.code, 130, "{}", run.transcript());
    assert!(run.stderr.contains("interrupted"), "{}", run.transcript());
    assert!(run.stderr.lines().count() <= 3, "a short message: {}", run.transcript());
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "the previous export\n");
    assert_eq!(others(&out_dir, &["existing.jsonl"]), Vec::<String>::new(), "no temporary file left");
    figures.push(("export over an existing file", took));

    // An export to a new file: no file at all.
    let fresh = out_dir.join("fresh.csv");
    let before = held(&env);
    let child =
        spawn(&env, &["export", "findings", "--format", "csv", "--out", fresh.to_str().unwrap(), "--concurrency", "4"]);
    wait_held(&env, before, 4);
    let (run, took) = interrupt(child);
    assert_eq!(run.code, 130, "{}", run.transcript());
    assert!(!fresh.exists(), "no partial output file");
    assert_eq!(others(&out_dir, &["existing.jsonl"]), Vec::<String>::new(), "no temporary file left");
    figures.push(("export to a new file", took));

    // The report: nothing on stdout.
    let before = held(&env);
    let child = spawn(&env, &["report", "-o", "csv", "--concurrency", "4"]);
    wait_held(&env, before, 4);
    let (run, took) = interrupt(child);
    assert_eq!(run.code, 130, "{}", run.transcript());
    assert!(run.stderr.contains("interrupted"), "{}", run.transcript());
    assert_eq!(run.stdout, "", "no partial report");
    figures.push(("report", took));

    for (what, took) in figures {
        eprintln!("ctrl-c during a fan-out ({what}): exit 130 {took:?} after SIGINT");
    }
}
