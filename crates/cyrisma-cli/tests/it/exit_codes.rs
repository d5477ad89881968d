//! The documented exit codes: 0 success, 1 error, 2 usage, 3 partial failure across instances
//! (listing which), 4 authentication, 5 rate limited or timed out, 6 ambiguous outcome.

use cyrisma_emulator::{Fault, FaultKind};

use crate::support::Env;

fn create_args() -> Vec<&'static str> {
    vec![
        "instances",
        "create",
        "--type",
        "standard",
        "--parent",
        "cc100001",
        "--name",
        "Ambiguous Corp",
        "--short-name",
        "ambiguous",
        "--country",
        "US",
        "--email",
        "it@ambiguous.example",
    ]
}

#[test]
fn success_error_and_usage() {
    let env = Env::small();
    assert_eq!(env.run(&["instances", "list"]).code, 0);
    let missing = env.run(&["instances", "get", "cc999999"]);
    assert_eq!(missing.code, 1, "{}", missing.transcript());
    assert!(missing.stderr.contains("hint:"), "{}", missing.transcript());
    assert_eq!(env.run(&["instances", "frobnicate"]).code, 2);
    assert_eq!(env.run(&["report", "--concurrency", "0"]).code, 2);
    assert_eq!(env.run(&["api", "GET", "/partner/nothing"]).code, 2);
}

#[test]
fn partial_failure_lists_the_instances_that_failed() {
    let env = Env::small();
    env.run(&["instances", "suspend", "cc100004"]).ok();
    let run = env.run(&["report", "--instance", "cc100003,cc100004"]);
    assert_eq!(run.code, 3, "{}", run.transcript());
    assert!(run.stdout.contains("cc100003") && !run.stdout.contains("cc100004"), "{}", run.transcript());
    assert!(run.stderr.contains("1 of 2 instances failed: cc100004"), "{}", run.transcript());
    let json = env.run(&["report", "--instance", "cc100003,cc100004", "-o", "json"]);
    assert_eq!(json.code, 3);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("one json document");
    assert_eq!(document["instances"].as_array().map(Vec::len), Some(1));
    assert_eq!(document["errors"][0]["instance_id"], "cc100004");
    // The export keeps no file on a partial failure unless asked to.
    let out = env.home.path().join("findings.csv");
    let export = env.run(&[
        "export",
        "findings",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--instance",
        "cc100003,cc100004",
    ]);
    assert_eq!(export.code, 3, "{}", export.transcript());
    assert!(!out.exists(), "no file after a partial failure");
    let kept = env.run(&[
        "export",
        "findings",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
        "--instance",
        "cc100003,cc100004",
        "--allow-partial",
    ]);
    assert_eq!(kept.code, 3, "{}", kept.transcript());
    assert!(std::fs::read_to_string(&out).unwrap().lines().skip(1).all(|line| line.starts_with("cc100003,")));
    // Unknown ids count as failures too.
    let unknown = env.run(&["report", "--instance", "cc100003,cc424242"]);
    assert_eq!(unknown.code, 3, "{}", unknown.transcript());
    assert!(unknown.stderr.contains("cc424242: no such instance"), "{}", unknown.transcript());
}

#[test]
fn authentication_failures_exit_4() {
    let env = Env::small();
    let mut command = env.command(&["instances", "list"]);
    command.env("CYRISMA_API_SECRET", "wrong-secret");
    let run = env.run_command(command, None);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert!(run.stderr.contains("cyrisma auth status"), "{}", run.transcript());
    let mut command = env.command(&["instances", "list"]);
    command.env_remove("CYRISMA_API_KEY");
    assert_eq!(env.run_command(command, None).code, 4);
}

#[test]
fn rate_limits_and_timeouts_exit_5() {
    let env = Env::small();
    env.emu.add_fault(Fault::rate_limited("300").on("instances.list_instances"));
    let run = env.run(&["instances", "list"]);
    assert_eq!(run.code, 5, "{}", run.transcript());
    env.emu.clear_faults();
    env.emu.add_fault(Fault::latency(5_000).on("users.list_users"));
    let run = env.run(&["users", "list", "--timeout", "1"]);
    assert_eq!(run.code, 5, "{}", run.transcript());
}

#[test]
fn an_ambiguous_create_exits_6_and_is_not_retried() {
    let env = Env::small();
    env.emu.add_fault(Fault::new(FaultKind::DropAfterCommit).on("instances.create_instance"));
    let run = env.run(&create_args());
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert!(run.stderr.contains("check the current state first"), "{}", run.transcript());
    assert_eq!(env.emu.count("instances.create_instance"), 1);
}
