//! [`Client`] and the send loop every call goes through.
//!
//! One call is: token and instance authentication (holding no permit), a permit for the host
//! (under its current limit, and after any pause the host asked for with `429`/`503` and
//! `Retry-After`: see [`crate::gate`]) and one of the global pool, one attempt with the
//! per-attempt timeout (send, then read the whole body up to the cap), then the core's retry
//! policy decides: return, retry after a delay, or give up. A `401` is handed to the session (compare-and-clear) and the call is replayed once with
//! whatever token and instance authentication the session then asks for. The whole call runs
//! under the total timeout. The loop is generic over [`Endpoint`]: no endpoint has code of its own
//! here.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cyrisma_core::endpoint::{AuthKind, Metadata, RequestBody, api_error};
use cyrisma_core::host::{HostPolicy, InstanceHost};
use cyrisma_core::retry::{Decision, GiveUpReason, Phase, RetryPolicy, parse_retry_after};
use cyrisma_core::session::{CurrentToken, Generation, Timestamp};
use cyrisma_core::types::Instance;
use cyrisma_core::{ApiSecret, BaseUrl, Endpoint};
use http::header::{CONTENT_LENGTH, RETRY_AFTER, USER_AGENT};
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::AuthState;
use crate::body::{BodyError, read_capped};
use crate::config::{ClientBuilder, ClientConfig};
use crate::connect::{ConnectError, ConnectErrorKind, Connector, is_loopback};
use crate::error::{BoxError, ConfigError, Error, ErrorKind, TimeoutKind};
use crate::gate::{HostGate, HostPermit};
use crate::instance::InstanceClient;
use crate::tls;

/// An asynchronous client of the CYRISMA Partner API.
///
/// Cheap to clone (an `Arc` inside): clones share the connection pools, the TLS configuration,
/// the session (tokens) and the concurrency limits. Build one with [`Client::builder`].
///
/// ```no_run
/// # async fn run() -> Result<(), cyrisma_transport::Error> {
/// use cyrisma_core::ApiSecret;
/// use cyrisma_transport::Client;
///
/// let client = Client::builder()
///     .credentials("407cc078-46c7-11ed-8e42-000d3a3ba598", ApiSecret::new("secret"))
///     .build()?;
/// for instance in client.instances().list().await? {
///     println!("{} {:?}", instance.instance_id, instance.name);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) central: BaseUrl,
    pub(crate) policy: HostPolicy,
    credentials: RwLock<Credentials>,
    /// The central host's pool.
    http: Http,
    /// One pool per instance host, dropped (with its idle connections, their buffers and hyper's
    /// per-connection channels) when a fan-out is done with the host (see [`Inner::release_host`])
    /// or when it is the least recently used of more than [`MAX_INSTANCE_POOLS`].
    instance_http: Mutex<InstancePools>,
    connector: Connector,
    pub(crate) auth: AuthState,
    /// The client's own secrets, scrubbed from every error body the server sends back.
    pub(crate) redactor: crate::redact::Redactor,
    global: Arc<Semaphore>,
    /// Each host's concurrency limit and back-pressure after `429`/`503`.
    hosts: Mutex<HashMap<String, Arc<HostGate>>>,
    pub(crate) structure: crate::instance::StructureCache,
    user_agent: HeaderValue,
    origin: Instant,
}

type Http = HyperClient<Connector, Full<Bytes>>;

/// At most this many instance hosts keep a pool (and so idle connections) at once, besides the
/// hosts of fan-out items in progress. A service that calls `client.instance(id)` for a thousand
/// instances outside a fan-out would otherwise keep a pool per instance host for the client's
/// whole life; past the cap the least recently used pool is dropped (a call still using it keeps
/// its own handle, so nothing in flight is cut). The pools of a fan-out's items in progress are
/// pinned instead: the fan-out drops each when its item completes ([`Inner::release_host`]), and
/// evicting one mid-item would only cost a new connection (with 64 items in flight, every item's
/// second call used to open one).
pub(crate) const MAX_INSTANCE_POOLS: usize = 32;

/// The instance hosts' pools with the order of their last use.
#[derive(Default)]
struct InstancePools {
    pools: HashMap<String, PoolEntry>,
    uses: u64,
}

struct PoolEntry {
    http: Http,
    last_use: u64,
    /// Used by a fan-out item in progress: never evicted; released when the item completes.
    pinned: bool,
}

