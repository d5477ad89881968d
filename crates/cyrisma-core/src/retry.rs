//! The retry policy: whether and when to retry a failed attempt.
//!
//! [`RetryPolicy::decide`] is a pure function of what happened (the failure [`Phase`], the
//! status, the `Retry-After` header), whether the call is idempotent ([`Metadata::idempotent`]),
//! the attempt number, a random sample and the current wall-clock time, all given by the caller.
//! It never sleeps and never reads a clock.
//!
//! # Rules
//!
//! 1. A `401` is never retried here: the session handles it
//!    ([`Session::handle_unauthorized`](crate::session::Session::handle_unauthorized)).
//! 2. A failure before anything was sent ([`Phase::BeforeSend`]: DNS failure, connection
//!    refused) is retried for every call, idempotent or not.
//! 3. A non-idempotent call (create, convert, suspend, MFA, regen-pass, …) is never retried once
//!    its bytes may have reached the server: [`Phase::AfterSend`] gives up with
//!    [`GiveUpReason::AmbiguousOutcome`] (the server may have acted), and every status response
//!    gives up too (even `429`/`503`, as CYRISMA has no idempotency keys).
//! 4. An idempotent call is retried after [`Phase::AfterSend`], and after the statuses of
//!    [`is_retryable_status`]: `429`, `500`, `502`, `503`, `504`. Every other status, including
//!    every other `4xx`, `501` and `505`+, is final.
//! 5. A `Retry-After` header (seconds or HTTP date; a date in the past means now) on a retryable
//!    status is honoured exactly; above [`RetryPolicy::max_retry_after`] the decision is
//!    [`Decision::RateLimited`] instead of a sleep. An absent or unreadable header means
//!    full-jitter exponential backoff: `sample * min(max_backoff, base_delay * 2^(attempt - 1))`.
//! 6. At most [`RetryPolicy::max_retries`] `+ 1` attempts in all.
//!
//! [`Metadata::idempotent`]: crate::endpoint::Metadata::idempotent

use std::time::{Duration, SystemTime};

use http::StatusCode;

/// When an attempt failed.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[non_exhaustive]
pub enum Phase<'a> {
    /// Nothing of the request was written: DNS failure, connection refused, TLS handshake failure.
    /// The server cannot have acted.
    BeforeSend,
    /// Request bytes were (or may have been) written, and no complete response came back: reset,
    /// timeout, cut response. The server may have acted.
    AfterSend,
    /// A complete response with a non-success status.
    Response {
        /// The status.
        status: StatusCode,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<&'a str>,
    },
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
#[must_use]
#[non_exhaustive]
pub enum Decision {
    /// Wait this long, then send the next attempt.
    RetryAfter(Duration),
    /// The server asked for a pause longer than [`RetryPolicy::max_retry_after`]: fail now with a
    /// typed rate-limited error instead of sleeping.
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Duration,
    },
    /// Do not retry.
    GiveUp(GiveUpReason),
}

/// Why a failed attempt is not retried.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GiveUpReason {
    /// Every allowed attempt has been made.
    #[error("gave up after {attempts} attempts")]
    Exhausted {
        /// How many attempts were made.
        attempts: u32,
    },
    /// A non-idempotent request may have reached the server and its outcome is unknown: check
    /// the server's state before sending it again.
    #[error("the request may have reached the server and is not safe to repeat: the outcome is unknown")]
    AmbiguousOutcome,
    /// A non-idempotent request got an answer; it is never sent twice.
    #[error("the request is not safe to repeat and the server answered {status}")]
    NotIdempotent {
        /// The status of the answer.
        status: StatusCode,
    },
    /// `401`: the session handles it (new token or instance authentication, then one replay).
    #[error("the api answered 401: left to the session")]
    Unauthorized,
    /// A status that retrying cannot fix.
    #[error("the api answered {status}, which is not retryable")]
    Status {
        /// The status.
        status: StatusCode,
    },
    /// A failure that retrying cannot fix (a TLS failure, plain http to a remote host, a body
    /// over the size cap).
    #[error("the failure is not one that retrying can fix")]
    Unrecoverable,
}

