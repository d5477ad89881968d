//! `cyrisma snapshot`, `diff` and `history` through the built binary against the emulator: exit
//! codes, the data directory default, identical runs without change, a failed instance that is
//! never called fixed, and clear errors without enough runs.

use cyrisma_emulator::Fault;

use crate::support::Env;

fn reportable(env: &Env) -> Vec<String> {
    let mut ids: Vec<String> = env
        .emu
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| instance.instance_id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn snapshots_diff_and_history_through_the_binary() {
    let env = Env::small();
    let dir = env.home.path().join("history");
    let dir = dir.to_str().unwrap();

    // One run: diff needs two, and says how to get there (usage error, exit 2).
    let first = env.run(&["snapshot", "--dir", dir, "-o", "json"]).json();
    let pulled = first["instances_pulled"].as_i64().unwrap();
    assert_eq!(pulled, reportable(&env).len() as i64);
    assert!(first["findings"].as_u64().unwrap() > 0, "{first}");
    let lonely = env.run(&["diff", "--dir", dir]);
    assert_eq!(lonely.code, 2, "{}", lonely.transcript());
    assert!(
        lonely.stderr.contains("two complete runs") && lonely.stderr.contains("cyrisma snapshot"),
        "{}",
        lonely.stderr
    );

    // Nothing changed on the server: no change at all.
    env.run(&["snapshot", "--dir", dir]).ok();
    let unchanged = env.run(&["diff", "--dir", dir, "-o", "json"]).json();
    assert_eq!(unchanged["findings"].as_array().unwrap().len(), 0, "{unchanged}");
    assert_eq!(unchanged["grades"].as_array().unwrap().len(), 0, "{unchanged}");
    let all = env.run(&["diff", "--dir", dir, "--all", "-o", "jsonl"]);
    let lines: Vec<serde_json::Value> = all.ok().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|row| row["change"] == "unchanged" && row["fingerprint"].as_str().unwrap().len() == 32));

    // One instance fails: exit 3, the run is still written, and its findings are not covered,
    // never fixed.
    let victim = reportable(&env)[0].clone();
    env.emu.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").at_host(victim.clone()));
    let partial = env.run(&["snapshot", "--dir", dir]);
    assert_eq!(partial.code, 3, "{}", partial.transcript());
    assert!(partial.stderr.contains(&victim), "{}", partial.stderr);
    let runs = env.run(&["history", "runs", "--dir", dir, "-o", "json"]).json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3);
    // CYRISMA_HISTORY_DIR names the same dataset as `--dir`.
    let mut by_env = env.command(&["history", "runs", "-o", "json"]);
    by_env.env("CYRISMA_HISTORY_DIR", dir);
    assert_eq!(env.run_command(by_env, None).json().as_array().unwrap().len(), 3);
    assert_eq!(runs[2]["failed_instances"], victim.as_str());
    let changes = env.run(&["diff", "--dir", dir, "-o", "json"]).json();
    let rows = changes["findings"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|row| row["change"] == "not_covered" && row["instance_id"] == victim.as_str()),
        "{changes}"
    );

    // The earlier pair can still be compared by id.
    let (from, to) = (runs[0]["run_id"].as_str().unwrap(), runs[1]["run_id"].as_str().unwrap());
    let pair = env.run(&["diff", "--dir", dir, "--from", from, "--to", to, "-o", "json"]).json();
    assert_eq!((pair["from"].as_str(), pair["to"].as_str()), (Some(from), Some(to)));
    let backwards = env.run(&["diff", "--dir", dir, "--from", to, "--to", from]);
    assert_eq!(backwards.code, 2, "{}", backwards.transcript());
    let unknown = env.run(&["diff", "--dir", dir, "--from", "r-nope"]);
    assert_eq!(unknown.code, 2, "{}", unknown.transcript());

    // Lifecycles: every finding open, none fixed (nothing was proven fixed).
    let findings = env.run(&["history", "findings", "--dir", dir, "-o", "json"]).json();
    let findings = findings.as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|row| row["status"] == "open" && row["fixed_at"].is_null()));
    let per_instance = env.run(&["history", "findings", "--dir", dir, "--per-instance", "-o", "json"]).json();
    assert_eq!(per_instance.as_array().unwrap().len() as i64, pulled);
}