impl InstancePools {
    /// The pool of `host_key`, made by `make` on first use (`pin`: for a fan-out item); drops the
    /// least recently used unpinned pool when there are more than [`MAX_INSTANCE_POOLS`].
    fn get_or_make(&mut self, host_key: &str, pin: bool, make: impl FnOnce() -> Http) -> Http {
        self.uses += 1;
        let uses = self.uses;
        if let Some(entry) = self.pools.get_mut(host_key) {
            entry.last_use = uses;
            entry.pinned |= pin;
            return entry.http.clone();
        }
        let http = make();
        self.pools.insert(host_key.to_owned(), PoolEntry { http: http.clone(), last_use: uses, pinned: pin });
        let unpinned = self.pools.values().filter(|entry| !entry.pinned);
        if unpinned.count() > MAX_INSTANCE_POOLS
            && let Some(oldest) = self
                .pools
                .iter()
                .filter(|(_, entry)| !entry.pinned)
                .min_by_key(|(_, entry)| entry.last_use)
                .map(|(key, _)| key.clone())
        {
            self.pools.remove(&oldest);
        }
        http
    }

    fn remove(&mut self, host_key: &str) -> Option<Http> {
        self.pools.remove(host_key).map(|entry| entry.http)
    }

    /// Makes a pool evictable again (a fan-out item that could not release it).
    fn unpin(&mut self, host_key: &str) {
        if let Some(entry) = self.pools.get_mut(host_key) {
            entry.pinned = false;
        }
    }
}

/// A hyper client (a connection pool) on the shared connector. `expiry` runs hyper's idle
/// timer (a task per pool) that closes connections idle for 60 s; a fan-out's instance pools do
/// without it, since the fan-out drops them as soon as their instance is done.
fn http_client(connector: &Connector, config: &ClientConfig, expiry: bool) -> Http {
    let mut builder = HyperClient::builder(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(config.max_concurrency_per_host);
    if expiry {
        builder.pool_timer(TokioTimer::new());
    }
    builder.build(connector.clone())
}

struct Credentials {
    api_key: String,
    api_secret: ApiSecret,
}

/// Where a call goes: the central host, or an instance host (with the instance it serves, for
/// instance authentication).
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) base: &'a BaseUrl,
    pub(crate) instance: Option<InstanceScope<'a>>,
}

/// The instance an instance-host call is for, and the other instances of the same fan-out (so
/// that authentication covers them all at once).
#[derive(Clone, Copy)]
pub(crate) struct InstanceScope<'a> {
    pub(crate) id: &'a str,
    pub(crate) group: Option<&'a [String]>,
}

/// The final answer of a call (any status), and the token generation it was sent with.
pub(crate) struct Exchange {
    pub(crate) response: http::Response<Bytes>,
    pub(crate) generation: Option<Generation>,
}

/// What one attempt produced.
enum Attempt {
    Response(http::Response<Bytes>),
    Connect { kind: ConnectErrorKind, target: String, source: Option<BoxError> },
    Transport(BoxError),
    Timeout,
    TooLarge { declared: Option<u64> },
}

