//! One listener for every host: routing by `Host`, TLS with the generated CA and SNI, loopback
//! only, and the environment printed for clients.

use cyrisma_core::api::{instances, scans};
use cyrisma_emulator::{Emulator, EmulatorConfig, StartError};
use http::Method;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use crate::support::{Harness, json, small, tls_connector};

#[tokio::test]
async fn hosts_are_routed_by_the_host_header() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let auth = format!("access_token {}", token.expose_secret());
    let port = h.emu.addr().port();
    // Case, port and a trailing dot do not matter.
    for host in ["API.Cyrisma.Test".to_owned(), format!("api.cyrisma.test:{port}"), "api.cyrisma.test.".to_owned()] {
        let response = h
            .request(
                Method::GET,
                "api.cyrisma.test",
                "/app/partner/instances/info/",
                &[("authorization", &auth), ("host", &host)],
                "",
            )
            .await;
        assert_eq!(response.status(), 200, "{host}");
    }
    for host in ["localhost", "127.0.0.1", "cc999999.cyrisma.test", "api.cyrisma.example", "a.b.cyrisma.test"] {
        let response = h
            .request(
                Method::GET,
                "api.cyrisma.test",
                "/app/partner/instances/info/",
                &[("authorization", &auth), ("host", host)],
                "",
            )
            .await;
        assert_eq!((response.status().as_u16(), json(&response)["error"].as_str()), (404, Some("not_found")), "{host}");
    }
    // Paths outside `/app` and unknown paths are JSON 404s; a known path with another method is 405.
    let response =
        h.request(Method::GET, "api.cyrisma.test", "/partner/instances/info/", &[("authorization", &auth)], "").await;
    assert_eq!(response.status(), 404);
    let response = h
        .request(Method::DELETE, "api.cyrisma.test", "/app/partner/instances/info/", &[("authorization", &auth)], "")
        .await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(json(&response)["error"], "invalid_request");
}

#[tokio::test]
async fn tls_serves_every_host_with_the_generated_ca_and_checks_sni() {
    let h = Harness::start(small().with_tls(true)).await;
    assert!(h.emu.base_url().starts_with("https://api.cyrisma.test:"));
    let pem = std::fs::read_to_string(h.emu.ca_cert_path().unwrap()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(Some(pem.as_str()), h.emu.ca_cert_pem());
    // Central and instance hosts, each with its own name as SNI, dialing 127.0.0.1.
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    assert!(h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.is_ok());
    assert!(h.central(&instances::list_instances::Request::new(), Some(&token)).await.is_ok());

    // A Host that differs from the SNI is misdirected.
    let auth = format!("access_token {}", token.expose_secret());
    let response = h
        .request(
            Method::GET,
            "api.cyrisma.test",
            "/app/partner/instances/info/",
            &[("authorization", &auth), ("host", &format!("{id}.cyrisma.test"))],
            "",
        )
        .await;
    assert_eq!(response.status(), 421);

    // A client that does not trust the CA fails the handshake.
    let roots = rustls::RootCertStore::empty();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let untrusting = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let stream = TcpStream::connect(h.emu.addr()).await.unwrap();
    let name = ServerName::try_from("api.cyrisma.test").unwrap();
    assert!(untrusting.connect(name, stream).await.is_err());
    // A name outside the certificate fails too.
    let stream = TcpStream::connect(h.emu.addr()).await.unwrap();
    let name = ServerName::try_from("api.cyrisma.example").unwrap();
    assert!(tls_connector(&h.emu).connect(name, stream).await.is_err());
}

#[tokio::test]
async fn the_ca_is_written_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emulator-ca.pem");
    let emu = Emulator::start(EmulatorConfig::default().with_ca_cert_path(&path)).await.unwrap();
    assert_eq!(emu.ca_cert_path(), Some(path.as_path()));
    assert!(std::fs::read_to_string(&path).unwrap().contains("BEGIN CERTIFICATE"));
    emu.shutdown().await;
}

#[tokio::test]
async fn non_loopback_addresses_are_refused() {
    for addr in ["0.0.0.0:0", "192.0.2.1:8080", "[::]:0"] {
        let config = EmulatorConfig::plain().with_listen(addr.parse().unwrap());
        let error = Emulator::start(config).await.unwrap_err();
        assert!(matches!(error, StartError::NotLoopback { .. }), "{addr}: {error}");
        assert!(error.to_string().contains("loopback"));
    }
    let error = Emulator::start(EmulatorConfig::plain().with_domain("Not A Domain")).await.unwrap_err();
    assert!(matches!(error, StartError::Config(_)));
    let error = Emulator::start(EmulatorConfig::plain().with_size(0, 3, 1, 1)).await.unwrap_err();
    assert!(matches!(error, StartError::Config(_)));
}

#[tokio::test]
async fn the_environment_tells_clients_everything() {
    let h = Harness::start(small().with_tls(true).with_domain("emu.example.test")).await;
    let env: std::collections::BTreeMap<_, _> = h.emu.env().into_iter().collect();
    assert_eq!(env["CYRISMA_BASE_URL"], h.emu.base_url());
    assert!(env["CYRISMA_BASE_URL"].starts_with("https://api.emu.example.test:"));
    assert_eq!(env["CYRISMA_RESOLVE"], "*.emu.example.test=127.0.0.1");
    assert_eq!(env["CYRISMA_ALLOWED_DOMAIN"], "emu.example.test");
    assert_eq!(env["CYRISMA_API_KEY"], h.emu.api_key());
    assert_eq!(env["CYRISMA_API_SECRET"], h.emu.api_secret().expose_secret());
    assert_eq!(std::path::Path::new(&env["CYRISMA_CA_CERT"]), h.emu.ca_cert_path().unwrap());
    let lines = h.emu.export_lines();
    assert_eq!(lines.lines().count(), 6);
    assert!(lines.lines().all(|line| line.starts_with("export CYRISMA_")));
    assert!(lines.contains("export CYRISMA_RESOLVE='*.emu.example.test=127.0.0.1'"));
    // The api key is UUID-shaped.
    assert_eq!(h.emu.api_key().len(), 36);
    // Another domain works end to end.
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    assert!(h.on(&id, &scans::list_data_scans::Request::new(), &token).await.is_ok());
    let plain = Harness::start(small()).await;
    assert!(!plain.emu.env().iter().any(|(name, _)| *name == "CYRISMA_CA_CERT"));
}

#[tokio::test]
async fn shutdown_stops_the_listener() {
    let emu = Emulator::start(small()).await.unwrap();
    let addr = emu.addr();
    assert!(TcpStream::connect(addr).await.is_ok());
    emu.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_on_many_connections_are_served() {
    let h = std::sync::Arc::new(Harness::start(small().with_tls(true)).await);
    let token = h.reporting_token().await;
    let ids = h.active_instances();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..64 {
        let h = std::sync::Arc::clone(&h);
        let token = token.clone();
        let id = ids[n % ids.len()].clone();
        tasks.spawn(async move { h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.is_ok() });
    }
    let mut ok = 0;
    while let Some(result) = tasks.join_next().await {
        ok += usize::from(result.unwrap());
    }
    assert_eq!(ok, 64);
    assert_eq!(h.emu.count("scans.list_vulnerability_scans"), 64);
}
