//! Hostile servers: 10,000-level JSON, compressed bodies the client never asked for, and a
//! central host whose structure listing points instances at foreign hosts.
//!
//! (Memory under a 1 GiB body is measured alone, in `tests/memory_cap.rs`, so that no other test
//! shares the process while its resident size is sampled.)

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::Fault;
use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_levels_of_json_are_a_decode_error_on_every_host() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    client.users().list().await.unwrap();

    emulator.add_fault(Fault::deep_json(10_000).on("users.list_users").times(1));
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_decode() && !error.is_retryable(), "{error}");
    assert_eq!(emulator.count("users.list_users"), 2, "not retried");

    emulator.add_fault(Fault::deep_json(10_000).on("scans.list_vulnerability_scans").at_host(id.as_str()).times(1));
    let error = client.instance(&id).vulnerability_scans().await.unwrap_err();
    assert!(error.is_decode(), "{error}");
    // The process survived (no stack overflow) and the client still works.
    client.instance(&id).vulnerability_scans().await.unwrap();
    client.users().list().await.unwrap();
}

/// A raw server that records each request head and answers every request with `answer`.
async fn raw_server(answer: &'static [u8]) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buf[..read]),
                    }
                }
                seen.lock().unwrap().push(String::from_utf8_lossy(&head).into_owned());
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (addr, heads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_asks_for_no_compression_and_never_inflates_a_body() {
    // A gzip member (magic, method, flags...) the server sends unasked: it must be read as the
    // raw bytes it is (and fail to decode), never inflated, so a gzip bomb cannot grow past the
    // body cap.
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n\
content-length: 24\r\nconnection: close\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xed\xc1\x01\x01\x00\x00\x00\x80\x90\xfe\xaf\xee\x08\x0a";
    let (addr, heads) = raw_server(ANSWER).await;
    let client = cyrisma_transport::Client::builder()
        .base_url(format!("http://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("api.cyrisma.test={}", addr.ip()))
        .allowed_domain("cyrisma.test")
        .credentials("key", ApiSecret::new("secret"))
        .max_retries(0)
        .build()
        .unwrap();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_decode() || error.is_auth(), "{error}");
    let heads = heads.lock().unwrap();
    assert!(!heads.is_empty());
    for head in heads.iter() {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("accept-encoding"), "the client asked for compression:\n{head}");
        assert!(!lower.contains("\r\nte:"), "the client asked for transfer codings:\n{head}");
    }
}

/// The instances a hostile central host lists: one legitimate, the rest pointing elsewhere.
const FOREIGN: &[(&str, &str)] = &[
    ("cc000001", "cc000001.evil.test"),
    ("cc000002", "cc000002.cyrisma.test.evil.test"),
    ("cc000003", "https://cc000003.evil.test/app"),
    ("cc000004", "evilcyrisma.test"),
    ("cc000005", "cc000005.cyrisma.test@evil.test"),
    ("cc000006", "127.0.0.1"),
    ("cc000007", "cc000007.cyrisma.test:9443"),
    ("cc000008", "cc000008.cyrisma.test%2eevil.test"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_instance_hosts_from_the_server_never_receive_a_request() {
    // The trap: every foreign name resolves here, so a request that went out would land.
    let trap = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_addr = trap.local_addr().unwrap();
    let trapped = Arc::new(AtomicUsize::new(0));
    let count = trapped.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = trap.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });

    // The central host: logs in anyone, lists the hostile structure, answers reporting calls for
    // the one legitimate instance, and records which host every token went to.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tokens_by_host: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let mut listing: Vec<serde_json::Value> =
        FOREIGN.iter().map(|(id, url)| serde_json::json!({"instance_id": id, "url": url})).collect();
    listing.push(serde_json::json!({"instance_id": "cc000009", "url": "cc000009.cyrisma.test"}));
    let listing = Bytes::from(serde_json::to_vec(&listing).unwrap());
    let ids: Vec<String> = FOREIGN.iter().map(|(id, _)| (*id).to_owned()).chain(["cc000009".to_owned()]).collect();
    let inserts = Bytes::from(serde_json::to_vec(&serde_json::json!({"success_token_inserts": ids})).unwrap());
    let log = tokens_by_host.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (listing, inserts, log) = (listing.clone(), inserts.clone(), log.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (listing, inserts, log) = (listing.clone(), inserts.clone(), log.clone());
                    async move {
                        let host = request
                            .headers()
                            .get("host")
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .split(':')
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        if request.headers().contains_key("authorization") {
                            *log.lock().unwrap().entry(host).or_default() += 1;
                        }
                        let path = request.uri().path().to_owned();
                        let body = if path.ends_with("/partner/login/") {
                            Bytes::from_static(br#"{"access_token":"Tok000000000020240101000000","expires_in":600}"#)
                        } else if path.ends_with("/partner/instances/info/") {
                            listing
                        } else if path.contains("/partner/instances/login/") {
                            inserts
                        } else {
                            Bytes::from_static(b"{}")
                        };
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(body)))
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service).await;
            });
        }
    });

    let client = cyrisma_transport::Client::builder()
        .base_url(format!("http://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("api.cyrisma.test={addr}"))
        .resolve(&format!("cc000009.cyrisma.test={addr}"))
        .resolve(&format!("*.evil.test={trap_addr}"))
        .resolve(&format!("evilcyrisma.test={trap_addr}"))
        .resolve(&format!("*.cyrisma.test={trap_addr}"))
        .allowed_domain("cyrisma.test")
        .credentials("key", ApiSecret::new("secret"))
        .max_retries(0)
        .build()
        .unwrap();

    let results: Vec<_> = client
        .fan_out(|_| true, 8, |instance| async move { instance.dashboard_overall().await })
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(results.len(), FOREIGN.len() + 1);
    for item in &results {
        if item.instance_id == "cc000009" {
            assert!(item.result.is_ok(), "{:?}", item.result.as_ref().err());
        } else {
            let error = item.result.as_ref().unwrap_err();
            assert!(error.is_host_refused(), "{}: {error}", item.instance_id);
        }
    }
    // By id, too (the client looks the host up in the listing).
    for (id, _) in FOREIGN {
        let error = client.instance(*id).dashboard_overall().await.unwrap_err();
        assert!(error.is_host_refused(), "{id}: {error}");
    }
    assert_eq!(trapped.load(Ordering::SeqCst), 0, "a connection reached a foreign host");
    let tokens = tokens_by_host.lock().unwrap().clone();
    for host in tokens.keys() {
        assert!(host == "api.cyrisma.test" || host == "cc000009.cyrisma.test", "a token went to {host}: {tokens:?}");
    }
    assert!(tokens.get("cc000009.cyrisma.test").is_some_and(|count| *count >= 1), "{tokens:?}");
}
