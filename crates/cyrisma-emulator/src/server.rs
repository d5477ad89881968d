//! The listener: one loopback socket serving the central host and every instance host, routed by
//! the `Host` header (checked against the TLS server name), and the request pipeline (faults,
//! handling, logging, webhook events).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use cyrisma_core::endpoint::HostKind;
use cyrisma_core::types::ErrorCode;
use http::header::{ALLOW, AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST, RETRY_AFTER};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::admin::{FaultKind, RequestRecord, UNROUTED, loggable_path};
use crate::api::{self, Call, Routed};
use crate::body::{ReplyBody, deep_json};
use crate::failure::{ApiFailure, printable};
use crate::shared::Shared;
use crate::state::Form;

/// The largest request body read (larger ones get `413`).
const MAX_REQUEST_BODY: usize = 1 << 20;
/// How long shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What one connection knows about itself.
#[derive(Debug)]
pub(crate) struct ConnInfo {
    pub(crate) peer: SocketAddr,
    /// The TLS server name (lower-case), when the client sent one.
    pub(crate) sni: Option<String>,
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by a fault")
    }
}

impl std::error::Error for Abort {}

/// Accepts connections until shutdown, then lets open ones finish (for a while).
pub(crate) async fn run(listener: TcpListener, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
    let mut shutdown = shared.shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, Arc::clone(&shared), tls.clone()));
                }
                // Out of file descriptors and the like: back off a little.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let drained =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        connections.abort_all();
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_io(TokioIo::new(stream), ConnInfo { peer, sni: None }, shared).await,
        Some(acceptor) => {
            let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await else {
                return;
            };
            let sni = stream.get_ref().1.server_name().map(|name| name.trim_end_matches('.').to_ascii_lowercase());
            serve_io(TokioIo::new(stream), ConnInfo { peer, sni }, shared).await;
        }
    }
}

async fn serve_io<I>(io: I, info: ConnInfo, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let info = Arc::new(info);
    let mut shutdown = shared.shutdown.clone();
    let service = {
        let shared = Arc::clone(&shared);
        service_fn(move |request| handle(Arc::clone(&shared), Arc::clone(&info), request))
    };
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = shutdown.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

/// An answer before it becomes an `http::Response`.
struct Reply {
    status: StatusCode,
    body: ReplyBody,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    fn json(status: StatusCode, body: Bytes) -> Self {
        Self { status, body: ReplyBody::full(body), headers: Vec::new() }
    }

    fn failure(failure: &ApiFailure) -> Self {
        Self::json(failure.status, failure.body())
    }

    fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }
}

fn finish(shared: &Shared, request_id: u64, reply: Reply) -> Response<ReplyBody> {
    let mut response = Response::new(reply.body);
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("emu-{request_id}")) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    for (name, value) in reply.headers {
        headers.insert(name, value);
    }
    if shared.close_after_response.load(Ordering::Relaxed) {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The host a request names: `Host` (or the URI's authority), without port or trailing dot,
/// lower-case.
fn request_host<B>(request: &Request<B>) -> Option<String> {
    let raw = request
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|authority| authority.as_str().to_owned()))?;
    let authority: http::uri::Authority = raw.trim().parse().ok()?;
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

async fn read_body(body: Incoming) -> Result<Bytes, ApiFailure> {
    match http_body_util::Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidRequest,
            "The request body is too large.",
        )),
        Err(_) => Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            "The request body could not be read.",
        )),
    }
}

fn fault_status(status: u16, retry_after: Option<String>) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let failure = match status.as_u16() {
        401 => ApiFailure::invalid_token(),
        429 => ApiFailure::new(status, ErrorCode::RateLimited, "Too many requests: slow down."),
        503 => ApiFailure::new(status, ErrorCode::Unavailable, "The service is temporarily unavailable."),
        400 => ApiFailure::new(status, ErrorCode::InvalidRequest, "Injected bad request."),
        403 => ApiFailure::new(status, ErrorCode::Forbidden, "Injected forbidden."),
        404 => ApiFailure::new(status, ErrorCode::NotFound, "Injected not found."),
        409 => ApiFailure::new(status, ErrorCode::Conflict, "Injected conflict."),
        _ => ApiFailure::new(status, ErrorCode::InternalError, "An internal error occurred."),
    };
    let mut reply = Reply::failure(&failure);
    let retry_after = retry_after.or_else(|| matches!(status.as_u16(), 429 | 503).then(|| "1".to_owned()));
    if let Some(value) = retry_after {
        reply = reply.with_header(RETRY_AFTER, &value);
    }
    reply
}

