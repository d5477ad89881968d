//! The canary check: with `-vvv` and forced errors, no output, log or file contains the API
//! secret (old, wrong or rotated), a webhook signing secret, or an access or refresh token, in
//! any encoded form. The credential store itself is the one place a secret may be.
//!
//! `every_command_under_every_forced_failure_shows_no_canary` runs every leaf command of the
//! clap tree (enumerated from `--help`, so that a new command without a case here fails) under
//! six conditions: success, bad credentials, `500`, a timeout, an undecodable body and a forced
//! panic (the debug-build failpoint `CYRISMA_FAILPOINT=panic`).

use std::collections::BTreeSet;
use std::io::Read as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Fault, FaultKind};

use crate::support::{API_KEY, Env, Run, small};

/// The canary API secret: `+ / = &`, a space and a non-ASCII letter, so that its plain, URL-,
/// form- and base64-encoded forms all differ.
const CANARY: &str = "Canary+Secret/=& \u{fc}-7Qx2";

/// A wrong secret of the same shape (the bad-credentials runs).
const WRONG: &str = "Wrong+Canary/=& \u{e9}-9Zz4";

/// A webhook signing secret of the same shape (`webhooks listen`).
const WEBHOOK: &str = "whsec_Canary+Hook/=& \u{f6}9";

/// Percent-encodes every byte but ASCII letters and digits, with upper- or lower-case hex.
fn url_encode(text: &str, lower: bool) -> String {
    text.bytes()
        .map(|byte| match (byte.is_ascii_alphanumeric(), lower) {
            (true, _) => (byte as char).to_string(),
            (false, false) => format!("%{byte:02X}"),
            (false, true) => format!("%{byte:02x}"),
        })
        .collect()
}

/// Every form a leaked secret could take in text: plain, `Debug`, URL-encoded (upper- and
/// lower-case hex), form-encoded, base64 (standard and URL-safe, padded and unpadded: the first
/// 16 characters, which do not depend on what follows), and base64 of `key:secret` (its last 16
/// characters, which depend only on the secret's end).
fn forms(secret: &str) -> Vec<String> {
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut all = vec![
        secret.to_owned(),
        format!("{secret:?}"),
        url_encode(secret, false),
        url_encode(secret, true),
        form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ];
    for engine in engines {
        let encoded = engine.encode(secret);
        all.push(encoded[..encoded.len().min(16)].to_owned());
        all.push(engine.encode(format!("{API_KEY}:{secret}")));
    }
    all.sort();
    all.dedup();
    all
}

/// The canary hits in `text` (0 is the promise), named by secret number and form number so
/// that a failure message does not repeat the canary.
fn hits(text: &str, secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (number, secret) in secrets.iter().enumerate() {
        for (form, encoded) in forms(secret).iter().enumerate() {
            if text.contains(encoded.as_str()) {
                found.push(format!("secret #{number} in form #{form}"));
            }
        }
    }
    found
}

/// Alphanumeric runs shaped like the emulator's tokens: 12 letters or digits, then a
/// `yyyyMMddHHmmss` stamp.
fn token_like(text: &str) -> Vec<String> {
    text.split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|run| {
            run.len() == 26 && run[12..].bytes().all(|byte| byte.is_ascii_digit()) && run[12..].starts_with("20")
        })
        .map(str::to_owned)
        .collect()
}

