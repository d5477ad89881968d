//! Never lose a rotated secret (issue 18): concurrent commands on one config dir keep every
//! secret they stored; every unreadable rotation answer keeps a recovery file of its own (and an
//! empty one says so); SIGTERM and SIGHUP during a rotation are handled like Ctrl-C; a config dir
//! on a full file system refuses the rotation before anything is sent; and the emulator commits a
//! rotation whose client went away, as a real server does.

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::Fault;
use http_body_util::Full;
use hyper::Response;
use hyper_util::rt::TokioIo;

use crate::support::{API_SECRET, Env, Run, small};

const REGEN: &str = "auth.regen_pass";

/// The profiles' secrets in `credentials.toml`, by profile name.
fn stored_secrets(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("credentials.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    file["profiles"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.clone(), value["api_secret"].as_str().unwrap().to_owned()))
        .collect()
}

/// The profiles named in `config.toml`.
fn configured_profiles(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    file["profiles"].as_table().unwrap().keys().cloned().collect()
}

/// A command of `env` with the shared config dir `dir` and the profile `profile`.
fn in_shared_dir(env: &Env, dir: &Path, profile: &str, args: &[&str]) -> Command {
    let mut command = env.command(args);
    command.env("CYRISMA_CONFIG_DIR", dir).env("CYRISMA_PROFILE", profile).env("CYRISMA_MAX_RETRIES", "0");
    command
}

fn spawn(mut command: Command, stdin: Option<&str>) -> Child {
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    if let Some(input) = stdin {
        child.stdin.take().expect("a stdin pipe").write_all(input.as_bytes()).expect("stdin is written");
    }
    child
}

fn finish(child: Child) -> Run {
    let output = child.wait_with_output().expect("the binary finishes");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn concurrent_setups_of_different_profiles_all_keep_what_they_stored() {
    const PROFILES: usize = 8;
    let mut env = Env::small();
    env.secret_in_env = false;
    let dir = env.home.path().join("shared");
    // All started before any is waited for: they run at once on one config dir.
    let children: Vec<_> = (0..PROFILES)
        .map(|index| {
            let command = in_shared_dir(
                &env,
                &dir,
                &format!("p{index}"),
                &["auth", "setup", "--secret-stdin", "--storage", "file"],
            );
            spawn(command, Some(&format!("secret-of-p{index}\n")))
        })
        .collect();
    for child in children {
        finish(child).ok();
    }
    let secrets = stored_secrets(&dir);
    let expected: std::collections::BTreeMap<_, _> =
        (0..PROFILES).map(|index| (format!("p{index}"), format!("secret-of-p{index}"))).collect();
    assert_eq!(secrets, expected, "every setup kept its secret");
    assert_eq!(configured_profiles(&dir).len(), PROFILES, "every setup kept its profile in config.toml");
}

#[test]
fn concurrent_rotations_of_different_profiles_all_keep_their_new_secret() {
    const PROFILES: usize = 6;
    // One emulator (one partner account) per profile, all profiles in one config dir.
    let envs: Vec<Env> = (0..PROFILES)
        .map(|index| {
            let secret = format!("{API_SECRET}-p{index}");
            let mut env = Env::start(
                small().with_seed(100 + index as u64).with_credentials(crate::support::API_KEY, ApiSecret::new(secret)),
            );
            env.secret_in_env = false;
            env
        })
        .collect();
    let dir = envs[0].home.path().join("shared");
    for (index, env) in envs.iter().enumerate() {
        let command =
            in_shared_dir(env, &dir, &format!("p{index}"), &["auth", "setup", "--secret-stdin", "--storage", "file"]);
        finish(spawn(command, Some(&format!("{}\n", env.emu.api_secret().expose_secret())))).ok();
    }
    let children: Vec<_> = envs
        .iter()
        .enumerate()
        .map(|(index, env)| spawn(in_shared_dir(env, &dir, &format!("p{index}"), &["auth", "rotate-secret"]), None))
        .collect();
    for child in children {
        finish(child).ok();
    }
    let secrets = stored_secrets(&dir);
    for (index, env) in envs.iter().enumerate() {
        assert_eq!(env.emu.count(REGEN), 1);
        let new = env.emu.api_secret();
        assert!(!new.expose_secret().starts_with(API_SECRET), "rotated");
        assert_eq!(secrets.get(&format!("p{index}")).map(String::as_str), Some(new.expose_secret()), "p{index}");
        finish(spawn(in_shared_dir(env, &dir, &format!("p{index}"), &["auth", "status"]), None)).ok();
    }
}

/// A hostile server on 127.0.0.1 (plain HTTP) that answers every request `200 OK` with
/// `body(n)` for the n-th request.
struct Hostile {
    addr: SocketAddr,
    served: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl Hostile {
    fn start(body: fn(usize) -> String) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("binds");
        let addr = listener.local_addr().expect("an address");
        let served = Arc::new(AtomicUsize::new(0));
        let counter = served.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        let number = counter.fetch_add(1, Ordering::SeqCst);
                        async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body(number))))) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, served, _runtime: runtime }
    }
}

