//! The transport's one error type: an opaque [`Error`] with predicates, in the shape of hyper's.
//!
//! Callers mostly need to know *what kind* of failure happened (a timeout, a refused connection,
//! an API answer, an outcome that is unknown) rather than match on every variant, so [`Error`]
//! offers `is_*` predicates and accessors; [`Error::kind`] exposes the details when needed.
//!
//! Messages are lower-case without a trailing period and carry the status, the API error code,
//! the server's message and the request id when there are some. They never contain a secret, a
//! token, a form body or a URL query. Their wording is not part of the API.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use cyrisma_core::endpoint::BaseUrlError;
use cyrisma_core::host::HostError;
use cyrisma_core::session::LoginFailureReason;
use cyrisma_core::types::ErrorCode;
use cyrisma_core::{ApiError, ApiSecret, DecodeError, RequestError, ResponseError};
use http::StatusCode;

use crate::resolve::ResolveOverrideError;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error of the CYRISMA client.
///
/// Use the predicates ([`is_timeout`](Self::is_timeout), [`is_api`](Self::is_api),
/// [`is_ambiguous`](Self::is_ambiguous), …) and accessors ([`status`](Self::status),
/// [`api_code`](Self::api_code), [`request_id`](Self::request_id)) first; [`kind`](Self::kind)
/// gives the details.
pub struct Error {
    kind: Box<ErrorKind>,
}

/// What went wrong, in detail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The client configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The request could not be built from the given input; nothing was sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The API answered with a non-success status (redirects are never followed and end here
    /// too).
    #[error("`{endpoint}` failed")]
    Api {
        /// The endpoint's name.
        endpoint: &'static str,
        /// Everything the server said.
        #[source]
        error: ApiError,
    },
    /// The API answered with success, but the body does not match the contract.
    #[error(transparent)]
    Decode(DecodeError),
    /// No connection could be made (DNS, refused, unreachable, proxy); nothing was sent.
    #[error("cannot connect to {host}: {reason}")]
    Connect {
        /// `host:port` of the target.
        host: String,
        /// What failed.
        reason: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The TLS handshake failed (for example, an untrusted certificate); nothing was sent.
    #[error(
        "tls handshake with {host} failed: check the certificate authorities the client trusts (`CYRISMA_CA_CERT`)"
    )]
    Tls {
        /// `host:port` of the target.
        host: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A timeout elapsed.
    #[error("{what} timed out after {}", fmt_duration(*after))]
    Timeout {
        /// What did not finish in time.
        what: TimeoutKind,
        /// The configured limit.
        after: Duration,
    },
    /// The connection failed after the request was (or may have been) sent, for an idempotent
    /// call whose retries are exhausted.
    #[error("the connection to {host} failed during `{endpoint}`")]
    Transport {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The host.
        host: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// A call that is not safe to repeat may have reached the server, and no answer came back:
    /// it was not sent again, and whether it took effect is unknown.
    #[error(
        "the outcome of `{endpoint}` is unknown: the request may have reached the api, so it was not sent again; {hint}"
    )]
    Ambiguous {
        /// The endpoint's name.
        endpoint: &'static str,
        /// What to check before trying again.
        hint: String,
        /// What happened to the connection.
        #[source]
        source: Option<BoxError>,
    },
    /// The server asked to wait longer than the client is configured to wait.
    #[error("`{endpoint}` is rate limited: the server asked to wait {}, more than the client waits; try again later{}", fmt_duration(*retry_after), fmt_request_id(error.as_ref()))]
    RateLimited {
        /// The endpoint's name.
        endpoint: &'static str,
        /// How long the server asked to wait.
        retry_after: Duration,
        /// The answer that carried the request.
        error: Option<ApiError>,
    },
    /// The response body is larger than the configured maximum.
    #[error("the response of `{endpoint}` is larger than the limit of {limit} bytes{}", declared.map(|size| format!(" (it announced {size} bytes)")).unwrap_or_default())]
    BodyTooLarge {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The configured limit.
        limit: u64,
        /// The `Content-Length`, if announced.
        declared: Option<u64>,
    },
    /// An instance host from server data is not allowed to receive the token.
    #[error("instance `{instance_id}` cannot be reached")]
    HostRefused {
        /// The instance.
        instance_id: String,
        /// Why its host was refused.
        #[source]
        error: HostError,
    },
    /// Plain `http://` to a host that is not only loopback.
    #[error(
        "refusing plain http to {host}: it resolves to an address that is not loopback; use https (plain http is allowed only towards loopback, for an emulator)"
    )]
    InsecureScheme {
        /// The host.
        host: String,
    },
    /// Logging in failed.
    #[error("logging in failed{}", login_reason(*reason, error.as_ref(), detail.as_deref()))]
    Login {
        /// Why.
        reason: LoginFailureReason,
        /// The API's answer, if there was one.
        #[source]
        error: Option<ApiError>,
        /// What the performer of the login saw, for callers that waited on it.
        detail: Option<String>,
    },
    /// No instance with this id in the partner's structure.
    #[error("instance `{instance_id}` is not in the partner's structure: list instances to see the ids")]
    InstanceNotFound {
        /// The id looked for.
        instance_id: String,
    },
    /// A lookup by id answered with an empty list.
    #[error("no {resource} `{id}` was found")]
    NotFound {
        /// What was looked up (`instance`, `user`).
        resource: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// The instance has no `url` (host), so its reporting calls cannot be made.
    #[error(
        "instance `{instance_id}` has no host (`url`) in the structure listing, so its reports cannot be fetched (it may still be provisioning)"
    )]
    InstanceWithoutHost {
        /// The instance.
        instance_id: String,
    },
    /// The instance was suspended while waiting for it to become active.
    #[error("instance `{instance_id}` is suspended: reactivate it first")]
    InstanceSuspended {
        /// The instance.
        instance_id: String,
    },
    /// A new API secret was issued but the sink could not store it. The secret is inside this
    /// error (see [`Error::unsaved_secret`]): store it by other means now, as it cannot be
    /// recovered from the server.
    #[error(
        "the api secret was rotated, but saving the new secret failed: it is held in this error only, save it by other means now (the old secret no longer works)"
    )]
    SecretNotSaved {
        /// The new secret, or the raw body that carried it.
        unsaved: NewSecret,
        /// Why the sink failed.
        #[source]
        source: BoxError,
    },
    /// The secret was rotated, but the answer could not be read: its raw body was handed to the
    /// sink, and the new secret must be read from it by hand.
    #[error(
        "the api secret was rotated, but its answer could not be read: the raw body was handed to the secret sink, read the new secret from it"
    )]
    SecretUnreadable,
    /// The new secret was saved, but logging in with it failed.
    #[error("the api secret was rotated and the new secret was saved, but logging in with it failed")]
    SecretNotVerified {
        /// The login error.
        #[source]
        source: Box<Error>,
    },
}

