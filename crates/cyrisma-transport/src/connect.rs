//! The connector under the hyper client: resolve (overrides first), enforce the loopback rule for
//! plain http, connect with a timeout (directly or through an HTTP `CONNECT` proxy), and wrap the
//! socket in TLS with the client's one configuration.
//!
//! The connector counts the connections alive (diagnostics and tests: pooled connections of
//! instance hosts must not pile up with the number of instances).
//!
//! A fan-out sets up the connections of its next instances ahead of their first request
//! ([`Connector::prepare`]): the handshake then runs while the instances in progress wait for
//! their answers, and the first request to that origin takes the prepared connection instead of
//! connecting (see `fan_out.rs`).
//!
//! Every check here runs before a single byte of the request is written: a connector error is a
//! failure "before send", which the retry policy may retry even for calls that are not idempotent
//! (except the ones retrying cannot fix: plain http to a non-loopback address, TLS failures).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;

use crate::locks::lock;
use crate::proxy::Proxy;
use crate::resolve::ResolveOverrides;

/// The connector: cheap to clone, shared by every host.
#[derive(Clone)]
pub(crate) struct Connector {
    shared: Arc<Shared>,
}

struct Shared {
    tls: TlsConnector,
    overrides: ResolveOverrides,
    proxy: Option<Proxy>,
    connect_timeout: Duration,
    opened: AtomicU64,
    /// Connections set up ahead that a request then took.
    prepared_taken: AtomicU64,
    /// Connections alive now (opened and not yet dropped).
    live: Arc<AtomicU64>,
    /// Connections set up ahead of their first request, by origin, with when they were made.
    prepared: Mutex<HashMap<String, (Stream, Instant)>>,
}

/// A prepared connection older than this is not used (the server may have closed it meanwhile);
/// a fan-out uses its prepared connections within about one instance's time.
const PREPARED_MAX_AGE: Duration = Duration::from_secs(5);

