//! [`Client`] and its shared state, [`Inner`], with every method of `Inner` in this one file.
//!
//! A call goes through three levels, each calling only the ones below it, so nothing re-enters
//! the send driver recursively:
//!
//! 1. [`Inner::exchange`]: a call as users see it. It gets a token (and instance authentication
//!    for an instance host) before every pass of the driver, since a pass ends when the call
//!    needs a new token.
//! 2. Instance authentication ([`Inner::authenticate_instances`]) gets a token and sends the
//!    instance login through the driver; a login ([`Inner::token`]) sends its grants through the
//!    driver with no token at all.
//! 3. The send driver ([`Sender::transmit`](crate::send::Sender::transmit)): permits, attempts,
//!    and the core's per-call decisions ([`Call`]).
//!
//! The whole call runs under the total timeout, authentication included. No endpoint has code of
//! its own here.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use cyrisma_core::api::auth::login;
use cyrisma_core::api::instances::{authenticate_all_instances, authenticate_instance, list_instances};
use cyrisma_core::call::Call;
use cyrisma_core::endpoint::AuthKind;
use cyrisma_core::host::{HostPolicy, InstanceHost};
use cyrisma_core::retry::RetryPolicy;
use cyrisma_core::session::{CurrentToken, Generation, LoginAttempt, LoginProgress, Timestamp, TokenPoll};
use cyrisma_core::types::{Instance, InstanceLogin};
use cyrisma_core::{ApiSecret, BaseUrl, Endpoint};
use http::HeaderValue;
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::AuthState;
use crate::config::{ClientBuilder, ClientConfig};
use crate::connect::{Connector, is_loopback};
use crate::error::{ConfigError, Error, ErrorKind, TimeoutKind};
use crate::pool::Hosts;
use crate::redact::Redactor;
use crate::send::{Exchange, Limits, Sender, Transmitted};
use crate::target::{InstanceScope, Target, host_key};
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

/// The state every clone of a [`Client`] shares.
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) central: BaseUrl,
    pub(crate) policy: HostPolicy,
    credentials: RwLock<Credentials>,
    /// The pools, gates and limits every attempt goes through.
    sender: Sender,
    pub(crate) auth: AuthState,
    structure: StructureCache,
}

struct Credentials {
    api_key: String,
    api_secret: ApiSecret,
}