/// What a [`ErrorKind::Timeout`] was about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the connection (TCP and TLS) to this `host:port`.
    Connect(String),
    /// One attempt of a call: sending it and reading the whole answer.
    Attempt(&'static str),
    /// The whole call, retries and authentication included.
    Total(&'static str),
    /// Waiting for an instance to become active.
    Activation(String),
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeoutKind::Connect(host) => write!(f, "connecting to {host}"),
            TimeoutKind::Attempt(endpoint) => write!(f, "an attempt of `{endpoint}` (the per-attempt timeout)"),
            TimeoutKind::Total(endpoint) => write!(f, "`{endpoint}` (the total timeout, retries included)"),
            TimeoutKind::Activation(instance) => write!(f, "waiting for instance `{instance}` to become active"),
        }
    }
}

/// A new API secret, as handed to a secret sink: the parsed secret, or the raw body when it could
/// not be parsed. An error that could not hand it over keeps it (see [`Error::unsaved_secret`]).
///
/// `Debug` is redacted; read it with [`secret`](Self::secret) or [`raw_body`](Self::raw_body).
#[derive(Clone)]
#[non_exhaustive]
pub enum NewSecret {
    /// The parsed secret.
    Secret(ApiSecret),
    /// The raw response body, which could not be parsed and contains the secret somewhere.
    RawBody(Bytes),
}

impl NewSecret {
    /// The secret, if it was parsed.
    pub fn secret(&self) -> Option<&ApiSecret> {
        match self {
            NewSecret::Secret(secret) => Some(secret),
            NewSecret::RawBody(_) => None,
        }
    }