impl Client {
    /// A builder with the documented defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Builds a client from a configuration (see also [`ClientConfig::from_env`]).
    pub fn from_config(mut config: ClientConfig) -> Result<Self, Error> {
        let central = BaseUrl::central(&config.base_url).map_err(ConfigError::from)?;
        let policy = match &config.allowed_domain {
            Some(domain) => HostPolicy::new(domain),
            None => HostPolicy::for_central(&central),
        }
        .map_err(ConfigError::from)?;
        let api_key =
            config.api_key.clone().filter(|key| !key.trim().is_empty()).ok_or(ConfigError::MissingCredential("key"))?;
        let api_secret = config
            .api_secret
            .clone()
            .filter(|secret| !secret.is_empty())
            .ok_or(ConfigError::MissingCredential("secret"))?;
        for (name, value) in [
            ("connect_timeout", config.connect_timeout.as_nanos()),
            ("attempt_timeout", config.attempt_timeout.as_nanos()),
            ("total_timeout", config.total_timeout.as_nanos()),
            ("max_concurrency", config.max_concurrency as u128),
            ("max_concurrency_per_host", config.max_concurrency_per_host as u128),
            ("max_body_size", u128::from(config.max_body_size)),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name).into());
            }
        }
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| ConfigError::Setting("the user agent contains characters not allowed in a header".into()))?;
        // A login is one call (a refresh and, at worst, its password fallback): the session must
        // not consider it abandoned while it may still be running.
        let login_budget = config.total_timeout.saturating_mul(2).saturating_add(Duration::from_secs(10));
        config.session.login_timeout = config.session.login_timeout.max(login_budget);
        let tls = tls::client_config(config.native_roots, &config.ca_certificates, central.is_https())?;
        let connector = Connector::new(tls, config.resolve.clone(), config.proxy.clone(), config.connect_timeout);
        if !central.is_https() {
            refuse_plain_http_early(&central, &connector)?;
        }
        let http = http_client(&connector, &config, true);
        let redactor = crate::redact::Redactor::default();
        redactor.remember(api_secret.expose_secret());
        let inner = Inner {
            central,
            policy,
            redactor,
            credentials: RwLock::new(Credentials { api_key, api_secret }),
            http,
            instance_http: Mutex::new(InstancePools::default()),
            connector,
            auth: AuthState::new(config.session.clone()),
            global: Arc::new(Semaphore::new(config.max_concurrency)),
            hosts: Mutex::new(HashMap::new()),
            structure: crate::instance::StructureCache::default(),
            user_agent,
            origin: Instant::now(),
            config,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Sends any central-host endpoint of the core and returns its typed answer. Authentication,
    /// retries and timeouts apply as for the typed methods.
    pub async fn send<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        let target = Target { base: &self.inner.central, instance: None };
        self.inner.call(target, request).await
    }

    /// A client for the reporting calls of one instance. Its host is looked up in the partner's
    /// structure (listed once and cached) on first use, and validated against the allowed domain.
    pub fn instance(&self, instance_id: impl Into<String>) -> InstanceClient {
        InstanceClient::lazy(self.clone(), instance_id.into())
    }

    /// A client for the reporting calls of an instance value (from a listing): its `url` is
    /// validated against the allowed domain now.
    pub fn instance_for(&self, instance: &Instance) -> Result<InstanceClient, Error> {
        InstanceClient::resolved(self.clone(), instance, None)
    }

    /// The central base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.central
    }

    /// The domain instance hosts must belong to.
    pub fn allowed_domain(&self) -> &str {
        self.inner.policy.allowed_domain()
    }

    /// The API key.
    pub fn api_key(&self) -> String {
        self.inner.read_credentials().api_key.clone()
    }

    /// How many TCP connections this client has opened (diagnostics and tests).
    pub fn connections_opened(&self) -> u64 {
        self.inner.connector.connections_opened()
    }

    /// How many of this client's connections are alive now, pooled or in use (diagnostics and
    /// tests). A fan-out drops each instance host's pool when that instance's item completes, so
    /// this does not grow with the number of instances.
    pub fn connections_alive(&self) -> u64 {
        self.inner.connector.connections_alive()
    }

    /// How many logins (each a refresh grant, a password grant or both) this client has
    /// performed (diagnostics and tests).
    pub fn logins_performed(&self) -> u64 {
        self.inner.auth.logins_performed()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.central)
            .field("allowed_domain", &self.inner.policy.allowed_domain())
            .finish_non_exhaustive()
    }
}

/// Refuses a plain-http base URL whose host is known (an IP literal, or an override) not to be
/// loopback; a DNS name is checked by the connector once resolved, before anything is sent.
fn refuse_plain_http_early(central: &BaseUrl, connector: &Connector) -> Result<(), ConfigError> {
    let host = central.host();
    let port = central.port_or_default();
    let known = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => connector.override_for(host, port).map(|addr| addr.ip()),
    };
    match known {
        Some(ip) if !is_loopback(ip) => Err(ConfigError::InsecureBaseUrl { host: host.to_owned() }),
        _ => Ok(()),
    }
}

