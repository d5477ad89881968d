//! Secret canary, core side: `Debug` of every public type that can hold a secret, the messages of
//! every error a secret could reach, and every snapshot and fixture file of the repository
//! contain the canaries in none of their forms (plain, URL-encoded, form-encoded, base64).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use cyrisma_core::api::auth::{login, regen_pass};
use cyrisma_core::api::{instances, webhooks};
use cyrisma_core::endpoint::{Endpoint, Params};
use cyrisma_core::session::{Session, SessionConfig, Timestamp, TokenPoll};
use cyrisma_core::types::Webhook;
use cyrisma_core::{AccessToken, ApiSecret, BaseUrl, RefreshToken, WebhookSecret};

/// A secret whose encodings all differ from it (`+`, `/`, `=`, `&`, a space and a non-ASCII
/// letter), and tokens that fit in a header.
pub(crate) const SECRET: &str = "Canary+Secret/=& ü-7Qx2";
pub(crate) const ACCESS: &str = "CanaryAcc0ss20261122000000";
pub(crate) const REFRESH: &str = "CanaryRefr3sh-20261122+/=";
pub(crate) const WEBHOOK: &str = "whsec_Canary+Hook/=9";

/// Every canary of the repository's tests: these, and the ones request snapshots are built with.
fn canaries() -> Vec<&'static str> {
    vec![SECRET, ACCESS, REFRESH, WEBHOOK, crate::CANARY_TOKEN, crate::CANARY_SECRET]
}

/// The forms a secret can take in text: plain, URL-encoded (path/query), form-encoded, base64
/// (standard, URL-safe, unpadded), and base64 of a `key:secret` basic credential.
pub(crate) fn forms(secret: &str) -> Vec<String> {
    let url = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut all = vec![secret.to_owned(), url, form];
    for engine in engines {
        // Trailing characters depend on what follows; the first 16 always appear if it leaked.
        let encoded = engine.encode(secret);
        all.push(encoded[..encoded.len().min(16)].to_owned());
    }
    all.push(base64::engine::general_purpose::STANDARD.encode(format!("partner-key:{secret}")));
    all.sort();
    all.dedup();
    all
}

/// Counts the canary hits in `text` (0 is the promise) and names the first ones.
pub(crate) fn hits(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for canary in canaries() {
        for form in forms(canary) {
            if text.contains(&form) {
                found.push(format!("{canary:?} as {form:?}"));
            }
        }
    }
    found
}

fn assert_clean(what: &str, text: &str) {
    let found = hits(text);
    assert!(found.is_empty(), "{what} shows a canary: {found:?}\n{text}");
}

fn response(status: u16, body: &str) -> http::Response<Bytes> {
    http::Response::builder().status(status).body(Bytes::from(body.to_owned())).unwrap()
}

/// Display plus every source, the way a front end prints an error chain.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = format!("{error} | {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(" | {cause} | {cause:?}"));
        source = cause.source();
    }
    text
}

#[test]
fn the_scanner_finds_every_form_of_every_canary() {
    for canary in canaries() {
        let all = forms(canary);
        assert!(all.len() >= 3, "{canary}: {all:?}");
        for form in all {
            assert!(!hits(&format!("before {form} after")).is_empty(), "{form} not found");
        }
    }
    assert!(hits("nothing secret here").is_empty());
}