impl Connector {
    pub(crate) fn new(
        tls: Arc<rustls::ClientConfig>,
        overrides: ResolveOverrides,
        proxy: Option<Proxy>,
        connect_timeout: Duration,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                tls: TlsConnector::from(tls),
                overrides,
                proxy,
                connect_timeout,
                opened: AtomicU64::new(0),
                prepared_taken: AtomicU64::new(0),
                live: Arc::new(AtomicU64::new(0)),
                prepared: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How many TCP connections this connector has opened (to targets or proxies).
    pub(crate) fn connections_opened(&self) -> u64 {
        self.shared.opened.load(Ordering::Relaxed)
    }

    /// How many connections set up ahead (`prepare`) a request then took (diagnostics and tests).
    pub(crate) fn connections_prepared_taken(&self) -> u64 {
        self.shared.prepared_taken.load(Ordering::Relaxed)
    }

    /// How many connections are alive now, pooled or in use (diagnostics and tests).
    pub(crate) fn connections_alive(&self) -> u64 {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// Sets up a connection to `uri`'s origin ahead of its first request: the next connection
    /// hyper asks for to that origin is this one. Nothing happens when one is already prepared;
    /// a failure is dropped (the request then connects by itself and reports its own error).
    pub(crate) async fn prepare(&self, uri: Uri) {
        let key = origin_key(&uri);
        if lock(&self.shared.prepared).contains_key(&key) {
            return;
        }
        let started = Instant::now();
        match self.shared.connect(uri).await {
            Ok(io) => {
                tracing::debug!(elapsed_us = started.elapsed().as_micros() as u64, "connected ahead");
                self.shared.live.fetch_add(1, Ordering::Relaxed);
                let stream = Stream { io, live: self.shared.live.clone() };
                let mut prepared = lock(&self.shared.prepared);
                // Connections nobody took (a fan-out dropped before its items ran) end here.
                prepared.retain(|_, (_, made)| made.elapsed() < PREPARED_MAX_AGE);
                prepared.entry(key).or_insert((stream, Instant::now()));
            }
            Err(error) => tracing::debug!(error = %error, "connecting ahead failed; the first request connects again"),
        }
    }

    /// Drops the prepared connection to `uri`'s origin, if it was not used.
    pub(crate) fn discard_prepared(&self, uri: &Uri) {
        let unused = lock(&self.shared.prepared).remove(&origin_key(uri));
        drop(unused);
    }

    /// Where a connection to `host:port` would go, and whether every address is loopback; used
    /// to refuse a plain-http base URL early. `None` when only DNS can tell.
    pub(crate) fn override_for(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.shared.overrides.lookup(host, port)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let shared = self.shared.clone();
        let prepared = lock(&shared.prepared).remove(&origin_key(&uri));
        Box::pin(async move {
            if let Some((stream, made)) = prepared
                && made.elapsed() < PREPARED_MAX_AGE
            {
                shared.prepared_taken.fetch_add(1, Ordering::Relaxed);
                return Ok(TokioIo::new(stream));
            }
            let io = shared.connect(uri).await?;
            shared.live.fetch_add(1, Ordering::Relaxed);
            Ok(TokioIo::new(Stream { io, live: shared.live.clone() }))
        })
    }
}

impl Shared {
    async fn connect(&self, uri: Uri) -> Result<Io, ConnectError> {
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(ConnectError::new(ConnectErrorKind::Scheme, uri.host().unwrap_or_default(), None)),
        };
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        let work = async {
            let overridden = self.overrides.lookup(&host, port);
            let proxy = match (https, overridden, &self.proxy) {
                (true, None, Some(proxy)) => proxy.intercept(&uri),
                _ => None,
            };
            let tcp = match proxy {
                Some(intercept) => {
                    let addrs = resolve(&intercept.host, intercept.port).await.map_err(|mut error| {
                        error.kind = ConnectErrorKind::Proxy;
                        error.with_target(&target)
                    })?;
                    let mut tcp = self.tcp_to(&addrs, &target).await?;
                    connect_tunnel(&mut tcp, &host, port, intercept.authorization.as_ref())
                        .await
                        .map_err(|e| e.with_target(&target))?;
                    tcp
                }
                None => {
                    let addrs = match overridden {
                        Some(addr) => vec![addr],
                        None => resolve(&host, port).await.map_err(|e| e.with_target(&target))?,
                    };
                    if !https && !addrs.iter().all(|addr| is_loopback(addr.ip())) {
                        return Err(ConnectError::new(ConnectErrorKind::InsecureScheme, &target, None));
                    }
                    self.tcp_to(&addrs, &target).await?
                }
            };
            if !https {
                return Ok(Io::Plain(tcp));
            }
            let server_name = ServerName::try_from(host.clone())
                .map_err(|error| ConnectError::new(ConnectErrorKind::Tls, &target, Some(Box::new(error))))?;
            let tls = self
                .tls
                .connect(server_name, tcp)
                .await
                .map_err(|error| ConnectError::new(ConnectErrorKind::Tls, &target, Some(Box::new(error))))?;
            Ok(Io::Tls(Box::new(tls)))
        };
        match tokio::time::timeout(self.connect_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(ConnectError::new(ConnectErrorKind::Timeout(self.connect_timeout), &target, None)),
        }
    }

    async fn tcp_to(&self, addrs: &[SocketAddr], target: &str) -> Result<TcpStream, ConnectError> {
        let mut last = None;
        for addr in addrs {
            self.opened.fetch_add(1, Ordering::Relaxed);
            match TcpStream::connect(addr).await {
                Ok(tcp) => {
                    // Small requests and answers: send them at once.
                    let _ = tcp.set_nodelay(true);
                    return Ok(tcp);
                }
                Err(error) => last = Some(error),
            }
        }
        Err(ConnectError::new(
            ConnectErrorKind::Tcp,
            target,
            Some(Box::new(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to connect to")))),
        ))
    }
}

/// `scheme://host:port` of a URI, the port made explicit: the key of a prepared connection.
fn origin_key(uri: &Uri) -> String {
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    format!("{}://{}:{port}", uri.scheme_str().unwrap_or_default(), uri.host().unwrap_or_default().to_ascii_lowercase())
}

pub(crate) async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ConnectError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| ConnectError::new(ConnectErrorKind::Resolve, host, Some(Box::new(error))))?
        .collect();
    if addrs.is_empty() {
        return Err(ConnectError::new(ConnectErrorKind::Resolve, host, None));
    }
    Ok(addrs)
}

/// Whether an address is loopback (`127.0.0.0/8`, `::1`, or `::ffff:127.x.y.z`).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback()),
    }
}

/// Why a connection could not be made. Nothing of the request was sent.
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub(crate) kind: ConnectErrorKind,
    pub(crate) target: String,
    pub(crate) source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnectErrorKind {
    Scheme,
    Resolve,
    InsecureScheme,
    Tcp,
    Timeout(Duration),
    Tls,
    Proxy,
}