/// Serves one request.
async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    request: Request<Incoming>,
) -> Result<Response<ReplyBody>, Abort> {
    let request_id = shared.next_request_id();
    let now = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query_text = request.uri().query().map(str::to_owned);
    let host = request_host(&request);
    let mut record = RequestRecord {
        seq: 0,
        method: method.to_string(),
        host: host.clone().unwrap_or_default(),
        path: loggable_path(&path, query_text.as_deref()),
        endpoint: UNROUTED.to_owned(),
        status: 0,
        token_generation: None,
        faults: Vec::new(),
    };

    let Some(host) = host else {
        let reply = Reply::failure(&ApiFailure::invalid("Host", "A Host header is required."));
        return Ok(conclude(&shared, request_id, record, reply));
    };
    if conn.sni.as_ref().is_some_and(|sni| *sni != host) {
        let failure = ApiFailure::new(
            StatusCode::MISDIRECTED_REQUEST,
            ErrorCode::Forbidden,
            "The Host header does not match the TLS server name.",
        );
        return Ok(conclude(&shared, request_id, record, Reply::failure(&failure)));
    }
    let classified = shared.classify(&host);
    if matches!(classified, Some((HostKind::Central, _))) && path.starts_with("/__emulator") {
        let body = read_body(request.into_body()).await.unwrap_or_default();
        let reply = crate::control::serve(&shared, conn.peer, &method, &path, &body);
        return Ok(finish(&shared, request_id, reply_from_control(reply)));
    }
    let _in_flight = shared.enter_in_flight(&host);
    let token = api::access_token(request.headers().get(AUTHORIZATION));
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(failure) => return Ok(conclude(&shared, request_id, record, Reply::failure(&failure))),
    };
    let query = Form::parse(query_text.as_deref().unwrap_or_default().as_bytes());

    let Some((host_kind, label)) = classified else {
        shared.admin().arrive(UNROUTED, &host);
        let failure = ApiFailure::not_found(format!(
            "Unknown host {}: this emulator serves {} and ccNNNNNN.{}",
            printable(&host),
            shared.central_host,
            shared.domain
        ));
        return Ok(conclude(&shared, request_id, record, Reply::failure(&failure)));
    };
    let (id, param) = match api::route(host_kind, &method, &path, &query) {
        Routed::Found { id, param } => (id, param),
        Routed::MethodNotAllowed { allowed } => {
            shared.admin().arrive(UNROUTED, &host);
            let failure =
                ApiFailure::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::InvalidRequest, "Method not allowed.");
            let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            let reply = Reply::failure(&failure).with_header(ALLOW, &allow);
            return Ok(conclude(&shared, request_id, record, reply));
        }
        Routed::NotFound => {
            shared.admin().arrive(UNROUTED, &host);
            let failure = ApiFailure::not_found(format!("No endpoint at {} {}", method, printable(&path)));
            return Ok(conclude(&shared, request_id, record, Reply::failure(&failure)));
        }
    };
    record.endpoint = id.name().to_owned();
    record.token_generation = token.as_deref().and_then(|token| shared.state().token_generation(token));

    let fired = shared.admin().arrive(id.name(), &host);
    record.faults = fired.names();
    let work = {
        let shared = Arc::clone(&shared);
        let fired = fired.clone();
        async move {
            let latency = fired.latency_ms();
            if latency > 0 {
                // A long latency stands for a hanging server; shutdown does not wait for it.
                let mut shutdown = shared.shutdown.clone();
                tokio::select! {
                    () = crate::failure::delay(Duration::from_millis(latency)) => {}
                    _ = shutdown.changed() => return Err(Abort),
                }
            }
            if fired.expire_tokens() {
                shared.state().expire_tokens();
            }
            Ok(if let Some((status, retry_after)) = fired.status() {
                fault_status(status, retry_after)
            } else {
                let call = Call { param, query, form: Form::parse(&body), token, instance_label: label, now };
                let result = api::dispatch(&shared, id, &call);
                shared.flush_events();
                match result {
                    Ok(body) => Reply::json(StatusCode::OK, body),
                    Err(failure) => Reply::failure(&failure),
                }
            })
        }
    };
    // A real server commits a rotation once it has the request, whatever its client does next: the
    // rotation runs on its own task, which a dropped connection (hyper dropping this future) does
    // not cancel.
    let mut reply = if id == cyrisma_core::api::EndpointId::RegenPass {
        tokio::spawn(work).await.map_err(|_| Abort)??
    } else {
        work.await?
    };
    if fired.drop_after_commit() {
        record.status = 0;
        shared.admin().record(record);
        return Err(Abort);
    }
    if let Some(kind) = fired.body() {
        reply = mangle(reply, kind).await;
    }
    Ok(conclude(&shared, request_id, record, reply))
}

async fn mangle(reply: Reply, kind: &FaultKind) -> Reply {
    match kind {
        FaultKind::TruncatedBody { keep, complete } => {
            let full = match reply.body {
                ReplyBody::Full(bytes) => bytes.unwrap_or_default(),
                other => other.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default(),
            };
            let keep = keep.unwrap_or(full.len() / 2).min(full.len());
            let cut = full.slice(..keep);
            let body = if *complete {
                ReplyBody::full(cut)
            } else {
                ReplyBody::Cut { data: Some(cut), announced: full.len().max(keep + 1) as u64 }
            };
            Reply { body, ..reply }
        }
        FaultKind::OversizedBody { bytes } => {
            Reply { status: StatusCode::OK, body: ReplyBody::filler(*bytes), headers: Vec::new() }
        }
        FaultKind::DeepJson { depth } => Reply::json(StatusCode::OK, deep_json(*depth)),
        _ => reply,
    }
}

fn conclude(shared: &Shared, request_id: u64, mut record: RequestRecord, reply: Reply) -> Response<ReplyBody> {
    record.status = reply.status.as_u16();
    shared.admin().record(record);
    finish(shared, request_id, reply)
}

fn reply_from_control(reply: crate::control::ControlReply) -> Reply {
    Reply::json(reply.status, reply.body)
}
