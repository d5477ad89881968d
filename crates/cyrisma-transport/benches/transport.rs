//! Transport benchmarks on loopback against the emulator, release mode (goal IDs from
//! `shared/reference/perf-anchors.md`), each measured side by side with its reference in the same
//! run, in rounds that alternate the contenders:
//!
//! - H1: the SDK client vs a bare `hyper_util` client doing the same GETs (valid token, no auth
//!   logic, no retries, no parsing) on one instance host with 64 in flight: throughput ratio, and
//!   the client thread's CPU per request;
//! - H2: the same with 1 in flight: added latency per request;
//! - H3: a fan-out report (login, structure, all-instances authentication, then the overall
//!   dashboard and the scan list of every reportable instance, 64 in flight, one connection per
//!   instance host) vs the bare client doing the same calls, and vs a Python `aiohttp` script
//!   (`xtask/bench/aiohttp_fanout.py`) doing the same calls with the same concurrency;
//! - T1: the same fan-out over TLS with one request per instance (a new connection and a full
//!   handshake per instance: every host name differs, so nothing resumes) vs the in-process
//!   rustls client handshake rate (client CPU only, same provider, same key type);
//! - T3: how many TLS configurations one client built for a whole TLS fan-out (must be 1).
//!
//! H1–H3 use plain HTTP on loopback (TLS is not what they measure); T1 uses TLS. The emulator
//! runs in this process on its own one-thread runtime; the clients share a one-thread runtime on
//! the main thread, so each side has one core of this 2-core machine (no pinning).
//!
//! Arguments (after `cargo bench -p cyrisma-transport --bench transport --`): `--quick` (tiny
//! sizes, one round), `--rounds N`, `--instances N`, `--python PATH` and `--script PATH` (the
//! aiohttp peer; skipped when absent), `--json PATH` (where the results go; stdout otherwise),
//! `--handshakes N` (only the in-memory client handshake cost, the median of `--rounds` runs of N
//! handshakes: `client_handshake_us` by wall time, `client_handshake_cpu_us` by CPU time; goal T4
//! of `cargo xtask bench` needs it in its own run).

use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cyrisma_core::api::{auth::login, instances::authenticate_all_instances, instances::list_instances};
use cyrisma_core::endpoint::authorization_header;
use cyrisma_core::{AccessToken, BaseUrl, Endpoint};
use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use cyrisma_transport::fan_out::is_reportable;
use cyrisma_transport::{Client, ClientBuilder, ClientConfig, tls_config_loads};
use futures_util::StreamExt;
use futures_util::stream;
use http::HeaderValue;
use http::header::{ACCEPT, AUTHORIZATION};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves every name to 127.0.0.1 (the bare client's equivalent of the SDK's resolve override).
#[derive(Clone, Copy)]
struct Loopback;

impl tower_service::Service<Name> for Loopback {
    type Response = std::iter::Once<SocketAddr>;
    type Error = std::io::Error;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _name: Name) -> Self::Future {
        ready(Ok(std::iter::once(SocketAddr::from(([127, 0, 0, 1], 0)))))
    }
}

/// The bare client's connector: hyper's own, counting the connections alive (so that a fan-out
/// can wait for its connections to close, as the SDK's does).
#[derive(Clone)]
struct Counting {
    inner: HttpConnector<Loopback>,
    live: Arc<AtomicU64>,
}

