//! `cyrisma auth rotate-secret` failing at each of six points (before send; committed then the
//! connection dropped; a truncated answer, cut mid-body or well-formed but short; the store write
//! failing; the verification login failing; the process killed right after persisting): the
//! emulator sees exactly one regen-pass whenever bytes were sent (none before), whenever the new
//! secret reached the CLI it is recoverable (store, recovery file or shown once on stderr), and the
//! message says what to do, which the test then does.

use cyrisma_emulator::{Fault, FaultKind};

use crate::support::{API_KEY, API_SECRET, Env, Run};

const REGEN: &str = "auth.regen_pass";

/// An emulator and a profile whose secret is in the credentials file.
fn stored_profile() -> Env {
    let mut env = Env::small();
    env.secret_in_env = false;
    env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{API_SECRET}\n")).ok();
    env
}

fn rotate(env: &Env, vars: &[(&str, &str)]) -> Run {
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.env("CYRISMA_MAX_RETRIES", "0");
    for (name, value) in vars {
        command.env(name, value);
    }
    env.run_command(command, None)
}

fn stored_secret(env: &Env) -> String {
    std::fs::read_to_string(env.config_dir().join("credentials.toml")).unwrap()
}

/// The secret never goes to stdout, and is on stderr only when it is shown once on purpose.
#[track_caller]
fn never_printed(env: &Env, run: &Run) {
    let new = env.emu.api_secret();
    assert!(!run.stdout.contains(new.expose_secret()), "{}", run.transcript());
    assert!(!run.stdout.contains(API_SECRET) && !run.stderr.contains(API_SECRET), "{}", run.transcript());
}