    /// The raw body, if the secret could not be parsed from it.
    pub fn raw_body(&self) -> Option<&Bytes> {
        match self {
            NewSecret::Secret(_) => None,
            NewSecret::RawBody(body) => Some(body),
        }
    }
}

impl fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NewSecret::Secret(_) => f.write_str("NewSecret::Secret(<redacted>)"),
            NewSecret::RawBody(body) => write!(f, "NewSecret::RawBody(<{} bytes redacted>)", body.len()),
        }
    }
}

/// The client configuration is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is not valid.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// The allowed instance domain is not usable, or cannot be derived from the base URL.
    #[error(transparent)]
    AllowedDomain(#[from] HostError),
    /// A resolve override is not valid.
    #[error(transparent)]
    Resolve(#[from] ResolveOverrideError),
    /// No API key or secret was given.
    #[error("no api {0} was given: set it on the builder or in `CYRISMA_API_{upper}`", upper = .0.to_uppercase())]
    MissingCredential(&'static str),
    /// A certificate authority could not be loaded.
    #[error("cannot use the ca certificate {source_name}: {reason}")]
    CaCertificate {
        /// The path, or `<pem bytes>`.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// No trust root at all: the system store is empty or disabled, and no CA was given.
    #[error(
        "no trusted certificate authority: the system store is empty or disabled; give a ca certificate (`CYRISMA_CA_CERT`)"
    )]
    NoTrustRoots,
    /// The TLS configuration could not be built.
    #[error("cannot build the tls configuration: {reason}")]
    Tls {
        /// What is wrong.
        reason: String,
    },
    /// The proxy setting is not usable.
    #[error("the proxy setting is not usable: {reason}")]
    Proxy {
        /// What is wrong.
        reason: String,
    },
    /// Plain `http://` to a host that is known not to be loopback.
    #[error(
        "the base url uses plain http towards {host}, which is not loopback: use https (plain http is allowed only towards loopback, for an emulator)"
    )]
    InsecureBaseUrl {
        /// The host.
        host: String,
    },
    /// An environment variable has a value that cannot be used.
    #[error("environment variable `{name}` is not usable: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong (never the value).
        reason: String,
    },
    /// A setting given to the builder is not valid (the message says which and why).
    #[error("{0}")]
    Setting(String),
    /// A limit that must be positive is zero.
    #[error("`{0}` must be greater than zero")]
    Zero(&'static str),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self { kind: Box::new(kind) }
    }

    pub(crate) fn from_response(endpoint: &'static str, error: ResponseError) -> Self {
        match error {
            ResponseError::Api(error) => Self::new(ErrorKind::Api { endpoint, error: *error }),
            ResponseError::Decode(error) => Self::new(ErrorKind::Decode(*error)),
            // `ResponseError` is non-exhaustive; a future variant reads as a decode failure.
            other => Self::new(ErrorKind::Connect { host: String::new(), reason: other.to_string(), source: None }),
        }
    }

    /// The details.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The details, by value.
    pub fn into_kind(self) -> ErrorKind {
        *self.kind
    }

    /// Whether a timeout elapsed (connect, per attempt, total, or waiting for activation).
    pub fn is_timeout(&self) -> bool {
        matches!(*self.kind, ErrorKind::Timeout { .. })
    }

    /// Whether no connection could be made (including TLS handshake failures and connect
    /// timeouts). Nothing was sent.
    pub fn is_connect(&self) -> bool {
        matches!(
            &*self.kind,
            ErrorKind::Connect { .. }
                | ErrorKind::Tls { .. }
                | ErrorKind::Timeout { what: TimeoutKind::Connect(_), .. }
        )
    }

    /// Whether the TLS handshake failed.
    pub fn is_tls(&self) -> bool {
        matches!(*self.kind, ErrorKind::Tls { .. })
    }

    /// Whether the API answered with a non-success status.
    pub fn is_api(&self) -> bool {
        matches!(*self.kind, ErrorKind::Api { .. })
    }

    /// Whether a success answer could not be decoded.
    pub fn is_decode(&self) -> bool {
        matches!(*self.kind, ErrorKind::Decode(_))
    }

    /// Whether the configuration is not usable, or a request could not be built from the input.
    pub fn is_config(&self) -> bool {
        matches!(*self.kind, ErrorKind::Config(_) | ErrorKind::Request(_))
    }

    /// The HTTP status of the answer, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match &*self.kind {
            ErrorKind::Api { error, .. } => Some(error.status),
            ErrorKind::Decode(error) => Some(error.status),
            ErrorKind::RateLimited { error, .. } => error.as_ref().map(|error| error.status),
            ErrorKind::Login { error, .. } => error.as_ref().map(|error| error.status),
            _ => None,
        }
    }

    /// The API error, if the server answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match &*self.kind {
            ErrorKind::Api { error, .. } => Some(error),
            ErrorKind::RateLimited { error, .. } | ErrorKind::Login { error, .. } => error.as_ref(),
            ErrorKind::SecretNotVerified { source } => source.api_error(),
            _ => None,
        }
    }

    /// The API's `error` code (`invalid_request`, `conflict`, …), if the server sent one.
    pub fn api_code(&self) -> Option<&ErrorCode> {
        self.api_error().and_then(|error| error.code.as_ref())
    }

    /// The server's `X-Request-Id`, if it sent one.
    pub fn request_id(&self) -> Option<&str> {
        match &*self.kind {
            ErrorKind::Decode(error) => error.request_id.as_deref(),
            _ => self.api_error().and_then(|error| error.request_id.as_deref()),
        }
    }

    /// Whether the same call may succeed if tried again later: timeouts, connection failures
    /// (not TLS), rate limiting, `429` and `5xx` answers. An [ambiguous](Self::is_ambiguous)
    /// outcome is not retryable: check the server's state first.
    pub fn is_retryable(&self) -> bool {
        match &*self.kind {
            ErrorKind::Timeout { what, .. } => !matches!(what, TimeoutKind::Activation(_)),
            ErrorKind::Connect { .. } | ErrorKind::Transport { .. } | ErrorKind::RateLimited { .. } => true,
            ErrorKind::Api { error, .. } => cyrisma_core::retry::is_retryable_status(error.status),
            ErrorKind::Login { reason, error, .. } => match reason {
                LoginFailureReason::NoResponse => true,
                _ => error.as_ref().is_some_and(|error| cyrisma_core::retry::is_retryable_status(error.status)),
            },
            _ => false,
        }
    }

    /// Whether a call that is not safe to repeat may have taken effect: it was not sent again,
    /// and the server's state must be checked before trying again.
    pub fn is_ambiguous(&self) -> bool {
        matches!(*self.kind, ErrorKind::Ambiguous { .. })
    }

    /// Whether the server asked the client to slow down: a wait above the configured maximum,
    /// or a `429`/`503` answer that retries did not get past.
    pub fn is_rate_limited(&self) -> bool {
        match &*self.kind {
            ErrorKind::RateLimited { .. } => true,
            ErrorKind::Api { error, .. } => error.status == StatusCode::TOO_MANY_REQUESTS,
            _ => false,
        }
    }

    /// How long the server asked to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match &*self.kind {
            ErrorKind::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => self
                .api_error()
                .and_then(|error| error.retry_after.as_deref())
                .and_then(|value| cyrisma_core::retry::parse_retry_after(value, std::time::SystemTime::now())),
        }
    }

    /// Whether the credentials or the token were refused: a failed login, or a `401` that the
    /// one re-login and replay did not cure.
    pub fn is_auth(&self) -> bool {
        match &*self.kind {
            ErrorKind::Login { .. } => true,
            ErrorKind::Api { error, .. } => error.status == StatusCode::UNAUTHORIZED,
            ErrorKind::SecretNotVerified { source } => source.is_auth(),
            _ => false,
        }
    }

    /// Whether the response body was larger than the configured maximum.
    pub fn is_body_too_large(&self) -> bool {
        matches!(*self.kind, ErrorKind::BodyTooLarge { .. })
    }

    /// Whether a host was refused before any connection: an instance host outside the allowed
    /// domain, or plain http towards an address that is not loopback.
    pub fn is_host_refused(&self) -> bool {
        matches!(
            &*self.kind,
            ErrorKind::HostRefused { .. }
                | ErrorKind::InsecureScheme { .. }
                | ErrorKind::Config(ConfigError::InsecureBaseUrl { .. })
        )
    }

    /// Whether the thing asked for does not exist (`404`, or an instance id not in the
    /// structure).
    pub fn is_not_found(&self) -> bool {
        match &*self.kind {
            ErrorKind::InstanceNotFound { .. } | ErrorKind::NotFound { .. } => true,
            ErrorKind::Api { error, .. } => error.status == StatusCode::NOT_FOUND,
            _ => false,
        }
    }

    /// The new API secret held by a [`ErrorKind::SecretNotSaved`] error.
    pub fn unsaved_secret(&self) -> Option<&NewSecret> {
        match &*self.kind {
            ErrorKind::SecretNotSaved { unsaved, .. } => Some(unsaved),
            _ => None,
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("cyrisma_transport::Error").field(&self.kind).finish()
    }
}

