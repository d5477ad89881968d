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

fn create_args() -> Vec<&'static str> {
    vec![
        "instances",
        "create",
        "--type",
        "standard",
        "--parent",
        "cc100001",
        "--name",
        "Cut Corp",
        "--short-name",
        "cutcorp",
        "--country",
        "US",
        "--email",
        "it@cut.example",
    ]
}

#[test]
fn a_change_cut_by_the_total_timeout_exits_6_not_5() {
    use cyrisma_emulator::Fault;
    let env = Env::small();
    env.emu.add_fault(Fault::latency(60_000).on("instances.create_instance"));
    let mut args = create_args();
    // Long enough that a loaded machine still sends the create (after the login) before the cut:
    // a cut during the login is a plain timeout (exit 5), which is not what this test is about.
    args.extend(["--timeout", "8"]);
    let run = env.run(&args);
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert!(run.stderr.contains("may have reached the api"), "{}", run.transcript());
    assert!(run.stderr.contains("check the current state first"), "{}", run.transcript());
    assert!(!run.stderr.contains("try again"), "{}", run.transcript());
    // Cut by one attempt's timeout instead (the transport's ambiguous outcome, which the total
    // timeout also gives when the attempt's own timer, clamped to what is left, fires first):
    // the same exit code and the same words.
    let mut command = env.command(&args);
    command.env("CYRISMA_ATTEMPT_TIMEOUT", "2");
    let run = env.run_command(command, None);
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert!(run.stderr.contains("may have reached the api"), "{}", run.transcript());
    assert!(run.stderr.contains("check the current state first"), "{}", run.transcript());
    assert!(!run.stderr.contains("try again"), "{}", run.transcript());
    // A read cut the same way stays a timeout (exit 5): retrying it is safe.
    env.emu.add_fault(Fault::latency(20_000).on("users.list_users"));
    assert_eq!(env.run(&["users", "list", "--timeout", "3"]).code, 5);
}

#[test]
fn ctrl_c_during_a_change_exits_6_with_the_check_first_hint() {
    use cyrisma_emulator::Fault;
    let env = Env::small();
    env.emu.add_fault(Fault::latency(30_000).on("instances.create_instance"));
    let mut command = env.command(&create_args());
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("the binary runs");
    // Wait (bounded) until the create has reached the emulator, then interrupt as a terminal does.
    let mut reached = false;
    for _ in 0..400 {
        if env.emu.count("instances.create_instance") > 0 {
            reached = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(reached && sent.success(), "the create reached the emulator");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("interrupted while the change may already have reached the api"), "{stderr}");
    assert!(stderr.contains("check the current state first"), "{stderr}");
    // A read interrupted the same way exits 130.
    env.emu.add_fault(Fault::latency(30_000).on("users.list_users"));
    let mut command = env.command(&["users", "list"]);
    command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    for _ in 0..400 {
        if env.emu.count("users.list_users") > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(130));
}

#[test]
fn a_login_answered_with_a_redirect_says_so() {
    use std::io::{Read as _, Write as _};
    let env = Env::small();
    // A hostile server on 127.0.0.1 that redirects everything (at most 16 connections).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0_u8; 8192];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 302 Found\r\nLocation: https://login.example/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let mut command = env.command(&["instances", "list"]);
    command.env("CYRISMA_BASE_URL", format!("http://127.0.0.1:{port}/app")).env_remove("CYRISMA_CA_CERT");
    let run = env.run_command(command, None);
    assert_eq!(run.code, 1, "not an authentication failure: {}", run.transcript());
    assert!(run.stderr.contains("redirect (302)"), "{}", run.transcript());
    assert!(run.stderr.contains("--base-url"), "{}", run.transcript());
    assert!(!run.stderr.contains("check the credentials"), "{}", run.transcript());
}