#[test]
fn a_failure_before_send_sends_nothing_and_the_old_secret_still_works() {
    let env = stored_profile();
    // Nothing listens on this port: the connection fails before a byte of the request leaves.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = env.emu.base_url().replace(&format!(":{}/", env.emu.addr().port()), &format!(":{port}/"));
    assert_ne!(dead, env.emu.base_url());
    let run = rotate(&env, &[("CYRISMA_BASE_URL", &dead)]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("nothing was sent and the old secret still works"), "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 0);
    assert_eq!(env.emu.api_secret().expose_secret(), API_SECRET);
    never_printed(&env, &run);
    env.run(&["auth", "status"]).ok();
}

#[test]
fn a_dropped_connection_after_the_commit_is_ambiguous_and_never_retried() {
    let env = stored_profile();
    env.emu.add_fault(Fault::new(FaultKind::DropAfterCommit).on(REGEN));
    let run = rotate(&env, &[]);
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    assert_ne!(env.emu.api_secret().expose_secret(), API_SECRET, "the server committed");
    // The new secret never reached the CLI: the message says how to find out and what to do.
    assert!(run.stderr.contains("no answer came back"), "{}", run.transcript());
    assert!(run.stderr.contains("do not run `cyrisma auth rotate-secret` again"), "{}", run.transcript());
    assert!(run.stderr.contains("ask CYRISMA Support for a new temporary secret"), "{}", run.transcript());
    never_printed(&env, &run);
    assert!(stored_secret(&env).contains(API_SECRET), "the store is untouched");
    assert_eq!(env.run(&["auth", "status"]).code, 4, "as the hint says: status fails, the old secret was replaced");
}

#[test]
fn an_answer_cut_mid_body_is_ambiguous_and_never_retried() {
    let env = stored_profile();
    // Announces the full length, sends the first 20 bytes (not the secret), then closes.
    env.emu.add_fault(Fault::truncated_body(Some(20), false).on(REGEN));
    let run = rotate(&env, &[]);
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once: {}", run.transcript());
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert!(run.stderr.contains("do not run `cyrisma auth rotate-secret` again"), "{}", run.transcript());
    never_printed(&env, &run);
    assert!(stored_secret(&env).contains(API_SECRET), "the store is untouched");
}

#[test]
fn an_unreadable_answer_is_saved_raw_to_a_private_recovery_file() {
    let env = stored_profile();
    // A well-formed message whose JSON lacks its closing brace: the secret is in it, unparsed.
    let body_len = r#"{"username":"","password":""}"#.len() + API_KEY.len() + 32;
    env.emu.add_fault(Fault::truncated_body(Some(body_len - 1), true).on(REGEN));
    let run = rotate(&env, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    let new = env.emu.api_secret();
    assert!(run.stderr.contains("the raw answer was saved to"), "{}", run.transcript());
    assert!(run.stderr.contains("store it with `cyrisma auth setup --secret-stdin`"), "{}", run.transcript());
    never_printed(&env, &run);
    assert!(!run.stderr.contains(new.expose_secret()), "saved, so not shown: {}", run.transcript());
    let dir = env.config_dir();
    let recovery: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_string_lossy().starts_with("regen-pass-response-"))
        .collect();
    assert_eq!(recovery.len(), 1);
    assert!(run.stderr.contains(&recovery[0].display().to_string()), "the message names the file");
    #[cfg(unix)]
    assert_eq!(crate::support::mode(&recovery[0]), 0o600);
    // Do what the hint says: read the secret from the file and store it.
    let raw = std::fs::read_to_string(&recovery[0]).unwrap();
    let secret = raw.split("\"password\":\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap();
    assert_eq!(secret, new.expose_secret(), "the complete new secret is in the recovery file");
    env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{secret}\n")).ok();
    env.run(&["auth", "status"]).ok();
}

#[test]
fn a_failing_store_write_shows_the_secret_once_and_it_can_be_stored_by_hand() {
    let env = stored_profile();
    let run = rotate(&env, &[("CYRISMA_FAILPOINT", "credentials-write")]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    let new = env.emu.api_secret();
    assert_eq!(run.stderr.matches(new.expose_secret()).count(), 1, "shown exactly once:\n{}", run.transcript());
    assert!(run.stderr.contains("shown only this once"), "{}", run.transcript());
    assert!(run.stderr.contains("cyrisma auth setup --secret-stdin"), "{}", run.transcript());
    assert!(!run.stdout.contains(new.expose_secret()), "on stderr (the terminal), never stdout");
    env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{}\n", new.expose_secret()))
        .ok();
    env.run(&["auth", "status"]).ok();
}

#[test]
fn a_failing_verification_login_leaves_the_new_secret_stored() {
    let env = stored_profile();
    // The rotation itself does not log in; the only login is the verification with the new secret.
    env.emu.add_fault(Fault::status(500).on("auth.login"));
    let run = rotate(&env, &[]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    assert_eq!(env.emu.count("auth.login"), 1, "verified once, not retried");
    let new = env.emu.api_secret();
    assert!(
        run.stderr.contains("the new secret was stored in the file, but logging in with it failed"),
        "{}",
        run.transcript()
    );
    assert!(run.stderr.contains("do not rotate again"), "{}", run.transcript());
    never_printed(&env, &run);
    assert!(!run.stderr.contains(new.expose_secret()), "stored, so not shown");
    assert!(stored_secret(&env).contains(new.expose_secret()));
    // Do what the hint says once the api is back.
    env.emu.clear_faults();
    env.run(&["auth", "status"]).ok();
}

#[test]
fn a_process_killed_right_after_persisting_keeps_the_new_secret() {
    let env = stored_profile();
    let run = rotate(&env, &[("CYRISMA_FAILPOINT", "rotate:after-store")]);
    assert_eq!(run.code, -1, "killed by the injected abort: {}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    assert_eq!(env.emu.count("auth.login"), 0, "killed before the verification");
    let new = env.emu.api_secret();
    assert_ne!(new.expose_secret(), API_SECRET);
    never_printed(&env, &run);
    assert!(stored_secret(&env).contains(new.expose_secret()), "persisted before the crash");
    let status = env.run(&["auth", "status", "-o", "json"]).json();
    assert_eq!(status["secret_source"], "credentials file");
    assert_eq!(status["logged_in"], true);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_the_rotation_does_not_lose_the_new_secret() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let env = stored_profile();
    // The server holds regen-pass for a while: the request has been sent when Ctrl-C comes.
    env.emu.add_fault(Fault::latency(1_500).on(REGEN));
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.emu.faults()[0].fired == 0 {
        assert!(Instant::now() < deadline, "regen-pass never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_eq!(run.code, 0, "the rotation ran to its end: {}", run.transcript());
    assert!(run.stderr.contains("the secret rotation is in progress and is not interrupted"), "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    let new = env.emu.api_secret();
    assert!(stored_secret(&env).contains(new.expose_secret()), "the new secret is stored");
    never_printed(&env, &run);
    env.run(&["auth", "status"]).ok();
}