fn files_under(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// Runs the binary with `-vvv` and keeps its transcript.
fn record(transcript: &mut String, env: &Env, args: &[&str], stdin: Option<&str>) -> crate::support::Run {
    let mut all = vec!["-vvv"];
    all.extend_from_slice(args);
    let result = env.run_command(env.command(&all), stdin);
    transcript.push_str(&result.transcript());
    result
}

#[test]
fn no_output_log_or_file_contains_a_secret_or_a_token() {
    let config =
        small().with_credentials(API_KEY, ApiSecret::new(CANARY)).with_token_ttl(std::time::Duration::from_secs(600));
    let mut env = Env::start(config);
    env.secret_in_env = false;
    let export = env.home.path().join("findings.jsonl");
    let export = export.to_str().unwrap().to_owned();
    let mut transcript = String::new();

    record(&mut transcript, &env, &["auth", "setup", "--secret-stdin", "--verify"], Some(&format!("{CANARY}\n"))).ok();
    record(&mut transcript, &env, &["auth", "status"], None).ok();
    record(&mut transcript, &env, &["instances", "list", "-o", "json"], None).ok();
    record(&mut transcript, &env, &["report", "-o", "json"], None).ok();
    record(&mut transcript, &env, &["export", "findings", "--out", &export], None).ok();
    record(&mut transcript, &env, &["api", "GET", "/partner/instances/info/"], None).ok();

    // Forced errors: server failures, a token refused mid-way, hostile bodies, bad credentials.
    env.emu.add_fault(Fault::status(500).on("scans.list_vulnerability_scans"));
    assert_ne!(record(&mut transcript, &env, &["scans", "vulnerability", "--instance", "cc100003"], None).code, 0);
    env.emu.clear_faults();
    env.emu.add_fault(Fault::status(401).on("instances.list_instances").times(2));
    record(&mut transcript, &env, &["instances", "list"], None);
    env.emu.clear_faults();
    env.emu.add_fault(Fault::new(FaultKind::TruncatedBody { keep: Some(10), complete: true }).on("users.list_users"));
    assert_ne!(record(&mut transcript, &env, &["users", "list"], None).code, 0);
    env.emu.clear_faults();
    env.emu.add_fault(Fault::new(FaultKind::DeepJson { depth: 10_000 }).on("dashboards.get_overall_dashboard"));
    assert_ne!(record(&mut transcript, &env, &["dashboards", "overall", "--instance", "cc100003"], None).code, 0);
    env.emu.clear_faults();
    env.emu.expire_tokens();
    let mut wrong_key = env.command(&["-vvv", "instances", "list"]);
    wrong_key.env("CYRISMA_API_KEY", "00000000-0000-4000-8000-000000000bad");
    let refused = env.run_command(wrong_key, None);
    assert_eq!(refused.code, 4);
    transcript.push_str(&refused.transcript());

    // The rotation: once ambiguous (the new secret is lost), then for real.
    env.emu.add_fault(Fault::new(FaultKind::DropAfterCommit).on("auth.regen_pass"));
    assert_eq!(record(&mut transcript, &env, &["auth", "rotate-secret"], None).code, 6);
    env.emu.clear_faults();
    env.emu.set_api_secret(&ApiSecret::new(CANARY));
    record(&mut transcript, &env, &["auth", "rotate-secret"], None).ok();
    let rotated = env.emu.api_secret();
    record(&mut transcript, &env, &["auth", "status"], None).ok();
    env.emu.add_fault(Fault::status(503).on("*"));
    assert_ne!(record(&mut transcript, &env, &["report"], None).code, 0);
    env.emu.clear_faults();

    let secrets = vec![CANARY.to_owned(), rotated.expose_secret().to_owned()];
    let found = hits(&transcript, &secrets);
    assert!(found.is_empty(), "the transcript leaks a secret: {found:?}");
    assert!(token_like(&transcript).is_empty(), "the transcript leaks tokens: {:?}", token_like(&transcript));
    assert!(transcript.contains("TRACE") || transcript.contains("DEBUG"), "the logs were on");

    let mut files = Vec::new();
    files_under(env.home.path(), &mut files);
    assert!(files.iter().any(|path| path.ends_with("findings.jsonl")));
    for path in files.iter().filter(|path| !path.ends_with("credentials.toml")) {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let found = hits(&text, &secrets);
        assert!(found.is_empty(), "{} leaks a secret: {found:?}", path.display());
        assert!(token_like(&text).is_empty(), "{} leaks a token", path.display());
    }
}

/// One canary case: the arguments of a leaf command (`{export}` and `{user}` are filled in),
/// what goes to its stdin, and whether it talks to the API.
struct Case {
    path: &'static str,
    args: &'static [&'static str],
    stdin: Stdin,
    network: bool,
    /// It makes no call after the login, so post-login faults also hit the login.
    login_only: bool,
}

/// What a case reads on stdin.
#[derive(Clone, Copy, PartialEq)]
enum Stdin {
    Nothing,
    /// The API secret of the scenario (`auth setup --secret-stdin`).
    ApiSecret,
    /// The webhook signing secret (`webhooks listen --secret-stdin`).
    WebhookSecret,
}

/// The instance of the canary emulator (`small()`) that reporting commands ask about.
const REPORTING_INSTANCE: &str = "cc100003";

