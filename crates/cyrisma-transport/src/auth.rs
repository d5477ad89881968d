//! The authentication state of a client, around the core [`Session`]: lazy login, proactive
//! refresh, single flight, compare-and-clear on `401`, and instance authentication once per
//! instance per token. The logins themselves are sent by the client (`client.rs`), through the
//! send driver without a token; this module only keeps the state and the rules for sharing it.
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
use cyrisma_core::ApiError;
use cyrisma_core::api::auth::login;
use cyrisma_core::endpoint::api_error;
use cyrisma_core::session::{
    CurrentToken, Generation, InstanceAuth, InstanceAuthPlan, LoginAttemptId, LoginFailure, LoginFailureReason,
    LoginOutcome, LoginProgress, Session, SessionConfig, Timestamp, TokenPoll,
};
use cyrisma_core::types::InstanceLogin;
use tokio::sync::watch;

use crate::error::{Error, ErrorKind};
use crate::locks::lock;

/// The authentication state of one client.
pub(crate) struct AuthState {
    session: Mutex<Session>,
    events: watch::Sender<u64>,
    instance_lock: tokio::sync::Mutex<()>,
    pending: Mutex<BTreeSet<String>>,
    last_failure: Mutex<Option<SharedFailure>>,
    logins: AtomicU64,
    /// Instance logins answered so far (any form, any token).
    instance_logins: AtomicU64,
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
            instance_logins: AtomicU64::new(0),
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
        self.instance_logins.fetch_add(1, Ordering::Relaxed);
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

    /// Whether an instance login was ever answered for this client (with any token).
    pub(crate) fn instances_ever_authenticated(&self) -> bool {
        self.instance_logins.load(Ordering::Relaxed) > 0
    }

    /// Asks the session for a token at `now`, with a receiver that wakes up when a login is
    /// reported (subscribed first, so that no report is missed).
    pub(crate) fn poll_token(&self, now: Timestamp) -> (TokenPoll, watch::Receiver<u64>) {
        let events = self.events.subscribe();
        let poll = lock(&self.session).poll_token(now);
        (poll, events)
    }

    /// Waits, up to the login timeout, for the login `attempt` that another caller performs;
    /// its error if it failed.
    pub(crate) async fn wait_for_login(
        &self,
        mut events: watch::Receiver<u64>,
        attempt: LoginAttemptId,
    ) -> Result<(), Error> {
        let limit = lock(&self.session).config().login_timeout;
        let _ = tokio::time::timeout(limit, events.changed()).await;
        let outcome = lock(&self.session).login_outcome(attempt);
        match outcome {
            LoginOutcome::Failed(failure) => Err(self.shared_failure(&failure)),
            _ => Ok(()),
        }
    }

    /// Starts performing the login `attempt`: counted, and reported abandoned if the guard is
    /// dropped before [`LoginGuard::finish`].
    pub(crate) fn begin_login(&self, attempt: LoginAttemptId) -> LoginGuard<'_> {
        self.logins.fetch_add(1, Ordering::Relaxed);
        LoginGuard { auth: self, attempt, armed: true }
    }

    /// Records the result of one grant of the login `attempt` at `now`; returns what the session
    /// says next, and the error when the grant failed.
    pub(crate) fn handle_login_result(
        &self,
        attempt: LoginAttemptId,
        result: Result<login::Response, Error>,
        now: Timestamp,
    ) -> (LoginProgress, Option<Error>) {
        let mut session = lock(&self.session);
        match result {
            Ok(response) => {
                let ttl = session.config().token_ttl(response.expires_in);
                let jitter = refresh_jitter(session.config(), ttl);
                (session.handle_login_succeeded(attempt, response, jitter, now), None)
            }
            Err(error) => (session.handle_login_failed(attempt, failure_reason(&error), now), Some(error)),
        }
    }

    /// The error of a failed login, recorded for the callers that waited on it.
    pub(crate) fn login_failed(&self, failure: &LoginFailure, error: Option<Error>) -> Error {
        let error = login_error(failure.reason, error);
        self.record_failure(failure.attempt, &error);
        error
    }

    /// Waits for the right to authenticate instances (one caller at a time), having put
    /// `instance_id` in the pending set that the holder covers.
    pub(crate) async fn serialize_instance_auth(&self, instance_id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        lock(&self.pending).insert(instance_id.to_owned());
        self.instance_lock.lock().await
    }

    /// What to authenticate for `instance_id` now (call it holding the instance lock): `None`
    /// when nothing is needed any more; else the instances to ask about (everything pending and
    /// the fan-out `group` that still needs it) and whether the all-instances form fits.
    pub(crate) fn plan_instance_auth(&self, instance_id: &str, group: &[String]) -> Option<(Vec<String>, bool)> {
        if !self.instance_needed(instance_id) {
            lock(&self.pending).remove(instance_id);
            return None;
        }
        let mut candidates: Vec<String> = lock(&self.pending).iter().cloned().collect();
        candidates.extend(group.iter().cloned());
        let session = lock(&self.session);
        let needed: Vec<String> = session
            .instances_needing_auth(candidates.iter().map(String::as_str))
            .into_iter()
            .map(str::to_owned)
            .collect();
        let all = matches!(session.poll_instance_auth(needed.iter().map(String::as_str)), InstanceAuthPlan::All);
        Some((needed, all))
    }

    /// Instance authentication for `instance_id` is over (whatever its result): the instances
    /// asked about are no longer pending.
    pub(crate) fn finish_instance_auth(&self, instance_id: &str, asked: &[String]) {
        let mut pending = lock(&self.pending);
        pending.remove(instance_id);
        for id in asked {
            pending.remove(id);
        }
    }

    /// The instance login sent with the token of `generation` refused every instance in `asked`
    /// (a `4xx` to the one-instance form).
    pub(crate) fn handle_instances_refused(&self, generation: Generation, asked: &[String]) {
        lock(&self.session).handle_instances_refused(generation, asked.iter().map(String::as_str));
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
pub(crate) struct LoginGuard<'a> {
    auth: &'a AuthState,
    attempt: LoginAttemptId,
    armed: bool,
}

impl LoginGuard<'_> {
    /// The login was reported (succeeded or failed): wake the waiters, and do not report it
    /// abandoned.
    pub(crate) fn finish(&mut self) {
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
