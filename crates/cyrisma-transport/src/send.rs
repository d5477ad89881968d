//! The send driver: carries out the core's per-call decisions ([`Call`]) with real I/O.
//!
//! One pass of [`Sender::transmit`] is: a permit for the host (under its current limit, and
//! after any pause the host asked for with `429`/`503` and `Retry-After`: see [`crate::gate`])
//! and one of the global pool, one attempt with the per-attempt timeout (send, then read the whole
//! body up to the cap), the host's back-pressure recorded before the permit is released, then the
//! [`Call`]'s [`Step`]: return the answer, sleep and send again, or fail with a typed error. When
//! the call needs a new token (a `401` to replay, or a token that went stale while waiting for a
//! permit) it returns [`Transmitted::Renew`] and its caller fetches one: the driver itself never
//! logs in, so login and instance authentication never re-enter it. The driver is generic over
//! [`Endpoint`]: no endpoint has code of its own here.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use cyrisma_core::Endpoint;
use cyrisma_core::call::{Call, Outcome, Step};
use cyrisma_core::endpoint::{Metadata, RequestBody, api_error};
use cyrisma_core::retry::GiveUpReason;
use cyrisma_core::session::{CurrentToken, Generation, Timestamp};
use http::HeaderValue;
use http::header::{CONTENT_LENGTH, USER_AGENT};
use http_body_util::Full;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::AuthState;
use crate::body::{BodyError, read_capped};
use crate::connect::{ConnectError, ConnectErrorKind};
use crate::error::{BoxError, Error, ErrorKind, TimeoutKind};
use crate::gate::HostPermit;
use crate::pool::{Hosts, Http};
use crate::redact::Redactor;
use crate::target::Target;

/// The I/O half of every call: the hosts' pools and gates, the global concurrency limit, the
/// per-attempt limits, and the clock the core's decisions are made on.
pub(crate) struct Sender {
    pub(crate) hosts: Hosts,
    global: Arc<Semaphore>,
    /// The client's own secrets, scrubbed from every error body the server sends back.
    pub(crate) redactor: Redactor,
    user_agent: HeaderValue,
    attempt_timeout: Duration,
    max_body_size: u64,
    origin: Instant,
}

/// The limits a [`Sender`] works under.
pub(crate) struct Limits {
    pub(crate) max_concurrency: usize,
    pub(crate) attempt_timeout: Duration,
    pub(crate) max_body_size: u64,
}

/// The final answer of a call (any status), and the token generation it was sent with.
pub(crate) struct Exchange {
    pub(crate) response: http::Response<Bytes>,
    pub(crate) generation: Option<Generation>,
}

/// How a pass of the driver ended.
pub(crate) enum Transmitted {
    /// The call's answer.
    Answer(Exchange),
    /// The call needs the current token (a `401` was handed to the session, or the token went
    /// stale): fetch it and transmit again with the same [`Call`].
    Renew,
}

/// What one attempt produced.
enum Attempt {
    Response(http::Response<Bytes>),
    Connect { kind: ConnectErrorKind, target: String, source: Option<BoxError> },
    Transport(BoxError),
    Timeout,
    TooLarge { declared: Option<u64> },
}

impl Attempt {
    /// The attempt as the core sees it.
    fn outcome(&self) -> Outcome<'_> {
        match self {
            Attempt::Response(response) => Outcome::Response { status: response.status(), headers: response.headers() },
            Attempt::Connect { kind, .. } if is_fatal(*kind) => Outcome::Fatal,
            Attempt::Connect { .. } => Outcome::BeforeSend,
            Attempt::Transport(_) | Attempt::Timeout => Outcome::AfterSend,
            Attempt::TooLarge { .. } => Outcome::Fatal,
        }
    }
}

impl Sender {
    pub(crate) fn new(hosts: Hosts, limits: Limits, user_agent: HeaderValue, redactor: Redactor) -> Self {
        Self {
            hosts,
            global: Arc::new(Semaphore::new(limits.max_concurrency)),
            redactor,
            user_agent,
            attempt_timeout: limits.attempt_timeout,
            max_body_size: limits.max_body_size,
            origin: Instant::now(),
        }
    }

    /// The clock of every decision: time since the client was built, on tokio's clock (so tests
    /// can pause it).
    pub(crate) fn now(&self) -> Timestamp {
        Timestamp::from_duration(Instant::now().saturating_duration_since(self.origin))
    }