#[test]
fn the_dataset_defaults_to_the_platform_data_directory() {
    let env = Env::small();
    let data_home = env.home.path().join("data");
    let mut command = env.command(&["snapshot"]);
    command.env("XDG_DATA_HOME", &data_home);
    env.run_command(command, None).ok();
    let runs = std::fs::read_dir(data_home.join("cyrisma/history/runs")).unwrap().count();
    assert_eq!(runs, 1, "one date partition of runs");
    let mut command = env.command(&["history", "runs", "-o", "json"]);
    command.env("XDG_DATA_HOME", &data_home);
    let listed = env.run_command(command, None).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn the_dataset_location_is_flag_then_variable_then_profile_then_default() {
    let env = Env::small();
    let root = env.home.path();
    let (from_profile, from_env, from_flag) = (root.join("profile-dir"), root.join("env-dir"), root.join("flag-dir"));
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let config = format!("[profiles.default]\nhistory_dir = \"{}\"\n", from_profile.display());
    std::fs::write(env.config_dir().join("config.toml"), config).unwrap();
    let runs_in = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir.join("runs")).map_or(0, |partitions| {
            partitions.flatten().map(|partition| std::fs::read_dir(partition.path()).unwrap().count()).sum()
        })
    };
    let data_home = root.join("data");
    let snapshot = |vars: &[(&str, &std::path::Path)], args: &[&str]| {
        let mut command = env.command(&[&["snapshot", "-o", "json"], args].concat());
        command.env("XDG_DATA_HOME", &data_home);
        for (name, value) in vars {
            command.env(name, value);
        }
        env.run_command(command, None).json();
    };

    // The profile's key, with no flag and no variable.
    snapshot(&[], &[]);
    assert_eq!((runs_in(&from_profile), runs_in(&from_env), runs_in(&from_flag)), (1, 0, 0));
    // The variable wins over the profile.
    snapshot(&[("CYRISMA_HISTORY_DIR", &from_env)], &[]);
    assert_eq!((runs_in(&from_profile), runs_in(&from_env), runs_in(&from_flag)), (1, 1, 0));
    // The flag wins over both.
    let flag = from_flag.to_str().unwrap();
    snapshot(&[("CYRISMA_HISTORY_DIR", &from_env)], &["--dir", flag]);
    assert_eq!((runs_in(&from_profile), runs_in(&from_env), runs_in(&from_flag)), (1, 1, 1));
    // Readers follow the same order: `history runs` lists the profile's dataset.
    let mut listed = env.command(&["history", "runs", "-o", "json"]);
    listed.env("XDG_DATA_HOME", &data_home);
    let listed = env.run_command(listed, None).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // The platform default was never used while the profile names a directory.
    assert!(!data_home.join("cyrisma/history").exists());
    // Another profile without the key falls back to the platform default.
    let mut other = env.command(&["--profile", "other", "snapshot", "-o", "json"]);
    other.env("XDG_DATA_HOME", &data_home);
    env.run_command(other, None).json();
    assert_eq!(runs_in(&data_home.join("cyrisma/history")), 1);
}

/// `cyrisma --emulator --emulator-history N --emulator-period K snapshot`, one process per K.
fn period_snapshot(env: &Env, dir: &str, history: u32, period: u32) -> serde_json::Value {
    let (history, period) = (history.to_string(), period.to_string());
    let args = ["--emulator", "--emulator-history", &history, "--emulator-period", &period];
    env.run(&[&args[..], &["snapshot", "--dir", dir, "-o", "json"]].concat()).json()
}

/// `YYYY-MM-DD` of an RFC 3339 time, as (year, month, day).
fn ymd(time: &str) -> (i64, i64, i64) {
    let part = |range: std::ops::Range<usize>| time[range].parse::<i64>().unwrap();
    (part(0..4), part(5..7), part(8..10))
}

