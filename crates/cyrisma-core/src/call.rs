//! The decisions of one call: after each attempt, answer, replay after a `401`, wait and send
//! again, or give up with a typed reason.
//!
//! [`Call`] is sans-IO in the style of `quinn-proto` and of [`Session`](crate::session::Session):
//! it never sends, never sleeps and never reads a clock. The transport makes one per call, feeds
//! it what each attempt produced ([`Call::handle_attempt`], with the status and headers of a
//! response, the monotonic `now`, the wall-clock time for an HTTP-date `Retry-After`, and a random
//! sample) and carries out the [`Step`] it returns. The rules are those of [`crate::retry`]
//! (which decides whether a failed attempt is retried, and after how long), plus what a whole call
//! adds on top:
//!
//! 1. A `2xx` is the answer.
//! 2. A `401` to a call that carried an access token is replayed once ([`Step::Replay`]): the
//!    caller first hands the `401` to the session (compare-and-clear), then sends again with
//!    whatever token and instance authentication the session then asks for. A replay is not
//!    counted as an attempt. A second `401`, or a `401` to a call without a token (a login), is
//!    the answer.
//! 3. Every other status goes to [`RetryPolicy::decide`]: a retry becomes [`Step::Wait`], unless
//!    the wait would reach the call's deadline (then the status is the answer); every final
//!    status is the answer (the caller turns it into a typed API error when it parses it).
//! 4. A failure without a response goes to [`RetryPolicy::decide`] too; when it is not retried,
//!    [`Step::Fail`] says why: [`GiveUpReason::AmbiguousOutcome`] for a call that is not
//!    idempotent and may have reached the server (it is never sent again),
//!    [`GiveUpReason::Exhausted`] otherwise. A failure retrying cannot fix ([`Outcome::Fatal`]:
//!    a TLS failure, plain http to a remote host, a body over the cap) fails at once with
//!    [`GiveUpReason::Unrecoverable`].
//! 5. A `Retry-After` longer than [`RetryPolicy::max_retry_after`] gives [`Step::RateLimited`]
//!    (fail now, do not sleep); so does a pause of the whole host ([`Call::handle_host_paused`],
//!    see [`crate::throttle`]) that is longer, or that would outlast the deadline.
//! 6. Between taking a token and sending, the token may go stale (it expired while the call
//!    waited for a permit, or a `401` elsewhere discarded it): [`Call::handle_stale_token`] allows
//!    fetching the current one [`MAX_TOKEN_RENEWALS`] times per call, then the call goes out with
//!    what it has and the server decides.
//!
//! Every loop the transport runs around a `Call` is bounded: at most
//! [`RetryPolicy::max_attempts`] counted attempts, one replay, and [`MAX_TOKEN_RENEWALS`] renewals.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use cyrisma_core::api::instances::list_instances;
//! use cyrisma_core::call::{Call, Outcome, Step};
//! use cyrisma_core::retry::RetryPolicy;
//! use cyrisma_core::session::Timestamp;
//! use cyrisma_core::Endpoint;
//! use http::{HeaderMap, StatusCode};
//!
//! let deadline = Timestamp::ZERO.saturating_add(Duration::from_secs(60));
//! let mut call = Call::new(&list_instances::Request::METADATA, RetryPolicy::default(), deadline);
//! let mut headers = HeaderMap::new();
//! headers.insert("retry-after", "2".parse().unwrap());
//! let busy = Outcome::Response { status: StatusCode::SERVICE_UNAVAILABLE, headers: &headers };
//! let step = call.handle_attempt(busy, Timestamp::ZERO, SystemTime::UNIX_EPOCH, 0.5);
//! assert_eq!(step, Step::Wait(Duration::from_secs(2)));
//! let ok = Outcome::Response { status: StatusCode::OK, headers: &HeaderMap::new() };
//! let later = Timestamp::ZERO.saturating_add(Duration::from_secs(2));
//! assert_eq!(call.handle_attempt(ok, later, SystemTime::UNIX_EPOCH, 0.5), Step::Answer);
//! assert_eq!(call.attempts(), 2);
//! ```

use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

use crate::endpoint::{AuthKind, Metadata};
use crate::retry::{Decision, GiveUpReason, Phase, RetryPolicy};
use crate::session::Timestamp;

/// How many times one call may fetch the current token again after the one it took went stale.
pub const MAX_TOKEN_RENEWALS: u32 = 4;

/// What one attempt produced.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// A complete response (any status), with its headers.
    Response {
        /// The status.
        status: StatusCode,
        /// The headers (only `Retry-After` is read).
        headers: &'a HeaderMap,
    },
    /// Nothing of the request was written: DNS failure, connection refused, connect timeout. The
    /// server cannot have acted.
    BeforeSend,
    /// Request bytes were (or may have been) written, and no complete response came back: reset,
    /// per-attempt timeout, cut body. The server may have acted.
    AfterSend,
    /// A failure that retrying cannot fix: a TLS failure, plain http to a host that is not
    /// loopback, a body over the size cap.
    Fatal,
}