    /// Sends `request` to `target` with `token` until `call` gives an answer, fails, or needs a
    /// new token. `auth` is told about a `401` to replay and asked whether `token` is still
    /// sendable once the permits are held.
    pub(crate) async fn transmit<E: Endpoint>(
        &self,
        call: &mut Call,
        target: Target<'_>,
        request: &E,
        token: Option<&CurrentToken>,
        auth: &AuthState,
    ) -> Result<Transmitted, Error> {
        let metadata = &E::METADATA;
        let host_key = target.host_key();
        let http = match target.instance {
            None => self.hosts.central(),
            Some(scope) => self.hosts.instance(&host_key, scope.group.is_some()),
        };
        let generation = token.map(|token| token.generation);
        // Bounded: every pass sends an attempt, and `call` allows a bounded number of them.
        loop {
            let permits = self.permits(&host_key, metadata, call).await?;
            if let Some(token) = token
                && !auth.still_sendable(token, target.instance_id(), self.now())
                && call.handle_stale_token()
            {
                // Waiting for the permits outlived the token, or a `401` elsewhere discarded it.
                return Ok(Transmitted::Renew);
            }
            let http_request = request.to_http_request(target.base, token.map(|token| &token.token))?;
            let attempt = self.attempt(&http, metadata, http_request, call.attempts() + 1).await;
            let outcome = attempt.outcome();
            if let Outcome::Response { status, headers } = outcome {
                // Every call to this host slows down, not only this one; recorded before the
                // permit is released, so that no waiting call slips through before the pause.
                permits.0.gate().handle_answer(status, headers, SystemTime::now(), self.now());
            }
            let step = call.handle_attempt(outcome, self.now(), SystemTime::now(), fastrand::f64());
            drop(permits);
            tracing::Span::current().record("attempts", call.attempts());
            match (step, attempt) {
                (Step::Answer, Attempt::Response(response)) => {
                    return Ok(Transmitted::Answer(Exchange { response, generation }));
                }
                (Step::Replay, Attempt::Response(response)) => {
                    if let Some(token) = token {
                        auth.handle_unauthorized(&response, token, target.instance_id());
                        tracing::debug!(
                            endpoint = metadata.name,
                            "401: the session decides on a new token; replaying once"
                        );
                        return Ok(Transmitted::Renew);
                    }
                    return Ok(Transmitted::Answer(Exchange { response, generation }));
                }
                (Step::Wait(delay), _) => {
                    tracing::debug!(
                        endpoint = metadata.name,
                        attempt = call.attempts(),
                        delay_ms = delay.as_millis() as u64,
                        "retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                (Step::RateLimited { retry_after }, attempt) => {
                    let error = match &attempt {
                        Attempt::Response(response) => Some(api_error(response)),
                        _ => None,
                    };
                    return Err(Error::new(ErrorKind::RateLimited { endpoint: metadata.name, retry_after, error }));
                }
                (Step::Fail(reason), attempt) => return Err(self.final_error(metadata, attempt, &host_key, reason)),
                // A step this version does not know, or one that does not fit the attempt: stop
                // rather than guess.
                (_, attempt) => {
                    let reason = GiveUpReason::Exhausted { attempts: call.attempts() };
                    return match attempt {
                        Attempt::Response(response) => Ok(Transmitted::Answer(Exchange { response, generation })),
                        other => Err(self.final_error(metadata, other, &host_key, reason)),
                    };
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
        let limit = self.max_body_size;
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
        let outcome = tokio::time::timeout(self.attempt_timeout, work).await.unwrap_or(Attempt::Timeout);
        let elapsed = started.elapsed();
        let elapsed_ms = elapsed.as_millis() as u64;
        span.record("elapsed_ms", elapsed_ms);
        span.in_scope(|| match &outcome {
            // Microseconds too: `xtask/bench/h5_trace.py` rebuilds the calls' timeline from these.
            Attempt::Response(response) => {
                let elapsed_us = elapsed.as_micros() as u64;
                tracing::debug!(status = response.status().as_u16(), elapsed_ms, elapsed_us, "answered")
            }
            Attempt::Connect { kind, .. } => tracing::debug!(?kind, elapsed_ms, "no connection"),
            Attempt::Transport(error) => tracing::debug!(error = %error, elapsed_ms, "connection failed"),
            Attempt::Timeout => tracing::debug!(elapsed_ms, "per-attempt timeout"),
            Attempt::TooLarge { .. } => tracing::debug!(elapsed_ms, "body over the limit"),
        });
        outcome
    }

    /// A permit for the host, then one of the global pool (always in this order). While the host
    /// is paused after a `429`/`503` with `Retry-After`, waits for the end of the pause holding
    /// only the host's permit, or fails at once as rate limited when `call` says so (a pause
    /// longer than the policy sleeps for, or one that outlasts the call's deadline).
    async fn permits(
        &self,
        host_key: &str,
        metadata: &Metadata,
        call: &Call,
    ) -> Result<(HostPermit, OwnedSemaphorePermit), Error> {
        let gate = self.hosts.gate(host_key);
        let host_permit = gate.acquire(self.now()).await;
        // Bounded: each pass sleeps until the pause ends; another answer can extend it only up
        // to the call's deadline, past which the call fails as rate limited.
        while let Some(left) = gate.pause(self.now()) {
            match call.handle_host_paused(left, self.now()) {
                Step::Wait(wait) => {
                    tracing::debug!(
                        endpoint = metadata.name,
                        wait_ms = wait.as_millis() as u64,
                        "host paused by Retry-After"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    return Err(Error::new(ErrorKind::RateLimited {
                        endpoint: metadata.name,
                        retry_after: left,
                        error: None,
                    }));
                }
            }
        }
        // The semaphore is never closed, so acquiring cannot fail.
        let global_permit =
            self.global.clone().acquire_owned().await.unwrap_or_else(|_| unreachable!("semaphores are never closed"));
        Ok((host_permit, global_permit))
    }

    /// The error for a failed attempt that is not tried again.
    fn final_error(&self, metadata: &Metadata, attempt: Attempt, host_key: &str, reason: GiveUpReason) -> Error {
        let ambiguous = reason == GiveUpReason::AmbiguousOutcome;
        let kind = match attempt {
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
                ErrorKind::Timeout { what: TimeoutKind::Attempt(metadata.name), after: self.attempt_timeout }
            }
            Attempt::TooLarge { declared } => {
                ErrorKind::BodyTooLarge { endpoint: metadata.name, limit: self.max_body_size, declared }
            }
        };
        Error::new(kind)
    }
}

/// Connection failures that retrying cannot fix.
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