impl Inner {
    /// The session clock: time since the client was built, on tokio's clock (so tests can pause
    /// it).
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_duration(Instant::now().saturating_duration_since(self.origin))
    }

    fn read_credentials(&self) -> std::sync::RwLockReadGuard<'_, Credentials> {
        self.credentials.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The API key and secret, cloned.
    pub(crate) fn credentials(&self) -> (String, ApiSecret) {
        let credentials = self.read_credentials();
        (credentials.api_key.clone(), credentials.api_secret.clone())
    }

    /// Replaces the API secret (after a rotation).
    pub(crate) fn set_api_secret(&self, secret: ApiSecret) {
        self.redactor.remember(secret.expose_secret());
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).api_secret = secret;
    }

    pub(crate) fn central_target(&self) -> Target<'_> {
        Target { base: &self.central, instance: None }
    }

    /// Validates an instance host from server data.
    pub(crate) fn instance_base(&self, instance_id: &str, raw_host: Option<&str>) -> Result<BaseUrl, Error> {
        let raw = raw_host
            .map(str::trim)
            .filter(|raw| !raw.is_empty())
            .ok_or_else(|| Error::new(ErrorKind::InstanceWithoutHost { instance_id: instance_id.to_owned() }))?;
        let host: InstanceHost = self
            .policy
            .validate(raw)
            .map_err(|error| Error::new(ErrorKind::HostRefused { instance_id: instance_id.to_owned(), error }))?;
        Ok(self.central.instance(&host))
    }

    /// Sends a call and parses its answer, under the total timeout.
    pub(crate) async fn call<E: Endpoint>(&self, target: Target<'_>, request: &E) -> Result<E::Response, Error> {
        let exchange = self.exchange(target, request, &self.config.retry).await?;
        E::parse_response(&exchange.response).map_err(|error| Error::from_response(E::METADATA.name, error))
    }

    /// Sends a call under the total timeout and returns its final answer, whatever its status.
    pub(crate) async fn exchange<E: Endpoint>(
        &self,
        target: Target<'_>,
        request: &E,
        retry: &RetryPolicy,
    ) -> Result<Exchange, Error> {
        let metadata = E::METADATA;
        let total = self.config.total_timeout;
        let deadline = Instant::now() + total;
        let span = tracing::debug_span!(
            "cyrisma.request",
            endpoint = metadata.name,
            method = %metadata.method,
            host = target.base.host(),
            path = metadata.path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
        );
        let work = self.exchange_inner(target, request, retry, deadline).instrument(span.clone());
        let result = match tokio::time::timeout_at(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::Timeout { what: TimeoutKind::Total(metadata.name), after: total })),
        };
        if let Ok(exchange) = &result {
            span.record("status", exchange.response.status().as_u16());
        }
        result
    }

    async fn exchange_inner<E: Endpoint>(
        &self,
        target: Target<'_>,
        request: &E,
        retry: &RetryPolicy,
        deadline: Instant,
    ) -> Result<Exchange, Error> {
        let metadata = &E::METADATA;
        let needs_token = metadata.auth == AuthKind::AccessToken;
        let host_key = format!("{}:{}", target.base.host(), target.base.port_or_default());
        let http = match target.instance {
            None => self.http.clone(),
            Some(scope) => self.instance_pool(&host_key, scope.group.is_some()),
        };
        let mut attempt: u32 = 0;
        let mut replayed = false;
        let mut rechecks = 0;
        loop {
            // Token and instance authentication first, holding no permit: a login needs a permit
            // for the central host, which waiting callers must not hold.
            let token = if needs_token { Some(self.ready_token(target).await?) } else { None };
            let permits = self.permits(&host_key, metadata, retry, deadline).await?;
            if let Some(token) = &token {
                // Waiting for the permits may have outlived the token, or a `401` elsewhere may
                // have discarded it: fetch the current one (a bounded number of times).
                if rechecks < 4 && !self.auth.still_sendable(token, target.instance.map(|scope| scope.id), self.now()) {
                    rechecks += 1;
                    drop(permits);
                    continue;
                }
            }
            attempt += 1;
            let http_request = request.to_http_request(target.base, token.as_ref().map(|token| &token.token))?;
            let outcome = self.attempt(&http, metadata, http_request, attempt).await;
            if let Attempt::Response(response) = &outcome
                && matches!(response.status(), StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)
            {
                // Every call to this host slows down, not only this one; recorded before the
                // permit is released, so that no waiting call slips through before the pause.
                let asked = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| parse_retry_after(value, SystemTime::now()));
                permits.0.gate().handle_response(response.status(), asked, self.now());
            }
            drop(permits);
            tracing::Span::current().record("attempts", attempt);
            let generation = token.as_ref().map(|token| token.generation);
            let phase_status;
            let retry_after_value;
            let phase = match &outcome {
                Attempt::Response(response) if response.status().is_success() => {
                    return Ok(Exchange { response: take_response(outcome), generation });
                }
                Attempt::Response(response) if response.status() == StatusCode::UNAUTHORIZED => {
                    match (&token, replayed) {
                        (Some(token), false) => {
                            replayed = true;
                            attempt -= 1;
                            self.auth.handle_unauthorized(response, token, target.instance.map(|scope| scope.id));
                            tracing::debug!(
                                endpoint = metadata.name,
                                "401: the session decides on a new token; replaying once"
                            );
                            continue;
                        }
                        _ => return Ok(Exchange { response: take_response(outcome), generation }),
                    }
                }
                Attempt::Response(response) => {
                    phase_status = response.status();
                    retry_after_value =
                        response.headers().get(RETRY_AFTER).and_then(|value| value.to_str().ok()).map(str::to_owned);
                    Phase::Response { status: phase_status, retry_after: retry_after_value.as_deref() }
                }
                Attempt::Connect { kind, .. } if is_fatal(*kind) => {
                    return Err(self.final_error(metadata, outcome, &host_key, None));
                }
                Attempt::Connect { .. } => Phase::BeforeSend,
                Attempt::Transport(_) | Attempt::Timeout => Phase::AfterSend,
                Attempt::TooLarge { .. } => return Err(self.final_error(metadata, outcome, &host_key, None)),
            };
            let decision = retry.decide(metadata.idempotent, phase, attempt, fastrand::f64(), SystemTime::now());
            match decision {
                Decision::RetryAfter(delay) if Instant::now() + delay < deadline => {
                    tracing::debug!(endpoint = metadata.name, attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Decision::RetryAfter(_) => {
                    // The wait would outlast the total timeout: give up now with what we have.
                    return self.finish(
                        metadata,
                        outcome,
                        &host_key,
                        generation,
                        GiveUpReason::Exhausted { attempts: attempt },
                    );
                }
                Decision::RateLimited { retry_after } => {
                    let error = match &outcome {
                        Attempt::Response(response) => Some(api_error(response)),
                        _ => None,
                    };
                    return Err(Error::new(ErrorKind::RateLimited { endpoint: metadata.name, retry_after, error }));
                }
                Decision::GiveUp(reason) => return self.finish(metadata, outcome, &host_key, generation, reason),
                // A future decision kind: stop rather than guess.
                _ => {
                    return self.finish(
                        metadata,
                        outcome,
                        &host_key,
                        generation,
                        GiveUpReason::Exhausted { attempts: attempt },
                    );
                }
            }
        }
    }

    /// One attempt: send, then read the whole body up to the cap, within the per-attempt timeout.
    async fn attempt(
        &self,
        http: &Http,
        metadata: &Metadata,
        request: http::Request<RequestBody>,
        number: u32,
    ) -> Attempt {
        let (mut parts, body) = request.into_parts();
        parts.headers.insert(USER_AGENT, self.user_agent.clone());
        let request = http::Request::from_parts(parts, Full::new(body.into_bytes()));
        let started = Instant::now();
        let span = tracing::debug_span!(
            "cyrisma.attempt",
            endpoint = metadata.name,
            attempt = number,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let limit = self.config.max_body_size;
        let work = async {
            let response = match http.request(request).await {
                Ok(response) => response,
                Err(error) => return classify_send_error(error),
            };
            let (parts, body) = response.into_parts();
            tracing::Span::current().record("status", parts.status.as_u16());
            let content_length = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok());
            match read_capped(body, content_length, limit).await {
                Ok(bytes) => {
                    // Error bodies are scrubbed of the client's own secrets before anything reads
                    // them: a server may echo the form body or the token back.
                    let bytes = if parts.status.is_success() { bytes } else { self.redactor.scrub(bytes) };
                    Attempt::Response(http::Response::from_parts(parts, bytes))
                }
                Err(BodyError::TooLarge { declared }) => Attempt::TooLarge { declared },
                Err(BodyError::Transport(error)) => Attempt::Transport(Box::new(error)),
            }
        }
        .instrument(span.clone());
        let outcome = tokio::time::timeout(self.config.attempt_timeout, work).await.unwrap_or(Attempt::Timeout);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        span.record("elapsed_ms", elapsed_ms);
        span.in_scope(|| match &outcome {
            Attempt::Response(response) => tracing::debug!(status = response.status().as_u16(), elapsed_ms, "answered"),
            Attempt::Connect { kind, .. } => tracing::debug!(?kind, elapsed_ms, "no connection"),
            Attempt::Transport(error) => tracing::debug!(error = %error, elapsed_ms, "connection failed"),
            Attempt::Timeout => tracing::debug!(elapsed_ms, "per-attempt timeout"),
            Attempt::TooLarge { .. } => tracing::debug!(elapsed_ms, "body over the limit"),
        });
        outcome
    }

    /// The pool of an instance host (made on first use; `in_fan_out` when a fan-out will release
    /// it).
    fn instance_pool(&self, host_key: &str, in_fan_out: bool) -> Http {
        let mut pools = self.instance_http.lock().unwrap_or_else(PoisonError::into_inner);
        pools.get_or_make(host_key, in_fan_out, || http_client(&self.connector, &self.config, !in_fan_out))
    }

    /// Drops the pool and the semaphore of an instance host nobody is using now (its permits are
    /// all free): called when a fan-out item completes, so that idle sockets, their read buffers
    /// and hyper's per-connection state do not pile up with the number of instances (a
    /// 1,000-instance export once held 2,521 sockets). A call still between two attempts keeps
    /// the pool it holds; the next call to the host starts a new pool.
    pub(crate) fn release_host(&self, base: &BaseUrl) {
        let key = format!("{}:{}", base.host(), base.port_or_default());
        {
            let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(gate) = hosts.get(&key) {
                // In use, or slowed down by a `429`/`503` that later calls must still honour:
                // keep both, but let the pool be evicted like any other from now on.
                if !gate.is_idle(self.now()) {
                    drop(hosts);
                    self.instance_http.lock().unwrap_or_else(PoisonError::into_inner).unpin(&key);
                    return;
                }
                hosts.remove(&key);
            }
        }
        let pool = self.instance_http.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
        drop(pool);
    }

    /// The gate of a host (made on first use).
    fn gate(&self, host_key: &str) -> Arc<HostGate> {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        hosts.entry(host_key.to_owned()).or_insert_with(|| HostGate::new(self.config.max_concurrency_per_host)).clone()
    }

    /// A permit for the host, then one of the global pool (always in this order). While the host
    /// is paused after a `429`/`503` with `Retry-After`, waits for the end of the pause holding
    /// only the host's permit; a pause longer than the retry policy's `max_retry_after`, or one
    /// that outlasts the call's total timeout, fails the call at once as rate limited.
    async fn permits(
        &self,
        host_key: &str,
        metadata: &Metadata,
        retry: &RetryPolicy,
        deadline: Instant,
    ) -> Result<(HostPermit, OwnedSemaphorePermit), Error> {
        let gate = self.gate(host_key);
        let host_permit = gate.acquire(self.now()).await;
        while let Some(left) = gate.pause(self.now()) {
            if left > retry.max_retry_after || Instant::now() + left >= deadline {
                return Err(Error::new(ErrorKind::RateLimited {
                    endpoint: metadata.name,
                    retry_after: left,
                    error: None,
                }));
            }
            tracing::debug!(endpoint = metadata.name, wait_ms = left.as_millis() as u64, "host paused by Retry-After");
            tokio::time::sleep(left).await;
        }
        // The semaphore is never closed, so acquiring cannot fail.
        let global_permit =
            self.global.clone().acquire_owned().await.unwrap_or_else(|_| unreachable!("semaphores are never closed"));
        Ok((host_permit, global_permit))
    }

    /// A token to send now, with the instance authenticated for it when the target is an
    /// instance host.
    async fn ready_token(&self, target: Target<'_>) -> Result<CurrentToken, Error> {
        let mut rounds = 0;
        loop {
            let token = self.token().await?;
            match target.instance {
                Some(scope) if rounds < 3 && self.auth.instance_needed(scope.id) => {
                    rounds += 1;
                    // Boxed: instance authentication is itself a call through this loop.
                    Box::pin(self.authenticate_instances(scope)).await?;
                }
                _ => return Ok(token),
            }
        }
    }

    /// The answer to return when the policy gives up.
    fn finish(
        &self,
        metadata: &Metadata,
        outcome: Attempt,
        host_key: &str,
        generation: Option<Generation>,
        reason: GiveUpReason,
    ) -> Result<Exchange, Error> {
        match outcome {
            Attempt::Response(response) => Ok(Exchange { response, generation }),
            other => Err(self.final_error(metadata, other, host_key, Some(reason))),
        }
    }

    /// The error for a failed attempt that is not retried.
    fn final_error(
        &self,
        metadata: &Metadata,
        outcome: Attempt,
        host_key: &str,
        reason: Option<GiveUpReason>,
    ) -> Error {
        let ambiguous = reason == Some(GiveUpReason::AmbiguousOutcome);
        let kind = match outcome {
            Attempt::Response(response) => ErrorKind::Api { endpoint: metadata.name, error: api_error(&response) },
            Attempt::Connect { kind, target, source } => {
                let target = if target.is_empty() { host_key.to_owned() } else { target };
                match kind {
                    ConnectErrorKind::Timeout(after) => {
                        ErrorKind::Timeout { what: TimeoutKind::Connect(target), after }
                    }
                    ConnectErrorKind::Tls => ErrorKind::Tls {
                        host: target,
                        source: source.unwrap_or_else(|| "the tls handshake failed".into()),
                    },
                    ConnectErrorKind::InsecureScheme => ErrorKind::InsecureScheme { host: target },
                    other => {
                        let reason = ConnectError::new(other, &target, None).reason().to_owned();
                        ErrorKind::Connect { host: target, reason, source }
                    }
                }
            }
            Attempt::Transport(source) if ambiguous => ErrorKind::Ambiguous {
                endpoint: metadata.name,
                hint: ambiguity_hint(metadata.name),
                source: Some(source),
            },
            Attempt::Timeout if ambiguous => ErrorKind::Ambiguous {
                endpoint: metadata.name,
                hint: ambiguity_hint(metadata.name),
                source: Some("no complete answer came back within the per-attempt timeout".into()),
            },
            Attempt::Transport(source) => {
                ErrorKind::Transport { endpoint: metadata.name, host: host_key.to_owned(), source }
            }
            Attempt::Timeout => {
                ErrorKind::Timeout { what: TimeoutKind::Attempt(metadata.name), after: self.config.attempt_timeout }
            }
            Attempt::TooLarge { declared } => {
                ErrorKind::BodyTooLarge { endpoint: metadata.name, limit: self.config.max_body_size, declared }
            }
        };
        Error::new(kind)
    }
}