#[test]
fn emulator_periods_build_a_months_long_history_in_separate_processes() {
    let env = Env::small();
    let dir = env.home.path().join("months");
    let dir = dir.to_str().unwrap();
    let today = |offset: i64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        cyrisma_core::civil::date(now + offset)
    };
    let before = today(0);
    for period in 0..=4 {
        let run = period_snapshot(&env, dir, 4, period);
        assert!(run["instances_pulled"].as_i64().unwrap() > 0, "{run}");
    }
    let after = today(0);

    // Five runs, a calendar month apart, the last one today.
    let runs = env.run(&["history", "runs", "--dir", dir, "-o", "json"]).json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 5, "{runs:?}");
    let dates: Vec<(i64, i64, i64)> = runs.iter().map(|run| ymd(run["started_at"].as_str().unwrap())).collect();
    for pair in dates.windows(2) {
        let months = (pair[1].0 * 12 + pair[1].1) - (pair[0].0 * 12 + pair[0].1);
        assert_eq!(months, 1, "{dates:?}");
    }
    let last = runs[4]["started_at"].as_str().unwrap();
    assert!(last.starts_with(&before) || last.starts_with(&after), "{last} is not today ({before})");

    // Each month has fixed and new findings, and grades move over the months.
    let mut grade_changes = 0;
    let mut reopened = 0;
    for pair in runs.windows(2) {
        let (from, to) = (pair[0]["run_id"].as_str().unwrap(), pair[1]["run_id"].as_str().unwrap());
        let diff = env.run(&["diff", "--dir", dir, "--from", from, "--to", to, "-o", "json"]).json();
        let count =
            |change: &str| diff["findings"].as_array().unwrap().iter().filter(|row| row["change"] == change).count();
        assert!(
            count("fixed") > 0 && count("new") > 0,
            "{from} -> {to}: {} fixed, {} new",
            count("fixed"),
            count("new")
        );
        reopened += count("reopened");
        grade_changes += diff["grades"].as_array().unwrap().len();
    }
    assert!(reopened > 0, "no finding came back in four months");
    assert!(grade_changes > 0, "no grade moved in four months");

    // Deterministic across processes: the same period snapshotted again changes nothing.
    let again = env.home.path().join("again");
    let again = again.to_str().unwrap();
    period_snapshot(&env, again, 4, 2);
    period_snapshot(&env, again, 4, 2);
    let same = env.run(&["diff", "--dir", again, "-o", "json"]).json();
    assert_eq!(same["findings"].as_array().unwrap().len(), 0, "{same}");
    assert_eq!(same["grades"].as_array().unwrap().len(), 0, "{same}");
    // ... and its findings are exactly those of period 2 in the first history.
    let fingerprints = |dir: &str, run: &str| -> std::collections::BTreeSet<String> {
        let diff = env.run(&["diff", "--dir", dir, "--to", run, "--all", "-o", "json"]).json();
        diff["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["change"] != "fixed" && row["change"] != "not_covered")
            .map(|row| row["fingerprint"].as_str().unwrap().to_owned())
            .collect()
    };
    let again_runs = env.run(&["history", "runs", "--dir", again, "-o", "json"]).json();
    let again_last = again_runs[1]["run_id"].as_str().unwrap().to_owned();
    assert_eq!(fingerprints(again, &again_last), fingerprints(dir, runs[2]["run_id"].as_str().unwrap()));

    // A period past the history is a usage error.
    let beyond =
        env.run(&["--emulator", "--emulator-history", "2", "--emulator-period", "3", "snapshot", "--dir", dir]);
    assert_eq!(beyond.code, 2, "{}", beyond.transcript());
    assert!(beyond.stderr.contains("--emulator-period"), "{}", beyond.stderr);
}

#[test]
fn emulator_advance_moves_a_served_emulator() {
    let env = Env::small();
    let dir = env.home.path().join("advanced");
    let dir = dir.to_str().unwrap();
    env.run(&["snapshot", "--dir", dir]).ok();

    // A month of churn: the emulator of the CYRISMA_* variables moves (its anchor is 2025-06-16).
    let advanced = env.run(&["emulator", "advance", "--days", "30", "-o", "json"]).json();
    assert_eq!(advanced["today"], "2025-07-16", "{advanced}");
    assert_eq!(advanced["period"], 1, "{advanced}");
    assert_eq!(advanced["instances"].as_array().unwrap().len(), reportable(&env).len(), "{advanced}");
    assert_eq!(cyrisma_dataset::date_of(env.emu.now_micros()), "2025-07-16");
    env.run(&["snapshot", "--dir", dir]).ok();
    let month = env.run(&["diff", "--dir", dir, "-o", "json"]).json();
    let changes = |diff: &serde_json::Value, change: &str| {
        diff["findings"].as_array().unwrap().iter().filter(|row| row["change"] == change).count()
    };
    assert!(changes(&month, "fixed") > 0 && changes(&month, "new") > 0, "{month}");

    // A rescan a week later: new scans, the same findings.
    let rescan = env.run(&["emulator", "advance", "--days", "7", "--rescan", "-o", "json"]).json();
    assert_eq!(rescan["today"], "2025-07-23", "{rescan}");
    env.run(&["snapshot", "--dir", dir]).ok();
    let same = env.run(&["diff", "--dir", dir, "-o", "json"]).json();
    assert_eq!(same["findings"].as_array().unwrap().len(), 0, "{same}");

    // Refused: the embedded emulator, an address that is not loopback, a day count out of range.
    let embedded = env.run(&["--emulator", "emulator", "advance", "--days", "1"]);
    assert_eq!(embedded.code, 2, "{}", embedded.transcript());
    assert!(embedded.stderr.contains("--emulator-period"), "{}", embedded.stderr);
    let mut remote = env.command(&["emulator", "advance", "--days", "1"]);
    remote.env("CYRISMA_RESOLVE", "*.cyrisma.test=192.0.2.1");
    let remote = env.run_command(remote, None);
    assert_eq!(remote.code, 2, "{}", remote.transcript());
    assert!(remote.stderr.contains("not a loopback address"), "{}", remote.stderr);
    assert_eq!(env.run(&["emulator", "advance", "--days", "0"]).code, 2);
    // Nothing of the refused calls reached the emulator.
    assert_eq!(cyrisma_dataset::date_of(env.emu.now_micros()), "2025-07-23");
}
