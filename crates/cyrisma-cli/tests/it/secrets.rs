//! The canary check: with `-vvv` and forced errors, no output, log or file contains the API
//! secret (old or rotated) or an access or refresh token. The credential store itself is the one
//! place a secret may be.

use base64::Engine as _;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Fault, FaultKind};

use crate::support::{API_KEY, Env, small};

const CANARY: &str = "canary-S3CRET-7f3e2a9b1c";

/// Every variant of a secret that a leak could take.
fn variants(secret: &str) -> Vec<String> {
    let mut variants = vec![secret.to_owned()];
    variants.push(base64::engine::general_purpose::STANDARD.encode(secret));
    variants.push(form_urlencoded::byte_serialize(secret.as_bytes()).collect());
    variants.push(format!("{secret:?}"));
    variants
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

    let mut secrets = variants(CANARY);
    secrets.extend(variants(rotated.expose_secret()));
    for secret in &secrets {
        assert!(!transcript.contains(secret.as_str()), "the transcript leaks a secret variant");
    }
    assert!(token_like(&transcript).is_empty(), "the transcript leaks tokens: {:?}", token_like(&transcript));
    assert!(transcript.contains("TRACE") || transcript.contains("DEBUG"), "the logs were on");

    let mut files = Vec::new();
    files_under(env.home.path(), &mut files);
    assert!(files.iter().any(|path| path.ends_with("findings.jsonl")));
    for path in files.iter().filter(|path| !path.ends_with("credentials.toml")) {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{} leaks a secret", path.display());
        }
        assert!(token_like(&text).is_empty(), "{} leaks a token", path.display());
    }
}
