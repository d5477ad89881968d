//! Bounded resources: body size, timeouts (connect, attempt, total), concurrency limits.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cyrisma_core::ApiSecret;
use cyrisma_emulator::Fault;
use cyrisma_transport::{Client, ClientBuilder};
use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support;

/// A client for a plain-http loopback server at `addr`.
fn plain_builder(addr: std::net::SocketAddr) -> ClientBuilder {
    Client::builder()
        .base_url(format!("http://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("*.cyrisma.test={}", addr.ip()))
        .resolve(&format!("api.cyrisma.test={}", addr.ip()))
        .allowed_domain("cyrisma.test")
        .credentials("key", ApiSecret::new("secret"))
        .native_roots(false)
}

/// Reads one request head from a raw socket.
async fn read_head(socket: &mut tokio::net::TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.windows(4).any(|window| window == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => seen.extend_from_slice(&buf[..read]),
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_oversized_body_is_refused() {
    let emulator = support::default_emulator().await;
    let client = support::builder(&emulator).max_body_size(1024 * 1024).build().unwrap();
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::oversized_body(512 * 1024 * 1024).on("users.list_users").times(1));
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_body_too_large(), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(emulator.count("users.list_users"), 2, "not retried");
    // The client is still usable afterwards.
    client.users().list().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_chunked_body_stops_at_the_cap() {
    const LIMIT: u64 = 4 * 1024 * 1024;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        if !read_head(&mut socket).await {
            return;
        }
        let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head).await.unwrap();
        let chunk = vec![b' '; 64 * 1024];
        // At most 1 GiB; the client hangs up long before.
        for _ in 0..16_384 {
            let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if socket.write_all(&frame).await.is_err() {
                return;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
    });
    let client = plain_builder(addr).max_body_size(LIMIT).max_retries(0).build().unwrap();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_body_too_large(), "{error}");
    // What the server managed to write is the cap plus what the socket buffers hold: the client
    // stopped reading at the cap, so its memory stayed bounded by it.
    let written = sent.load(Ordering::Relaxed);
    assert!(written < LIMIT + 32 * 1024 * 1024, "the server wrote {written} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_host_times_out_within_the_connect_timeout() {
    let emulator = support::default_emulator().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::Relaxed);
            // Accept and never answer (not even the TLS handshake).
            held.push(socket);
        }
    });
    let client = Client::builder()
        .base_url(format!("https://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("api.cyrisma.test={addr}"))
        .credentials("key", ApiSecret::new("secret"))
        .native_roots(false)
        .add_ca_certificate_pem(emulator.ca_cert_pem().unwrap().as_bytes().to_vec())
        .connect_timeout(Duration::from_millis(500))
        .total_timeout(Duration::from_secs(5))
        .max_retries(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.users().list().await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(error.is_timeout() && error.is_connect(), "{error}");
    assert!(elapsed >= Duration::from_millis(1000), "two attempts of 0.5 s: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    assert_eq!(accepted.load(Ordering::Relaxed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_hits_the_attempt_then_the_total_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_head(&mut socket).await;
                // Read the request, never answer.
                tokio::time::sleep(Duration::from_secs(60)).await;
                drop(socket);
            });
        }
    });

    let client = plain_builder(addr).attempt_timeout(Duration::from_millis(400)).max_retries(1).build().unwrap();
    let started = Instant::now();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_timeout() && !error.is_connect(), "{error}");
    assert!(error.to_string().contains("per-attempt"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let client = plain_builder(addr).total_timeout(Duration::from_millis(700)).build().unwrap();
    let started = Instant::now();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(error.to_string().contains("total timeout"), "{error}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// A plain-http stand-in that logs in anyone, lists `hosts` instances, accepts instance
/// authentication, and answers every other call after `delay`, tracking the largest number of
/// requests in flight overall and per host.
struct Stand {
    addr: std::net::SocketAddr,
    max_total: Arc<AtomicUsize>,
    max_per_host: Arc<AtomicUsize>,
}

async fn stand(hosts: usize, delay: Duration) -> Stand {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let per_host: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
    let max_total = Arc::new(AtomicUsize::new(0));
    let max_per_host = Arc::new(AtomicUsize::new(0));
    let ids: Vec<String> = (0..hosts).map(|n| format!("cc{:06}", 200_000 + n)).collect();
    let listing = serde_json::to_vec(
        &ids.iter()
            .map(|id| serde_json::json!({"instance_id": id, "url": format!("{id}.cyrisma.test")}))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let inserts = serde_json::to_vec(&serde_json::json!({"success_token_inserts": ids})).unwrap();
    let (listing, inserts) = (Bytes::from(listing), Bytes::from(inserts));
    let (total_max, host_max) = (max_total.clone(), max_per_host.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (in_flight, per_host, total_max, host_max) =
                (in_flight.clone(), per_host.clone(), total_max.clone(), host_max.clone());
            let (listing, inserts) = (listing.clone(), inserts.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let (in_flight, per_host, total_max, host_max) =
                        (in_flight.clone(), per_host.clone(), total_max.clone(), host_max.clone());
                    let (listing, inserts) = (listing.clone(), inserts.clone());
                    async move {
                        let path = request.uri().path().to_owned();
                        let body = if path.ends_with("/partner/login/") {
                            Bytes::from_static(br#"{"access_token":"Tok000000000020240101000000","expires_in":600}"#)
                        } else if path.ends_with("/partner/instances/info/") {
                            listing
                        } else if path.contains("/partner/instances/login/") {
                            inserts
                        } else {
                            let host = request
                                .headers()
                                .get("host")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let total = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            total_max.fetch_max(total, Ordering::SeqCst);
                            let here = {
                                let mut map = per_host.lock().unwrap();
                                let entry = map.entry(host.clone()).or_default();
                                *entry += 1;
                                *entry
                            };
                            host_max.fetch_max(here, Ordering::SeqCst);
                            tokio::time::sleep(delay).await;
                            *per_host.lock().unwrap().get_mut(&host).unwrap() -= 1;
                            in_flight.fetch_sub(1, Ordering::SeqCst);
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
    Stand { addr, max_total, max_per_host }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_stay_within_the_global_and_per_host_limits() {
    let stand = stand(20, Duration::from_millis(20)).await;
    let client = plain_builder(stand.addr).concurrency(16, 4).build().unwrap();
    let mut results = client
        .fan_out(
            |_| true,
            200,
            |instance| async move {
                for _ in 0..5 {
                    instance.dashboard_overall().await?;
                }
                Ok(())
            },
        )
        .await
        .unwrap();
    let mut done = 0;
    while let Some(item) = results.next().await {
        item.result.unwrap();
        done += 1;
    }
    assert_eq!(done, 20);
    let (total, per_host) = (stand.max_total.load(Ordering::SeqCst), stand.max_per_host.load(Ordering::SeqCst));
    assert!(total <= 16 && per_host <= 4, "in flight: {total} overall, {per_host} per host");
    assert!(total > 4, "the global limit, not a single host's, was the bound: {total}");
}
