//! The credential store and secret rotation: file modes whatever the umask, tightening of loose
//! modes, no prompt without a terminal, and a rotated secret that is never lost.

use cyrisma_emulator::{Fault, FaultKind};

use crate::support::{API_SECRET, BIN, Env};

/// `auth setup` with the secret on stdin, under a umask, through a shell wrapper (the workspace
/// forbids the unsafe code a `pre_exec` would need).
fn setup_under_umask(env: &Env, umask: &str) -> crate::support::Run {
    let script = format!("umask {umask}; exec \"$0\" \"$@\"");
    let command = env.command_with("sh", &["-c", &script, BIN, "auth", "setup", "--secret-stdin"]);
    env.run_command(command, Some(&format!("{API_SECRET}\n")))
}

/// Every file in the config dir (recursively none: it is flat) with its mode.
#[cfg(unix)]
fn modes_in(dir: &std::path::Path) -> Vec<(String, u32)> {
    let mut found: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (entry.file_name().to_string_lossy().into_owned(), crate::support::mode(&entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// Every write path of the CLI that can hold a credential, under umask 000, 022 and 077:
/// `auth setup` (credentials file and `config.toml`), `auth rotate-secret` (the credentials
/// file), the recovery file of an unreadable rotation answer, and `auth logout` (both rewritten).
/// Each leaves every file 0600 in a 0700 directory, and no temporary file behind.
#[cfg(unix)]
#[test]
fn every_credential_file_is_0600_in_a_0700_dir_under_umask_000_022_and_077() {
    use crate::support::mode;
    for umask in ["000", "022", "077"] {
        let mut env = Env::small();
        env.secret_in_env = false;
        let dir = env.config_dir();
        let under_umask = |args: &[&str], stdin: Option<&str>| {
            let script = format!("umask {umask}; exec \"$0\" \"$@\"");
            let mut full = vec!["-c", script.as_str(), BIN];
            full.extend_from_slice(args);
            env.run_command(env.command_with("sh", &full), stdin)
        };
        let check = |after: &str| {
            assert_eq!(mode(&dir), 0o700, "umask {umask}, after {after}: the config dir");
            assert_eq!(mode(dir.parent().unwrap()), 0o700, "umask {umask}, after {after}: its created parent");
            for (name, file_mode) in modes_in(&dir) {
                assert_eq!(file_mode, 0o600, "umask {umask}, after {after}: `{name}`");
                // `.cyrisma.lock` is the store's lock file (empty, kept): the only dot file allowed.
                let temporary = name.starts_with('.') && name != ".cyrisma.lock";
                assert!(!temporary, "umask {umask}, after {after}: temporary file `{name}` left behind");
            }
        };
        let run = under_umask(&["auth", "setup", "--secret-stdin"], Some(&format!("{API_SECRET}\n")));
        run.ok();
        // The fallback to the file is stated, once.
        assert_eq!(run.stderr.matches("no os keyring is available").count(), 1, "{}", run.transcript());
        assert!(dir.join("credentials.toml").exists() && dir.join("config.toml").exists());
        check("setup");
        // A rewrite (the rotation) keeps the modes: replace-by-rename creates a new file.
        under_umask(&["auth", "rotate-secret"], None).ok();
        check("rotate-secret");
        let stored = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
        assert!(stored.contains(env.emu.api_secret().expose_secret()), "the new secret is what is stored");
        assert!(!stored.contains(API_SECRET), "the old secret is gone");
        env.run(&["auth", "status"]).ok();
        // An answer that cannot be read is kept, raw, in a recovery file: also 0600.
        let body_len = r#"{"username":"","password":""}"#.len() + crate::support::API_KEY.len() + 32;
        env.emu.add_fault(Fault::truncated_body(Some(body_len - 1), true).on("auth.regen_pass"));
        let unreadable = under_umask(&["auth", "rotate-secret"], None);
        assert_eq!(unreadable.code, 1, "{}", unreadable.transcript());
        env.emu.clear_faults();
        let recovery: Vec<String> = modes_in(&dir)
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| name.starts_with("regen-pass-response-"))
            .collect();
        assert_eq!(recovery.len(), 1, "one recovery file: {:?}", modes_in(&dir));
        let raw = std::fs::read_to_string(dir.join(&recovery[0])).unwrap();
        assert!(raw.contains(env.emu.api_secret().expose_secret()), "the recovery file holds the new secret");
        check("an unreadable rotation answer");
        // Logout rewrites both files.
        under_umask(&["auth", "logout"], None).ok();
        check("logout");
        let stored = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
        assert!(!stored.contains("api_secret"), "logout removed the secret: {stored}");
    }
}

/// The steps of the atomic write, in order (`CYRISMA_FAILPOINT=atomic-write:<step>@<file>`).
const WRITE_STEPS: [&str; 5] = ["temp-created", "partly-written", "before-fsync", "after-fsync", "after-rename"];

/// What `auth setup` left in the config dir: the stored secret and API key of `default`, and the
/// temporary files.
struct Stored {
    credentials: String,
    config: String,
    secret: String,
    api_key: String,
    temporaries: Vec<String>,
}

#[track_caller]
fn stored(dir: &std::path::Path, context: &str) -> Stored {
    let credentials = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    // A torn file would not parse, or would lack the value.
    let parsed: toml::Table =
        credentials.parse().unwrap_or_else(|error| panic!("{context}: torn credentials file: {error}"));
    let secret = parsed["profiles"]["default"]["api_secret"].as_str().expect("a secret").to_owned();
    let parsed: toml::Table = config.parse().unwrap_or_else(|error| panic!("{context}: torn config file: {error}"));
    let api_key = parsed["profiles"]["default"]["api_key"].as_str().expect("an api key").to_owned();
    let mut temporaries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    temporaries.sort();
    Stored { credentials, config, secret, api_key, temporaries }
}

/// A crash at each step of the atomic write, 200 times (5 steps x 2 files x 20), under umask 000,
/// 022 and 077 in turn, then 20 SIGKILLs at random moments: the credentials file and
/// `config.toml` are always the complete old or the complete new file (byte-identical to the old
/// one when the crash came before the rename), always 0600, and the temporary files a crash
/// leaves are never read: the CLI then logs in with exactly the secret of the real file, while
/// temporary files hold other secrets.
#[cfg(unix)]
#[test]
fn a_crash_at_any_step_of_the_atomic_write_leaves_the_old_or_the_new_file_never_a_torn_one() {
    use std::process::Stdio;

    use crate::support::mode;
    let mut env = Env::small();
    env.secret_in_env = false;
    let dir = env.config_dir();
    let setup = |umask: &str, key: &str, secret: &str, failpoint: Option<&str>| {
        let script = format!("ulimit -c 0; umask {umask}; exec \"$0\" \"$@\"");
        let mut command =
            env.command_with("sh", &["-c", &script, BIN, "auth", "setup", "--secret-stdin", "--storage", "file"]);
        command.env("CYRISMA_API_KEY", key);
        if let Some(failpoint) = failpoint {
            command.env("CYRISMA_FAILPOINT", failpoint);
        }
        (command, format!("{secret}\n"))
    };
    let (command, stdin) = setup("077", "key-initial", "secret-initial", None);
    env.run_command(command, Some(&stdin)).ok();
    let mut current = stored(&dir, "initial");
    let mut logins_checked = 0;
    let mut crashes = 0;
    for run in 0..200 {
        let step = WRITE_STEPS[run % WRITE_STEPS.len()];
        let file = ["credentials.toml", "config.toml"][(run / WRITE_STEPS.len()) % 2];
        let umask = ["000", "022", "077"][run % 3];
        let (key, secret) = (format!("key-{run:03}"), format!("secret-{run:03}-{}", "x".repeat(run % 7 * 40)));
        let failpoint = format!("atomic-write:{step}@{file}");
        let (command, stdin) = setup(umask, &key, &secret, Some(&failpoint));
        let result = env.run_command(command, Some(&stdin));
        let context = format!("run {run}: crash at {failpoint} under umask {umask}");
        // The process died by the injected abort (no exit code), not by finishing.
        assert_eq!(result.code, -1, "{context}: {}", result.transcript());
        crashes += 1;
        let after = stored(&dir, &context);
        assert_eq!(mode(&dir), 0o700, "{context}");
        for name in ["credentials.toml", "config.toml"] {
            assert_eq!(mode(&dir.join(name)), 0o600, "{context}: {name}");
        }
        for name in &after.temporaries {
            assert_eq!(mode(&dir.join(name)), 0o600, "{context}: temporary {name}");
        }
        // `auth setup` writes the credentials file first, then `config.toml`.
        let (credentials_new, config_new) = match (file, step) {
            ("credentials.toml", "after-rename") => (true, false),
            ("credentials.toml", _) => (false, false),
            (_, "after-rename") => (true, true),
            _ => (true, false),
        };
        if credentials_new {
            assert_eq!(after.secret, secret, "{context}: the complete new secret");
        } else {
            assert_eq!(after.credentials, current.credentials, "{context}: the old credentials file, byte for byte");
        }
        if config_new {
            assert_eq!(after.api_key, key, "{context}: the complete new config");
        } else {
            assert_eq!(after.config, current.config, "{context}: the old config file, byte for byte");
        }
        // A crash before the rename leaves its temporary file (proof that the step was reached).
        let left = after.temporaries.len() - current.temporaries.len();
        assert_eq!(left, usize::from(step != "after-rename"), "{context}: {:?}", after.temporaries);
        // Every 10 runs: the CLI logs in with exactly the secret of the real file, whatever the
        // temporary files hold (the emulator accepts only that one).
        if run % 10 == 9 {
            env.emu.set_api_secret(&cyrisma_core::ApiSecret::new(after.secret.clone()));
            let status = env.run(&["auth", "status", "-o", "json"]);
            assert_eq!(status.json()["secret_source"], "credentials file", "{context}");
            logins_checked += 1;
        }
        current = after;
    }
    // SIGKILL at random moments of a setup.
    // How long a whole setup takes here (a figure, not a limit): kills are spread over it.
    let started = std::time::Instant::now();
    let (command, stdin) = setup("022", "key-timed", "secret-timed", None);
    env.run_command(command, Some(&stdin)).ok();
    current = stored(&dir, "timed setup");
    let span = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
    // A fixed xorshift sequence: random-looking moments, the same on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next_delay = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::time::Duration::from_micros(state % span)
    };
    let (mut killed, mut killed_after_the_write) = (0, 0);
    for run in 0..20 {
        let (key, secret) = (format!("kill-key-{run:02}"), format!("kill-secret-{run:02}"));
        let (mut command, stdin) = setup("022", &key, &secret, None);
        command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = command.spawn().unwrap();
        {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        }
        std::thread::sleep(next_delay());
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        let context = format!("kill run {run}");
        let after = stored(&dir, &context);
        assert!(after.secret == secret || after.credentials == current.credentials, "{context}: old or new");
        if after.secret == secret {
            killed_after_the_write += 1;
        }
        assert!(after.api_key == key || after.config == current.config, "{context}: old or new config");
        current = after;
    }
    env.emu.set_api_secret(&cyrisma_core::ApiSecret::new(current.secret.clone()));
    env.run(&["auth", "status"]).ok();
    eprintln!(
        "atomic write: {crashes} injected crashes (5 steps x 2 files), {killed}/20 setups killed within {span} us \
         ({killed_after_the_write} of the 20 had stored the new secret), \
         {logins_checked} logins with the real file's secret beside {} temporary files: 0 torn files",
        current.temporaries.len()
    );
}

#[cfg(unix)]
#[test]
fn looser_permissions_are_tightened() {
    use std::os::unix::fs::PermissionsExt;

    use crate::support::mode;
    let mut env = Env::small();
    env.secret_in_env = false;
    setup_under_umask(&env, "022").ok();
    let dir = env.config_dir();
    std::fs::set_permissions(dir.join("credentials.toml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = env.run(&["auth", "status"]);
    run.ok();
    assert!(run.stderr.contains("was readable by others (mode 0644): tightened to 0600"), "{}", run.transcript());
    assert!(run.stderr.contains("was readable by others (mode 0755): tightened to 0700"), "{}", run.transcript());
    assert_eq!(mode(&dir.join("credentials.toml")), 0o600);
    assert_eq!(mode(&dir), 0o700);
}

#[test]
fn setup_never_prompts_without_a_terminal_and_never_takes_the_secret_as_an_argument() {
    let mut env = Env::small();
    env.secret_in_env = false;
    let run = env.run(&["auth", "setup"]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert!(run.stderr.contains("stdin is not a terminal"), "{}", run.transcript());
    assert!(run.stderr.contains("--secret-stdin"), "{}", run.transcript());
    for flag in ["--secret", "--api-secret", "--password"] {
        let run = env.run(&["auth", "setup", flag, "x"]);
        assert_eq!(run.code, 2, "{flag}: {}", run.transcript());
    }
    assert!(!env.config_dir().join("credentials.toml").exists());
}

#[test]
fn setup_takes_the_secret_from_the_environment_and_logout_removes_it() {
    let env = Env::small();
    let run = env.run(&["auth", "setup", "--verify", "-o", "json"]);
    let setup = run.json();
    assert_eq!(setup["secret_store"], "file");
    assert_eq!(setup["verified"], true);
    let logout = env.run(&["auth", "logout", "-o", "json"]).json();
    assert_eq!(logout["removed_from"], "file");
    let stored = std::fs::read_to_string(env.config_dir().join("credentials.toml")).unwrap();
    assert!(!stored.contains(API_SECRET));
}

#[test]
fn a_rotated_secret_survives_a_failed_write_by_being_shown() {
    let mut env = Env::small();
    env.secret_in_env = false;
    setup_under_umask(&env, "077").ok();
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.env("CYRISMA_FAILPOINT", "credentials-write");
    let run = env.run_command(command, None);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let new_secret = env.emu.api_secret();
    assert_ne!(new_secret.expose_secret(), API_SECRET, "the emulator rotated");
    assert!(run.stderr.contains(new_secret.expose_secret()), "the new secret is shown:\n{}", run.transcript());
    assert!(run.stderr.contains("shown only this once"), "{}", run.transcript());
    assert!(
        !run.stdout.contains(new_secret.expose_secret()),
        "the secret goes to the terminal (stderr), not to stdout"
    );
    assert_eq!(env.emu.count("auth.regen_pass"), 1, "regen-pass is called exactly once");
    // The shown secret can be stored by hand and works.
    env.run_stdin(&["auth", "setup", "--secret-stdin"], &format!("{}\n", new_secret.expose_secret())).ok();
    env.run(&["auth", "status"]).ok();
}

#[test]
fn an_ambiguous_rotation_says_so_and_says_not_to_retry() {
    let mut env = Env::small();
    env.secret_in_env = false;
    setup_under_umask(&env, "077").ok();
    env.emu.add_fault(Fault::new(FaultKind::DropAfterCommit).on("auth.regen_pass"));
    let run = env.run(&["auth", "rotate-secret"]);
    assert_eq!(run.code, 6, "{}", run.transcript());
    assert!(run.stderr.contains("no answer came back"), "{}", run.transcript());
    assert!(run.stderr.contains("do not run `cyrisma auth rotate-secret` again"), "{}", run.transcript());
    assert!(run.stderr.contains("cyrisma auth status"), "{}", run.transcript());
    assert_eq!(env.emu.count("auth.regen_pass"), 1, "never retried");
    // The server did rotate: the stored secret no longer logs in, which status reports as exit 4.
    assert_eq!(env.run(&["auth", "status"]).code, 4);
}

#[test]
fn rotation_checks_the_store_before_calling() {
    let mut env = Env::small();
    env.secret_in_env = false;
    setup_under_umask(&env, "077").ok();
    // Break the store: the credentials file becomes unreadable garbage.
    std::fs::write(env.config_dir().join("credentials.toml"), "not = [valid").unwrap();
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.env("CYRISMA_API_SECRET", API_SECRET);
    let run = env.run_command(command, None);
    assert_ne!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("nothing was sent"), "{}", run.transcript());
    assert_eq!(env.emu.count("auth.regen_pass"), 0);
}
