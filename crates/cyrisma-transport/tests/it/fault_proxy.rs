//! A loopback TCP fault proxy with Toxiproxy's vocabulary of toxics (test-only, written here
//! because Toxiproxy is a Go binary that is not available on the build machines).
//!
//! The proxy listens on `127.0.0.1:0` and forwards every connection to one upstream address (an
//! emulator). Toxics are armed per accepted connection (`skip` connections pass, then `times`
//! are affected), so a test that turns keep-alive off at the emulator affects exactly the
//! requests it means to. Everything is bounded: each connection lives at most
//! [`MAX_CONNECTION_LIFE`], random choices come from a seeded PRNG, and dropping the proxy stops
//! its listener.
//!
//! Over plain HTTP the proxy also observes requests: a request is "in flight" from its first byte
//! (client → server) to the first byte of its answer (server → client), counted overall and per
//! `Host` header, so tests can check the client's concurrency limits from the outside.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The longest any proxied connection lives.
pub(crate) const MAX_CONNECTION_LIFE: Duration = Duration::from_secs(60);

/// What a toxic does to a connection (Toxiproxy's names in brackets).
#[derive(Clone, Debug)]
pub(crate) enum Toxic {
    /// Delays every chunk from the server by this long (`latency`).
    Latency(Duration),
    /// Accepts the connection and never forwards anything, in either direction (`timeout` with
    /// no timeout: a black hole).
    Blackhole,
    /// Forwards server data at this many bytes per second (`bandwidth`).
    Bandwidth(u64),
    /// Forwards the request to the server, then answers the client with a TCP reset as soon as
    /// the server starts answering: the server did the work, the client never hears
    /// (`reset_peer` after the request).
    ResetAfterRequest,
    /// Waits this long before passing the server's close on to the client (`slow_close`).
    SlowClose(Duration),
    /// Cuts server data into slices of 1 to `max` bytes with up to `max_delay` between them
    /// (`slicer`).
    Slicer {
        /// Largest slice.
        max: usize,
        /// Largest pause between slices.
        max_delay: Duration,
    },
    /// Closes the connection after this many bytes from the server (`limit_data`).
    LimitData(u64),
    /// Answers the connection with a TCP reset at once, before forwarding anything (`reset_peer`
    /// with no delay): under TLS the client is still handshaking, so nothing was sent.
    ResetOnConnect,
}

#[derive(Debug)]
struct Armed {
    toxic: Toxic,
    skip: u32,
    times: Option<u32>,
}

#[derive(Debug, Default)]
struct Observed {
    in_flight: usize,
    max_in_flight: usize,
    per_host: HashMap<String, usize>,
    max_per_host: usize,
    requests: u64,
}

#[derive(Debug)]
struct State {
    upstream: SocketAddr,
    seed: u64,
    toxics: Mutex<Vec<Armed>>,
    connections: AtomicU64,
    resets: AtomicUsize,
    observed: Mutex<Observed>,
}

/// A running proxy; dropping it stops accepting.
pub(crate) struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (which must be loopback) with a PRNG seed.
    pub(crate) async fn start(upstream: SocketAddr, seed: u64) -> Self {
        assert!(upstream.ip().is_loopback(), "the fault proxy only forwards to loopback");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream,
            seed,
            toxics: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
            resets: AtomicUsize::new(0),
            observed: Mutex::new(Observed::default()),
        });
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let number = shared.connections.fetch_add(1, Ordering::SeqCst);
                let toxics = shared.take_toxics();
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(MAX_CONNECTION_LIFE, serve(client, state, toxics, number)).await;
                });
            }
        });
        Self { addr, state, accept }
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Arms a toxic for the next `times` connections (all of them when `None`).
    pub(crate) fn add(&self, toxic: Toxic, times: Option<u32>) {
        self.state.toxics.lock().unwrap().push(Armed { toxic, skip: 0, times });
    }

    /// Removes every toxic.
    pub(crate) fn clear(&self) {
        self.state.toxics.lock().unwrap().clear();
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Connections answered with a reset so far.
    pub(crate) fn resets(&self) -> usize {
        self.state.resets.load(Ordering::SeqCst)
    }

    /// The most requests seen in flight at once, overall and to one host (plain HTTP only).
    pub(crate) fn max_in_flight(&self) -> (usize, usize) {
        let observed = self.state.observed.lock().unwrap();
        (observed.max_in_flight, observed.max_per_host)
    }

    /// Requests in flight now (plain HTTP only).
    pub(crate) fn in_flight(&self) -> usize {
        self.state.observed.lock().unwrap().in_flight
    }

    /// Requests observed (plain HTTP only).
    pub(crate) fn requests(&self) -> u64 {
        self.state.observed.lock().unwrap().requests
    }
}

impl State {
    fn take_toxics(&self) -> Vec<Toxic> {
        let mut armed = self.toxics.lock().unwrap();
        let mut chosen = Vec::new();
        for entry in armed.iter_mut() {
            if entry.skip > 0 {
                entry.skip -= 1;
                continue;
            }
            match &mut entry.times {
                Some(0) => continue,
                Some(left) => *left -= 1,
                None => {}
            }
            chosen.push(entry.toxic.clone());
        }
        chosen
    }

