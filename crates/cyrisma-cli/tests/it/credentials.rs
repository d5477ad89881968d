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

#[cfg(unix)]
#[test]
fn the_credentials_file_is_0600_in_a_0700_dir_under_umask_000_and_022() {
    use crate::support::mode;
    for umask in ["000", "022"] {
        let mut env = Env::small();
        env.secret_in_env = false;
        let run = setup_under_umask(&env, umask);
        run.ok();
        // The fallback to the file is stated, once.
        assert_eq!(run.stderr.matches("no os keyring is available").count(), 1, "{}", run.transcript());
        let dir = env.config_dir();
        assert_eq!(mode(&dir), 0o700, "umask {umask}");
        assert_eq!(mode(&dir.join("credentials.toml")), 0o600, "umask {umask}");
        assert_eq!(mode(&dir.join("config.toml")), 0o600, "umask {umask}");
        // A rewrite (the rotation) keeps the modes: replace-by-rename creates a new file.
        let script = format!("umask {umask}; exec \"$0\" \"$@\"");
        let rotate = env.run_command(env.command_with("sh", &["-c", &script, BIN, "auth", "rotate-secret"]), None);
        rotate.ok();
        assert_eq!(mode(&dir.join("credentials.toml")), 0o600, "umask {umask} after rotation");
        let leftovers: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
        let stored = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
        assert!(stored.contains(env.emu.api_secret().expose_secret()), "the new secret is what is stored");
        assert!(!stored.contains(API_SECRET), "the old secret is gone");
        env.run(&["auth", "status"]).ok();
    }
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
