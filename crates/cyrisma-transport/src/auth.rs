//! Automatic authentication, driven by the core [`Session`]: lazy login, proactive refresh,
//! single flight, compare-and-clear on `401`, and instance authentication once per instance per
//! token.
//!
//! The session sits behind a `std` mutex that is never held across an `.await`. Callers ask it
//! for a token; the one caller it picks performs the login while the others wait on a `watch`
//! channel that is bumped whenever a login is reported (succeeded, failed or abandoned), so any
//! number of concurrent callers cause one login. A performer that is cancelled (its future
//! dropped, for example by a timeout) reports the login abandoned from a drop guard, so waiters
//! never hang.
//!
//! Instance authentication is serialized by one async mutex. Callers that need it first record
//! their instance in a pending set; the holder of the mutex authenticates everything pending (and
//! the caller's fan-out group) at once: the one-instance form for one instance, the all-instances
//! form for more.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyrisma_core::api::instances::{authenticate_all_instances, authenticate_instance};
use cyrisma_core::endpoint::api_error;
use cyrisma_core::session::{
    CurrentToken, Generation, InstanceAuth, InstanceAuthPlan, LoginAttempt, LoginAttemptId, LoginFailure,
    LoginFailureReason, LoginOutcome, LoginProgress, Session, SessionConfig, Timestamp, TokenPoll,
};
use cyrisma_core::types::InstanceLogin;
use cyrisma_core::{ApiError, Endpoint};
use tokio::sync::watch;

use crate::client::{Inner, InstanceScope, lock};
use crate::error::{Error, ErrorKind};

/// The authentication state of one client.
pub(crate) struct AuthState {
    session: Mutex<Session>,
    events: watch::Sender<u64>,
    instance_lock: tokio::sync::Mutex<()>,
    pending: Mutex<BTreeSet<String>>,
    last_failure: Mutex<Option<SharedFailure>>,
    logins: AtomicU64,
}

/// What waiters learn about a failed login they waited on.
struct SharedFailure {
    attempt: LoginAttemptId,
    error: Option<ApiError>,
    detail: Option<String>,
}

impl AuthState {
    pub(crate) fn new(config: SessionConfig) -> Self {
        Self {
            session: Mutex::new(Session::new(config)),
            events: watch::channel(0).0,
            instance_lock: tokio::sync::Mutex::new(()),
            pending: Mutex::new(BTreeSet::new()),
            last_failure: Mutex::new(None),
            logins: AtomicU64::new(0),
        }
    }