/// The cached structure listing.
#[derive(Default)]
struct StructureCache {
    instances: RwLock<Option<Arc<Vec<Instance>>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl StructureCache {
    fn cached(&self) -> Option<Arc<Vec<Instance>>> {
        self.instances.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn store(&self, instances: Arc<Vec<Instance>>) {
        *self.instances.write().unwrap_or_else(PoisonError::into_inner) = Some(instances);
    }
}

impl ClientBuilder {
    /// Builds the client: validates the configuration and loads the TLS trust store (once).
    pub fn build(self) -> Result<Client, Error> {
        Client::from_config(self.into_config()?)
    }
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
        let redactor = Redactor::default();
        redactor.remember(api_secret.expose_secret());
        let limits = Limits {
            max_concurrency: config.max_concurrency,
            attempt_timeout: config.attempt_timeout,
            max_body_size: config.max_body_size,
        };
        let hosts = Hosts::new(connector, config.max_concurrency_per_host);
        let inner = Inner {
            central,
            policy,
            credentials: RwLock::new(Credentials { api_key, api_secret }),
            sender: Sender::new(hosts, limits, user_agent, redactor),
            auth: AuthState::new(config.session.clone()),
            structure: StructureCache::default(),
            config,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Sends any central-host endpoint of the core and returns its typed answer. Authentication,
    /// retries and timeouts apply as for the typed methods.
    pub async fn send<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        self.inner.call(self.inner.central_target(), request).await
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
        self.inner.sender.hosts.connector().connections_opened()
    }

    /// How many of those were set up ahead of their first request by a fan-out and then taken by
    /// it (diagnostics and tests).
    pub fn connections_prepared_taken(&self) -> u64 {
        self.inner.sender.hosts.connector().connections_prepared_taken()
    }

    /// How many of this client's connections are alive now, pooled or in use (diagnostics and
    /// tests). A fan-out drops each instance host's pool when that instance's item completes, so
    /// this does not grow with the number of instances.
    pub fn connections_alive(&self) -> u64 {
        self.inner.sender.hosts.connector().connections_alive()
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

/// Parses the final answer of a call.
fn parse<E: Endpoint>(exchange: &Exchange) -> Result<E::Response, Error> {
    E::parse_response(&exchange.response).map_err(|error| Error::from_response(E::METADATA.name, error))
}

impl Inner {
    /// The session clock: time since the client was built, on tokio's clock (so tests can pause
    /// it).
    pub(crate) fn now(&self) -> Timestamp {
        self.sender.now()
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
        self.sender.redactor.remember(secret.expose_secret());
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).api_secret = secret;
    }

    pub(crate) fn central_target(&self) -> Target<'_> {
        Target::central(&self.central)
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

    /// Drops the pool and the gate of an instance host nobody is using now (see
    /// [`Hosts::release`]), and a connection prepared for it that no request took.
    pub(crate) fn release_host(&self, base: &BaseUrl) {
        if let Some(uri) = origin_uri(base) {
            self.sender.hosts.connector().discard_prepared(&uri);
        }
        self.sender.hosts.release(&host_key(base), self.now());
    }

    /// Sets up a connection to an instance host ahead of its first request (see
    /// [`Connector::prepare`](crate::connect::Connector::prepare)).
    pub(crate) async fn prepare_host(&self, base: &BaseUrl) {
        if let Some(uri) = origin_uri(base) {
            self.sender.hosts.connector().prepare(uri).await;
        }
    }

    /// Sends a call and parses its answer, under the total timeout.
    pub(crate) async fn call<E: Endpoint>(&self, target: Target<'_>, request: &E) -> Result<E::Response, Error> {
        parse::<E>(&self.exchange(target, request, &self.config.retry).await?)
    }

    /// Sends a call under the total timeout and returns its final answer, whatever its status:
    /// with a token, and with instance authentication for an instance host.
    pub(crate) async fn exchange<E: Endpoint>(
        &self,
        target: Target<'_>,
        request: &E,
        retry: &RetryPolicy,
    ) -> Result<Exchange, Error> {
        match target.instance {
            None => self.drive(target, request, retry, move || self.central_token()).await,
            Some(scope) => self.drive(target, request, retry, move || self.instance_token(scope)).await,
        }
    }

    /// The short driver of one call, under the total timeout: before every pass of the send
    /// driver, `ready` gives the token to send (only for endpoints that carry one).
    async fn drive<E, F, Fut>(
        &self,
        target: Target<'_>,
        request: &E,
        retry: &RetryPolicy,
        mut ready: F,
    ) -> Result<Exchange, Error>
    where
        E: Endpoint,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<CurrentToken>, Error>>,
    {
        let metadata = &E::METADATA;
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
        let work = async {
            let mut call = Call::new(metadata, retry.clone(), self.now().saturating_add(total));
            let needs_token = metadata.auth == AuthKind::AccessToken;
            // Bounded: a renewal spends the call's one replay or one of its token renewals.
            loop {
                // Token and instance authentication first, holding no permit: a login needs a
                // permit for the central host, which waiting callers must not hold.
                let token = if needs_token { ready().await? } else { None };
                match self.sender.transmit(&mut call, target, request, token.as_ref(), &self.auth).await? {
                    Transmitted::Answer(exchange) => return Ok(exchange),
                    Transmitted::Renew => {}
                }
            }
        }
        .instrument(span.clone());
        let result = match tokio::time::timeout_at(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(ErrorKind::Timeout { what: TimeoutKind::Total(metadata.name), after: total })),
        };
        if let Ok(exchange) = &result {
            span.record("status", exchange.response.status().as_u16());
        }
        result
    }

    /// A token for a central-host call.
    async fn central_token(&self) -> Result<Option<CurrentToken>, Error> {
        self.token().await.map(Some)
    }

    /// A token for an instance-host call, with the instance authenticated for it.
    async fn instance_token(&self, scope: InstanceScope<'_>) -> Result<Option<CurrentToken>, Error> {
        // Bounded: three rounds of instance authentication at most, then the server decides.
        for _ in 0..3 {
            let token = self.token().await?;
            if !self.auth.instance_needed(scope.id) {
                return Ok(Some(token));
            }
            self.authenticate_instances(scope).await?;
        }
        self.central_token().await
    }

    /// A token to send now: the current one, or one from the login this caller performs or
    /// waits for.
    pub(crate) async fn token(&self) -> Result<CurrentToken, Error> {
        loop {
            let (poll, events) = self.auth.poll_token(self.now());
            match poll {
                TokenPoll::Ready(current) => return Ok(current),
                TokenPoll::LogIn { attempt, current } => match (self.perform_login(attempt).await, current) {
                    (Ok(()), _) => {}
                    (Err(error), Some(current)) if self.now() < current.expires_at => {
                        tracing::debug!(error = %error, "proactive token refresh failed; the current token is still valid");
                        return Ok(current);
                    }
                    (Err(error), _) => return Err(error),
                },
                TokenPoll::Wait(attempt) => self.auth.wait_for_login(events, attempt).await?,
                // A future kind of answer: wait a moment for the session to settle, then poll.
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Performs the login the session asked for: the refresh grant, then the password grant if
    /// the session falls back to it. Each grant goes through the send driver without a token.
    async fn perform_login(&self, attempt: LoginAttempt) -> Result<(), Error> {
        let mut guard = self.auth.begin_login(attempt.id);
        let mut attempt = attempt;
        // Bounded: the session falls back from the refresh grant to the password grant once.
        loop {
            let (api_key, api_secret) = self.credentials();
            let request = attempt.request(&api_key, &api_secret);
            tracing::debug!(grant = ?request.grant_kind(), "logging in");
            let no_token = || std::future::ready(Ok(None));
            let result = match self.drive(self.central_target(), &request, &self.config.retry, no_token).await {
                Ok(exchange) => parse::<login::Request>(&exchange),
                Err(error) => Err(error),
            };
            if let Ok(response) = &result {
                self.sender.redactor.remember(response.access_token.expose_secret());
                if let Some(refresh_token) = &response.refresh_token {
                    self.sender.redactor.remember(refresh_token.expose_secret());
                }
            }
            let (progress, error) = self.auth.handle_login_result(attempt.id, result, self.now());
            match progress {
                LoginProgress::Retry(next) => {
                    tracing::debug!("the refresh grant failed; logging in with the api key and secret");
                    attempt = next;
                }
                LoginProgress::Failed(failure) => {
                    let error = self.auth.login_failed(&failure, error);
                    guard.finish();
                    return Err(error);
                }
                _ => {
                    guard.finish();
                    return Ok(());
                }
            }
        }
    }

    /// Authenticates `scope.id` (and whatever else is pending, and the scope's fan-out group)
    /// for the current token, unless that is already done.
    pub(crate) async fn authenticate_instances(&self, scope: InstanceScope<'_>) -> Result<(), Error> {
        let _serial = self.auth.serialize_instance_auth(scope.id).await;
        let Some((asked, all)) = self.auth.plan_instance_auth(scope.id, scope.group.unwrap_or_default()) else {
            return Ok(());
        };
        let single = [scope.id.to_owned()];
        let one_request = authenticate_instance::Request::new(scope.id);
        let one = || self.instance_login(&one_request, &single, Some(scope.id));
        let result = if all {
            match self.instance_login(&authenticate_all_instances::Request::new(), &asked, None).await {
                // The all-instances form was refused: authenticate at least this instance.
                Err(error) if error.status().is_some_and(|status| status.is_client_error()) && !error.is_auth() => {
                    tracing::debug!(error = %error, "the all-instances form was refused; authenticating one instance");
                    one().await
                }
                other => other,
            }
        } else {
            one().await
        };
        self.auth.finish_instance_auth(scope.id, &asked);
        result
    }

    /// The all-instances form sent before a fan-out knows its instances (while its structure
    /// listing is in flight), so that the two central calls overlap instead of following each
    /// other: its answer, to [`record_instances_ahead`](Self::record_instances_ahead) once the
    /// fan-out's group is known. Only for a client that never authenticated instances (after
    /// that, the marks of the current token usually cover the group: no call is needed); `None`
    /// on any failure, and the fan-out's own authentication then asks as before.
    pub(crate) async fn authenticate_all_ahead(&self) -> Option<(Generation, InstanceLogin)> {
        if self.auth.instances_ever_authenticated() {
            return None;
        }
        let request = authenticate_all_instances::Request::new();
        let ready = move || self.central_token();
        let exchange = match self.drive(self.central_target(), &request, &self.config.retry, ready).await {
            Ok(exchange) => exchange,
            Err(error) => {
                tracing::debug!(error = %error, "the all-instances form sent ahead failed");
                return None;
            }
        };
        let generation = exchange.generation?;
        authenticate_all_instances::Request::parse_response(&exchange.response).ok().map(|login| (generation, login))
    }

    /// Records the answer of [`authenticate_all_ahead`](Self::authenticate_all_ahead) for the
    /// fan-out's `group`, as if it had been asked about them.
    pub(crate) fn record_instances_ahead(&self, (generation, login): (Generation, InstanceLogin), group: &[String]) {
        self.auth.record_instance_login(generation, &login, group, None);
    }

    /// Sends an instance login (with a central token, through the send driver) and records its
    /// answer. A refusal of one instance (suspended, unknown) is recorded and not an error here:
    /// the reporting call then gets the server's own answer.
    async fn instance_login<E: Endpoint<Response = InstanceLogin>>(
        &self,
        request: &E,
        asked: &[String],
        single: Option<&str>,
    ) -> Result<(), Error> {
        tracing::debug!(endpoint = E::METADATA.name, instances = asked.len(), "authenticating instances for reporting");
        let ready = move || self.central_token();
        let exchange = self.drive(self.central_target(), request, &self.config.retry, ready).await?;
        let Some(generation) = exchange.generation else { return Ok(()) };
        match E::parse_response(&exchange.response) {
            Ok(login) => {
                self.auth.record_instance_login(generation, &login, asked, single);
                Ok(())
            }
            Err(error) => {
                let status = exchange.response.status();
                if single.is_some() && status.is_client_error() && status != http::StatusCode::UNAUTHORIZED {
                    self.auth.handle_instances_refused(generation, asked);
                    return Ok(());
                }
                Err(Error::from_response(E::METADATA.name, error))
            }
        }
    }

    /// The structure listing: the cached one, or a fresh one when `refresh` is set or nothing is
    /// cached (one fetch at a time).
    pub(crate) async fn structure(&self, refresh: bool) -> Result<Arc<Vec<Instance>>, Error> {
        if !refresh && let Some(cached) = self.structure.cached() {
            return Ok(cached);
        }
        let _serial = self.structure.refresh.lock().await;
        if !refresh && let Some(cached) = self.structure.cached() {
            return Ok(cached);
        }
        let listed = Arc::new(self.call(self.central_target(), &list_instances::Request::new()).await?);
        self.structure.store(listed.clone());
        Ok(listed)
    }

    /// A fresh structure listing, cached, and returned as the caller's own list. When it equals
    /// the cached one (a listing seldom changes between two calls) the cache keeps what it has,
    /// so that nothing is copied: a copy of every instance, and freeing the old one, cost a
    /// blocking `instances.list()` from Python about as much as parsing it (`docs/benchmarks.md`,
    /// P4).
    pub(crate) async fn structure_owned(&self) -> Result<Vec<Instance>, Error> {
        let _serial = self.structure.refresh.lock().await;
        let listed = self.call(self.central_target(), &list_instances::Request::new()).await?;
        if self.structure.cached().as_deref() != Some(&listed) {
            self.structure.store(Arc::new(listed.clone()));
        }
        Ok(listed)
    }

    /// One instance of the structure (the cache, then one refresh on a miss).
    pub(crate) async fn find_instance(&self, instance_id: &str) -> Result<Instance, Error> {
        for refresh in [false, true] {
            let listed = self.structure(refresh).await?;
            if let Some(instance) = listed.iter().find(|instance| instance.instance_id == instance_id) {
                return Ok(instance.clone());
            }
        }
        Err(Error::new(ErrorKind::InstanceNotFound { instance_id: instance_id.to_owned() }))
    }
}

/// `scheme://host:port/` of a base URL, as hyper hands it to the connector.
fn origin_uri(base: &BaseUrl) -> Option<http::Uri> {
    let host = base.host();
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
    format!("{}://{host}:{}/", base.scheme(), base.port_or_default()).parse().ok()
}
