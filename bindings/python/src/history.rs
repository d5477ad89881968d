//! `cyrisma.History(dir)`: the snapshot history read through the fleet layer
//! (`cyrisma_fleet::History`, the same rows as `cyrisma diff` and `cyrisma history`), returned as
//! `pyarrow.Table`s through the Arrow C stream interface (`__arrow_c_stream__`), so pandas and
//! Polars work from there; the customer report pages (`cyrisma_report_html`, as `cyrisma report
//! html` writes them); and `client.snapshot()`'s result.

use std::path::{Path, PathBuf};

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use cyrisma_dataset::Dataset;
use cyrisma_dataset::schema::{Column, record_batch};
use cyrisma_fleet::history::{
    DIFF_COLUMNS, FINDING_HISTORY_COLUMNS, GRADE_CHANGE_COLUMNS, GRADE_HISTORY_COLUMNS, INSTANCE_HISTORY_COLUMNS,
    RUN_SUMMARY_COLUMNS,
};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use serde::Serialize;

use crate::errors::Failure;

/// A fleet error of the history as the Python exception it maps to: a run that does not exist,
/// too few runs or runs in the wrong order are argument errors; the rest (an unreadable dataset)
/// is a `CyrismaError`.
fn failure(error: cyrisma_fleet::Error) -> Failure {
    match error {
        cyrisma_fleet::Error::NoSuchRun(_) | cyrisma_fleet::Error::RunOrder { .. } => {
            Failure::argument("from_run", error.to_string())
        }
        cyrisma_fleet::Error::TooFewRuns { .. } => {
            Failure::Argument { argument: None, message: format!("{error}: take another snapshot first") }
        }
        other => Failure::Partial { message: other.to_string() },
    }
}

/// The dataset at a directory or object store location; a location that cannot be used (an
/// unknown scheme, credentials or a query string in the URL) is a `ValueError` on ``dir``.
pub(crate) fn open(dir: &Path) -> Result<Dataset, Failure> {
    Dataset::open(dir).map_err(|error| Failure::argument("dir", error.to_string()))
}

/// One record batch behind the Arrow PyCapsule stream interface.
#[pyclass(name = "_ArrowStream", module = "cyrisma._cyrisma", frozen)]
pub(crate) struct ArrowStream {
    batch: RecordBatch,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow C stream of the batch, in a capsule named `arrow_array_stream`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is the one the rows have; a requested schema is a hint we may ignore.
        let _ = requested_schema;
        let schema = self.batch.schema();
        let reader = RecordBatchIterator::new(vec![Ok(self.batch.clone())], schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// Rows as a `pyarrow.Table` (pyarrow must be installed).
fn table<'py, R: Serialize>(py: Python<'py>, rows: &[R], columns: &[Column]) -> PyResult<Bound<'py, PyAny>> {
    let batch = record_batch(rows, columns).map_err(|message| PyErr::from(Failure::Partial { message }))?;
    let pyarrow = py.import("pyarrow").map_err(|_| {
        pyo3::exceptions::PyImportError::new_err("cyrisma.History returns Arrow tables: `pip install pyarrow`")
    })?;
    let stream = Bound::new(py, ArrowStream { batch })?;
    pyarrow.call_method1("table", (stream,))
}

/// The snapshot history in a dataset directory (what ``cyrisma snapshot`` and
/// :meth:`Client.snapshot` write). Every method returns a ``pyarrow.Table``.
#[pyclass(name = "History", module = "cyrisma._cyrisma", frozen)]
pub(crate) struct History {
    inner: cyrisma_fleet::History,
    dir: PathBuf,
}

#[pymethods]
impl History {
    /// The history at ``dir``: a directory, or an object store location (``s3://bucket/prefix``,
    /// ``az://container/prefix``, ``gs://bucket/prefix``) with the cloud's standard credentials
    /// (nothing is read yet).
    #[new]
    fn new(dir: PathBuf) -> PyResult<Self> {
        let dataset = open(&dir)?;
        Ok(Self { dir: dataset.root().to_owned(), inner: cyrisma_fleet::History::new(dataset) })
    }

    /// The dataset directory or object store location.
    #[getter]
    fn dir(&self) -> String {
        self.dir.display().to_string()
    }

