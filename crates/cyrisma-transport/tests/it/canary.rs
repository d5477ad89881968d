//! Secret canary, transport side: a server that hands out canary tokens and a client holding a
//! canary secret are driven through every error path we can force (bad credentials, 5xx, a
//! `401` mid-session, a decode failure of a body echoing the token, a timeout, a refused
//! connection, a rotation whose sink fails). Error chains (Display, sources, Debug), `Debug` of
//! the public types and every trace line at TRACE level contain the canaries in none of their
//! forms: plain, URL-encoded, form-encoded, base64.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::EmulatorConfig;
use cyrisma_transport::{Client, ClientBuilder};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::support;

const SECRET: &str = "Canary+Secret/=& ü-7Qx2";
const WRONG: &str = "Canary+Wrong/=& ü-9Zz";
const NEW_SECRET: &str = "Canary+Rotated/=& é-3Pp";
const ACCESS: &str = "CanaryAcc0ss20261122000000";
const REFRESH: &str = "CanaryRefr3sh-20261122+/=";

/// The forms a secret can take in text.
fn forms(secret: &str) -> Vec<String> {
    let url = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut all = vec![secret.to_owned(), url, form];
    for engine in [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        let encoded = engine.encode(secret);
        all.push(encoded[..encoded.len().min(16)].to_owned());
    }
    all.push(base64::engine::general_purpose::STANDARD.encode(format!("partner-key:{secret}")));
    all
}

fn assert_clean(what: &str, text: &str) {
    for canary in [SECRET, WRONG, NEW_SECRET, ACCESS, REFRESH] {
        for form in forms(canary) {
            assert!(!text.contains(&form), "{what} shows the canary {canary:?} as {form:?}:\n{text}");
        }
    }
}

/// Display, Debug and every source of an error, as a front end prints a chain.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{error} | {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(" | {cause} | {cause:?}"));
        source = cause.source();
    }
    text
}

/// What the stand answers to `GET /partner/users/info/`.
const OK: u8 = 0;
const SERVER_ERROR: u8 = 1;
const ECHO_GARBAGE: u8 = 2;
const HANG: u8 = 3;
const UNAUTHORIZED: u8 = 4;

/// A central host that logs in with canary tokens, rotates to a canary secret, and answers the
/// user listing as `mode` says. Returns its address and the form bodies it received.
async fn stand(mode: Arc<AtomicU8>) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let forms_seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let logins = Arc::new(AtomicUsize::new(0));
    let seen = forms_seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (mode, seen, logins) = (mode.clone(), seen.clone(), logins.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (mode, seen, logins) = (mode.clone(), seen.clone(), logins.clone());
                    async move {
                        let path = request.uri().path().to_owned();
                        let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
                        seen.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
                        let (status, body) = if path.ends_with("/partner/login/") {
                            logins.fetch_add(1, Ordering::SeqCst);
                            (
                                200,
                                format!(
                                    r#"{{"access_token":"{ACCESS}","refresh_token":"{REFRESH}","expires_in":600}}"#
                                ),
                            )
                        } else if path.ends_with("/partner/login/regen-pass") || path.ends_with("/regen-pass/") {
                            (200, format!(r#"{{"username":"partner-key","password":"{NEW_SECRET}"}}"#))
                        } else {
                            match mode.load(Ordering::SeqCst) {
                                OK => (200, "[]".to_owned()),
                                // A hostile error page that reflects everything the client ever sent: the
                                // token, the refresh token and the login form with the secret. The client
                                // scrubs its own secrets from error bodies before it reads them.
                                SERVER_ERROR => {
                                    let login_form = seen.lock().unwrap().first().cloned().unwrap_or_default();
                                    (
                                        500,
                                        format!("<html>upstream failed for {ACCESS} / {REFRESH} / {login_form}</html>"),
                                    )
                                }
                                ECHO_GARBAGE => {
                                    (200, format!(r#"[{{"id":{{"token":"{ACCESS}","refresh":"{REFRESH}"}}"#))
                                }
                                HANG => {
                                    tokio::time::sleep(Duration::from_secs(30)).await;
                                    (200, "[]".to_owned())
                                }
                                _ => (401, r#"{"error":"invalid_token","message":"expired"}"#.to_owned()),
                            }
                        };
                        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
                        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service).await;
            });
        }
    });
    (addr, forms_seen)
}