/// What to do after an attempt (or a host pause).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Step {
    /// The response of the attempt is the call's answer, whatever its status: return it.
    Answer,
    /// The attempt got a `401`: hand it to the session, then send again with the token (and
    /// instance authentication) the session asks for. Happens at most once per call.
    Replay,
    /// Wait this long, then send again.
    Wait(Duration),
    /// Fail now as rate limited: the server (or the host's pause) asks for a longer wait than
    /// the policy sleeps for, or than the call has left.
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Duration,
    },
    /// The attempt failed without a response and is not tried again: fail with this reason.
    Fail(GiveUpReason),
}

/// The decision state of one call. See the [module documentation](self) for the rules.
///
/// Contract: make one per call, before its first attempt, with the call's deadline on the same
/// monotonic clock as every `now` given later; call [`handle_attempt`](Self::handle_attempt)
/// once after every attempt and do what it returns; call
/// [`handle_stale_token`](Self::handle_stale_token) when the token taken for an attempt is no
/// longer sendable, and [`handle_host_paused`](Self::handle_host_paused) when the host asks every
/// call to wait. `now` must not go backwards between calls.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Call {
    idempotent: bool,
    authenticated: bool,
    policy: RetryPolicy,
    deadline: Timestamp,
    attempts: u32,
    replayed: bool,
    renewals: u32,
}

impl Call {
    /// A call of the endpoint described by `metadata` (whether it is idempotent, whether it
    /// carries an access token), under `policy`, that must be done by `deadline`.
    pub fn new(metadata: &Metadata, policy: RetryPolicy, deadline: Timestamp) -> Self {
        Self {
            idempotent: metadata.idempotent,
            authenticated: metadata.auth == AuthKind::AccessToken,
            policy,
            deadline,
            attempts: 0,
            replayed: false,
            renewals: 0,
        }
    }

    /// The attempts counted so far (a replay after a `401` is not counted).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the call has been replayed after a `401`.
    pub fn replayed(&self) -> bool {
        self.replayed
    }

    /// The attempt just made produced `outcome` at `now` (`wall`: the wall-clock time, used only
    /// for an HTTP-date `Retry-After`; `sample`: a uniform random number in `[0, 1)` for the
    /// backoff jitter). Returns what to do next.
    pub fn handle_attempt(&mut self, outcome: Outcome<'_>, now: Timestamp, wall: SystemTime, sample: f64) -> Step {
        self.attempts = self.attempts.saturating_add(1);
        let phase = match outcome {
            Outcome::Response { status, .. } if status.is_success() => return Step::Answer,
            Outcome::Response { status, .. } if status == StatusCode::UNAUTHORIZED => {
                if self.authenticated && !self.replayed {
                    self.replayed = true;
                    self.attempts -= 1;
                    return Step::Replay;
                }
                return Step::Answer;
            }
            Outcome::Response { status, headers } => {
                let retry_after = headers.get(RETRY_AFTER).and_then(|value| value.to_str().ok());
                Phase::Response { status, retry_after }
            }
            Outcome::BeforeSend => Phase::BeforeSend,
            Outcome::AfterSend => Phase::AfterSend,
            Outcome::Fatal => return Step::Fail(GiveUpReason::Unrecoverable),
        };
        let answered = matches!(phase, Phase::Response { .. });
        let give_up = |reason| if answered { Step::Answer } else { Step::Fail(reason) };
        match self.policy.decide(self.idempotent, phase, self.attempts, sample, wall) {
            Decision::RetryAfter(delay) if now.saturating_add(delay) < self.deadline => Step::Wait(delay),
            // The wait would reach the deadline: stop now with what there is.
            Decision::RetryAfter(_) => give_up(GiveUpReason::Exhausted { attempts: self.attempts }),
            Decision::RateLimited { retry_after } => Step::RateLimited { retry_after },
            Decision::GiveUp(reason) => give_up(reason),
        }
    }

    /// The token taken for the next attempt is no longer sendable (expired, discarded, or its
    /// instance lost its authentication). `true`: fetch the current token and come back; `false`:
    /// the call has renewed [`MAX_TOKEN_RENEWALS`] times already, so send with this one and let
    /// the server decide.
    pub fn handle_stale_token(&mut self) -> bool {
        if self.renewals >= MAX_TOKEN_RENEWALS {
            return false;
        }
        self.renewals += 1;
        true
    }

    /// The host is paused for `left` more (after a `429`/`503` with `Retry-After`, see
    /// [`crate::throttle`]) at `now`: [`Step::Wait`] for it, or [`Step::RateLimited`] when it
    /// is longer than [`RetryPolicy::max_retry_after`] or would reach the deadline.
    pub fn handle_host_paused(&self, left: Duration, now: Timestamp) -> Step {
        if left > self.policy.max_retry_after || now.saturating_add(left) >= self.deadline {
            Step::RateLimited { retry_after: left }
        } else {
            Step::Wait(left)
        }
    }
}