/// The retry rules (see the [module documentation](self)).
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt; attempts in all are one more. Default: 2 (3 attempts).
    pub max_retries: u32,
    /// Backoff base: the first retry waits up to this long. Default: 0.5 s.
    pub base_delay: Duration,
    /// Backoff cap: no backoff delay exceeds it. Default: 30 s.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the policy sleeps for; a longer one gives
    /// [`Decision::RateLimited`]. Default: 120 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// The documented defaults: 2 retries (3 attempts), backoff 0.5 s doubling up to 30 s,
    /// `Retry-After` honoured up to 120 s.
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt).
    pub fn never() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    /// How many attempts the policy allows in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_retries.saturating_add(1)
    }

    /// Decides what to do after attempt number `attempt` (counted from 1; 0 is read as 1) failed
    /// in `phase`. `sample` is a uniform random number in `[0, 1)` (clamped into `[0, 1]`; NaN
    /// reads as 0); `now` is the current wall-clock time, used only for an HTTP-date
    /// `Retry-After`.
    pub fn decide(&self, idempotent: bool, phase: Phase<'_>, attempt: u32, sample: f64, now: SystemTime) -> Decision {
        let attempt = attempt.max(1);
        let retry_after = match phase {
            Phase::AfterSend if !idempotent => return Decision::GiveUp(GiveUpReason::AmbiguousOutcome),
            Phase::BeforeSend | Phase::AfterSend => None,
            Phase::Response { status, .. } if status == StatusCode::UNAUTHORIZED => {
                return Decision::GiveUp(GiveUpReason::Unauthorized);
            }
            Phase::Response { status, .. } if !is_retryable_status(status) => {
                return Decision::GiveUp(GiveUpReason::Status { status });
            }
            Phase::Response { status, .. } if !idempotent => {
                return Decision::GiveUp(GiveUpReason::NotIdempotent { status });
            }
            Phase::Response { retry_after, .. } => retry_after.and_then(|value| parse_retry_after(value, now)),
        };
        if let Some(retry_after) = retry_after.filter(|delay| *delay > self.max_retry_after) {
            return Decision::RateLimited { retry_after };
        }
        if attempt >= self.max_attempts() {
            return Decision::GiveUp(GiveUpReason::Exhausted { attempts: attempt });
        }
        Decision::RetryAfter(retry_after.unwrap_or_else(|| self.backoff(attempt, sample)))
    }

    /// The full-jitter backoff after attempt `attempt` (from 1) failed:
    /// `sample * min(max_backoff, base_delay * 2^(attempt - 1))`, with `sample` clamped into
    /// `[0, 1]` (NaN reads as 0).
    pub fn backoff(&self, attempt: u32, sample: f64) -> Duration {
        let exponent = attempt.max(1) - 1;
        let ceiling = 2u32
            .checked_pow(exponent)
            .and_then(|factor| self.base_delay.checked_mul(factor))
            .map_or(self.max_backoff, |delay| delay.min(self.max_backoff));
        let sample = if sample.is_nan() { 0.0 } else { sample.clamp(0.0, 1.0) };
        // `mul_f64` panics only on a negative or overflowing result; `sample` is in [0, 1].
        ceiling.mul_f64(sample)
    }
}

/// Whether the policy retries an idempotent call that got `status`: `429`, `500`, `502`, `503`,
/// `504`.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// Reads a `Retry-After` value: delay seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`; a past date means zero). `None` for
/// anything else (negative or fractional numbers, garbage).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Only digits: the sole failure is overflow, which means "very long".
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_seconds_read_as_very_long() {
        let parsed = parse_retry_after("99999999999999999999999", SystemTime::UNIX_EPOCH);
        assert_eq!(parsed, Some(Duration::from_secs(u64::MAX)));
    }

    #[test]
    fn backoff_survives_huge_attempt_numbers() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(u32::MAX, 1.0), policy.max_backoff);
        assert_eq!(policy.backoff(0, 1.0), policy.base_delay);
    }

    #[test]
    fn reasons_read_as_lower_case_sentences() {
        for reason in [
            GiveUpReason::Exhausted { attempts: 3 },
            GiveUpReason::AmbiguousOutcome,
            GiveUpReason::NotIdempotent { status: StatusCode::TOO_MANY_REQUESTS },
            GiveUpReason::Unauthorized,
            GiveUpReason::Status { status: StatusCode::BAD_REQUEST },
            GiveUpReason::Unrecoverable,
        ] {
            let text = reason.to_string();
            assert!(text.starts_with(|ch: char| ch.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }
}
