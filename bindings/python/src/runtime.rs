//! The module's shared tokio runtime, and the two ways a Python call runs a Rust future on it.
//!
//! - [`block_on`] (the sync client): drives the future on the calling thread with the GIL
//!   released, on the process's current-thread runtime ([`caller_runtime`]): the call's
//!   connections and timers are driven there too, so a call makes no hand-off to another thread
//!   and back. It stops every 100 ms to run Python's signal handlers, so that Ctrl-C interrupts a
//!   long call within a fraction of a second (the Rust future is dropped).
//! - [`awaitable`] (the async client): returns an `asyncio.Future` completed from the runtime
//!   (through `pyo3-async-runtimes`' generic API, with this runtime); cancelling it drops the
//!   Rust future.
//!
//! Interpreter exit: the runtime's threads call into Python only through [`python_call`] (see
//! `exit.rs`, a leaf module, so that `errors` can use it without an import circle).
//!
//! Fork safety: the runtime belongs to the process that built it. After `os.fork()` the child
//! gets a fresh runtime on first use, so new clients work there; objects created before the fork
//! record the parent's pid and refuse to be used in the child (see [`check_pid`]).

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, JoinError, Runtime as GenericRuntime};
use tokio::runtime::Runtime;

use crate::errors::Failure;
pub(crate) use crate::exit::{python_call, register_exit_hook};
use crate::view::IntoPython;

/// How often a blocking call wakes up to run Python's signal handlers.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// The runtime of this process, with the pid that built it.
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The current-thread runtime of this process's blocking calls, with the pid that built it.
static CALLER_RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The runtime of the current process, built on first use (and again in a forked child).
///
/// The runtime is leaked on purpose: it lives as long as the process, and in a forked child the
/// parent's runtime must never be dropped (its worker threads do not exist there).
pub(crate) fn runtime() -> Result<&'static Runtime, Failure> {
    per_process(&RUNTIME, || {
        tokio::runtime::Builder::new_multi_thread().thread_name("cyrisma-runtime").enable_all().build()
    })
}

/// The runtime in `slot` if this process built it, else a new one from `build`, leaked and kept
/// there with this process's pid.
fn per_process(
    slot: &Mutex<Option<(u32, &'static Runtime)>>,
    build: impl FnOnce() -> std::io::Result<Runtime>,
) -> Result<&'static Runtime, Failure> {
    let pid = std::process::id();
    let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((owner, runtime)) = *slot
        && owner == pid
    {
        return Ok(runtime);
    }
    let runtime = build()
        .map_err(|error| Failure::Io { context: "cannot start the cyrisma runtime".to_owned(), source: error })?;
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *slot = Some((pid, runtime));
    Ok(runtime)
}

/// The current-thread runtime that the sync client's calls run on, each on its calling thread
/// (built on first use, and again in a forked child).
///
/// Its tasks (hyper's connection tasks, the pools' idle timers) run only while some thread is in
/// its `block_on`: between two calls an idle connection waits, unpolled, for the next one. Several
/// threads may call at once: one drives the runtime, the others their own futures, and the runtime
/// passes to another caller when the driving one returns. The transport keeps the connections of a
/// current-thread runtime in pools of their own, so a call on [`runtime`] (the async client, a
/// pull, a rotation) never gets a connection parked here. Leaked, like [`runtime`].
pub(crate) fn caller_runtime() -> Result<&'static Runtime, Failure> {
    per_process(&CALLER_RUNTIME, || {
        tokio::runtime::Builder::new_current_thread().thread_name("cyrisma-blocking").enable_all().build()
    })
}

/// Lets the caller runtime run the tasks that something just dropped woke, such as the connection
/// tasks of a dropped client's pools, which then close their sockets now rather than at the next
/// blocking call of the process. Does nothing on a runtime's thread, or before any blocking call.
pub(crate) fn settle_caller_runtime() {
    if tokio::runtime::Handle::try_current().is_ok() {
        return;
    }
    let caller = match *CALLER_RUNTIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
        Some((owner, runtime)) if owner == std::process::id() => runtime,
        _ => return,
    };
    // Two turns: the woken tasks run after the first yield, what they woke after the second.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        caller.block_on(async {
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
        })
    }));
}

/// Fails with a fork error when an object made in process `owner` is used in another process.
pub(crate) fn check_pid(owner: u32, what: &'static str) -> Result<(), Failure> {
    if owner == std::process::id() { Ok(()) } else { Err(Failure::Forked { what }) }
}

/// A value tied to the process that made it (a client, with its connections and timers on this
/// process's runtime). In a forked child it refuses to be used, and it is leaked rather than
/// dropped: dropping would deregister sockets from an epoll instance the parent still uses.
pub(crate) struct ProcessBound<T> {
    value: Option<T>,
    pid: u32,
    what: &'static str,
}

impl<T> ProcessBound<T> {
    /// Binds `value` to the current process.
    pub(crate) fn new(value: T, what: &'static str) -> Self {
        Self { value: Some(value), pid: std::process::id(), what }
    }

    /// The value, in the process that made it.
    pub(crate) fn get(&self) -> Result<&T, Failure> {
        check_pid(self.pid, self.what)?;
        self.value.as_ref().ok_or(Failure::Forked { what: self.what })
    }

    /// The value, moved out, in the process that made it (`None` in another).
    pub(crate) fn take(&mut self) -> Option<T> {
        if self.pid == std::process::id() { self.value.take() } else { None }
    }