/// A counted connection.
struct Counted {
    io: TokioIo<tokio::net::TcpStream>,
    live: Arc<AtomicU64>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connection for Counted {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl hyper::rt::Read for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tower_service::Service<http::Uri> for Counting {
    type Response = Counted;
    type Error = BoxError;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Counted, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let (connecting, live) = (self.inner.call(uri), self.live.clone());
        Box::pin(async move {
            let io = connecting.await?;
            live.fetch_add(1, Ordering::Relaxed);
            Ok(Counted { io, live })
        })
    }
}

type Bare = HyperClient<Counting, Full<Bytes>>;

fn bare_client_counted(max_idle_per_host: usize) -> (Bare, Arc<AtomicU64>) {
    let live = Arc::new(AtomicU64::new(0));
    let connector = Counting { inner: HttpConnector::new_with_resolver(Loopback), live: live.clone() };
    let client = HyperClient::builder(TokioExecutor::new()).pool_max_idle_per_host(max_idle_per_host).build(connector);
    (client, live)
}

fn bare_client(max_idle_per_host: usize) -> Bare {
    bare_client_counted(max_idle_per_host).0
}

/// Lets the runtime close a client's connections: yields until at most 4 are left (the central
/// host's pool, which the SDK keeps until the client drops; bounded: at most 100,000 turns).
async fn until_closed(live: impl Fn() -> u64) {
    for _ in 0..100_000 {
        if live() <= 4 {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// Sends one request with the bare client and collects the whole body; no parsing.
async fn bare_send(client: &Bare, request: http::Request<Full<Bytes>>) -> Result<http::Response<Bytes>, BoxError> {
    let response = client.request(request).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(http::Response::from_parts(parts, body))
}

async fn bare_call<E: Endpoint>(
    client: &Bare,
    base: &BaseUrl,
    token: Option<&AccessToken>,
    endpoint: &E,
) -> Result<E::Response, BoxError> {
    let request = endpoint.to_http_request(base, token)?.map(|body| Full::new(body.into_bytes()));
    let response = bare_send(client, request).await?;
    Ok(E::parse_response(&response)?)
}

fn get(url: &str, auth: &HeaderValue) -> http::Request<Full<Bytes>> {
    http::Request::get(url)
        .header(AUTHORIZATION, auth.clone())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(Full::new(Bytes::new()))
        .expect("a valid request")
}

/// The bare client's session: a token, with every instance authenticated for it.
async fn bare_login(client: &Bare, emulator: &EmulatorHandle) -> Result<(HeaderValue, Vec<String>), BoxError> {
    let base = BaseUrl::central(emulator.base_url())?;
    let login =
        bare_call(client, &base, None, &login::Request::password(emulator.api_key(), emulator.api_secret())).await?;
    let token = login.access_token;
    let instances = bare_call(client, &base, Some(&token), &list_instances::Request::new()).await?;
    let chosen: Vec<String> =
        instances.iter().filter(|instance| is_reportable(instance)).map(|i| i.instance_id.clone()).collect();
    bare_call(client, &base, Some(&token), &authenticate_all_instances::Request::new()).await?;
    Ok((authorization_header(&token)?, chosen))
}

fn sdk_builder(emulator: &EmulatorHandle) -> ClientBuilder {
    let env = emulator.env();
    let mut config = ClientConfig::default();
    config
        .apply_vars(|name| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()))
        .expect("the emulator's variables are valid");
    ClientBuilder::from_config(config).native_roots(false)
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next().and_then(|ns| ns.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.is_empty() {
        f64::NAN
    } else if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

struct Options {
    quick: bool,
    rounds: usize,
    instances: u32,
    python: Option<PathBuf>,
    script: Option<PathBuf>,
    json: Option<PathBuf>,
    /// Only the in-memory client handshake cost, over this many handshakes (goal T4 of
    /// `xtask/src/bench/production.rs`, which needs it in its own run).
    handshakes: Option<usize>,
}

fn options() -> Options {
    let mut options =
        Options { quick: false, rounds: 3, instances: 1000, python: None, script: None, json: None, handshakes: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--rounds" => options.rounds = args.next().and_then(|v| v.parse().ok()).expect("--rounds N"),
            "--instances" => options.instances = args.next().and_then(|v| v.parse().ok()).expect("--instances N"),
            "--python" => options.python = args.next().map(PathBuf::from),
            "--script" => options.script = args.next().map(PathBuf::from),
            "--json" => options.json = args.next().map(PathBuf::from),
            "--handshakes" => options.handshakes = args.next().and_then(|v| v.parse().ok()),
            _ => {} // `--bench` and anything else cargo passes
        }
    }
    if options.quick {
        options.rounds = 1;
        options.instances = options.instances.min(20);
    }
    options
}

/// The `schedstat` files of the emulator runtime's threads.
static EMULATOR_THREADS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// CPU time of the emulator's threads so far.
fn emulator_cpu() -> Duration {
    let threads = EMULATOR_THREADS.lock().unwrap_or_else(PoisonError::into_inner);
    threads
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .filter_map(|text| text.split_whitespace().next().and_then(|ns| ns.parse().ok()))
        .map(Duration::from_nanos)
        .sum()
}

/// Starts an emulator on its own one-thread runtime (kept alive by the returned runtime).
fn start_emulator(instances: u32, tls: bool) -> (tokio::runtime::Runtime, EmulatorHandle) {
    EMULATOR_THREADS.lock().unwrap_or_else(PoisonError::into_inner).clear();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("emulator")
        .on_thread_start(|| {
            if let Ok(link) = std::fs::read_link("/proc/thread-self") {
                let path = PathBuf::from("/proc").join(link).join("schedstat");
                EMULATOR_THREADS.lock().unwrap_or_else(PoisonError::into_inner).push(path);
            }
        })
        .enable_all()
        .build()
        .expect("a runtime");
    let organizations = (instances / 20).max(1);
    let config = EmulatorConfig::default()
        .with_tls(tls)
        .with_size(organizations, instances, 2, 4)
        .with_token_ttl(Duration::from_secs(3600))
        .with_provisioning_delay(Duration::ZERO);
    let handle = runtime.block_on(Emulator::start(config)).expect("the emulator starts");
    (runtime, handle)
}

type Results = BTreeMap<String, f64>;

/// H1 and H2: one instance host, keep-alive, 64 then 1 in flight.
async fn single_host(emulator: &EmulatorHandle, options: &Options, results: &mut Results) -> Result<(), BoxError> {
    let bare = bare_client(64);
    let (auth, chosen) = bare_login(&bare, emulator).await?;
    let id = chosen.first().ok_or("the emulator has no reportable instance")?.clone();
    let url = format!("{}/partner/dashboards/overall", emulator.instance_base_url(&id));
    let sdk = sdk_builder(emulator).concurrency(64, 64).build()?;
    let instance = sdk.instance(id.clone());
    // Warm both (token, instance authentication, structure, connections).
    for _ in 0..64 {
        instance.dashboard_overall().await?;
        let response = bare_send(&bare, get(&url, &auth)).await?;
        assert_eq!(response.status(), 200, "the bare client's request is accepted");
    }

    let requests: usize = if options.quick { 500 } else { 20_000 };
    let (mut ratios, mut cpu_ratios, mut sdk_rps, mut bare_rps) = (vec![], vec![], vec![], vec![]);
    for _ in 0..options.rounds {
        let (cpu, start) = (thread_cpu(), Instant::now());
        let bare_ok = stream::iter(0..requests)
            .map(|_| bare_send(&bare, get(&url, &auth)))
            .buffer_unordered(64)
            .filter(|response| ready(response.as_ref().is_ok_and(|r| r.status() == 200)))
            .count()
            .await;
        let (bare_secs, bare_cpu) = (start.elapsed().as_secs_f64(), (thread_cpu() - cpu).as_secs_f64());
        let (cpu, start) = (thread_cpu(), Instant::now());
        let sdk_ok = stream::iter(0..requests)
            .map(|_| instance.dashboard_overall())
            .buffer_unordered(64)
            .filter(|result| ready(result.is_ok()))
            .count()
            .await;
        let (sdk_secs, sdk_cpu) = (start.elapsed().as_secs_f64(), (thread_cpu() - cpu).as_secs_f64());
        assert_eq!((bare_ok, sdk_ok), (requests, requests), "every request succeeds");
        bare_rps.push(requests as f64 / bare_secs);
        sdk_rps.push(requests as f64 / sdk_secs);
        ratios.push(bare_secs / sdk_secs);
        cpu_ratios.push(sdk_cpu / bare_cpu.max(1e-9));
    }
    results.insert("h1_requests".into(), requests as f64);
    results.insert("h1_sdk_rps".into(), median(&sdk_rps));
    results.insert("h1_bare_rps".into(), median(&bare_rps));
    results.insert("h1_ratio".into(), median(&ratios));
    results.insert("h1_cpu_ratio".into(), median(&cpu_ratios));

    // 1 in flight: the two clients alternate request by request, and each round compares the
    // medians of their latencies (robust to the noise of a shared machine).
    let sequential: usize = if options.quick { 200 } else { 5_000 };
    let (mut added, mut sdk_us, mut bare_us) = (vec![], vec![], vec![]);
    for _ in 0..options.rounds {
        let (mut bare_lat, mut sdk_lat) = (Vec::with_capacity(sequential), Vec::with_capacity(sequential));
        for _ in 0..sequential {
            let start = Instant::now();
            bare_send(&bare, get(&url, &auth)).await?;
            bare_lat.push(start.elapsed().as_secs_f64() * 1e6);
            let start = Instant::now();
            instance.dashboard_overall().await?;
            sdk_lat.push(start.elapsed().as_secs_f64() * 1e6);
        }
        let (bare, sdk) = (median(&bare_lat), median(&sdk_lat));
        added.push(sdk - bare);
        sdk_us.push(sdk);
        bare_us.push(bare);
    }
    results.insert("h2_requests".into(), sequential as f64);
    results.insert("h2_sdk_us".into(), median(&sdk_us));
    results.insert("h2_bare_us".into(), median(&bare_us));
    results.insert("h2_added_us".into(), median(&added));
    Ok(())
}

/// The SDK's fan-out report from a fresh client: returns (seconds, instances, TLS loads).
async fn sdk_fan_out(emulator: &EmulatorHandle, calls: usize) -> Result<(f64, usize, u64), BoxError> {
    let loads = tls_config_loads();
    let start = Instant::now();
    let client: Client = sdk_builder(emulator).concurrency(64, 4).build()?;
    let mut results = client
        .fan_out(is_reportable, 64, move |instance| async move {
            let dashboard = instance.dashboard_overall().await?;
            if calls > 1 {
                instance.vulnerability_scans().await?;
            }
            Ok(dashboard)
        })
        .await?;
    let mut done = 0;
    while let Some(item) = results.next().await {
        item.result?;
        done += 1;
    }
    // A fresh client per fan-out: its instance connections are closed within the timing (the
    // SDK closes each instance's as it completes; the bare reference closes all of its own when
    // it drops, at the end).
    drop(results);
    until_closed(|| client.connections_alive()).await;
    drop(client);
    Ok((start.elapsed().as_secs_f64(), done, tls_config_loads() - loads))
}

/// The bare client doing the same calls as [`sdk_fan_out`] from a fresh pool.
async fn bare_fan_out(emulator: &EmulatorHandle) -> Result<(f64, usize), BoxError> {
    let start = Instant::now();
    let (client, live) = bare_client_counted(4);
    let (auth, chosen) = bare_login(&client, emulator).await?;
    let done = stream::iter(chosen)
        .map(|id| {
            let (client, auth) = (&client, &auth);
            let base = emulator.instance_base_url(&id);
            async move {
                let first = bare_send(client, get(&format!("{base}/partner/dashboards/overall"), auth)).await?;
                let second = bare_send(client, get(&format!("{base}/partner/scans/vulnerability"), auth)).await?;
                Ok::<bool, BoxError>(first.status() == 200 && second.status() == 200)
            }
        })
        .buffer_unordered(64)
        .filter(|result| ready(matches!(result, Ok(true))))
        .count()
        .await;
    drop(client);
    until_closed(|| live.load(Ordering::Relaxed)).await;
    Ok((start.elapsed().as_secs_f64(), done))
}

/// The aiohttp script against the same emulator: its own timing (from login to the last answer)
/// and its process's CPU time over the same span.
fn python_fan_out(
    emulator: &EmulatorHandle,
    python: &PathBuf,
    script: &PathBuf,
) -> Result<(f64, f64, usize), BoxError> {
    let output =
        std::process::Command::new(python).arg(script).envs(emulator.env()).env("BENCH_CONCURRENCY", "64").output()?;
    if !output.status.success() {
        return Err(format!("the aiohttp script failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let seconds = value["elapsed_s"].as_f64().ok_or("no elapsed_s")?;
    let cpu = value["cpu_s"].as_f64().ok_or("no cpu_s")?;
    let done = value["instances_ok"].as_u64().ok_or("no instances_ok")? as usize;
    Ok((seconds, cpu, done))
}

/// H3: the fan-out report, SDK vs bare hyper vs aiohttp, alternating in rounds.
async fn fan_out_report(emulator: &EmulatorHandle, options: &Options, results: &mut Results) -> Result<(), BoxError> {
    let expected = emulator.instances().iter().filter(|instance| is_reportable(instance)).count();
    let (mut bare_ratio, mut py_ratio, mut sdk_s, mut bare_s, mut py_s) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut sdk_cpu, mut bare_cpu, mut py_cpu, mut py_cpu_ratio) = (vec![], vec![], vec![], vec![]);
    for _ in 0..options.rounds {
        // The clients run on this thread (a current-thread runtime: hyper's connection tasks
        // too), so its CPU time is the client's whole cost; the emulator has its own thread.
        let before = thread_cpu();
        let (bare, bare_done) = bare_fan_out(emulator).await?;
        bare_cpu.push((thread_cpu() - before).as_secs_f64());
        let before = thread_cpu();
        let (sdk, sdk_done, _) = sdk_fan_out(emulator, 2).await?;
        let cpu = (thread_cpu() - before).as_secs_f64();
        sdk_cpu.push(cpu);
        assert_eq!((bare_done, sdk_done), (expected, expected), "every instance answers");
        bare_ratio.push(bare / sdk);
        sdk_s.push(sdk);
        bare_s.push(bare);
        if let (Some(python), Some(script)) = (&options.python, &options.script) {
            let (python_s, python_cpu, python_done) = python_fan_out(emulator, python, script)?;
            assert_eq!(python_done, expected, "every instance answers the aiohttp script");
            py_ratio.push(python_s / sdk);
            py_s.push(python_s);
            py_cpu.push(python_cpu);
            py_cpu_ratio.push(python_cpu / cpu);
        }
    }
    results.insert("h3_sdk_cpu_s".into(), median(&sdk_cpu));
    results.insert("h3_bare_cpu_s".into(), median(&bare_cpu));
    results.insert("h3_instances".into(), expected as f64);
    results.insert("h3_sdk_s".into(), median(&sdk_s));
    results.insert("h3_bare_s".into(), median(&bare_s));
    results.insert("h3_ratio_bare".into(), median(&bare_ratio));
    if !py_s.is_empty() {
        results.insert("h3_aiohttp_s".into(), median(&py_s));
        results.insert("h3_ratio_aiohttp".into(), median(&py_ratio));
        results.insert("h3_aiohttp_cpu_s".into(), median(&py_cpu));
        results.insert("h3_cpu_ratio_aiohttp".into(), median(&py_cpu_ratio));
    }
    Ok(())
}

/// In-memory rustls full handshakes (TLS 1.3, ring, ECDSA P-256, no resumption): the client's
/// handshakes per second of its own CPU time.
fn client_handshake_rate(count: usize) -> Result<f64, BoxError> {
    Ok(client_handshake_costs(count)?.0)
}

/// [`client_handshake_rate`], and the client's CPU time per handshake: the thread's CPU time over
/// the whole loop (client and server), times the client's share of the loop's wall time (its
/// steps are timed one by one, the server's too), so that preemption by other work on a loaded
/// machine, which lengthens wall time but costs no CPU, is left out (goal T4).
fn client_handshake_costs(count: usize) -> Result<(f64, f64), BoxError> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    let name = "cc100001.cyrisma.test";
    let certified = rcgen::generate_simple_self_signed(vec![name.to_owned()])?;
    // The clients' provider (and so the suite they negotiate with a server that follows their order).
    let provider = Arc::new(cyrisma_transport::crypto_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)?;
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server_config = Arc::new(server_config);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone())?;
    let mut client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    client_config.resumption = rustls::client::Resumption::disabled();
    let client_config = Arc::new(client_config);
    let server_name = ServerName::try_from(name)?;

    let mut client_time = Duration::ZERO;
    let mut server_time = Duration::ZERO;
    let (mut to_server, mut to_client) = (Vec::with_capacity(16 * 1024), Vec::with_capacity(16 * 1024));
    let cpu_before = thread_cpu();
    for _ in 0..count {
        let start = Instant::now();
        let mut client = rustls::ClientConnection::new(client_config.clone(), server_name.clone())?;
        client_time += start.elapsed();
        let mut server = rustls::ServerConnection::new(server_config.clone())?;
        // A TLS 1.3 handshake takes two flights each way; the bound only guards against a bug.
        for _ in 0..16 {
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
            let start = Instant::now();
            to_server.clear();
            while client.wants_write() {
                client.write_tls(&mut to_server)?;
            }
            client_time += start.elapsed();
            let start = Instant::now();
            let mut reader = to_server.as_slice();
            while !reader.is_empty() {
                server.read_tls(&mut reader)?;
                server.process_new_packets()?;
            }
            to_client.clear();
            while server.wants_write() {
                server.write_tls(&mut to_client)?;
            }
            server_time += start.elapsed();
            let start = Instant::now();
            let mut reader = to_client.as_slice();
            while !reader.is_empty() {
                client.read_tls(&mut reader)?;
                client.process_new_packets()?;
            }
            client_time += start.elapsed();
        }
        assert!(!client.is_handshaking() && !server.is_handshaking(), "the handshake completes");
    }
    let cpu = (thread_cpu() - cpu_before).as_secs_f64();
    let client_share = client_time.as_secs_f64() / (client_time + server_time).as_secs_f64();
    Ok((count as f64 / client_time.as_secs_f64(), cpu * client_share / count as f64))
}

/// T1 and T3: TLS fan-out with a new connection per instance vs the in-process handshake rate.
fn tls_fan_out(options: &Options, results: &mut Results) -> Result<(), BoxError> {
    let (emulator_runtime, emulator) = start_emulator(options.instances, true);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let handshakes = if options.quick { 200 } else { 2_000 };
    let (mut ratios, mut rates, mut hs_rates, mut loads) = (vec![], vec![], vec![], vec![]);
    let (mut client_cpu, mut server_cpu) = (vec![], vec![]);
    runtime.block_on(sdk_fan_out(&emulator, 1))?; // warm-up (page cache, emulator paths)
    for _ in 0..options.rounds {
        let hs = client_handshake_rate(handshakes)?;
        let (client_before, server_before) = (thread_cpu(), emulator_cpu());
        let (seconds, done, loaded) = runtime.block_on(sdk_fan_out(&emulator, 1))?;
        client_cpu.push((thread_cpu() - client_before).as_secs_f64() * 1e6 / done as f64);
        server_cpu.push((emulator_cpu() - server_before).as_secs_f64() * 1e6 / done as f64);
        let rate = done as f64 / seconds;
        ratios.push(rate / hs);
        rates.push(rate);
        hs_rates.push(hs);
        loads.push(loaded as f64);
    }
    results.insert("t1_instances_per_s".into(), median(&rates));
    results.insert("t1_client_handshakes_per_s".into(), median(&hs_rates));
    results.insert("t1_ratio".into(), median(&ratios));
    results.insert("t1_client_cpu_us_per_instance".into(), median(&client_cpu));
    results.insert("t1_emulator_cpu_us_per_instance".into(), median(&server_cpu));
    results.insert("t3_tls_config_loads_per_client".into(), loads.iter().copied().fold(0.0, f64::max));
    drop(emulator);
    drop(emulator_runtime);
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let options = options();
    let mut results = Results::new();
    results.insert("quick".into(), if options.quick { 1.0 } else { 0.0 });
    results.insert("rounds".into(), options.rounds as f64);
    if let Some(count) = options.handshakes {
        // The median of `rounds` measurements, each `count` handshakes.
        let costs = (0..options.rounds).map(|_| client_handshake_costs(count)).collect::<Result<Vec<_>, _>>()?;
        let rates: Vec<f64> = costs.iter().map(|cost| cost.0).collect();
        let cpu: Vec<f64> = costs.iter().map(|cost| cost.1).collect();
        results.insert("client_handshake_us".into(), 1e6 / median(&rates));
        results.insert("client_handshake_cpu_us".into(), 1e6 * median(&cpu));
        results.insert("handshakes".into(), count as f64);
        return write_results(&options, &results);
    }
    {
        let (emulator_runtime, emulator) = start_emulator(options.instances, false);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(single_host(&emulator, &options, &mut results))?;
        runtime.block_on(fan_out_report(&emulator, &options, &mut results))?;
        drop(emulator);
        drop(emulator_runtime);
    }
    tls_fan_out(&options, &mut results)?;
    write_results(&options, &results)
}

fn write_results(options: &Options, results: &Results) -> Result<(), BoxError> {
    let text = serde_json::to_string_pretty(results)?;
    match &options.json {
        Some(path) => std::fs::write(path, text)?,
        None => writeln!(std::io::stdout(), "{text}")?,
    }
    Ok(())
}
