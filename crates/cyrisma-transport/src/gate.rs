//! A host's gate: its concurrency semaphore, steered by the core's [`HostThrottle`] after `429`
//! and `503` answers (a pause until `Retry-After`, a halved limit for a minute).
//!
//! The semaphore starts with the host's full limit. When the throttle lowers the limit, the
//! difference is taken out of circulation: free permits at once ([`Semaphore::forget_permits`]),
//! permits in use as their holders release them (the *debt*, settled in [`HostPermit`]'s `Drop`).
//! When the limit comes back, withheld permits are added again and the debt is cancelled.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use cyrisma_core::session::Timestamp;
use cyrisma_core::throttle::HostThrottle;
use http::{HeaderMap, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One host's concurrency limit and back-pressure.
pub(crate) struct HostGate {
    semaphore: Arc<Semaphore>,
    state: Mutex<GateState>,
}

struct GateState {
    throttle: HostThrottle,
    /// Permits taken out of the semaphore.
    withheld: usize,
    /// Permits still to take out, as their holders release them.
    debt: usize,
}

impl HostGate {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        let throttle = HostThrottle::new(limit);
        Arc::new(Self {
            semaphore: Arc::new(Semaphore::new(throttle.full_limit())),
            state: Mutex::new(GateState { throttle, withheld: 0, debt: 0 }),
        })
    }

    fn state(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an answer of the host with its headers (`wall`: the wall-clock time, for an
    /// HTTP-date `Retry-After`); only `429` and `503` change anything.
    pub(crate) fn handle_answer(&self, status: StatusCode, headers: &HeaderMap, wall: SystemTime, now: Timestamp) {
        let mut state = self.state();
        state.throttle.handle_answer(status, headers, wall, now);
        self.rebalance(&mut state, now);
    }

    /// How long requests to the host must still wait before they are sent.
    pub(crate) fn pause(&self, now: Timestamp) -> Option<Duration> {
        self.state().throttle.poll_pause(now)
    }

    /// A permit to have one request in flight to the host, waiting for one under the current
    /// limit.
    pub(crate) async fn acquire(self: &Arc<Self>, now: Timestamp) -> HostPermit {
        {
            let mut state = self.state();
            self.rebalance(&mut state, now);
        }
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = self
            .semaphore
            .clone()
            .acquire_owned()
            .await
            .unwrap_or_else(|_| unreachable!("semaphores are never closed"));
        HostPermit { permit: Some(permit), gate: Arc::clone(self) }
    }

    /// Whether nobody holds a permit and no back-pressure is in force: the gate can be dropped
    /// and made afresh later without losing anything.
    pub(crate) fn is_idle(&self, now: Timestamp) -> bool {
        let mut state = self.state();
        let full = state.throttle.full_limit();
        let at_rest = state.throttle.poll_pause(now).is_none() && state.throttle.poll_limit(now) == full;
        at_rest && state.debt == 0 && self.semaphore.available_permits() + state.withheld == full
    }

    /// Brings the permits in circulation to the throttle's current limit.
    fn rebalance(&self, state: &mut GateState, now: Timestamp) {
        let full = state.throttle.full_limit();
        let target = full - state.throttle.poll_limit(now).min(full);
        let planned = state.withheld + state.debt;
        if target > planned {
            let wanted = target - planned;
            let forgotten = self.semaphore.forget_permits(wanted);
            state.withheld += forgotten;
            state.debt += wanted - forgotten;
        } else if target < planned {
            let mut give_back = planned - target;
            let cancelled = give_back.min(state.debt);
            state.debt -= cancelled;
            give_back -= cancelled;
            state.withheld -= give_back;
            self.semaphore.add_permits(give_back);
        }
    }
}

/// One request in flight to a host. Dropping it returns the permit, or keeps it out of
/// circulation while the host's limit is lowered.
pub(crate) struct HostPermit {
    permit: Option<OwnedSemaphorePermit>,
    gate: Arc<HostGate>,
}

impl HostPermit {
    /// The gate the permit belongs to.
    pub(crate) fn gate(&self) -> &HostGate {
        &self.gate
    }
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        let Some(permit) = self.permit.take() else { return };
        let mut state = self.gate.state();
        if state.debt > 0 {
            state.debt -= 1;
            state.withheld += 1;
            permit.forget();
        } else {
            drop(state);
            drop(permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> Timestamp {
        Timestamp::from_duration(Duration::from_secs(seconds))
    }

    fn answer(gate: &HostGate, status: StatusCode, retry_after: Option<&'static str>, now: Timestamp) {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static(value));
        }
        gate.handle_answer(status, &headers, SystemTime::UNIX_EPOCH, now);
    }

    #[tokio::test]
    async fn a_429_lowers_the_permits_in_circulation_and_the_window_restores_them() {
        let gate = HostGate::new(4);
        let held: Vec<HostPermit> = futures_util::future::join_all((0..3).map(|_| gate.acquire(at(0)))).await;
        assert_eq!(gate.semaphore.available_permits(), 1);
        answer(&gate, StatusCode::TOO_MANY_REQUESTS, None, at(1));
        // Limit 2: the free permit is withheld at once, one more when a holder releases it.
        assert_eq!(gate.semaphore.available_permits(), 0);
        drop(held);
        assert_eq!(gate.semaphore.available_permits(), 2, "3 released, 1 of them withheld");
        assert!(!gate.is_idle(at(2)), "the limit is still lowered");
        let again = gate.acquire(at(61)).await;
        assert_eq!(gate.semaphore.available_permits(), 3, "the full limit is back after the window");
        drop(again);
        assert!(gate.is_idle(at(61)));
    }

    #[tokio::test]
    async fn restoring_before_the_debt_is_paid_cancels_it() {
        let gate = HostGate::new(4);
        let held: Vec<HostPermit> = futures_util::future::join_all((0..4).map(|_| gate.acquire(at(0)))).await;
        answer(&gate, StatusCode::TOO_MANY_REQUESTS, None, at(0));
        {
            let state = gate.state();
            assert_eq!((state.withheld, state.debt), (0, 2));
        }
        {
            let mut state = gate.state();
            gate.rebalance(&mut state, at(60));
            assert_eq!((state.withheld, state.debt), (0, 0));
        }
        drop(held);
        assert_eq!(gate.semaphore.available_permits(), 4);
        assert!(gate.is_idle(at(60)));
    }

    #[test]
    fn a_pause_is_reported_until_it_ends() {
        let gate = HostGate::new(2);
        answer(&gate, StatusCode::SERVICE_UNAVAILABLE, Some("3"), at(10));
        assert_eq!(gate.pause(at(11)), Some(Duration::from_secs(2)));
        assert_eq!(gate.pause(at(13)), None);
        assert!(gate.is_idle(at(13)));
    }
}
