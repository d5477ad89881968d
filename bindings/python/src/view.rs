//! The two leaf helpers of the Python views: [`IntoPython`] (what a call's Rust result becomes in
//! Python) and [`quoted`] (Python's `repr()` of a string). They depend on nothing else of the
//! crate, so every module may use them without an import circle.

use pyo3::prelude::*;

/// A Rust value that becomes a Python object when a call completes.
pub(crate) trait IntoPython: Send + 'static {
    /// Converts the value (with the GIL).
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>>;
}

impl IntoPython for () {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(py.None())
    }
}

impl IntoPython for Py<PyAny> {
    fn into_python(self, _py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self)
    }
}

impl IntoPython for bool {
    fn into_python(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(pyo3::types::PyBool::new(py, self).to_owned().into_any().unbind())
    }
}

/// A string as Python's `repr()` writes it (for `__repr__` of classes that hold no model).
pub(crate) fn quoted(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|ch| match ch {
            '\\' => vec!['\\', '\\'],
            '\'' => vec!['\\', '\''],
            '\n' => vec!['\\', 'n'],
            ch if ch.is_control() => format!("\\x{:02x}", u32::from(ch) & 0xff).chars().collect(),
            ch => vec![ch],
        })
        .collect();
    format!("'{escaped}'")
}
