//! Per-host back-pressure after `429 Too Many Requests` and `503 Service Unavailable`.
//!
//! The retry policy ([`crate::retry`]) decides what one call does after a `429`; a
//! [`HostThrottle`] decides what *every other* call to the same host does, so that a fan-out over
//! hundreds of instances stops pressing on a host that asked it to slow down:
//!
//! 1. **Pause.** A `429` or `503` with a readable `Retry-After` pauses the host until then: no
//!    new request is sent to it before that instant (a later answer can only extend the pause).
//!    A caller that would wait longer than it may ([`HostThrottle::poll_pause`] gives the time
//!    left) fails at once with a rate-limited error instead of sleeping.
//! 2. **Halve.** A `429` (with or without `Retry-After`) halves the host's concurrency limit,
//!    down to 1, for [`REDUCED_FOR`]; each further `429` halves it again and restarts the
//!    window. When the window passes with no `429`, the full limit comes back at once.
//!
//! CYRISMA documents no rate limits (contract: "No rate limits are documented; the client must
//! still honour `429`/`503` with `Retry-After`"), so the scope (one instance host, or the central
//! host) and the 60-second window are this client's choices, not the server's.
//!
//! Like the rest of the core it never reads a clock: every method takes `now`, a
//! [`Timestamp`] from the caller's monotonic clock (the same origin for every call). The transport
//! keeps one per host next to the host's semaphore and applies [`HostThrottle::poll_limit`] to
//! it (see `cyrisma-transport`'s `gate.rs`).

use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

use crate::retry::parse_retry_after;
use crate::session::Timestamp;

/// How long a host's concurrency stays halved after its last `429`.
pub const REDUCED_FOR: Duration = Duration::from_secs(60);

/// The back-pressure state of one host. See the [module documentation](self) for the rules.
///
/// Contract: call [`handle_response`](Self::handle_response) with every non-success status the
/// host answers (and its `Retry-After`, already parsed); before sending, wait out
/// [`poll_pause`](Self::poll_pause) and keep no more requests in flight than
/// [`poll_limit`](Self::poll_limit). `now` must not go backwards between calls.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct HostThrottle {
    full: usize,
    limit: usize,
    paused_until: Option<Timestamp>,
    reduced_until: Option<Timestamp>,
}

impl HostThrottle {
    /// A host allowed `full` requests in flight (at least 1).
    pub fn new(full: usize) -> Self {
        let full = full.max(1);
        Self { full, limit: full, paused_until: None, reduced_until: None }
    }

    /// The host answered `status` at `now`, with `retry_after` (the parsed `Retry-After`
    /// header, when it had a readable one). Only `429` and `503` change anything.
    pub fn handle_response(&mut self, status: StatusCode, retry_after: Option<Duration>, now: Timestamp) {
        if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
            return;
        }
        if let Some(delay) = retry_after {
            let until = now.saturating_add(delay);
            if self.paused_until.is_none_or(|paused| paused < until) {
                self.paused_until = Some(until);
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.limit = (self.limit / 2).max(1);
            self.reduced_until = Some(now.saturating_add(REDUCED_FOR));
        }
    }

