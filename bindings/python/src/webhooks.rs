//! Webhook deliveries (provisional contract): verifying a `Cyrisma-Signature` over the raw body
//! and parsing the event envelope, over `cyrisma_core::webhook`. Exposed in Python as
//! `cyrisma.webhooks.verify` and `cyrisma.webhooks.sign`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cyrisma_core::WebhookSecret;
use cyrisma_core::webhook::{self, Verifier};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::Failure;
use crate::models::{Secret, Wrap};

/// The raw bytes of a body given as `bytes`, `bytearray`, `memoryview` or `str` (UTF-8).
fn body_bytes(body: &Bound<'_, PyAny>) -> Result<Vec<u8>, Failure> {
    if let Ok(bytes) = body.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(text) = body.cast::<PyString>() {
        return Ok(text.to_cow().map_err(Failure::from)?.as_bytes().to_vec());
    }
    body.extract::<Vec<u8>>().map_err(|_| {
        Failure::argument("body", "`body` must be the raw request body as bytes (verify before any parsing)")
    })
}

fn one_secret(value: &Bound<'_, PyAny>) -> Result<WebhookSecret, Failure> {
    if let Ok(secret) = value.cast::<Secret>() {
        return Ok(WebhookSecret::new(secret.get().expose()));
    }
    match value.cast::<PyString>() {
        Ok(text) => Ok(WebhookSecret::new(text.to_cow().map_err(Failure::from)?.into_owned())),
        Err(_) => Err(Failure::argument("secret", "`secret` must be a str, a cyrisma.Secret, or a list of them")),
    }
}

/// One secret, or several (during a rotation of the signing secret).
fn secrets(value: &Bound<'_, PyAny>) -> Result<Vec<WebhookSecret>, Failure> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<Secret>() {
        return Ok(vec![one_secret(value)?]);
    }
    let items = value
        .try_iter()
        .map_err(|_| Failure::argument("secret", "`secret` must be a str, a cyrisma.Secret, or a list of them"))?;
    let mut secrets = Vec::new();
    for item in items {
        secrets.push(one_secret(&item.map_err(Failure::from)?)?);
    }
    Ok(secrets)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

fn unix_seconds(value: Option<&Bound<'_, PyAny>>, name: &str) -> Result<Option<u64>, Failure> {
    match value {
        None => Ok(None),
        Some(value) if value.is_none() => Ok(None),
        Some(value) => {
            let seconds: f64 = value
                .extract()
                .map_err(|_| Failure::argument(name, format!("`{name}` must be unix seconds (an int or a float)")))?;
            if seconds.is_finite() && seconds >= 0.0 {
                Ok(Some(seconds as u64))
            } else {
                Err(Failure::argument(name, format!("`{name}` must be non-negative unix seconds")))
            }
        }
    }
}

/// Verifies a webhook delivery and returns its event.
#[pyfunction]
#[pyo3(signature = (body, signature_header, secret, *, tolerance=None, now=None))]
pub(crate) fn webhook_verify<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    signature_header: &str,
    secret: &Bound<'py, PyAny>,
    tolerance: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let body = body_bytes(body)?;
    let secrets = secrets(secret)?;
    let mut verifier = Verifier::new();
    if let Some(tolerance) = tolerance.filter(|value| !value.is_none()) {
        let seconds: f64 = tolerance
            .extract()
            .map_err(|_| Failure::argument("tolerance", "`tolerance` must be a non-negative number of seconds"))?;
        if !(seconds.is_finite() && (0.0..1e9).contains(&seconds)) {
            return Err(Failure::argument("tolerance", "`tolerance` must be a non-negative number of seconds").into());
        }
        verifier = verifier.with_tolerance(Duration::from_secs_f64(seconds));
    }
    let now = unix_seconds(now, "now")?.unwrap_or_else(now_secs);
    verifier.verify_with_any(&secrets, signature_header, &body, now).map_err(Failure::from)?;
    let event = webhook::parse_event(&body).map_err(|error| Failure::Webhook(error.into()))?;
    event.wrap_owned(py)
}

/// Signs a body the way CYRISMA (and the emulator) does, for tests of a receiver.
#[pyfunction]
#[pyo3(signature = (body, secret, *, timestamp=None))]
pub(crate) fn webhook_sign(
    body: &Bound<'_, PyAny>,
    secret: &Bound<'_, PyAny>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let body = body_bytes(body)?;
    let secret = one_secret(secret)?;
    if secret.is_empty() {
        return Err(Failure::argument("secret", "`secret` is empty").into());
    }
    let timestamp = unix_seconds(timestamp, "timestamp")?.unwrap_or_else(now_secs);
    Ok(webhook::sign(&secret, timestamp, &body))
}