    /// Every complete run with its counts and the instances that failed, oldest first.
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = py.detach(|| self.inner.runs()).map_err(failure)?;
        table(py, &rows, RUN_SUMMARY_COLUMNS)
    }

    /// The findings that changed between two runs (default: the last two): ``new``,
    /// ``reopened``, ``fixed``, ``not_covered``, and with ``all`` also ``unchanged``.
    #[pyo3(signature = (from_run=None, to_run=None, *, all=false))]
    fn diff<'py>(
        &self,
        py: Python<'py>,
        from_run: Option<String>,
        to_run: Option<String>,
        all: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.diff(from_run.as_deref(), to_run.as_deref(), all)).map_err(failure)?;
        table(py, &report.findings, DIFF_COLUMNS)
    }

    /// The grades that changed between two runs (default: the last two), per instance and area.
    #[pyo3(signature = (from_run=None, to_run=None))]
    fn grade_changes<'py>(
        &self,
        py: Python<'py>,
        from_run: Option<String>,
        to_run: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.diff(from_run.as_deref(), to_run.as_deref(), false)).map_err(failure)?;
        table(py, &report.grades, GRADE_CHANGE_COLUMNS)
    }

    /// Every area's grades on every pulled instance in every run: the grade trend.
    fn grades<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = py.detach(|| self.inner.grade_history()).map_err(failure)?;
        table(py, &rows, GRADE_HISTORY_COLUMNS)
    }

    /// Each finding's life: first and last seen, fixed at, times reopened, days open.
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (rows, _) = py.detach(|| self.inner.lifecycles()).map_err(failure)?;
        table(py, &rows, FINDING_HISTORY_COLUMNS)
    }

    /// One row per instance: open and fixed findings, fixes, and the mean days to fix.
    fn instances<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (_, rows) = py.detach(|| self.inner.lifecycles()).map_err(failure)?;
        table(py, &rows, INSTANCE_HISTORY_COLUMNS)
    }

    /// Writes the customer report pages into ``out`` (the same pages as ``cyrisma report
    /// html``): ``index.html`` and one ``<instance_id>.html`` per customer. Returns the path of
    /// ``index.html``.
    #[pyo3(signature = (out, *, instances=None, since=None, period=None, title=None, msp_name=None, logo=None))]
    #[allow(clippy::too_many_arguments)]
    fn report_html(
        &self,
        py: Python<'_>,
        out: PathBuf,
        instances: Option<Vec<String>>,
        since: Option<String>,
        period: Option<String>,
        title: Option<String>,
        msp_name: Option<String>,
        logo: Option<PathBuf>,
    ) -> PyResult<String> {
        use cyrisma_report_html::{Branding, Logo, Options, Period};
        let period = match (since, period) {
            (Some(_), Some(_)) => {
                return Err(Failure::argument("since", "pass `since` or `period`, not both").into());
            }
            (Some(date), None) => {
                Period::since(&date).map_err(|error| Failure::argument("since", error.to_string()))?
            }
            (None, Some(text)) => {
                Period::last(&text).map_err(|error| Failure::argument("period", error.to_string()))?
            }
            (None, None) => Period::All,
        };
        let logo = match logo {
            Some(path) => Some(Logo::read(&path).map_err(|error| Failure::argument("logo", error.to_string()))?),
            None => None,
        };
        let options =
            Options { instances: instances.unwrap_or_default(), period, branding: Branding { title, msp_name, logo } };
        let written = py.detach(|| cyrisma_report_html::write_report(&self.inner, &out, &options)).map_err(
            |error| match error {
                cyrisma_report_html::Error::History(error) => failure(error),
                cyrisma_report_html::Error::NoRuns(message) => Failure::Argument { argument: None, message },
                cyrisma_report_html::Error::UnknownInstances(_) => Failure::argument("instances", error.to_string()),
                cyrisma_report_html::Error::Target(message) => Failure::argument("out", message),
                cyrisma_report_html::Error::Io { context, source } => Failure::Io { context, source },
                other => Failure::Partial { message: other.to_string() },
            },
        )?;
        Ok(written.index.display().to_string())
    }

    fn __repr__(&self) -> String {
        format!("History({:?})", self.dir.display().to_string())
    }
}