    /// The host answered `status` with `headers` at `now` (`wall`: the wall-clock time, for an
    /// HTTP-date `Retry-After`): [`handle_response`](Self::handle_response) with the
    /// `Retry-After` header read by [`parse_retry_after`].
    pub fn handle_answer(&mut self, status: StatusCode, headers: &HeaderMap, wall: SystemTime, now: Timestamp) {
        if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
            return;
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, wall));
        self.handle_response(status, retry_after, now);
    }

    /// How long a request to this host must still wait before it is sent (`None`: send now).
    pub fn poll_pause(&self, now: Timestamp) -> Option<Duration> {
        self.paused_until.map(|until| until.saturating_duration_since(now)).filter(|left| !left.is_zero())
    }

    /// How many requests may be in flight to this host now: the full limit, or less for
    /// [`REDUCED_FOR`] after a `429`.
    pub fn poll_limit(&mut self, now: Timestamp) -> usize {
        if self.reduced_until.is_some_and(|until| now >= until) {
            self.reduced_until = None;
            self.limit = self.full;
        }
        self.limit
    }

    /// The limit with no back-pressure.
    pub fn full_limit(&self) -> usize {
        self.full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOO_MANY: StatusCode = StatusCode::TOO_MANY_REQUESTS;
    const UNAVAILABLE: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

    #[test]
    fn a_429_with_retry_after_pauses_the_host_and_halves_its_limit() {
        let start = Timestamp::ZERO;
        let mut throttle = HostThrottle::new(4);
        assert_eq!(throttle.poll_pause(start), None);
        assert_eq!(throttle.poll_limit(start), 4);
        throttle.handle_response(TOO_MANY, Some(Duration::from_secs(2)), start);
        assert_eq!(throttle.poll_pause(start), Some(Duration::from_secs(2)));
        assert_eq!(
            throttle.poll_pause(start.saturating_add(Duration::from_millis(1500))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(throttle.poll_pause(start.saturating_add(Duration::from_secs(2))), None);
        assert_eq!(throttle.poll_limit(start.saturating_add(Duration::from_secs(2))), 2);
    }

    #[test]
    fn further_429s_halve_down_to_one_and_restart_the_window() {
        let start = Timestamp::ZERO;
        let mut throttle = HostThrottle::new(8);
        for (seconds, expected) in [(0, 4), (10, 2), (20, 1), (30, 1)] {
            let now = start.saturating_add(Duration::from_secs(seconds));
            throttle.handle_response(TOO_MANY, None, now);
            assert_eq!(throttle.poll_limit(now), expected, "after the 429 at {seconds} s");
        }
        // The window runs from the last 429 (at 30 s).
        assert_eq!(throttle.poll_limit(start.saturating_add(Duration::from_secs(89))), 1);
        assert_eq!(throttle.poll_limit(start.saturating_add(Duration::from_secs(90))), 8);
        assert_eq!(throttle.poll_limit(start.saturating_add(Duration::from_secs(91))), 8);
    }

    #[test]
    fn a_503_pauses_without_halving_and_other_statuses_change_nothing() {
        let start = Timestamp::ZERO;
        let mut throttle = HostThrottle::new(4);
        throttle.handle_response(UNAVAILABLE, Some(Duration::from_secs(1)), start);
        assert_eq!(throttle.poll_pause(start), Some(Duration::from_secs(1)));
        assert_eq!(throttle.poll_limit(start), 4);
        let untouched = throttle.clone();
        for status in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY, StatusCode::NOT_FOUND] {
            throttle.handle_response(status, Some(Duration::from_secs(30)), start);
        }
        assert_eq!(throttle, untouched);
    }

    #[test]
    fn a_pause_is_only_ever_extended() {
        let start = Timestamp::ZERO;
        let mut throttle = HostThrottle::new(4);
        throttle.handle_response(UNAVAILABLE, Some(Duration::from_secs(10)), start);
        throttle.handle_response(TOO_MANY, Some(Duration::from_secs(1)), start.saturating_add(Duration::from_secs(1)));
        assert_eq!(throttle.poll_pause(start.saturating_add(Duration::from_secs(1))), Some(Duration::from_secs(9)));
        throttle.handle_response(TOO_MANY, Some(Duration::from_secs(20)), start.saturating_add(Duration::from_secs(2)));
        assert_eq!(throttle.poll_pause(start.saturating_add(Duration::from_secs(2))), Some(Duration::from_secs(20)));
    }

    #[test]
    fn a_limit_of_zero_is_one() {
        let mut throttle = HostThrottle::new(0);
        assert_eq!(throttle.full_limit(), 1);
        throttle.handle_response(TOO_MANY, None, Timestamp::ZERO);
        assert_eq!(throttle.poll_limit(Timestamp::ZERO), 1);
    }
}