    fn request_started(&self, head: &[u8]) -> String {
        let text = String::from_utf8_lossy(head);
        let host = text
            .lines()
            .find_map(|line| line.strip_prefix("host: ").or_else(|| line.strip_prefix("Host: ")))
            .map(|host| host.split(':').next().unwrap_or_default().to_ascii_lowercase())
            .unwrap_or_else(|| "?".to_owned());
        let mut observed = self.observed.lock().unwrap();
        observed.requests += 1;
        observed.in_flight += 1;
        observed.max_in_flight = observed.max_in_flight.max(observed.in_flight);
        let here = {
            let entry = observed.per_host.entry(host.clone()).or_default();
            *entry += 1;
            *entry
        };
        observed.max_per_host = observed.max_per_host.max(here);
        host
    }

    fn request_ended(&self, host: &str) {
        let mut observed = self.observed.lock().unwrap();
        observed.in_flight -= 1;
        if let Some(count) = observed.per_host.get_mut(host) {
            *count -= 1;
        }
    }
}

/// The request in flight on one connection, if any (its `Host`).
type Pending = Mutex<Option<String>>;

async fn serve(mut client: TcpStream, state: Arc<State>, toxics: Vec<Toxic>, number: u64) {
    if toxics.iter().any(|toxic| matches!(toxic, Toxic::ResetOnConnect)) {
        state.resets.fetch_add(1, Ordering::SeqCst);
        let _ = client.set_zero_linger();
        return;
    }
    if toxics.iter().any(|toxic| matches!(toxic, Toxic::Blackhole)) {
        let mut sink = [0u8; 4096];
        while matches!(client.read(&mut sink).await, Ok(read) if read > 0) {}
        // The client gave up; hold nothing open.
        return;
    }
    let Ok(mut server) = TcpStream::connect(state.upstream).await else { return };
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    let pending: Pending = Mutex::new(None);
    let reset = {
        let (mut client_read, mut client_write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        let upstream = async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let read = match client_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                {
                    let mut pending = pending.lock().unwrap();
                    if pending.is_none() {
                        *pending = Some(state.request_started(&buf[..read]));
                    }
                }
                if server_write.write_all(&buf[..read]).await.is_err() {
                    break;
                }
            }
            // The client hung up (or gave up on a hanging answer): its request is no longer in
            // flight, and the whole connection ends, as Toxiproxy does.
            if let Some(host) = pending.lock().unwrap().take() {
                state.request_ended(&host);
            }
            let _ = server_write.shutdown().await;
        };
        let downstream = async {
            let mut rng = fastrand::Rng::with_seed(state.seed.wrapping_add(number));
            let mut buf = vec![0u8; 16 * 1024];
            let mut forwarded = 0u64;
            loop {
                let read = match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                if let Some(host) = pending.lock().unwrap().take() {
                    state.request_ended(&host);
                }
                if toxics.iter().any(|toxic| matches!(toxic, Toxic::ResetAfterRequest)) {
                    return true;
                }
                let mut chunk = &buf[..read];
                for toxic in &toxics {
                    if let Toxic::LimitData(limit) = toxic {
                        let room = limit.saturating_sub(forwarded);
                        chunk = &chunk[..chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX))];
                    }
                }
                for toxic in &toxics {
                    if let Toxic::Latency(delay) = toxic {
                        tokio::time::sleep(*delay).await;
                    }
                }
                if write_chunk(&mut client_write, chunk, &toxics, &mut rng).await.is_err() {
                    break;
                }
                forwarded += chunk.len() as u64;
                if toxics.iter().any(|toxic| matches!(toxic, Toxic::LimitData(limit) if forwarded >= *limit)) {
                    break;
                }
            }
            for toxic in &toxics {
                if let Toxic::SlowClose(delay) = toxic {
                    tokio::time::sleep(*delay).await;
                }
            }
            let _ = client_write.shutdown().await;
            false
        };
        tokio::select! {
            reset = downstream => reset,
            () = upstream => false,
        }
    };
    if let Some(host) = pending.lock().unwrap().take() {
        state.request_ended(&host);
    }
    if reset {
        state.resets.fetch_add(1, Ordering::SeqCst);
        let _ = client.set_zero_linger();
    }
}

/// Writes one chunk to the client, sliced and paced as the toxics say.
async fn write_chunk(
    client: &mut tokio::net::tcp::WriteHalf<'_>,
    chunk: &[u8],
    toxics: &[Toxic],
    rng: &mut fastrand::Rng,
) -> std::io::Result<()> {
    let slicer = toxics.iter().find_map(|toxic| match toxic {
        Toxic::Slicer { max, max_delay } => Some((*max, *max_delay)),
        _ => None,
    });
    let rate = toxics.iter().find_map(|toxic| match toxic {
        Toxic::Bandwidth(rate) => Some(*rate),
        _ => None,
    });
    let mut rest = chunk;
    while !rest.is_empty() {
        let size = match (slicer, rate) {
            (Some((max, _)), _) => rng.usize(1..=max.max(1)),
            // Bandwidth alone: 10 slices a second.
            (None, Some(rate)) => usize::try_from((rate / 10).max(1)).unwrap_or(usize::MAX),
            (None, None) => rest.len(),
        }
        .min(rest.len());
        client.write_all(&rest[..size]).await?;
        rest = &rest[size..];
        if let Some((_, max_delay)) = slicer {
            let micros = u64::try_from(max_delay.as_micros()).unwrap_or(u64::MAX);
            tokio::time::sleep(Duration::from_micros(rng.u64(0..=micros))).await;
        }
        if let Some(rate) = rate {
            tokio::time::sleep(Duration::from_secs_f64(size as f64 / rate.max(1) as f64)).await;
        }
    }
    Ok(())
}