    pub(crate) fn logins_performed(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    fn notify(&self) {
        self.events.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Whether `token` may still be sent now: it is the session's current token, it has not
    /// expired, and the instance (if any) does not need authentication for it.
    pub(crate) fn still_sendable(&self, token: &CurrentToken, instance_id: Option<&str>, now: Timestamp) -> bool {
        let session = lock(&self.session);
        session.generation() == Some(token.generation)
            && now < token.expires_at
            && instance_id.is_none_or(|id| session.instance_auth(id) != InstanceAuth::Needed)
    }

    /// Whether the instance needs authentication for the current token.
    pub(crate) fn instance_needed(&self, instance_id: &str) -> bool {
        lock(&self.session).instance_auth(instance_id) == InstanceAuth::Needed
    }

    /// Hands a `401` to the session: `instance_not_authenticated` from an instance host clears
    /// that instance's mark, anything else clears the token (both compare-and-clear by
    /// generation).
    pub(crate) fn handle_unauthorized(
        &self,
        response: &http::Response<Bytes>,
        token: &CurrentToken,
        instance_id: Option<&str>,
    ) {
        let error = api_error(response);
        let mut session = lock(&self.session);
        match instance_id {
            Some(id) if error.is_instance_not_authenticated() => {
                let action = session.handle_instance_unauthorized(token.generation, id);
                tracing::debug!(?action, "401 instance_not_authenticated");
            }
            _ => {
                let action = session.handle_unauthorized(token.generation);
                tracing::debug!(?action, "401 for the access token");
            }
        }
    }

    /// Records the answer of an instance login sent with the token of `generation`. Instances
    /// asked about but listed in neither array are marked refused for this token, so that they
    /// are not asked again until a new token (a reporting call then gets the server's own
    /// answer, and an `instance_not_authenticated` clears the mark for one more try).
    pub(crate) fn record_instance_login(
        &self,
        generation: Generation,
        login: &InstanceLogin,
        asked: &[String],
        single: Option<&str>,
    ) {
        let mut succeeded = login.succeeded_ids();
        let failed = login.failed_ids();
        if let Some(id) = single
            && !failed.iter().any(|failed| failed == id)
            && !succeeded.iter().any(|ok| ok == id)
        {
            succeeded.push(id.to_owned());
        }
        let unlisted: Vec<&String> =
            asked.iter().filter(|id| !succeeded.contains(id) && !failed.contains(id)).collect();
        let mut session = lock(&self.session);
        session.handle_instances_authenticated(generation, succeeded.iter().map(String::as_str));
        session.handle_instances_refused(generation, failed.iter().map(String::as_str));
        session.handle_instances_refused(generation, unlisted.into_iter().map(String::as_str));
    }

    fn record_failure(&self, attempt: LoginAttemptId, error: &Error) {
        let failure = SharedFailure { attempt, error: error.api_error().cloned(), detail: Some(error.to_string()) };
        *lock(&self.last_failure) = Some(failure);
    }

    /// The error a waiter reports for a login it waited on and that failed.
    fn shared_failure(&self, failure: &LoginFailure) -> Error {
        let last = lock(&self.last_failure);
        let (error, detail) = match last.as_ref().filter(|last| last.attempt == failure.attempt) {
            Some(last) => (last.error.clone(), last.detail.clone()),
            None => (None, None),
        };
        Error::new(ErrorKind::Login { reason: failure.reason, error, detail })
    }
}

/// Reports a login abandoned if its performer is dropped before reporting it.
struct LoginGuard<'a> {
    auth: &'a AuthState,
    attempt: LoginAttemptId,
    armed: bool,
}

impl LoginGuard<'_> {
    fn finish(&mut self) {
        self.armed = false;
        self.auth.notify();
    }
}

impl Drop for LoginGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            lock(&self.auth.session).handle_login_abandoned(self.attempt);
            self.auth.notify();
        }
    }
}