/// An env whose commands go to `hostile` (same host names, the hostile server's port), with
/// profiles `p0`.. `p{count-1}` stored in the file.
fn hostile_env(hostile: &Hostile, count: usize) -> (Env, String) {
    let mut env = Env::start(small().with_tls(false));
    env.secret_in_env = false;
    for index in 0..count {
        let mut command = env.command(&["auth", "setup", "--secret-stdin", "--storage", "file"]);
        command.env("CYRISMA_PROFILE", format!("p{index}"));
        env.run_command(command, Some(&format!("{API_SECRET}\n"))).ok();
    }
    let base_url =
        env.emu.base_url().replace(&format!(":{}/", env.emu.addr().port()), &format!(":{}/", hostile.addr.port()));
    assert_ne!(base_url, env.emu.base_url());
    (env, base_url)
}

fn recovery_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_string_lossy().starts_with("regen-pass-response-"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_unreadable_answer_of_rotations_in_a_row_keeps_a_recovery_file_of_its_own() {
    // Unparseable (the JSON is cut short), and different for every answer.
    let hostile = Hostile::start(|number| format!("{{\"username\":\"k\",\"password\":\"new-secret-{number}"));
    let (env, base_url) = hostile_env(&hostile, 3);
    let mut named = Vec::new();
    for index in 0..3 {
        let mut command = env.command(&["auth", "rotate-secret"]);
        command.env("CYRISMA_PROFILE", format!("p{index}")).env("CYRISMA_BASE_URL", &base_url);
        let run = env.run_command(command, None);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(run.stderr.contains("the raw answer was saved to"), "{}", run.transcript());
        let path = run.stderr.split("saved to `").nth(1).and_then(|rest| rest.split('`').next()).unwrap().to_owned();
        named.push(PathBuf::from(path));
    }
    assert_eq!(hostile.served.load(Ordering::SeqCst), 3, "one rotation each");
    let files = recovery_files(&env.config_dir());
    assert_eq!(files.len(), 3, "one file per answer: {files:?}");
    for (number, path) in named.iter().enumerate() {
        assert!(files.contains(path), "{} is named and exists", path.display());
        let body = std::fs::read_to_string(path).unwrap();
        assert!(body.ends_with(&format!("\"new-secret-{number}")), "answer {number} is in its own file: {body}");
        #[cfg(unix)]
        assert_eq!(crate::support::mode(path), 0o600);
    }
}

#[test]
fn an_empty_rotation_answer_says_so_instead_of_pointing_at_an_empty_file() {
    let hostile = Hostile::start(|_| String::new());
    let (env, base_url) = hostile_env(&hostile, 1);
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.env("CYRISMA_PROFILE", "p0").env("CYRISMA_BASE_URL", &base_url);
    let run = env.run_command(command, None);
    assert_eq!(hostile.served.load(Ordering::SeqCst), 1);
    assert_eq!(run.code, 6, "may have been rotated: {}", run.transcript());
    assert!(run.stderr.contains("answered the rotation with an empty body"), "{}", run.transcript());
    assert!(run.stderr.contains("do not run `cyrisma auth rotate-secret` again"), "{}", run.transcript());
    assert!(!run.stderr.contains("saved to"), "{}", run.transcript());
    assert_eq!(recovery_files(&env.config_dir()), Vec::<PathBuf>::new());
}

/// An emulator and a profile whose secret is in the credentials file.
fn stored_profile() -> Env {
    let mut env = Env::small();
    env.secret_in_env = false;
    env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{API_SECRET}\n")).ok();
    env
}

/// Sends `signal` to a rotation once its regen-pass reached the server; it must run to its end.
#[cfg(unix)]
fn stop_signal_during_the_rotation_keeps_the_new_secret(signal: &str) {
    let env = stored_profile();
    // The server holds regen-pass for a while: the request has been sent when the signal comes.
    env.emu.add_fault(Fault::latency(1_500).on(REGEN));
    let child = spawn(env.command(&["auth", "rotate-secret"]), None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.emu.faults()[0].fired == 0 {
        assert!(Instant::now() < deadline, "regen-pass never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let run = finish(child);
    assert_eq!(run.code, 0, "the rotation ran to its end: {}", run.transcript());
    assert!(run.stderr.contains(&format!("SIG{signal} received")), "{}", run.transcript());
    assert!(run.stderr.contains("the secret rotation is in progress and is not interrupted"), "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1, "sent exactly once");
    let new = env.emu.api_secret();
    assert_ne!(new.expose_secret(), API_SECRET);
    assert_eq!(stored_secrets(&env.config_dir())["default"], new.expose_secret(), "the new secret is stored");
    env.run(&["auth", "status"]).ok();
}

#[cfg(unix)]
#[test]
fn sigterm_during_the_rotation_does_not_lose_the_new_secret() {
    stop_signal_during_the_rotation_keeps_the_new_secret("TERM");
}

#[cfg(unix)]
#[test]
fn sighup_during_the_rotation_does_not_lose_the_new_secret() {
    stop_signal_during_the_rotation_keeps_the_new_secret("HUP");
}

/// A small tmpfs mounted over a directory for as long as this lives (root on Linux only).
struct SmallFs {
    dir: PathBuf,
}

impl SmallFs {
    fn mount(dir: &Path) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Self { dir: dir.to_path_buf() })
    }

    /// Fills the file system: writes until the disk says it is full (bounded by its size).
    fn fill(&self) {
        let mut filler = std::fs::File::create(self.dir.join("filler")).unwrap();
        let block = [0u8; 4096];
        for _ in 0..1024 {
            if filler.write_all(&block).and_then(|()| filler.sync_all()).is_err() {
                return;
            }
        }
        panic!("a 256 KiB file system took 4 MiB");
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn a_full_file_system_refuses_the_rotation_before_anything_is_sent() {
    let mut env = Env::small();
    env.secret_in_env = false;
    let small_fs = SmallFs::mount(&env.config_dir());
    env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{API_SECRET}\n")).ok();
    let mut command = env.command(&["auth", "rotate-secret"]);
    match &small_fs {
        Some(small_fs) => small_fs.fill(),
        None => {
            eprintln!(
                "note: cannot mount a small tmpfs here (needs root on Linux); the full disk is simulated with the \
                 `store-room` failpoint instead"
            );
            command.env("CYRISMA_FAILPOINT", "store-room");
        }
    }
    let run = env.run_command(command, None);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("cannot take a write of"), "{}", run.transcript());
    assert!(run.stderr.contains("nothing was sent"), "{}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 0, "refused before sending");
    assert_eq!(env.emu.api_secret().expose_secret(), API_SECRET);
    assert_eq!(stored_secrets(&env.config_dir())["default"], API_SECRET, "the store is untouched");
    // Once there is room again, the rotation goes through.
    if let Some(small_fs) = &small_fs {
        std::fs::remove_file(small_fs.dir.join("filler")).unwrap();
        env.run(&["auth", "rotate-secret"]).ok();
        assert_eq!(stored_secrets(&env.config_dir())["default"], env.emu.api_secret().expose_secret());
    }
    drop(small_fs);
}

#[test]
fn the_emulator_commits_a_rotation_whose_client_went_away() {
    let env = stored_profile();
    // The server takes 2.5 s; the client gives up after 1 s and closes the connection.
    env.emu.add_fault(Fault::latency(2_500).on(REGEN));
    let mut command = env.command(&["auth", "rotate-secret"]);
    command.env("CYRISMA_TIMEOUT", "1").env("CYRISMA_MAX_RETRIES", "0");
    let run = env.run_command(command, None);
    assert_eq!(run.code, 6, "sent, no answer: {}", run.transcript());
    assert_eq!(env.emu.count(REGEN), 1);
    // The rotation completes on the server after the client left (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(60);
    while env.emu.api_secret().expose_secret() == API_SECRET {
        assert!(Instant::now() < deadline, "the emulator never committed the abandoned rotation");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(env.run(&["auth", "status"]).code, 4, "the old secret was replaced, as on a real server");
}