impl ConnectError {
    pub(crate) fn new(
        kind: ConnectErrorKind,
        target: &str,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { kind, target: target.to_owned(), source: source.map(Arc::from) }
    }

    /// The cause, shareable (the connector's error stays inside hyper's).
    pub(crate) fn source_arc(&self) -> Option<Arc<dyn std::error::Error + Send + Sync>> {
        self.source.clone()
    }

    fn with_target(mut self, target: &str) -> Self {
        target.clone_into(&mut self.target);
        self
    }

    /// A short description of what failed, for [`crate::ErrorKind::Connect`].
    pub(crate) fn reason(&self) -> &'static str {
        match self.kind {
            ConnectErrorKind::Scheme => "the scheme is neither https nor http",
            ConnectErrorKind::Resolve => "the host name could not be resolved",
            ConnectErrorKind::InsecureScheme => "plain http to an address that is not loopback",
            ConnectErrorKind::Tcp => "the connection was refused or the address is unreachable",
            ConnectErrorKind::Timeout(_) => "timed out",
            ConnectErrorKind::Tls => "the tls handshake failed",
            ConnectErrorKind::Proxy => "the proxy refused the tunnel",
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot connect to {}: {}", self.target, self.reason())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|error| error as &(dyn std::error::Error + 'static))
    }
}

/// A connection: plain TCP (loopback only) or TLS over TCP.
pub(crate) enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// A connection, counted while it is alive.
pub(crate) struct Stream {
    io: Io,
    live: Arc<AtomicU64>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Io::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Io::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Io::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Io::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Io::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(tcp) => tcp.is_write_vectored(),
            Io::Tls(tls) => tls.is_write_vectored(),
        }
    }
}

/// Sends `CONNECT host:port` on `tcp` and reads the proxy's answer; `Ok` once the tunnel is up.
pub(crate) async fn connect_tunnel(
    tcp: &mut TcpStream,
    host: &str,
    port: u16,
    authorization: Option<&http::HeaderValue>,
) -> Result<(), ConnectError> {
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut head = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(value) = authorization {
        head.extend_from_slice(b"Proxy-Authorization: ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let proxy_error = |source: Option<Box<dyn std::error::Error + Send + Sync>>| {
        ConnectError::new(ConnectErrorKind::Proxy, &authority, source)
    };
    tcp.write_all(&head).await.map_err(|error| proxy_error(Some(Box::new(error))))?;
    let mut answer = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    while !answer.windows(4).any(|window| window == b"\r\n\r\n") {
        if answer.len() > 16 * 1024 {
            return Err(proxy_error(Some("the proxy's answer to CONNECT is too long".into())));
        }
        let read = tcp.read(&mut chunk).await.map_err(|error| proxy_error(Some(Box::new(error))))?;
        if read == 0 {
            return Err(proxy_error(Some("the proxy closed the connection".into())));
        }
        answer.extend_from_slice(&chunk[..read]);
    }
    let status_line = answer.split(|byte| *byte == b'\n').next().unwrap_or_default();
    let status = std::str::from_utf8(status_line)
        .ok()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(code) if (200..300).contains(&code) => Ok(()),
        Some(code) => Err(proxy_error(Some(format!("the proxy answered {code} to CONNECT").into()))),
        None => Err(proxy_error(Some("the proxy's answer to CONNECT is not http".into()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_covers_mapped_addresses() {
        for ip in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "192.168.1.1", "::ffff:10.0.0.1", "0.0.0.0", "::"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn tunnel_speaks_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            socket.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
            String::from_utf8(seen).unwrap()
        });
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let auth = http::HeaderValue::from_static("Basic dTpw");
        connect_tunnel(&mut tcp, "api.cyrisma.test", 443, Some(&auth)).await.unwrap();
        let seen = server.await.unwrap();
        assert!(seen.starts_with("CONNECT api.cyrisma.test:443 HTTP/1.1\r\nHost: api.cyrisma.test:443\r\n"), "{seen}");
        assert!(seen.contains("Proxy-Authorization: Basic dTpw\r\n"), "{seen}");
    }

    #[tokio::test]
    async fn tunnel_refusal_is_an_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let _ = socket.read(&mut buf).await.unwrap();
            socket.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await.unwrap();
        });
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let error = connect_tunnel(&mut tcp, "api.cyrisma.test", 443, None).await.unwrap_err();
        assert_eq!(error.kind, ConnectErrorKind::Proxy);
        assert!(std::error::Error::source(&error).unwrap().to_string().contains("407"));
    }
}
