//! `cyrisma snapshot` killed (SIGKILL) at several points of a run: while instances are being
//! pulled, after the tables are closed, after the first rename, before the `runs` row and
//! between the `runs` file's temporary name and its rename. Each time the earlier runs stay
//! listed and comparable, the killed run is not listed and no reader shows part of it, and the
//! next snapshot succeeds and removes what the killed one left.
//!
//! The process is paused at the point by the dataset's test hook
//! (`CYRISMA_DATASET_FAILPOINT=pause:<point>@<marker>`), which creates a marker file; the test
//! waits for it (bounded) and kills. The runs are taken with the embedded emulator a month apart
//! (`--emulator-period`), so the next run is old enough for the orphan rule to apply.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::Env;

/// The points, in the order a run reaches them.
const POINTS: &[&str] =
    &["after-write:findings", "after-tables-closed", "after-first-rename", "before-runs-row", "before-runs-rename"];

fn period_args(period: u32) -> Vec<String> {
    ["--emulator", "--emulator-history", "3", "--emulator-period", &period.to_string(), "--no-progress"]
        .map(str::to_owned)
        .to_vec()
}

fn snapshot(env: &Env, dir: &Path, period: u32) -> std::process::Command {
    let mut args = period_args(period);
    args.extend([
        "snapshot".to_owned(),
        "--dir".to_owned(),
        dir.display().to_string(),
        "-o".to_owned(),
        "json".to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.command(&args)
}

/// Every file below `root`, relative.
fn files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    for file in files(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&file), target).unwrap();
    }
}

fn run_ids(env: &Env, dir: &Path) -> Vec<String> {
    let runs = env.run(&["history", "runs", "--dir", dir.to_str().unwrap(), "-o", "json"]).json();
    runs.as_array().unwrap().iter().map(|run| run["run_id"].as_str().unwrap().to_owned()).collect()
}

/// Starts a snapshot paused at `point`, waits for the marker and kills it with SIGKILL.
fn kill_at(env: &Env, dir: &Path, point: &str) {
    let marker: PathBuf = env.home.path().join(format!("marker-{}", point.replace(':', "-")));
    let mut command = snapshot(env, dir, 2);
    command.env("CYRISMA_DATASET_FAILPOINT", format!("pause:{point}@{}", marker.display()));
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    let mut reached = false;
    for _ in 0..6_000 {
        if marker.exists() {
            reached = true;
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!("{point}: exited ({status}) before the point:\n{}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Kill first: a test that fails here must not leave the process paused.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(reached, "{point}: the marker never appeared");
    assert!(!status.success(), "{point}: {status}");
}

#[test]
fn a_snapshot_killed_at_any_point_leaves_the_earlier_runs_and_no_partial_run() {
    let env = Env::small();
    // Two complete runs a month apart.
    let base = env.home.path().join("base");
    for period in [0, 1] {
        let run = env.run_command(snapshot(&env, &base, period), None);
        run.json();
    }
    let earlier = run_ids(&env, &base);
    assert_eq!(earlier.len(), 2);
    let earlier_diff = env.run(&["diff", "--dir", base.to_str().unwrap(), "-o", "json"]).json();
    let earlier_files = files(&base);

    for point in POINTS {
        let dir = env.home.path().join(format!("killed-{}", point.replace(':', "-")));
        copy_dir(&base, &dir);
        kill_at(&env, &dir, point);

        // The killed run left files behind (the kill really happened mid-run)...
        let left: Vec<String> = files(&dir).into_iter().filter(|file| !earlier_files.contains(file)).collect();
        assert!(!left.is_empty(), "{point}: nothing of the killed run on disk");
        let killed =
            left[0].rsplit('/').next().unwrap().trim_start_matches('.').split(".parquet").next().unwrap().to_owned();
        assert!(left.iter().all(|file| file.contains(&killed)), "{point}: {left:?}");
        assert!(!earlier.contains(&killed), "{point}");
        // ... but no `runs` row of it under a name a reader takes.
        assert!(!left.iter().any(|file| file.starts_with("runs/") && file.ends_with(".parquet")), "{point}: {left:?}");
        if *point == "after-first-rename" || *point == "before-runs-row" || *point == "before-runs-rename" {
            assert!(left.iter().any(|file| file.ends_with(".parquet") && !file.contains("/.")), "{point}: {left:?}");
        }

        // Readers: the earlier runs, their diff unchanged, no lifecycle seen in the killed run.
        assert_eq!(run_ids(&env, &dir), earlier, "{point}");
        let diff = env.run(&["diff", "--dir", dir.to_str().unwrap(), "-o", "json"]).json();
        assert_eq!(diff, earlier_diff, "{point}");
        let lifecycles = env.run(&["history", "findings", "--dir", dir.to_str().unwrap(), "-o", "jsonl"]);
        assert!(!lifecycles.ok().contains(&killed), "{point}");

        // The next snapshot (a month later) succeeds and removes the killed run's files.
        env.run_command(snapshot(&env, &dir, 3), None).json();
        let after = run_ids(&env, &dir);
        assert_eq!((after.len(), &after[..2]), (3, &earlier[..]), "{point}");
        assert!(files(&dir).iter().all(|file| !file.contains(&killed)), "{point}: orphans left");
        let latest = env.run(&["diff", "--dir", dir.to_str().unwrap(), "-o", "json"]).json();
        assert_eq!(
            (latest["from"].as_str(), latest["to"].as_str()),
            (Some(after[1].as_str()), Some(after[2].as_str()))
        );
    }
}
