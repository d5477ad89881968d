//! The contract's error answers: a status and `{"error": "<code>", "message": "...", "field"}`,
//! serialized with the core's [`ErrorBody`].

use bytes::Bytes;
use cyrisma_core::types::{ErrorBody, ErrorCode};
use http::StatusCode;

/// An error answer of the API.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiFailure {
    pub(crate) status: StatusCode,
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) field: Option<String>,
}

impl ApiFailure {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), field: None }
    }

    /// `400 invalid_request` about a form or query field.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: ErrorCode::InvalidRequest,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// `400 invalid_request`: a required field is missing.
    pub(crate) fn missing(field: &str) -> Self {
        Self::invalid(field, format!("{field} is required"))
    }

    /// `404 not_found` for an unknown instance.
    pub(crate) fn no_instance(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("No instance with id {}", printable(id)))
    }

    /// `404 not_found`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// `409 conflict`.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    /// `401 invalid_token`.
    pub(crate) fn invalid_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "The access token is invalid or has expired.")
    }

    /// `401 invalid_grant`.
    pub(crate) fn invalid_grant(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidGrant, message)
    }

    /// `403 instance_suspended`.
    pub(crate) fn suspended(id: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::InstanceSuspended, format!("Instance {id} is suspended."))
    }

    /// `401 instance_not_authenticated`.
    pub(crate) fn not_authenticated(id: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InstanceNotAuthenticated,
            format!(
                "Instance {id} is not authenticated for this access token: call POST /partner/instances/login/{id} first."
            ),
        )
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> Bytes {
        let body = ErrorBody {
            error: Some(self.code.clone()),
            message: Some(self.message.clone()),
            field: self.field.clone(),
            ..Default::default()
        };
        // Serializing a map of strings cannot fail.
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// A value from a request, made safe to echo in a message: at most 64 printable characters.
pub(crate) fn printable(value: &str) -> String {
    value.chars().filter(|ch| !ch.is_control()).take(64).collect()
}

/// The latency fault's delay, precise to a fraction of a millisecond. tokio's timer rounds a
/// sleep up to its 1 ms ticks and a busy runtime wakes late: a 20 ms fault added 21.8 ms at the
/// least and 22.1 ms at the median (sequential calls, TLS, `docs/benchmarks.md` H5). The delays
/// run instead on one timer thread that waits for the earliest deadline (a futex wait with a
/// timeout, the kernel's high-resolution timers) and wakes each delayed answer's task.
pub(crate) async fn delay(duration: std::time::Duration) {
    // A deadline past what `Instant` holds (an absurd fault) sleeps on tokio's timer, which caps it.
    let Some(at) = std::time::Instant::now().checked_add(duration) else {
        return tokio::time::sleep(duration).await;
    };
    let (wake, woken) = tokio::sync::oneshot::channel();
    if timer::add(at, wake) {
        // The timer thread never drops a sender before its deadline.
        let _ = woken.await;
    } else {
        tokio::time::sleep_until(at.into()).await;
    }
}

mod timer {
    //! The timer thread of [`delay`](super::delay): a heap of deadlines under a mutex.

    use std::cmp::Ordering;
    use std::collections::BinaryHeap;
    use std::sync::{Condvar, Mutex, PoisonError};
    use std::time::Instant;

    use tokio::sync::oneshot;

    struct Due {
        at: Instant,
        seq: u64,
        wake: oneshot::Sender<()>,
    }

    impl PartialEq for Due {
        fn eq(&self, other: &Self) -> bool {
            (self.at, self.seq) == (other.at, other.seq)
        }
    }

    impl Eq for Due {}

    impl PartialOrd for Due {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl Ord for Due {
        // Reversed: the heap's top is the earliest deadline.
        fn cmp(&self, other: &Self) -> Ordering {
            (other.at, other.seq).cmp(&(self.at, self.seq))
        }
    }

    #[derive(Default)]
    struct Timer {
        due: Mutex<(BinaryHeap<Due>, u64)>,
        changed: Condvar,
    }

    /// This process's timer, started on first use (and again in a forked child, where the
    /// parent's thread does not exist).
    fn timer() -> Option<&'static Timer> {
        static TIMER: Mutex<Option<(u32, &'static Timer)>> = Mutex::new(None);
        let pid = std::process::id();
        let mut slot = TIMER.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((owner, timer)) = *slot
            && owner == pid
        {
            return Some(timer);
        }
        let timer: &'static Timer = Box::leak(Box::default());
        let spawned = std::thread::Builder::new().name("emulator-latency".to_owned()).spawn(move || run(timer));
        // Without the thread (no resources for one), the delays fall back to tokio's timer.
        spawned.ok()?;
        *slot = Some((pid, timer));
        Some(timer)
    }

    /// Wakes `wake` at `at`; `false` when there is no timer thread.
    pub(super) fn add(at: Instant, wake: oneshot::Sender<()>) -> bool {
        let Some(timer) = timer() else { return false };
        let mut due = timer.due.lock().unwrap_or_else(PoisonError::into_inner);
        due.1 += 1;
        let seq = due.1;
        let earliest = due.0.peek().is_none_or(|top| at < top.at);
        due.0.push(Due { at, seq, wake });
        drop(due);
        if earliest {
            timer.changed.notify_one();
        }
        true
    }

    fn run(timer: &Timer) {
        let mut due = timer.due.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while due.0.peek().is_some_and(|top| top.at <= now) {
                if let Some(done) = due.0.pop() {
                    // The delayed answer's task may be gone (shutdown, a dropped connection).
                    let _ = done.wake.send(());
                }
            }
            due = match due.0.peek().map(|top| top.at - now) {
                Some(wait) => timer.changed.wait_timeout(due, wait).unwrap_or_else(PoisonError::into_inner).0,
                None => timer.changed.wait(due).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_delay_never_ends_before_its_duration() {
        let started = Instant::now();
        let after = |ms: u64| async move {
            super::delay(Duration::from_millis(ms)).await;
            (ms, started.elapsed())
        };
        // Added out of order: the timer thread's heap must wake each at its own deadline.
        let (a, b, c, d) = tokio::join!(after(30), after(5), after(20), after(1));
        let ends = [a, b, c, d];
        for (ms, elapsed) in ends {
            assert!(elapsed >= Duration::from_millis(ms), "a {ms} ms delay ended after {elapsed:?}");
        }
    }
}