const fn case(path: &'static str, args: &'static [&'static str]) -> Case {
    Case { path, args, stdin: Stdin::Nothing, network: true, login_only: false }
}

/// The leaf commands whose first `--help` example is not enough here (a placeholder, a created
/// id, stdin, no network, an instance of this emulator's seed), in the order they run in each
/// scenario: `auth setup` first (it stores the canary), `auth rotate-secret` and `auth logout`
/// last. Any other command runs its first example, before those two.
const CASES: &[Case] = &[
    Case {
        stdin: Stdin::ApiSecret,
        login_only: true,
        ..case("auth setup", &["auth", "setup", "--secret-stdin", "--storage", "file", "--verify"])
    },
    Case { login_only: true, ..case("auth status", &["auth", "status"]) },
    case("instances get", &["instances", "get", "cc100003"]),
    case(
        "instances create",
        &[
            "instances",
            "create",
            "--type",
            "standard",
            "--parent",
            "cc100001",
            "--name",
            "Canary Corp",
            "--short-name",
            "canary",
            "--country",
            "US",
            "--email",
            "it@canary.example",
            "--consulting",
            "--wait",
            "--wait-timeout",
            "60",
        ],
    ),
    // The consulting instance created just before.
    case("instances convert", &["instances", "convert", "cc100009"]),
    case("instances suspend", &["instances", "suspend", "cc100008"]),
    case("instances reactivate", &["instances", "reactivate", "cc100008"]),
    case("instances set-mfa", &["instances", "set-mfa", "cc100002", "email"]),
    case("instances authenticate", &["instances", "authenticate", "cc100003"]),
    case("instances wait", &["instances", "wait", "cc100003", "--wait-timeout", "5"]),
    case("users get", &["users", "get", "{user}"]),
    case(
        "users create",
        &[
            "users",
            "create",
            "--organization",
            "cc100001",
            "--username",
            "canary.user@example.com",
            "--first-name",
            "Canary",
            "--last-name",
            "User",
        ],
    ),
    case("users disable", &["users", "disable", "canary.user@example.com"]),
    case("scans vulnerability", &["scans", "vulnerability", "--instance", "cc100003"]),
    case("scans data", &["scans", "data", "--instance", "cc100003"]),
    case("scans baseline", &["scans", "baseline", "--instance", "cc100003"]),
    case("dashboards baseline", &["dashboards", "baseline", "--instance", "cc100003"]),
    case("dashboards vulnerability", &["dashboards", "vulnerability", "--instance", "cc100003"]),
    case("dashboards cves", &["dashboards", "cves", "--instance", "cc100003", "--cve", "CVE-2021-44228"]),
    case("assets list", &["assets", "list", "--instance", "cc100003"]),
    case("assets show", &["assets", "show", "--instance", "cc100003", "{asset}"]),
    case("report", &["report"]),
    case("export findings", &["export", "findings", "--format", "csv", "--out", "{export}"]),
    case("usage", &["usage"]),
    case("tap", &["tap"]),
    case("snapshot", &["snapshot", "--dir", "{history}"]),
    Case { network: false, ..case("diff", &["diff", "--dir", "{history}"]) },
    Case { network: false, ..case("history runs", &["history", "runs", "--dir", "{history}"]) },
    Case { network: false, ..case("history findings", &["history", "findings", "--dir", "{history}"]) },
    Case {
        network: false,
        ..case(
            "report html",
            &["report", "html", "--dir", "{history}", "--out", "{history}-report", "--msp-name", "Canary MSP"],
        )
    },
    case("webhooks list", &["webhooks", "list"]),
    case("webhooks create", &["webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--events", "user.created"]),
    // The registration created just before.
    case("webhooks delete", &["webhooks", "delete", "wh000001"]),
    Case {
        stdin: Stdin::WebhookSecret,
        network: false,
        ..case("webhooks listen", &["webhooks", "listen", "--port", "0", "--max-events", "0", "--secret-stdin"])
    },
    Case { network: false, ..case("emulator serve", &["emulator", "serve"]) },
    Case { network: false, ..case("emulator advance", &["emulator", "advance", "--days", "1"]) },
    Case { network: false, ..case("completions", &["completions", "bash"]) },
    case("api", &["api", "GET", "/partner/instances/info/"]),
    case("auth rotate-secret", &["auth", "rotate-secret"]),
    Case { network: false, ..case("auth logout", &["auth", "logout"]) },
];

/// The conditions every command runs under.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scenario {
    /// Everything works (output as JSON).
    Success,
    /// The secret is wrong (`CYRISMA_API_SECRET`, a canary too): the login is refused.
    BadCredentials,
    /// The login works, then every call answers `500` (retried, then final).
    ServerError,
    /// Every call hangs for 30 s; `--timeout 0.5` gives up.
    Timeout,
    /// The login works, then every body is cut to its first byte (a complete, undecodable message).
    Undecodable,
    /// The debug-build failpoint panics once the credentials are loaded (or at exit).
    Panic,
}

