//! Peak memory under a 1 GiB body: the client stops at the body cap and its resident memory
//! grows by less than twice the cap.
//!
//! This is its own test binary with a single test, so that nothing else runs in the process
//! while `/proc/self/status` is sampled. Linux only (elsewhere the test checks the error alone).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{Emulator, EmulatorConfig, Fault};
use cyrisma_transport::{Client, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The body cap the test uses (the default is 64 MiB; a smaller one keeps the test fast).
const CAP: u64 = 8 * 1024 * 1024;

/// What the hostile servers offer: 1 GiB.
const GIB: u64 = 1024 * 1024 * 1024;

/// The resident set size in bytes, from `/proc/self/status` (`None` off Linux).
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Samples the resident size every millisecond while `work` runs; returns the work's output and
/// the peak growth over the size before it started.
async fn peak_growth<T>(work: impl Future<Output = T>) -> (T, Option<u64>) {
    let before = rss();
    let peak = Arc::new(AtomicU64::new(before.unwrap_or(0)));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(now) = rss() {
                    peak.fetch_max(now, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let output = work.await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let growth = before.map(|before| peak.load(Ordering::Relaxed).saturating_sub(before));
    (output, growth)
}

/// A server that answers one request with a chunked body of up to 1 GiB, never ending early.
async fn endless_server() -> (std::net::SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while !seen.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => seen.extend_from_slice(&buf[..read]),
                    }
                }
                let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                for _ in 0..GIB / chunk.len() as u64 {
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, sent)
}

#[allow(clippy::print_stderr, reason = "the figures are the point of this test (run with --nocapture)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gib_body_stops_at_the_cap_with_peak_memory_under_twice_the_cap() {
    // 1. The emulator announces and streams 1 GiB.
    let emulator = Emulator::start(EmulatorConfig::plain()).await.unwrap();
    let env = emulator.env();
    let mut config = ClientConfig::default();
    config.apply_vars(|name| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone())).unwrap();
    let client = cyrisma_transport::ClientBuilder::from_config(config).max_body_size(CAP).build().unwrap();
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::oversized_body(GIB).on("users.list_users").times(1));
    let (result, announced_growth) = peak_growth(client.users().list()).await;
    let error = result.unwrap_err();
    assert!(error.is_body_too_large() && !error.is_retryable(), "{error}");

    // 2. A server streams a chunked body with no length, up to 1 GiB.
    let (addr, sent) = endless_server().await;
    let client = Client::builder()
        .base_url(format!("http://api.cyrisma.test:{}/app", addr.port()))
        .resolve(&format!("api.cyrisma.test={}", addr.ip()))
        .allowed_domain("cyrisma.test")
        .credentials("key", ApiSecret::new("secret"))
        .max_body_size(CAP)
        .max_retries(0)
        .build()
        .unwrap();
    let (result, streamed_growth) = peak_growth(client.users().list()).await;
    let error = result.unwrap_err();
    assert!(error.is_body_too_large(), "{error}");
    let written = sent.load(Ordering::Relaxed);
    assert!(written < GIB / 4, "the client stopped reading early: the server wrote {written} bytes");

    for (case, growth) in [("announced 1 GiB", announced_growth), ("endless chunked", streamed_growth)] {
        if let Some(growth) = growth {
            eprintln!("{case}: peak RSS growth {} KiB (cap {} KiB)", growth / 1024, CAP / 1024);
            assert!(growth < 2 * CAP, "{case}: peak RSS grew by {growth} bytes, over twice the {CAP}-byte cap");
        }
    }
    eprintln!("endless chunked: the server wrote {} KiB before the client hung up", written / 1024);
}
