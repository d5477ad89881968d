//! Files that are not ours: `export findings --out` onto a symlink, a FIFO or a character device
//! writes through it and leaves it what it was (today's temp-and-rename replaced each with a
//! regular file).

use std::io::Read as _;
use std::os::unix::fs::FileTypeExt as _;
use std::process::{Command, Stdio};

use crate::support::Env;

fn export_to(env: &Env, out: &str) -> crate::support::Run {
    env.run(&["export", "findings", "--instance", "cc100003", "--format", "jsonl", "--out", out])
}

#[test]
fn export_onto_a_symlink_writes_its_target_and_keeps_the_link() {
    let env = Env::small();
    let dir = env.home.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let real = dir.join("real.jsonl");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.join("latest.jsonl");
    std::os::unix::fs::symlink("real.jsonl", &link).unwrap();
    let run = export_to(&env, link.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is still a link");
    let written = std::fs::read_to_string(&real).unwrap();
    assert!(written.lines().count() > 0 && written.lines().all(|line| line.contains("\"cc100003\"")), "{written}");

    // A link to a character device: written through, the link and the device stay.
    let null = dir.join("null");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    let run = export_to(&env, null.to_str().unwrap());
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(std::fs::symlink_metadata(&null).unwrap().file_type().is_symlink(), "the link is still a link");
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

#[test]
fn export_onto_a_fifo_writes_through_it() {
    let env = Env::small();
    let fifo = env.home.path().join("findings.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // The reader: `cat` of the FIFO. Were the FIFO replaced, `cat` would wait for a writer that
    // never comes, so it is killed once the export has ended.
    let mut reader = Command::new("cat").arg(&fifo).stdout(Stdio::piped()).spawn().expect("cat runs");
    let run = export_to(&env, fifo.to_str().unwrap());
    let still_fifo = std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo();
    if !still_fifo {
        let _ = reader.kill();
    }
    let mut read = String::new();
    reader.stdout.take().unwrap().read_to_string(&mut read).unwrap();
    let _ = reader.wait();
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(still_fifo, "the fifo was replaced by a regular file");
    assert!(read.lines().count() > 0 && read.lines().all(|line| line.contains("\"cc100003\"")), "{read}");
}

#[test]
fn export_onto_a_directory_or_a_loop_is_refused_clearly() {
    let env = Env::small();
    let dir = env.home.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let run = export_to(&env, dir.to_str().unwrap());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("is a directory"), "{}", run.transcript());
    assert!(dir.is_dir());
    let a = dir.join("a");
    std::os::unix::fs::symlink(dir.join("b"), &a).unwrap();
    std::os::unix::fs::symlink(&a, dir.join("b")).unwrap();
    let run = export_to(&env, a.to_str().unwrap());
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("loop of symlinks"), "{}", run.transcript());
}

#[test]
fn a_config_or_credentials_file_that_is_a_symlink_is_refused_and_left_alone() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut env = Env::small();
    env.secret_in_env = false;
    let config_dir = env.config_dir();
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::set_permissions(&config_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // A credentials file planted elsewhere, readable by others, linked into the config dir.
    let elsewhere = env.home.path().join("elsewhere.toml");
    let secret = env.emu.api_secret().expose_secret().to_owned();
    std::fs::write(&elsewhere, format!("[profiles.default]\napi_secret = \"{secret}\"\n")).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&elsewhere, config_dir.join("credentials.toml")).unwrap();
    let run = env.run(&["instances", "list"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("is a symlink"), "{}", run.transcript());
    assert_eq!(crate::support::mode(&elsewhere), 0o644, "the link's target was not chmod-ed");
    assert!(std::fs::symlink_metadata(config_dir.join("credentials.toml")).unwrap().file_type().is_symlink());
    std::fs::remove_file(config_dir.join("credentials.toml")).unwrap();

    // The same for config.toml.
    std::fs::write(&elsewhere, "[profiles.default]\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, config_dir.join("config.toml")).unwrap();
    env.secret_in_env = true;
    let run = env.run(&["instances", "list"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("is a symlink"), "{}", run.transcript());
}

#[test]
fn a_config_file_that_is_not_utf8_is_a_usage_error() {
    let env = Env::small();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), b"[profiles.default]\nname = \"\xff\xfe\"\n").unwrap();
    let run = env.run(&["instances", "list"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("not valid utf-8"), "{}", run.transcript());
}