const SCENARIOS: [Scenario; 6] = [
    Scenario::Success,
    Scenario::BadCredentials,
    Scenario::ServerError,
    Scenario::Timeout,
    Scenario::Undecodable,
    Scenario::Panic,
];

/// Arms the emulator's faults for one run (skip counters are per fault, so faults are added
/// again before every run).
fn arm(env: &Env, scenario: Scenario, case: &Case) {
    env.emu.clear_faults();
    let skip = if case.login_only { 0 } else { 1 };
    match scenario {
        Scenario::ServerError => {
            env.emu.add_fault(Fault::status(500).on("*").skip(skip));
        }
        Scenario::Timeout => {
            env.emu.add_fault(Fault::latency(30_000));
        }
        Scenario::Undecodable => {
            env.emu
                .add_fault(Fault::new(FaultKind::TruncatedBody { keep: Some(1), complete: true }).on("*").skip(skip));
        }
        Scenario::Success | Scenario::BadCredentials | Scenario::Panic => {}
    }
}

/// Runs `emulator serve` until it has printed its environment, then stops it with SIGINT (the
/// Ctrl-C it waits for). The hang guard is generous: 60 s.
fn run_serve(mut command: std::process::Command) -> Run {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary runs");
    let stdout = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stdout.take().expect("a stdout pipe");
    let sink = stdout.clone();
    let reader = std::thread::spawn(move || {
        let mut buffer = [0_u8; 4096];
        while let Ok(read) = pipe.read(&mut buffer) {
            if read == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..read]));
        }
    });
    let mut stderr_pipe = child.stderr.take().expect("a stderr pipe");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    for _ in 0..1_200 {
        if stdout.lock().unwrap().contains("CYRISMA_API_SECRET") || child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SIGINT to the child started above, by its id.
    let _ = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let mut status = None;
    for _ in 0..1_200 {
        if let Some(done) = child.try_wait().expect("the child can be waited for") {
            status = Some(done);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = status.unwrap_or_else(|| {
        let _ = child.kill();
        child.wait().expect("the child ends")
    });
    reader.join().expect("the stdout reader ends");
    let stderr = stderr_reader.join().expect("the stderr reader ends");
    let stdout = stdout.lock().unwrap().clone();
    Run { code: status.code().unwrap_or(-1), stdout, stderr }
}

#[test]
fn every_command_under_every_forced_failure_shows_no_canary() {
    // Every leaf command of the tree runs: with its case in `CASES`, or else with the first
    // example of its `--help` (which must then work against this emulator as it stands).
    let tree: Vec<(String, String)> = crate::help::command_tree()
        .into_iter()
        .filter(|(_, leaf, _)| *leaf)
        .map(|(path, _, text)| (path.join(" "), text))
        .collect();
    let covered: BTreeSet<String> = CASES.iter().map(|case| case.path.to_owned()).collect();
    assert_eq!(covered.len(), CASES.len(), "a command has two cases");
    let stale: Vec<&String> = covered.iter().filter(|path| !tree.iter().any(|(leaf, _)| leaf == *path)).collect();
    assert!(stale.is_empty(), "canary cases for commands that no longer exist: {stale:?}");
    let derived: Vec<Case> = tree
        .iter()
        .filter(|(path, _)| !covered.contains(path))
        .map(|(path, text)| {
            // The example's instance becomes the reportable instance of this emulator's seed.
            let mut example = crate::help::first_example(text);
            for at in 1..example.len() {
                if example[at - 1] == "--instance" {
                    example[at] = REPORTING_INSTANCE.to_owned();
                }
            }
            let args: Vec<&'static str> = example.into_iter().map(|arg| &*Box::leak(arg.into_boxed_str())).collect();
            case(Box::leak(path.clone().into_boxed_str()), Box::leak(args.into_boxed_slice()))
        })
        .collect();
    assert!(derived.iter().any(|case| case.path == "users list"), "the examples are not used");
    assert!(derived.iter().any(|case| case.args.contains(&REPORTING_INSTANCE)), "no derived reporting case");
    // The derived cases run before the commands that change or remove the credentials.
    let last = CASES.iter().position(|case| case.path == "auth rotate-secret").unwrap_or(CASES.len());
    let cases: Vec<&Case> = CASES[..last].iter().chain(&derived).chain(&CASES[last..]).collect();

    let config =
        small().with_credentials(API_KEY, ApiSecret::new(CANARY)).with_token_ttl(std::time::Duration::from_secs(600));
    let mut env = Env::start(config);
    env.secret_in_env = false;
    let export = env.home.path().join("export").join("findings.csv");
    std::fs::create_dir_all(export.parent().unwrap()).unwrap();
    let export = export.to_str().unwrap().to_owned();
    let user = env.emu.users().first().and_then(|user| user.username.clone()).expect("a seeded user");
    // Two complete runs in the history, so that `diff` has something to compare in every scenario.
    let history = env.home.path().join("history");
    let history = history.to_str().unwrap().to_owned();
    for _ in 0..2 {
        let mut snapshot = env.command(&["snapshot", "--dir", &history]);
        snapshot.env("CYRISMA_API_SECRET", CANARY);
        env.run_command(snapshot, None).ok();
    }

    let mut assets = env.command(&["assets", "list", "--instance", "cc100003", "-o", "json"]);
    assets.env("CYRISMA_API_SECRET", CANARY);
    let assets = env.run_command(assets, None).json();
    let asset = assets[0]["assetId"].as_str().or(assets[0]["id"].as_str()).expect("an asset id").to_owned();

    let mut secrets: Vec<String> = vec![CANARY.to_owned(), WRONG.to_owned(), WEBHOOK.to_owned()];
    let mut transcripts = String::new();
    let mut runs = 0;
    let mut failures = 0;
    let mut successes = 0;
    let mut codes = std::collections::BTreeMap::new();
    for scenario in SCENARIOS {
        // Each scenario starts with the canary in the emulator and in the store (the previous
        // one may have rotated it or logged out), so that every command holds it.
        env.emu.clear_faults();
        env.emu.set_api_secret(&ApiSecret::new(CANARY));
        let setup = env.run_stdin(&["auth", "setup", "--secret-stdin", "--storage", "file"], &format!("{CANARY}\n"));
        transcripts.push_str(&setup.transcript());
        setup.ok();
        for &case in &cases {
            arm(&env, scenario, case);
            let mut args: Vec<String> = vec!["-vvv".to_owned()];
            match scenario {
                Scenario::Success => args.extend(["-o".to_owned(), "json".to_owned()]),
                Scenario::Timeout => args.extend(["--timeout".to_owned(), "0.5".to_owned()]),
                _ => {}
            }
            args.extend(case.args.iter().map(|arg| {
                arg.replace("{export}", &export)
                    .replace("{user}", &user)
                    .replace("{asset}", &asset)
                    .replace("{history}", &history)
            }));
            let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut command = env.command(&arg_refs);
            if scenario == Scenario::BadCredentials {
                command.env("CYRISMA_API_SECRET", WRONG);
            }
            if scenario == Scenario::Panic {
                command.env("CYRISMA_FAILPOINT", "panic");
            }
            let stdin = match case.stdin {
                Stdin::Nothing => None,
                Stdin::ApiSecret if scenario == Scenario::BadCredentials => Some(format!("{WRONG}\n")),
                Stdin::ApiSecret => Some(format!("{CANARY}\n")),
                Stdin::WebhookSecret => Some(format!("{WEBHOOK}\n")),
            };
            let run = if case.path == "emulator serve" {
                run_serve(command)
            } else {
                env.run_command(command, stdin.as_deref())
            };
            runs += 1;
            let label = format!("{scenario:?} `cyrisma {}`", case.path);
            match scenario {
                Scenario::Success => {
                    assert_eq!(run.code, 0, "{label}\n{}", run.transcript());
                    successes += 1;
                }
                Scenario::Panic => {
                    assert_eq!(run.code, 1, "{label}: a crash exits with 1\n{}", run.transcript());
                    assert!(
                        run.stderr.contains("error: internal error: cyrisma crashed")
                            && run.stderr.contains("this is a bug in cyrisma")
                            && run.stderr.contains("hint: please report it to the cyrisma maintainers")
                            && !run.stderr.contains(".invalid")
                            && run.stderr.contains("exit code 1"),
                        "{label}: the panic report says what happened and how to report it\n{}",
                        run.transcript()
                    );
                    failures += 1;
                }
                _ if case.network => {
                    // The forced failure itself, not a missing secret, made the command fail.
                    assert!((1..=6).contains(&run.code), "{label}: a documented failure code\n{}", run.transcript());
                    assert!(run.stderr.contains("error: "), "{label}: an error line\n{}", run.transcript());
                    assert!(
                        !run.stderr.contains("no api secret"),
                        "{label}: the secret was loaded\n{}",
                        run.transcript()
                    );
                    *codes.entry(run.code).or_insert(0) += 1;
                    failures += 1;
                }
                _ => {}
            }
            // A rotation changes the secret: every secret the emulator ever held is a canary.
            let current = env.emu.api_secret().expose_secret().to_owned();
            if !secrets.contains(&current) {
                secrets.push(current);
            }
            transcripts.push_str(&format!("$ {label}\n{}\n", run.transcript()));
        }
        // The next scenario starts from the canary again.
        env.emu.clear_faults();
        env.emu.set_api_secret(&ApiSecret::new(CANARY));
    }

    assert!(transcripts.contains("TRACE"), "the logs were at trace level");
    let found = hits(&transcripts, &secrets);
    assert!(found.is_empty(), "stdout or stderr shows a canary: {found:?}");
    assert!(token_like(&transcripts).is_empty(), "stdout or stderr shows tokens: {:?}", token_like(&transcripts));

    let mut files = Vec::new();
    files_under(env.home.path(), &mut files);
    assert!(files.iter().any(|path| path.ends_with("findings.csv")), "the export was written: {files:?}");
    assert!(
        files.iter().any(|path| path.extension().is_some_and(|ext| ext == "parquet")),
        "the history dataset was written: {files:?}"
    );
    assert!(files.iter().any(|path| path.ends_with("credentials.toml")), "the store was written: {files:?}");
    let mut scanned = 0;
    for path in files.iter().filter(|path| !path.ends_with("credentials.toml")) {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let found = hits(&text, &secrets);
        assert!(found.is_empty(), "{} shows a canary: {found:?}", path.display());
        assert!(token_like(&text).is_empty(), "{} shows a token", path.display());
        scanned += 1;
    }
    eprintln!(
        "canary: {} commands x {} scenarios = {runs} runs ({successes} succeeded in the success scenario, \
         {failures} forced failures reported, exit codes {codes:?}), {} secrets x {} forms searched in stdout, stderr and {scanned} \
         files: 0 hits",
        cases.len(),
        SCENARIOS.len(),
        secrets.len(),
        forms(CANARY).len()
    );
}

#[test]
fn the_scanner_finds_every_form_of_a_canary() {
    let secrets = vec![CANARY.to_owned()];
    let all = forms(CANARY);
    // Plain, Debug, two URL encodings, form encoding, two base64 alphabets, four `key:secret`.
    assert!(all.len() >= 8, "{} forms", all.len());
    for (number, form) in all.iter().enumerate() {
        assert!(!hits(&format!("before {form} after"), &secrets).is_empty(), "form #{number} is not found");
    }
    assert!(hits("Canary Secret, but not the canary", &secrets).is_empty());
    // The canary's shape makes every encoded form differ from the plain one.
    assert_eq!(all.iter().filter(|form| form.as_str() == CANARY).count(), 1);
    assert!(all.iter().any(|form| form.contains("%2B") && form.contains('+')), "form encoding turns the space into +");
    // The emulator's tokens: 12 letters or digits, then a `yyyyMMddHHmmss` stamp.
    assert_eq!(token_like("token=Ab3dEf6hIj9k20261123004500&x"), ["Ab3dEf6hIj9k20261123004500"]);
    assert!(token_like("request id emu-166, 2026-11-23T00:45:00Z, cc100003").is_empty());
}