fn plain_builder(addr: std::net::SocketAddr, secret: &str) -> ClientBuilder {
    Client::builder()
        .base_url(format!("http://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("api.cyrisma.test={addr}"))
        .allowed_domain("cyrisma.test")
        .credentials("partner-key", ApiSecret::new(secret))
        .native_roots(false)
}

/// A writer that keeps everything the subscriber prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_forced_error_and_every_trace_line_is_free_of_the_canaries() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let mode = Arc::new(AtomicU8::new(OK));
    let (addr, forms_seen) = stand(mode.clone()).await;
    let builder = plain_builder(addr, SECRET).attempt_timeout(Duration::from_secs(1)).max_retries(1);
    let client = builder.clone().build().unwrap();
    let mut shown: Vec<String> = vec![format!("{builder:?} {:?} {client:?}", builder.config())];

    client.users().list().await.unwrap();
    for forced in [SERVER_ERROR, ECHO_GARBAGE, HANG, UNAUTHORIZED] {
        mode.store(forced, Ordering::SeqCst);
        let error = client.users().list().await.unwrap_err();
        shown.push(chain(&error));
    }
    mode.store(OK, Ordering::SeqCst);
    client.users().list().await.unwrap();
    // The reflecting error page did reach the error text, with the secrets cut out of it.
    assert!(shown[1].contains("upstream failed for <redacted>"), "{}", shown[1]);

    // A rotation whose sink fails keeps the new secret inside the error: never in its text.
    let error =
        client.rotate_secret(|_secret| async { Err::<(), _>(std::io::Error::other("disk full")) }).await.unwrap_err();
    shown.push(chain(&error));
    let kept = error.unsaved_secret().expect("the unsaved secret is kept");
    shown.push(format!("{kept:?}"));
    assert_eq!(kept.secret().map(|secret| secret.expose_secret()), Some(NEW_SECRET), "and it is recoverable");
    shown.push(format!("{client:?}"));

    // A refused connection.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let refused = plain_builder(closed, SECRET).max_retries(0).build().unwrap();
    shown.push(chain(&refused.users().list().await.unwrap_err()));

    for text in &shown {
        assert_clean("an error chain or Debug output", text);
    }
    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(traces.contains("cyrisma.request"), "tracing was captured");
    assert_clean("the TRACE-level log", &traces);
    // The canaries really were on the wire (so their absence above means something).
    let sent = forms_seen.lock().unwrap().join("\n");
    assert!(sent.contains(&forms(SECRET)[2]), "the secret was sent form-encoded");
    assert!(sent.contains(REFRESH) || sent.contains(&forms(REFRESH)[2]), "the refresh token was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_against_the_emulator_leave_no_canary_in_the_error() {
    let emulator =
        support::emulator(EmulatorConfig::default().with_credentials("partner-key", ApiSecret::new(SECRET))).await;
    let wrong = support::builder(&emulator).credentials("partner-key", ApiSecret::new(WRONG)).build().unwrap();
    let error = wrong.users().list().await.unwrap_err();
    assert!(error.is_auth() || error.is_api(), "{error}");
    assert_clean("a bad-credentials error", &format!("{} {wrong:?}", chain(&error)));
    let right = support::client(&emulator);
    right.users().list().await.unwrap();
    assert_clean("the emulator's request log", &format!("{:?}", emulator.requests()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_password_never_shows_in_debug_or_errors() {
    let emulator = support::default_emulator().await;
    let password = percent_encoding::utf8_percent_encode(SECRET, percent_encoding::NON_ALPHANUMERIC).to_string();
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let proxy = cyrisma_transport::Proxy::https(&format!("http://partner-key:{password}@{closed}")).unwrap();
    // No resolve override, so the request goes through the (closed) proxy.
    let client = Client::builder()
        .base_url("https://api.cyrisma.test/app")
        .credentials("partner-key", ApiSecret::new(SECRET))
        .add_ca_certificate_pem(emulator.ca_cert_pem().unwrap().as_bytes().to_vec())
        .native_roots(false)
        .proxy(proxy.clone())
        .max_retries(0)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_connect(), "{error}");
    let mut shown = format!("{proxy:?} {client:?} {}", chain(&error));
    for bad in [format!("ftp://partner-key:{password}@proxy.example:3128"), format!("partner-key:{password}@")] {
        let error = cyrisma_transport::Proxy::https(&bad).unwrap_err();
        shown.push_str(&chain(&error));
    }
    assert_clean("proxy Debug and errors", &shown);
}