fn take_response(outcome: Attempt) -> http::Response<Bytes> {
    match outcome {
        Attempt::Response(response) => response,
        // Only called on `Attempt::Response`.
        _ => unreachable!("take_response is only called on a response"),
    }
}

fn is_fatal(kind: ConnectErrorKind) -> bool {
    matches!(kind, ConnectErrorKind::Tls | ConnectErrorKind::InsecureScheme | ConnectErrorKind::Scheme)
}

fn classify_send_error(error: hyper_util::client::legacy::Error) -> Attempt {
    if error.is_connect() {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = cause {
            if let Some(connect) = current.downcast_ref::<ConnectError>() {
                return Attempt::Connect {
                    kind: connect.kind,
                    target: connect.target.clone(),
                    source: connect.source_arc().map(|source| Box::new(source) as BoxError),
                };
            }
            cause = current.source();
        }
        return Attempt::Connect { kind: ConnectErrorKind::Tcp, target: String::new(), source: Some(Box::new(error)) };
    }
    Attempt::Transport(Box::new(error))
}

/// What to check before sending an ambiguous call again, by resource.
pub(crate) fn ambiguity_hint(endpoint: &str) -> String {
    let resource = endpoint.split('.').next().unwrap_or_default();
    match resource {
        "instances" => {
            "list the instances (or get this one) to see whether it took effect before sending it again".into()
        }
        "users" => "list the users to see whether it took effect before sending it again".into(),
        "webhooks" => "list the webhooks to see whether it took effect before sending it again".into(),
        "auth" => "log in with the current secret to see whether it still works before doing anything else".into(),
        _ => "check the server's state to see whether it took effect before sending it again".into(),
    }
}

/// Locks a mutex, ignoring poisoning (the protected state stays consistent between statements).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