/// One level, like hyper's errors: what failed, with the cause in
/// [`source`](std::error::Error::source). The alternate form (`{:#}`) appends every cause of the
/// chain after `: `, skipping a cause whose text the previous level already shows.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut previous = self.kind.to_string();
        f.write_str(&previous)?;
        if f.alternate() {
            // Bounded: a chain deeper than this is cut.
            let causes = std::iter::successors(std::error::Error::source(self), |cause| cause.source()).take(16);
            for cause in causes {
                let text = cause.to_string();
                if !text.is_empty() && !previous.contains(&text) {
                    write!(f, ": {text}")?;
                    previous = text;
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.kind)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Self {
        Self::new(ErrorKind::Config(error))
    }
}

impl From<RequestError> for Error {
    fn from(error: RequestError) -> Self {
        Self::new(ErrorKind::Request(error))
    }
}

fn fmt_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

fn fmt_request_id(error: Option<&ApiError>) -> String {
    error.and_then(|error| error.request_id.as_deref()).map(|id| format!(" (request id {id})")).unwrap_or_default()
}

/// What a login error says at its own level (the API's answer, when there is one, is its source).
fn login_reason(reason: LoginFailureReason, error: Option<&ApiError>, detail: Option<&str>) -> String {
    if error.is_none()
        && let Some(detail) = detail
    {
        return format!(": {}", detail.trim_start_matches("logging in failed: "));
    }
    match (reason, error) {
        (_, Some(error)) if error.status == StatusCode::UNAUTHORIZED || error.status == StatusCode::BAD_REQUEST => {
            ": the api refused the credentials; check the api key and secret".to_owned()
        }
        (_, Some(_)) => String::new(),
        (LoginFailureReason::Status(status), None) => format!(": the api answered {status}"),
        (LoginFailureReason::InvalidResponse, None) => ": the answer carried no usable access token".to_owned(),
        _ => ": no answer from the server".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16) -> ApiError {
        let mut error = ApiError::new(StatusCode::from_u16(status).unwrap());
        error.code = Some(ErrorCode::from_wire("conflict"));
        error.message = Some("already converted.".into());
        error.request_id = Some("req-42".into());
        error
    }

    #[test]
    fn api_errors_show_status_code_message_and_request_id() {
        let error = Error::new(ErrorKind::Api { endpoint: "instances.convert_instance", error: api_error(409) });
        // One level in `Display`; the server's answer is the source, and `{:#}` shows the chain.
        assert_eq!(error.to_string(), "`instances.convert_instance` failed");
        let source = std::error::Error::source(&error).map(ToString::to_string).unwrap_or_default();
        let text = format!("{error:#}");
        assert_eq!(text, format!("`instances.convert_instance` failed: {source}"));
        for part in ["409", "conflict", "already converted", "req-42"] {
            assert!(source.contains(part), "{source}");
        }
        assert!(!text.ends_with('.'), "{text}");
        assert!(error.is_api() && !error.is_retryable() && !error.is_auth());
        assert_eq!(error.status(), Some(StatusCode::CONFLICT));
        assert_eq!(error.request_id(), Some("req-42"));
        assert_eq!(error.api_code().map(ToString::to_string).as_deref(), Some("conflict"));
    }

    #[test]
    fn predicates_follow_the_kind() {
        let timeout = Error::new(ErrorKind::Timeout {
            what: TimeoutKind::Connect("h:443".into()),
            after: Duration::from_secs(10),
        });
        assert!(timeout.is_timeout() && timeout.is_connect() && timeout.is_retryable());
        assert_eq!(timeout.to_string(), "connecting to h:443 timed out after 10 s");
        let ambiguous = Error::new(ErrorKind::Ambiguous { endpoint: "x.y", hint: "check".into(), source: None });
        assert!(ambiguous.is_ambiguous() && !ambiguous.is_retryable());
        let limited = Error::new(ErrorKind::RateLimited {
            endpoint: "x.y",
            retry_after: Duration::from_secs(300),
            error: Some(api_error(429)),
        });
        assert!(limited.is_rate_limited() && limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(300)));
        assert!(limited.to_string().contains("req-42"));
    }

    #[test]
    fn messages_are_lower_case_without_a_trailing_period() {
        let kinds = vec![
            ErrorKind::Connect { host: "h:443".into(), reason: "refused".into(), source: None },
            ErrorKind::Tls { host: "h:443".into(), source: "bad certificate".into() },
            ErrorKind::Timeout { what: TimeoutKind::Total("x.y"), after: Duration::from_millis(1500) },
            ErrorKind::Timeout { what: TimeoutKind::Attempt("x.y"), after: Duration::from_secs(30) },
            ErrorKind::Transport { endpoint: "x.y", host: "h:443".into(), source: "reset".into() },
            ErrorKind::Ambiguous { endpoint: "x.y", hint: "check it".into(), source: None },
            ErrorKind::BodyTooLarge { endpoint: "x.y", limit: 10, declared: Some(11) },
            ErrorKind::InsecureScheme { host: "h:80".into() },
            ErrorKind::Login { reason: LoginFailureReason::NoResponse, error: None, detail: None },
            ErrorKind::Login {
                reason: LoginFailureReason::Status(StatusCode::UNAUTHORIZED),
                error: Some(api_error(401)),
                detail: None,
            },
            ErrorKind::InstanceNotFound { instance_id: "cc1".into() },
            ErrorKind::NotFound { resource: "user", id: "u1".into() },
            ErrorKind::InstanceWithoutHost { instance_id: "cc1".into() },
            ErrorKind::InstanceSuspended { instance_id: "cc1".into() },
            ErrorKind::SecretUnreadable,
            ErrorKind::Config(ConfigError::NoTrustRoots),
            ErrorKind::Config(ConfigError::MissingCredential("secret")),
        ];
        for kind in kinds {
            let text = Error::new(kind).to_string();
            assert!(text.starts_with(|ch: char| !ch.is_uppercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
        let login = Error::new(ErrorKind::Login {
            reason: LoginFailureReason::Status(StatusCode::UNAUTHORIZED),
            error: Some(api_error(401)),
            detail: None,
        });
        assert!(login.is_auth() && login.to_string().contains("check the api key and secret"), "{login}");
    }

    #[test]
    fn display_is_one_level_and_the_cause_is_the_source() {
        let host_error = HostError::Empty;
        let cases = [
            (ErrorKind::Api { endpoint: "x.y", error: api_error(404) }, api_error(404).to_string()),
            (ErrorKind::HostRefused { instance_id: "cc1".into(), error: host_error.clone() }, host_error.to_string()),
            (
                ErrorKind::Login {
                    reason: LoginFailureReason::Status(StatusCode::FORBIDDEN),
                    error: Some(api_error(403)),
                    detail: None,
                },
                api_error(403).to_string(),
            ),
        ];
        for (kind, cause) in cases {
            let error = Error::new(kind);
            let text = error.to_string();
            assert!(!text.contains(&cause), "{text}");
            assert_eq!(std::error::Error::source(&error).map(ToString::to_string), Some(cause.clone()));
            assert_eq!(format!("{error:#}"), format!("{text}: {cause}"));
        }
        let plain = Error::new(ErrorKind::Login { reason: LoginFailureReason::NoResponse, error: None, detail: None });
        assert!(std::error::Error::source(&plain).is_none());
        assert_eq!(format!("{plain:#}"), plain.to_string());
    }

    #[test]
    fn unsaved_secrets_are_redacted_in_debug_and_display() {
        let error = Error::new(ErrorKind::SecretNotSaved {
            unsaved: NewSecret::Secret(ApiSecret::new("canary-secret")),
            source: "disk full".into(),
        });
        assert!(!format!("{error:?} {error}").contains("canary"));
        assert_eq!(
            error.unsaved_secret().and_then(NewSecret::secret).map(ApiSecret::expose_secret),
            Some("canary-secret")
        );
        let raw = NewSecret::RawBody(Bytes::from_static(b"{canary}"));
        assert!(!format!("{raw:?}").contains("canary"));
    }
}
