//! Hosts that must never receive a request: plain http to addresses that are not loopback,
//! instance hosts outside the allowed domain, untrusted certificates.

use cyrisma_core::ApiSecret;
use cyrisma_core::types::Instance;
use cyrisma_emulator::EmulatorConfig;
use cyrisma_transport::Client;

use crate::support;

#[test]
fn plain_http_to_an_address_known_not_to_be_loopback_is_refused_at_build() {
    for (url, resolve) in [
        ("http://10.255.255.1/app", None),
        ("http://api.cyrisma.test/app", Some("api.cyrisma.test=10.255.255.1:8080")),
        ("http://api.cyrisma.test/app", Some("*.cyrisma.test=192.0.2.7")),
    ] {
        let mut builder =
            Client::builder().base_url(url).allowed_domain("cyrisma.test").credentials("key", ApiSecret::new("secret"));
        if let Some(resolve) = resolve {
            builder = builder.resolve(resolve);
        }
        let error = builder.build().unwrap_err();
        assert!(error.is_host_refused(), "{url}: {error}");
        assert!(error.to_string().contains("not loopback"), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_an_instance_host_resolving_elsewhere_is_refused_before_connecting() {
    let emulator = support::emulator(EmulatorConfig::plain()).await;
    let central = format!("api.cyrisma.test={}", emulator.addr());
    // The central host is loopback (exact override); instance hosts would go to a documentation
    // address that is not loopback.
    let client = support::builder(&emulator).resolve(&central).resolve("*.cyrisma.test=192.0.2.1").build().unwrap();
    let id = support::reportable_ids(&emulator).remove(0);
    client.users().list().await.unwrap();

    let error = client.instance(&id).dashboard_overall().await.unwrap_err();
    // The loopback rule is checked after resolving and before connecting: an attempt to reach
    // 192.0.2.1 (TEST-NET-1, unreachable) would have ended in a connection error or a timeout.
    assert!(error.is_host_refused() && !error.is_timeout() && !error.is_connect(), "{error}");
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("not loopback"), "{error}");
    assert!(emulator.requests().iter().all(|record| !record.host.starts_with(&id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_loopback_works() {
    let emulator = support::emulator(EmulatorConfig::plain()).await;
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    client.instance(&id).dashboard_overall().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_supplied_hosts_outside_the_allowed_domain_get_nothing() {
    let emulator = support::default_emulator().await;
    // The emulator's instance hosts are under `cyrisma.test`; this client only trusts
    // `elsewhere.test` with its token.
    let client = support::builder(&emulator).allowed_domain("elsewhere.test").build().unwrap();
    let id = support::reportable_ids(&emulator).remove(0);
    client.users().list().await.unwrap();
    emulator.reset_counters();

    let error = client.instance(&id).dashboard_overall().await.unwrap_err();
    assert!(error.is_host_refused(), "{error}");
    // One level in `Display`; why the host was refused is the source, shown by the chain.
    assert!(!error.to_string().contains("outside the allowed domain"), "{error}");
    assert!(format!("{error:#}").contains("outside the allowed domain"), "{error:#}");
    assert!(
        emulator.requests().iter().all(|record| !record.host.starts_with(&id)),
        "nothing reached the instance host"
    );
    assert_eq!(emulator.count("dashboards.get_overall_dashboard"), 0);
    assert_eq!(emulator.count("instances.authenticate_instance"), 0, "not even instance authentication");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_instance_urls_are_refused() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    for url in [
        "cc1.cyrisma.test.evil.example",
        "evilcyrisma.test",
        "x@cc1.cyrisma.test",
        "cc1.cyrisma.test:8443",
        "127.0.0.1",
        "https://[::1]/app",
        "ftp://cc1.cyrisma.test",
    ] {
        let instance = Instance { instance_id: "cc1".into(), url: Some(url.into()), ..Instance::default() };
        let error = client.instance_for(&instance).unwrap_err();
        assert!(error.is_host_refused(), "{url}: {error}");
    }
    let missing = Instance { instance_id: "cc1".into(), ..Instance::default() };
    assert!(client.instance_for(&missing).is_err());
    let fine =
        Instance { instance_id: "cc1".into(), url: Some("https://CC1.cyrisma.test/app".into()), ..Instance::default() };
    let instance = client.instance_for(&fine).unwrap();
    assert_eq!(instance.base_url().await.unwrap().host(), "cc1.cyrisma.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_the_handshake() {
    let emulator = support::default_emulator().await;
    let other = support::default_emulator().await;
    // Trust only the other emulator's CA.
    let client = support::builder(&emulator)
        .config_mut(|config| config.ca_certificates.clear())
        .add_ca_certificate_pem(other.ca_cert_pem().unwrap().as_bytes().to_vec())
        .build()
        .unwrap();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_tls() && error.is_connect(), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(emulator.count("auth.login"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_debug_output_never_show_secrets() {
    let emulator = support::default_emulator().await;
    let secret = emulator.api_secret();
    let client = support::client(&emulator);
    let wrong = support::builder(&emulator)
        .credentials(emulator.api_key(), ApiSecret::new("canary-secret-value"))
        .build()
        .unwrap();
    let error = wrong.users().list().await.unwrap_err();
    let shown = format!("{error} {error:?} {wrong:?} {:?}", support::builder(&emulator).config());
    assert!(!shown.contains("canary-secret-value"), "{shown}");
    assert!(!shown.contains(secret.expose_secret()), "{shown}");
    client.users().list().await.unwrap();
}

/// A writer that keeps everything the subscriber prints.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

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
async fn traces_carry_request_facts_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let emulator = support::default_emulator().await;
    let secret = emulator.api_secret();
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    client.instance(&id).ip_asset("203.0.113.77").await.unwrap();
    emulator.add_fault(cyrisma_emulator::Fault::status(503).on("users.list_users").times(1));
    client.users().list().await.unwrap();
    client.rotate_secret(|_secret| async { Ok::<(), std::io::Error>(()) }).await.unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "cyrisma.request",
        "cyrisma.attempt",
        "endpoint=",
        "host=",
        "path=",
        "attempt=",
        "status=",
        "elapsed_ms=",
        "retrying",
    ] {
        assert!(text.contains(expected), "`{expected}` missing from:\n{text}");
    }
    for forbidden in
        [secret.expose_secret(), emulator.api_secret().expose_secret(), "password=", "access_token ", "203.0.113.77"]
    {
        assert!(!text.contains(forbidden), "`{forbidden}` leaked into traces");
    }
}
