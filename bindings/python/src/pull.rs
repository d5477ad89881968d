//! `_cyrisma._pull(client, bookmarks, ...)`: the fleet layer's incremental pull
//! (`cyrisma_fleet::Fleet::pull`, the same as `cyrisma tap`) as a Python iterator of
//! per-instance batches, for the pure-Python dlt source (`cyrisma.dlt`).
//!
//! The pull runs on the runtime's blocking pool and hands each instance's rows over a bounded
//! channel, so memory stays at a few instances' rows however large the fleet; the iterator waits
//! with the GIL released, checking for Ctrl-C. Each batch is a dict: `instance_id`,
//! `instances` / `grades` / `scans` / `findings` (lists of row dicts, the history dataset's
//! columns) and `bookmark` (the instance's bookmark after the batch). Once exhausted, `result`
//! holds the new bookmarks and the failure records.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, sync_channel};
use std::time::Duration;

use cyrisma_fleet::{Bookmarks, Fleet, InstanceFailure, PullBatch, Selection, Streams};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde::Serialize;

use crate::client::Client;
use crate::convert::to_python;
use crate::errors::Failure;
use crate::runtime;

/// Batches waiting for Python at most (each one instance's rows).
const BUFFERED_BATCHES: usize = 4;

/// How often a waiting iterator runs Python's signal handlers.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

enum Message {
    Batch(Box<PullBatch>),
    Done(Result<PullResult, Failure>),
}

/// What the pull did, once the iterator is exhausted.
#[derive(Serialize)]
struct PullResult {
    pull_id: String,
    bookmarks: Bookmarks,
    pulled: usize,
    findings: u64,
    errors: Vec<InstanceFailure>,
}

#[derive(Serialize)]
struct BatchView<'a> {
    instance_id: &'a str,
    instances: Vec<&'a cyrisma_dataset::schema::InstanceRow>,
    grades: &'a [cyrisma_dataset::schema::GradeRow],
    scans: &'a [cyrisma_dataset::schema::ScanRow],
    findings: &'a [cyrisma_dataset::schema::FindingRow],
    bookmark: &'a cyrisma_fleet::InstanceBookmark,
}

fn failure(error: cyrisma_fleet::Error) -> Failure {
    match error {
        cyrisma_fleet::Error::Transport(error) => error.into(),
        cyrisma_fleet::Error::Io { context, source } => Failure::Io { context, source },
        other => Failure::Partial { message: other.to_string() },
    }
}

/// The per-instance batches of one pull.
#[pyclass(name = "_PullStream", module = "cyrisma._cyrisma")]
pub(crate) struct PullStream {
    receiver: Mutex<Option<Receiver<Message>>>,
    result: Option<Py<PyAny>>,
}

#[pymethods]
impl PullStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let Some(mut receiver) = self.receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() else {
            return Ok(None);
        };
        loop {
            let (received, back) = py.detach(move || (receiver.recv_timeout(SIGNAL_CHECK_INTERVAL), receiver));
            receiver = back;
            match received {
                Ok(Message::Batch(batch)) => {
                    *self.receiver.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(receiver);
                    let view = BatchView {
                        instance_id: &batch.instance_id,
                        instances: batch.instance.iter().collect(),
                        grades: &batch.grades,
                        scans: &batch.scans,
                        findings: &batch.findings,
                        bookmark: &batch.bookmark,
                    };
                    return Ok(Some(to_python(py, &view)?.unbind()));
                }
                Ok(Message::Done(result)) => {
                    let result = result.map_err(PyErr::from)?;
                    self.result = Some(to_python(py, &result)?.unbind());
                    return Ok(None);
                }
                Err(RecvTimeoutError::Timeout) => py.check_signals()?,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err(
                        "the cyrisma pull stopped unexpectedly (a panic in the runtime)",
                    ));
                }
            }
        }
    }

    /// The pull's outcome once the iterator is exhausted (`None` before): `pull_id`,
    /// `bookmarks`, `pulled`, `findings` and `errors` (the failure records).
    #[getter]
    fn result(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.result.as_ref().map(|value| value.clone_ref(py))
    }
}

/// Starts a pull of what is new since `bookmarks` (the JSON text of `{instance id: bookmark}`,
/// empty for a first pull) from the selected instances; returns the iterator of its batches.
/// Dropping the iterator early stops the pull.
#[pyfunction]
#[pyo3(name = "_pull", signature = (client, bookmarks, *, streams=None, instances=None, concurrency=None))]
pub(crate) fn pull(
    client: &Client,
    bookmarks: &str,
    streams: Option<Vec<String>>,
    instances: Option<Vec<String>>,
    concurrency: Option<Bound<'_, PyAny>>,
) -> PyResult<PullStream> {
    let (transport, concurrency) = client.fleet_parts(concurrency.as_ref())?;
    let bookmarks: Bookmarks = if bookmarks.trim().is_empty() {
        Bookmarks::new()
    } else {
        serde_json::from_str(bookmarks)
            .map_err(|error| Failure::argument("bookmarks", format!("not bookmarks of a cyrisma pull: {error}")))?
    };
    let streams = match streams {
        None => Streams::ALL,
        Some(names) => {
            let mut streams = Streams::NONE;
            for name in &names {
                if !streams.select(name) {
                    return Err(Failure::argument(
                        "streams",
                        format!("unknown stream `{name}`: the streams are {}", Streams::NAMES.join(", ")),
                    )
                    .into());
                }
            }
            streams
        }
    };
    let selection = Selection::ids(instances.unwrap_or_default());
    let runtime = runtime::runtime()?;
    let handle = runtime.handle().clone();
    let (sender, receiver) = sync_channel(BUFFERED_BATCHES);
    // On the blocking pool: the sink waits for Python when the channel is full.
    runtime.spawn_blocking(move || {
        let fleet = Fleet::new(transport).with_concurrency(concurrency);
        let batches = sender.clone();
        let result = handle.block_on(fleet.pull(
            &selection,
            &bookmarks,
            streams,
            |_| {},
            move |batch| {
                // The iterator was dropped: stop pulling.
                batches.send(Message::Batch(Box::new(batch))).map_err(|_| cyrisma_fleet::Error::Io {
                    context: "the pull's reader has gone".into(),
                    source: std::io::Error::from(std::io::ErrorKind::BrokenPipe),
                })
            },
        ));
        let result = result.map_err(failure).map(|pull| PullResult {
            pull_id: pull.pull_id,
            bookmarks: pull.bookmarks,
            pulled: pull.pulled,
            findings: pull.findings,
            errors: pull.failures,
        });
        let _ = sender.send(Message::Done(result));
    });
    Ok(PullStream { receiver: Mutex::new(Some(receiver)), result: None })
}

/// The pull's streams and their columns, `{stream: [(name, type, nullable, key), ...]}` with the
/// history dataset's column types (`string`, `int64`, `float64`, `bool`), for the dlt source's
/// column hints.
#[pyfunction]
#[pyo3(name = "_pull_columns")]
pub(crate) fn pull_columns(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let map: std::collections::BTreeMap<&str, Vec<(&str, &str, bool, bool)>> = cyrisma_fleet::pull::STREAM_TABLES
        .into_iter()
        .map(|(name, columns, keys)| {
            let columns = columns
                .iter()
                .map(|column| (column.name, column.kind, column.nullable, keys.contains(&column.name)))
                .collect();
            (name, columns)
        })
        .collect();
    Ok(to_python(py, &map)?.unbind())
}