    /// The value for reading plain data (no I/O), in any process.
    pub(crate) fn peek(&self) -> Option<&T> {
        self.value.as_ref()
    }
}

impl<T> Drop for ProcessBound<T> {
    fn drop(&mut self) {
        if self.pid != std::process::id()
            && let Some(value) = self.value.take()
        {
            std::mem::forget(value);
        }
    }
}

/// Runs `future` on the calling thread ([`caller_runtime`]) with the GIL released, checking for
/// signals (Ctrl-C) every 100 ms. On an exception from a signal handler the future is dropped and
/// the exception raised. On one of the runtimes' own threads (Python code run by them) the future
/// is spawned on [`runtime`] and waited for instead.
pub(crate) fn block_on<F, T>(py: Python<'_>, future: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: IntoPython,
{
    let value = drive(py, caller_runtime()?, true, future)?;
    value.into_python(py)
}

/// Like [`block_on`] on the multi-thread [`runtime`], returning the Rust value: for operations
/// whose tasks must keep running after the call returns (the emulator's server).
pub(crate) fn wait<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: Send + 'static,
{
    drive(py, runtime()?, false, future)
}

/// [`wait`] or [`block_on`] on `on`: the calling thread drives the future with `on`'s `block_on`
/// (`settle`: on the caller runtime, whose idle connections were not polled since the last call).
fn drive<F, T>(py: Python<'_>, on: &'static Runtime, settle: bool, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return wait_spawned(py, runtime()?, future);
    }
    let mut future = Box::pin(future);
    // With `settle`, let the runtime read what happened to its idle connections first, so that a
    // server closing one is seen before the call picks it from the pool: each yield lets the
    // runtime poll its I/O driver and run the tasks it woke (their connection tasks).
    let mut settle = settle;
    loop {
        let polled = py.detach(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                on.block_on(async {
                    if std::mem::take(&mut settle) {
                        tokio::task::yield_now().await;
                        tokio::task::yield_now().await;
                    }
                    tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut future).await
                })
            }))
        });
        match polled {
            Ok(Ok(result)) => return result.map_err(PyErr::from),
            // Dropping the future on the way out cancels the operation.
            Ok(Err(_elapsed)) => py.check_signals()?,
            Err(_panic) => return Err(stopped()),
        }
    }
}

/// The error of an operation that panicked.
fn stopped() -> PyErr {
    PyRuntimeError::new_err("the cyrisma operation stopped unexpectedly (a panic in the runtime)")
}

/// [`wait`] from one of the runtime's threads: spawns the future, then waits for its result with
/// the GIL released, checking for signals every [`SIGNAL_CHECK_INTERVAL`].
fn wait_spawned<F, T>(py: Python<'_>, runtime: &'static Runtime, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: Send + 'static,
{
    let (sender, receiver) = sync_channel(1);
    let task = runtime.spawn(async move {
        // The receiver is gone only if the caller was interrupted; nothing to report then.
        let _ = sender.send(future.await);
    });
    let mut receiver = receiver;
    loop {
        let (received, back) = py.detach(move || (receiver.recv_timeout(SIGNAL_CHECK_INTERVAL), receiver));
        receiver = back;
        match received {
            Ok(result) => return result.map_err(PyErr::from),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(error) = py.check_signals() {
                    task.abort();
                    return Err(error);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(stopped()),
        }
    }
}

/// Runs `future` on the runtime and returns an `asyncio.Future` of its result, for the running
/// event loop. Cancelling the Python future drops the Rust one.
pub(crate) fn awaitable<'py, F, T>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Failure>> + Send + 'static,
    T: IntoPython,
{
    runtime()?;
    pyo3_async_runtimes::generic::future_into_py::<CyrismaRuntime, _, _>(py, async move {
        future.await.map(Converted).map_err(PyErr::from)
    })
}

/// A Rust value converted to Python when the future completes (with the GIL, off the runtime's
/// worker threads).
struct Converted<T>(T);

impl<'py, T: IntoPython> IntoPyObject<'py> for Converted<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(self.0.into_python(py)?.into_bound(py))
    }
}

/// The runtime as `pyo3-async-runtimes` sees it: spawning on [`runtime`], task locals in a tokio
/// task-local.
pub(crate) struct CyrismaRuntime;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

/// The join error of a spawned task.
pub(crate) struct TaskJoinError(tokio::task::JoinError);

impl JoinError for TaskJoinError {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

type BoxedJoin = Pin<Box<dyn Future<Output = Result<(), TaskJoinError>> + Send>>;

fn join(handle: Result<tokio::task::JoinHandle<()>, Failure>) -> BoxedJoin {
    Box::pin(async move {
        match handle {
            Ok(handle) => handle.await.map_err(TaskJoinError),
            // The runtime could not be started: the task never ran.
            Err(_) => Ok(()),
        }
    })
}

impl GenericRuntime for CyrismaRuntime {
    type JoinError = TaskJoinError;
    type JoinHandle = BoxedJoin;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        join(runtime().map(|runtime| runtime.spawn(fut)))
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        // `pyo3-async-runtimes` hands results to the event loop from here.
        join(runtime().map(|runtime| {
            runtime.spawn_blocking(move || {
                let _ = python_call(f);
            })
        }))
    }
}

impl ContextExt for CyrismaRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS.try_with(|cell| cell.get().cloned()).unwrap_or_default()
    }
}
