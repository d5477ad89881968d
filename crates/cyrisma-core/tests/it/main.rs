//! Integration tests of the core: one module per resource, plus the pure decision logic.
//!
//! Two helpers are the only code that touches the endpoints (one per boundary), and
//! `endpoints.rs` runs both for every endpoint of the list: [`render_request`] renders the built
//! `http::Request` (method, full URL, headers with secrets redacted, decoded body), and
//! [`render_response`] parses one fixture of `tests/fixtures/<resource>/<endpoint>/` into the
//! typed result or error.
//!
//! Fixture file names start with the HTTP status (`200-ok.json`, `401-invalid-grant.json`); a
//! `.txt` fixture is a body that is not JSON. Every response gets `x-request-id: req-fixture`.

mod assets;
mod auth;
mod call;
mod canary;
mod dashboards;
mod endpoints;
mod history;
mod host;
mod instances;
mod models;
mod retry;
mod roundtrip;
mod scans;
mod session;
mod users;
mod webhook_signature;
mod webhooks;

use std::fmt::Debug;
use std::path::Path;

use bytes::Bytes;
use cyrisma_core::endpoint::{Endpoint, HostKind};
use cyrisma_core::{AccessToken, BaseUrl, HostPolicy};

/// The token every request snapshot is built with; it must never appear in a snapshot.
pub const CANARY_TOKEN: &str = "CANARYtoken0020261122000000";

/// The secret and refresh token request snapshots are built with; they must never appear either.
pub const CANARY_SECRET: &str = "CANARYsecret0020261122";

/// The API secret of the endpoints' `example()` requests (`login`, `regen_pass`); it must never
/// appear either.
pub const EXAMPLE_SECRET: &str = "example-api-secret";

/// Builds the request against the production hosts and renders it as stable text.
pub fn render_request<E: Endpoint>(request: &E) -> String {
    let central = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    let base = match E::METADATA.host {
        HostKind::Central => central,
        _ => {
            let policy = HostPolicy::for_central(&central).unwrap();
            central.instance(&policy.validate("cc123456.cyrisma.com").unwrap())
        }
    };
    let token = AccessToken::new(CANARY_TOKEN);
    let built = request.to_http_request(&base, Some(&token)).expect("request builds");
    let metadata = E::METADATA;
    let mut text = format!(
        "# {} (host: {}, idempotent: {}, evidence: {:?})\n{} {}\n",
        metadata.name,
        metadata.host,
        metadata.idempotent,
        metadata.evidence,
        built.method(),
        built.uri()
    );
    let mut headers: Vec<_> = built.headers().iter().collect();
    headers.sort_by_key(|(name, _)| name.as_str());
    for (name, value) in headers {
        let shown = if value.is_sensitive() {
            let text = value.to_str().unwrap();
            format!("{} <redacted>", text.split(' ').next().unwrap_or(""))
        } else {
            value.to_str().unwrap().to_owned()
        };
        text.push_str(&format!("{name}: {shown}\n"));
    }
    let body = built.body().as_bytes();
    if !body.is_empty() {
        text.push('\n');
        for (name, value) in form_urlencoded::parse(body) {
            let shown = if metadata.secret_fields.contains(&name.as_ref()) { "<redacted>".into() } else { value };
            text.push_str(&format!("{name}={shown}\n"));
        }
    }
    for canary in [CANARY_TOKEN, CANARY_SECRET, EXAMPLE_SECRET] {
        assert!(!text.contains(canary), "a secret leaked into the rendered request");
    }
    text
}

/// Snapshots the built request (for the requests of an endpoint besides its `example()`).
#[macro_export]
macro_rules! check_request {
    ($name:literal, $request:expr) => {
        insta::assert_snapshot!($name, $crate::render_request(&$request));
    };
}

/// Parses one fixture file as a response of `E` and renders the typed outcome.
pub fn render_response<E>(path: &Path) -> String
where
    E: Endpoint,
    E::Response: Debug,
{
    let file_name = path.file_name().unwrap().to_str().unwrap();
    let status: u16 = file_name.split('-').next().unwrap().parse().expect("fixture name starts with a status");
    let body = std::fs::read(path).unwrap();
    let response = http::Response::builder()
        .status(status)
        .header("x-request-id", "req-fixture")
        .header("content-type", "text/plain")
        .body(Bytes::from(body))
        .unwrap();
    match E::parse_response(&response) {
        Ok(value) => format!("Ok({value:#?})"),
        Err(error) => format!("Err({error:#?})\n\ndisplay: {error}"),
    }
}

/// Every endpoint of the contract has a request snapshot, at least one success fixture and at
/// least one error fixture (so a new endpoint cannot land untested).
#[test]
fn every_endpoint_has_a_request_snapshot_and_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let snapshots: Vec<String> = std::fs::read_dir(root.join("it/snapshots"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    let mut missing = Vec::new();
    for metadata in cyrisma_core::api::ENDPOINTS {
        let header = format!("# {} (host:", metadata.name);
        if !snapshots.iter().any(|snapshot| snapshot.contains(&header)) {
            missing.push(format!("{}: no request snapshot", metadata.name));
        }
        let dir = root.join("fixtures").join(metadata.name.replace('.', "/"));
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|entries| entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if !names.iter().any(|name| name.starts_with('2')) {
            missing.push(format!("{}: no success fixture in {}", metadata.name, dir.display()));
        }
        if !names.iter().any(|name| name.starts_with('4') || name.starts_with('5')) {
            missing.push(format!("{}: no error fixture in {}", metadata.name, dir.display()));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