impl Inner {
    /// A token to send now: the current one, or one from the login this caller performs or
    /// waits for.
    pub(crate) async fn token(&self) -> Result<CurrentToken, Error> {
        loop {
            let mut events = self.auth.events.subscribe();
            let poll = lock(&self.auth.session).poll_token(self.now());
            match poll {
                TokenPoll::Ready(current) => return Ok(current),
                TokenPoll::LogIn { attempt, current } => {
                    // Boxed: the login is itself a call through the send loop.
                    let result = Box::pin(self.perform_login(attempt)).await;
                    match (result, current) {
                        (Ok(()), _) => {}
                        (Err(error), Some(current)) if self.now() < current.expires_at => {
                            tracing::debug!(error = %error, "proactive token refresh failed; the current token is still valid");
                            return Ok(current);
                        }
                        (Err(error), _) => return Err(error),
                    }
                }
                TokenPoll::Wait(attempt) => {
                    let limit = lock(&self.auth.session).config().login_timeout;
                    let _ = tokio::time::timeout(limit, events.changed()).await;
                    let outcome = lock(&self.auth.session).login_outcome(attempt);
                    if let LoginOutcome::Failed(failure) = outcome {
                        return Err(self.auth.shared_failure(&failure));
                    }
                }
                // A future kind of answer: wait a moment for the session to settle, then poll.
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    /// Performs the login the session asked for: the refresh grant, then the password grant if
    /// the session falls back to it.
    async fn perform_login(&self, attempt: LoginAttempt) -> Result<(), Error> {
        self.auth.logins.fetch_add(1, Ordering::Relaxed);
        let mut guard = LoginGuard { auth: &self.auth, attempt: attempt.id, armed: true };
        let mut attempt = attempt;
        loop {
            let (api_key, api_secret) = self.credentials();
            let request = attempt.request(&api_key, &api_secret);
            tracing::debug!(grant = ?request.grant_kind(), "logging in");
            let result = self.call(self.central_target(), &request).await;
            let now = self.now();
            let (progress, error) = {
                let mut session = lock(&self.auth.session);
                match result {
                    Ok(response) => {
                        self.redactor.remember(response.access_token.expose_secret());
                        if let Some(refresh_token) = &response.refresh_token {
                            self.redactor.remember(refresh_token.expose_secret());
                        }
                        let ttl = session.config().token_ttl(response.expires_in);
                        let jitter = refresh_jitter(session.config(), ttl);
                        (session.handle_login_succeeded(attempt.id, response, jitter, now), None)
                    }
                    Err(error) => (session.handle_login_failed(attempt.id, failure_reason(&error), now), Some(error)),
                }
            };
            match progress {
                LoginProgress::Retry(next) => {
                    tracing::debug!("the refresh grant failed; logging in with the api key and secret");
                    attempt = next;
                }
                LoginProgress::Failed(failure) => {
                    let error = login_error(failure.reason, error);
                    self.auth.record_failure(failure.attempt, &error);
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
        lock(&self.auth.pending).insert(scope.id.to_owned());
        let _serial = self.auth.instance_lock.lock().await;
        if !self.auth.instance_needed(scope.id) {
            lock(&self.auth.pending).remove(scope.id);
            return Ok(());
        }
        let mut candidates: Vec<String> = lock(&self.auth.pending).iter().cloned().collect();
        candidates.extend(scope.group.unwrap_or_default().iter().cloned());
        let (asked, all) = {
            let session = lock(&self.auth.session);
            let needed: Vec<String> = session
                .instances_needing_auth(candidates.iter().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect();
            let all = matches!(session.poll_instance_auth(needed.iter().map(String::as_str)), InstanceAuthPlan::All);
            (needed, all)
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
        let mut pending = lock(&self.auth.pending);
        pending.remove(scope.id);
        for id in &asked {
            pending.remove(id);
        }
        result
    }

    /// Sends an instance login and records its answer. A refusal of one instance (suspended,
    /// unknown) is recorded and not an error here: the reporting call then gets the server's own
    /// answer.
    async fn instance_login<E: Endpoint<Response = InstanceLogin>>(
        &self,
        request: &E,
        asked: &[String],
        single: Option<&str>,
    ) -> Result<(), Error> {
        tracing::debug!(endpoint = E::METADATA.name, instances = asked.len(), "authenticating instances for reporting");
        let exchange = self.exchange(self.central_target(), request, &self.config.retry).await?;
        let Some(generation) = exchange.generation else { return Ok(()) };
        match E::parse_response(&exchange.response) {
            Ok(login) => {
                self.auth.record_instance_login(generation, &login, asked, single);
                Ok(())
            }
            Err(error) => {
                let status = exchange.response.status();
                if single.is_some() && status.is_client_error() && status != http::StatusCode::UNAUTHORIZED {
                    lock(&self.auth.session).handle_instances_refused(generation, asked.iter().map(String::as_str));
                    return Ok(());
                }
                Err(Error::from_response(E::METADATA.name, error))
            }
        }
    }
}

/// The refresh-margin jitter: uniform in `[0, margin / 4]`, where `margin` is the longest
/// margin for tokens of lifetime `ttl`. Refreshes then happen between 75 % and 100 % of the
/// margin before expiry, so clients do not refresh in step and short tokens keep most of their
/// margin.
fn refresh_jitter(config: &SessionConfig, ttl: Duration) -> Duration {
    let margin = config.max_refresh_margin.min(ttl / 2);
    margin.mul_f64(0.25 * fastrand::f64())
}

fn failure_reason(error: &Error) -> LoginFailureReason {
    match error.kind() {
        ErrorKind::Api { error, .. } => LoginFailureReason::Status(error.status),
        ErrorKind::Decode(_) => LoginFailureReason::InvalidResponse,
        _ => LoginFailureReason::NoResponse,
    }
}

/// The error the performer of a failed login returns: the API's refusal as a login error, and
/// anything else (connection, TLS, timeout) as it is, being more telling.
fn login_error(reason: LoginFailureReason, error: Option<Error>) -> Error {
    match error {
        Some(error) if matches!(error.kind(), ErrorKind::Api { .. } | ErrorKind::Decode(_)) => {
            let api = error.api_error().cloned();
            Error::new(ErrorKind::Login { reason, error: api, detail: None })
        }
        Some(error) => error,
        None => Error::new(ErrorKind::Login { reason, error: None, detail: None }),
    }
}
