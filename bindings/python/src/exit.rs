//! Interpreter exit: the runtime's threads call into Python to hand results over (the async
//! client's futures, the rotation's `store` callable). A thread that does so while the
//! interpreter finalizes is killed inside the call, which aborts the process ("PyGILState_Release:
//! thread state must be current"). So those calls go through [`python_call`], and an `atexit`
//! hook ([`register_exit_hook`]) stops new ones and waits for those in progress before Python
//! starts finalizing. A leaf module: it depends on nothing else of the crate.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyCFunction;

/// How long the interpreter's exit waits for calls into Python from the runtime's threads.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Calls into Python from the runtime's threads now in progress, and whether the interpreter is
/// exiting (no new ones then).
static PYTHON_CALLS: Mutex<(usize, bool)> = Mutex::new((0, false));
/// Signalled when a call into Python from a runtime thread ends.
static PYTHON_CALL_ENDED: Condvar = Condvar::new();

fn python_calls() -> MutexGuard<'static, (usize, bool)> {
    PYTHON_CALLS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `call`, which attaches to Python from one of the runtime's threads, unless the
/// interpreter is exiting (`None` then: the result has nobody left to receive it, and what `call`
/// holds is dropped without the GIL, which pyo3 defers safely).
///
/// On a thread that is not one of the runtime's (a Python thread), `call` simply runs: the
/// interpreter itself decides when those threads stop.
pub(crate) fn python_call<R>(call: impl FnOnce() -> R) -> Option<R> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Some(call());
    }
    struct Ended;
    impl Drop for Ended {
        fn drop(&mut self) {
            python_calls().0 -= 1;
            PYTHON_CALL_ENDED.notify_all();
        }
    }
    {
        let mut calls = python_calls();
        if calls.1 {
            return None;
        }
        calls.0 += 1;
    }
    let _ended = Ended;
    Some(call())
}

/// Registers the `atexit` hook that runs before the interpreter finalizes: it stops new calls
/// into Python from the runtime's threads and waits (with the GIL released, so that they can
/// finish, at most [`EXIT_WAIT`]) for those in progress. The hook is a bare function object, not
/// a name of the module.
pub(crate) fn register_exit_hook(py: Python<'_>) -> PyResult<()> {
    let hook = PyCFunction::new_closure(py, None, None, |args, _kwargs| {
        args.py().detach(|| {
            let deadline = Instant::now() + EXIT_WAIT;
            let mut calls = python_calls();
            calls.1 = true;
            while calls.0 > 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                calls = PYTHON_CALL_ENDED.wait_timeout(calls, left).unwrap_or_else(PoisonError::into_inner).0;
            }
        });
    })?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
