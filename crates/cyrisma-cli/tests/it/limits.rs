//! Limits: duration flags far beyond the clock, empty ids and out-of-range settings are usage
//! errors (exit 2), never a panic or a call that goes out first.

use crate::support::Env;

#[test]
fn huge_wait_timeouts_are_refused_before_anything_is_sent() {
    let env = Env::small();
    let before = env.run(&["instances", "list", "-o", "json"]).json().as_array().unwrap().len();
    for huge in ["9223372036854775808", "18446744073709551615", "10000001"] {
        let run = env.run(&[
            "instances",
            "create",
            "--type",
            "standard",
            "--parent",
            "cc100001",
            "--name",
            "Huge Wait",
            "--short-name",
            "hugewait",
            "--country",
            "US",
            "--email",
            "it@huge.example",
            "--wait",
            "--wait-timeout",
            huge,
        ]);
        assert_eq!(run.code, 2, "{huge}: {}", run.transcript());
        assert!(!run.stderr.contains("panicked") && !run.stderr.contains("internal error"), "{}", run.transcript());
        let run = env.run(&["instances", "wait", "cc100003", "--wait-timeout", huge]);
        assert_eq!(run.code, 2, "{huge}: {}", run.transcript());
    }
    let after = env.run(&["instances", "list", "-o", "json"]).json().as_array().unwrap().len();
    assert_eq!(before, after, "no instance was created");
    // The largest accepted value waits as usual (the instance is active already).
    let run = env.run(&["instances", "wait", "cc100003", "--wait-timeout", "10000000"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn a_profile_timeout_out_of_range_is_a_usage_error() {
    let env = Env::small();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    for timeout in ["1e300", "-5", "nan", "0"] {
        std::fs::write(env.config_dir().join("config.toml"), format!("[profiles.default]\ntimeout = {timeout}\n"))
            .unwrap();
        let run = env.run(&["instances", "list"]);
        assert_eq!(run.code, 2, "{timeout}: {}", run.transcript());
        assert!(!run.stderr.contains("internal error"), "{}", run.transcript());
    }
}

#[test]
fn empty_ids_are_usage_errors() {
    let env = Env::small();
    for args in [
        &["instances", "get", ""][..],
        &["instances", "get", "  "],
        &["instances", "suspend", ""],
        &["users", "get", ""],
        &["webhooks", "delete", ""],
        &["scans", "data", "--instance", ""],
    ] {
        let run = env.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains("non-empty id"), "{args:?}: {}", run.transcript());
    }
}