#[test]
fn debug_of_every_type_that_holds_a_secret_shows_no_canary() {
    let central = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    let secret = ApiSecret::new(SECRET);
    let access = AccessToken::new(ACCESS);
    let refresh = RefreshToken::new(REFRESH);
    let webhook_secret = WebhookSecret::new(WEBHOOK);
    let mut shown = Vec::new();
    shown.push(format!("{secret:?} {access:?} {refresh:?} {webhook_secret:?} {secret:#?}"));

    let password = login::Request::password("partner-key", secret.clone());
    let refresh_login = login::Request::refresh(refresh.clone());
    let regen = regen_pass::Request::new("partner-key", secret.clone());
    shown.push(format!("{password:?} {refresh_login:?} {regen:?} {password:#?}"));
    for built in [
        password.to_http_request(&central, None).unwrap(),
        refresh_login.to_http_request(&central, None).unwrap(),
        regen.to_http_request(&central, None).unwrap(),
        instances::list_instances::Request::new().to_http_request(&central, Some(&access)).unwrap(),
    ] {
        shown.push(format!("{built:?} {built:#?} {:?} {:?}", built.headers(), built.body()));
    }
    let mut params = Params::default();
    params.required("username", "partner-key").unwrap().secret("password", SECRET).unwrap();
    shown.push(format!("{params:?}"));

    let parsed = login::Request::parse_response(&response(
        200,
        &format!(r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_in":600}}"#),
    ))
    .unwrap();
    shown.push(format!("{parsed:?} {parsed:#?}"));
    let rotated = regen_pass::Request::parse_response(&response(
        200,
        &format!(r#"{{"password":"{}"}}"#, "Canary+Secret/=& ü-7Qx2"),
    ))
    .unwrap();
    shown.push(format!("{rotated:?}"));
    let created = webhooks::create_webhook::Request::parse_response(&response(
        200,
        &format!(r#"{{"id":"w1","url":"https://hooks.example/x","events":["scan.completed"],"secret":"{WEBHOOK}"}}"#),
    ))
    .unwrap();
    let webhook: &Webhook = &created;
    shown.push(format!("{webhook:?}"));

    // The session holds the access and refresh tokens.
    let mut session = Session::new(SessionConfig::default());
    let now = Timestamp::ZERO;
    let TokenPoll::LogIn { attempt, .. } = session.poll_token(now) else { panic!("a new session logs in") };
    shown.push(format!("{attempt:?} {:?}", attempt.request("partner-key", &secret)));
    let progress = session.handle_login_succeeded(attempt.id, parsed, Duration::ZERO, now);
    shown.push(format!("{progress:?} {session:?} {session:#?}"));
    let TokenPoll::Ready(current) = session.poll_token(now) else { panic!("a token is ready") };
    shown.push(format!("{current:?}"));
    let TokenPoll::LogIn { attempt, .. } = session.poll_token(Timestamp::from_duration(Duration::from_secs(590)))
    else {
        panic!("a refresh is due")
    };
    shown.push(format!("{attempt:?} {:?}", attempt.request("partner-key", &secret)));

    let verifier = cyrisma_core::webhook::Verifier::new();
    let header = cyrisma_core::webhook::sign(&webhook_secret, 1_700_000_000, b"{}");
    shown.push(format!("{verifier:?} {:?}", verifier.verify(&webhook_secret, &header, b"{}", 1_700_000_000)));
    shown.push(format!("{:?}", verifier.verify(&webhook_secret, &header, b"{ }", 1_700_000_000)));

    for text in &shown {
        assert_clean("Debug output", text);
    }
    // The real values are still there for the code that needs them.
    assert_eq!(rotated.password.expose_secret(), SECRET);
}

#[test]
fn error_messages_never_repeat_a_canary_the_server_or_the_caller_sent() {
    let central = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    let mut errors: Vec<String> = Vec::new();
    // Decode failures of bodies that carry the canaries in every position.
    for body in [
        format!(r#"{{"access_token":{{"nested":"{ACCESS}"}},"refresh_token":"{REFRESH}"}}"#),
        format!(r#"{{"access_token":"{ACCESS}","expires_in":"{REFRESH}"}}"#),
        format!(r#"{{"access_token":["{ACCESS}"]}}"#),
        format!(r#"{{"access_token":"{ACCESS}""#),
        format!(r#"{{"access_token":"{ACCESS}",,}}"#),
        format!("{ACCESS} is not json"),
        format!(r#"["{SECRET}"]"#),
        format!(r#"{{"{SECRET}":1"#),
    ] {
        let error = login::Request::parse_response(&response(200, &body)).unwrap_err();
        errors.push(chain(&error));
        let error = regen_pass::Request::parse_response(&response(200, &body)).unwrap_err();
        errors.push(chain(&error));
        let error = instances::list_instances::Request::parse_response(&response(200, &body)).unwrap_err();
        errors.push(chain(&error));
    }
    // Bad credentials and server errors whose body is not an error object.
    for status in [400, 401, 403, 500, 502, 503] {
        let error = login::Request::parse_response(&response(status, "")).unwrap_err();
        errors.push(chain(&error));
    }
    // Request errors built from secret-bearing input.
    let bad_token = AccessToken::new(format!("{ACCESS}\n"));
    let error = instances::list_instances::Request::new().to_http_request(&central, Some(&bad_token)).unwrap_err();
    errors.push(chain(&error));
    let error = login::Request::password("", ApiSecret::new(SECRET)).to_http_request(&central, None).unwrap_err();
    errors.push(chain(&error));
    let error = login::Request::password("key", ApiSecret::new("")).to_http_request(&central, None).unwrap_err();
    errors.push(chain(&error));
    // Webhook verification failures.
    let webhook_secret = WebhookSecret::new(WEBHOOK);
    for header in [format!("t=1,v1={WEBHOOK}"), WEBHOOK.to_owned(), format!("t={ACCESS},v1=00")] {
        let error = cyrisma_core::webhook::verify(&webhook_secret, &header, b"{}", 1).unwrap_err();
        errors.push(chain(&error));
    }
    assert!(errors.len() > 30);
    for text in &errors {
        assert_clean("an error chain", text);
    }
}

/// Every file under `dir` (recursively) whose name ends with one of `suffixes`.
fn files_under(dir: &Path, suffixes: &[&str], out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" && name != "work" {
                files_under(&path, suffixes, out);
            }
        } else if suffixes.iter().any(|suffix| name.ends_with(suffix)) {
            out.push(path);
        }
    }
}

#[test]
fn no_snapshot_fixture_or_corpus_file_holds_a_canary_or_an_unredacted_token() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["crates", "bindings", "docs", "fuzz/corpus"] {
        files_under(
            &root.join(dir),
            &[".snap", ".snap.new", ".json", ".txt", ".jsonl", ".csv", ".toml", ".md"],
            &mut files,
        );
    }
    // Every file of a fixture or snapshot folder, whatever its extension.
    let mut fixtures = Vec::new();
    files_under(&root.join("crates"), &[""], &mut fixtures);
    files.extend(fixtures.into_iter().filter(|path| {
        let text = path.to_string_lossy();
        text.contains("/fixtures/") || text.contains("/snapshots/")
    }));
    files.sort();
    files.dedup();
    let snapshots = files.iter().filter(|path| path.to_string_lossy().ends_with(".snap")).count();
    assert!(snapshots >= 200, "only {snapshots} snapshots found under {}", root.display());
    let mut problems = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        let found = hits(&text);
        if !found.is_empty() {
            problems.push(format!("{}: {found:?}", path.display()));
        }
        if path.to_string_lossy().ends_with(".snap") {
            for line in text.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("authorization:") && !lower.ends_with("<redacted>") {
                    problems.push(format!("{}: unredacted `{line}`", path.display()));
                }
                let secret_field = lower.strip_prefix("password=").or_else(|| lower.strip_prefix("refresh_token="));
                if secret_field.is_some_and(|value| value != "<redacted>") {
                    problems.push(format!("{}: unredacted `{line}`", path.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} files with secrets:\n{}", problems.len(), problems.join("\n"));
}
