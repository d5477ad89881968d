//! Requests in flight at the emulator, overall and per host, with the highest counts seen since
//! the start (or the last reset): how a test checks a client's concurrency limits from the
//! server's side. A request counts from the moment its host is known until its answer's head is
//! ready (or the connection is dropped); admin requests (`/__emulator/...`) do not count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// A snapshot of the requests in flight (`GET /__emulator/in-flight`,
/// [`crate::EmulatorHandle::in_flight`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InFlightStats {
    /// Requests being handled now.
    pub current: u64,
    /// The most requests handled at once.
    pub max: u64,
    /// The most requests handled at once for one host.
    pub max_per_host: u64,
    /// A host that reached `max_per_host` (the first one to).
    pub busiest_host: Option<String>,
}

/// The counters behind [`InFlightStats`].
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    current: u64,
    max: u64,
    per_host: HashMap<String, u64>,
    max_per_host: u64,
    busiest_host: Option<String>,
}

impl InFlight {
    fn enter(&mut self, host: &str) {
        self.current += 1;
        self.max = self.max.max(self.current);
        let count = self.per_host.entry(host.to_owned()).or_insert(0);
        *count += 1;
        if *count > self.max_per_host {
            self.max_per_host = *count;
            self.busiest_host = Some(host.to_owned());
        }
    }

    fn leave(&mut self, host: &str) {
        self.current = self.current.saturating_sub(1);
        if let Some(count) = self.per_host.get_mut(host) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_host.remove(host);
            }
        }
    }

    /// The current counts and the highest ones seen.
    pub(crate) fn stats(&self) -> InFlightStats {
        InFlightStats {
            current: self.current,
            max: self.max,
            max_per_host: self.max_per_host,
            busiest_host: self.busiest_host.clone(),
        }
    }

    /// Starts the highest counts again from the current ones.
    pub(crate) fn reset_max(&mut self) {
        self.max = self.current;
        self.max_per_host = self.per_host.values().copied().max().unwrap_or(0);
        self.busiest_host =
            self.per_host.iter().find(|(_, count)| **count == self.max_per_host).map(|(host, _)| host.clone());
        if self.max_per_host == 0 {
            self.busiest_host = None;
        }
    }
}

/// One request in flight; leaves the count when dropped (also when hyper drops the request's
/// future because the connection went away).
pub(crate) struct InFlightGuard {
    counts: Arc<Mutex<InFlight>>,
    host: String,
}

impl InFlightGuard {
    /// Counts a request for `host` in `counts` until the guard is dropped.
    pub(crate) fn enter(counts: &Arc<Mutex<InFlight>>, host: &str) -> Self {
        counts.lock().unwrap_or_else(PoisonError::into_inner).enter(host);
        Self { counts: Arc::clone(counts), host: host.to_owned() }
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner).leave(&self.host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_overall_and_per_host_and_keeps_the_highest() {
        let mut counts = InFlight::default();
        counts.enter("a");
        counts.enter("a");
        counts.enter("b");
        assert_eq!(
            counts.stats(),
            InFlightStats { current: 3, max: 3, max_per_host: 2, busiest_host: Some("a".to_owned()) }
        );
        counts.leave("a");
        counts.leave("b");
        counts.enter("b");
        let stats = counts.stats();
        assert_eq!((stats.current, stats.max, stats.max_per_host), (2, 3, 2));
        counts.reset_max();
        let stats = counts.stats();
        assert_eq!((stats.current, stats.max, stats.max_per_host), (2, 2, 1));
        counts.leave("a");
        counts.leave("b");
        counts.reset_max();
        assert_eq!(counts.stats(), InFlightStats::default());
    }
}
