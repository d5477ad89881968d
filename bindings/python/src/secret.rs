//! The `Secret` class: a secret value (an API secret, a webhook signing secret) that Python code
//! can pass around without showing it. A leaf module: it depends on nothing else of the crate.

use cyrisma_core::ApiSecret;
use cyrisma_transport::NewSecret;
use pyo3::prelude::*;

/// A new API secret returned to Python as a [`Secret`] (see `models.rs` for its conversion).
pub(crate) struct SecretValue(pub(crate) ApiSecret);

/// A secret value (an API secret, a webhook signing secret). Its ``repr()`` and ``str()`` never
/// show it; read it with :meth:`get_secret_value`.
#[pyclass(module = "cyrisma._cyrisma", name = "Secret", frozen)]
pub(crate) struct Secret {
    value: ApiSecret,
    raw_body: bool,
}

impl Secret {
    /// Wraps a secret value.
    pub(crate) fn new(value: &str) -> Self {
        Self { value: ApiSecret::new(value), raw_body: false }
    }

    /// Wraps an API secret.
    pub(crate) fn from_api_secret(value: ApiSecret) -> Self {
        Self { value, raw_body: false }
    }

    /// Wraps what the secret sink receives: the new secret, or the raw answer carrying it.
    pub(crate) fn from_new_secret(secret: &NewSecret) -> Self {
        match (secret.secret(), secret.raw_body()) {
            (Some(secret), _) => Self { value: secret.clone(), raw_body: false },
            (None, Some(body)) => {
                Self { value: ApiSecret::new(String::from_utf8_lossy(body).into_owned()), raw_body: true }
            }
            (None, None) => Self { value: ApiSecret::new(""), raw_body: true },
        }
    }

    /// The value.
    pub(crate) fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

#[pymethods]
impl Secret {
    #[new]
    fn py_new(value: &str) -> Self {
        Self::new(value)
    }

    /// The secret itself. Call this only where it goes into a credential store.
    fn get_secret_value(&self) -> String {
        self.value.expose_secret().to_owned()
    }

    /// Whether this holds the raw answer of a secret rotation that could not be parsed (read the
    /// new secret from it by hand) rather than the secret itself.
    #[getter]
    fn is_raw_body(&self) -> bool {
        self.raw_body
    }

    fn __repr__(&self) -> &'static str {
        "Secret('**********')"
    }

    fn __str__(&self) -> &'static str {
        "**********"
    }

    fn __bool__(&self) -> bool {
        !self.value.is_empty()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<Secret>().is_ok_and(|other| other.get().value == self.value)
    }

    fn __hash__(&self) -> u64 {
        // Equal secrets must hash alike; the hash reveals nothing useful.
        0
    }
}
