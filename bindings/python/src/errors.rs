//! The mapping from Rust failures to the Python exception tree of `cyrisma._exceptions`.
//!
//! The exception classes are plain Python classes (so that `cyrisma.TimeoutError` can also be a
//! `builtins.TimeoutError`, and `InvalidArgumentError` a `ValueError`); this module looks them up
//! once per interpreter and builds instances with their attributes. Every failure of the bindings
//! is a [`Failure`], and `impl From<Failure> for PyErr` is the one place where a transport error
//! becomes a Python exception.

use cyrisma_core::webhook::{SignatureError, WebhookError};
use cyrisma_transport::{ConfigError, Error as TransportError, ErrorKind};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

use crate::secret::Secret;

/// Everything that can go wrong in a binding call.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A transport (client) error.
    Transport(TransportError),
    /// An argument that cannot be used.
    Argument {
        /// The argument's Python name (or environment variable), when known.
        argument: Option<String>,
        /// What is wrong, never the value itself.
        message: String,
    },
    /// A Python exception to re-raise as it is.
    Python(PyErr),
    /// An object created before `os.fork()` was used in the child.
    Forked {
        /// What was used (`client`, `emulator`).
        what: &'static str,
    },
    /// A webhook delivery failed verification.
    Webhook(WebhookError),
    /// JSON that does not match a model (`Model.from_json`).
    Decode {
        /// What went wrong.
        message: String,
        /// The failing field's path.
        path: Option<String>,
    },
    /// A file could not be written or read.
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Some instances of a fan-out failed and the caller did not accept a partial result.
    Partial {
        /// A description that lists the failed instances.
        message: String,
    },
    /// The emulator could not start.
    Emulator(String),
}

impl Failure {
    /// A bad argument named `argument`.
    pub(crate) fn argument(argument: &str, message: impl Into<String>) -> Self {
        Failure::Argument { argument: Some(argument.to_owned()), message: message.into() }
    }
}

impl From<TransportError> for Failure {
    fn from(error: TransportError) -> Self {
        Failure::Transport(error)
    }
}

impl From<PyErr> for Failure {
    fn from(error: PyErr) -> Self {
        Failure::Python(error)
    }
}

impl From<SignatureError> for Failure {
    fn from(error: SignatureError) -> Self {
        Failure::Webhook(WebhookError::Signature(error))
    }
}

impl From<WebhookError> for Failure {
    fn from(error: WebhookError) -> Self {
        Failure::Webhook(error)
    }
}

/// The exception classes, looked up once.
struct Classes {
    api: Py<PyType>,
    bad_request: Py<PyType>,
    authentication: Py<PyType>,
    permission_denied: Py<PyType>,
    not_found: Py<PyType>,
    conflict: Py<PyType>,
    rate_limit: Py<PyType>,
    server: Py<PyType>,
    base: Py<PyType>,
    transport: Py<PyType>,
    timeout: Py<PyType>,
    connection: Py<PyType>,
    ambiguous: Py<PyType>,
    decode: Py<PyType>,
    rotation: Py<PyType>,
    webhook: Py<PyType>,
    fork: Py<PyType>,
    argument: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let module = py.import("cyrisma._exceptions")?;
        let class = |name: &str| -> PyResult<Py<PyType>> { Ok(module.getattr(name)?.cast_into::<PyType>()?.unbind()) };
        Ok(Classes {
            api: class("APIError")?,
            bad_request: class("BadRequestError")?,
            authentication: class("AuthenticationError")?,
            permission_denied: class("PermissionDeniedError")?,
            not_found: class("NotFoundError")?,
            conflict: class("ConflictError")?,
            rate_limit: class("RateLimitError")?,
            server: class("ServerError")?,
            base: class("CyrismaError")?,
            transport: class("TransportError")?,
            timeout: class("TimeoutError")?,
            connection: class("ConnectionError")?,
            ambiguous: class("AmbiguousOutcomeError")?,
            decode: class("DecodeError")?,
            rotation: class("SecretRotationError")?,
            webhook: class("WebhookVerificationError")?,
            fork: class("ForkError")?,
            argument: class("InvalidArgumentError")?,
        })
    })
}

/// Builds an instance of `class` with the message and keyword attributes.
fn build(py: Python<'_>, class: &Py<PyType>, message: String, kwargs: &[(&str, Py<PyAny>)]) -> PyResult<PyErr> {
    let dict = PyDict::new(py);
    for (key, value) in kwargs {
        dict.set_item(*key, value)?;
    }
    let instance = class.bind(py).call((message,), Some(&dict))?;
    Ok(PyErr::from_value(instance))
}

fn opt_str(py: Python<'_>, value: Option<&str>) -> Py<PyAny> {
    value.map_or_else(|| py.None(), |text| pyo3::types::PyString::new(py, text).into_any().unbind())
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        // Also called on the runtime's threads (the async client's failures).
        crate::exit::python_call(|| {
            Python::attach(|py| match to_pyerr(py, failure) {
                Ok(error) => error,
                Err(error) => error,
            })
        })
        .unwrap_or_else(exiting)
    }
}

/// The error of a call whose result nobody can receive any more: the interpreter is exiting.
pub(crate) fn exiting() -> PyErr {
    pyo3::exceptions::PyRuntimeError::new_err("the cyrisma call ended while the Python interpreter was exiting")
}

fn to_pyerr(py: Python<'_>, failure: Failure) -> PyResult<PyErr> {
    let classes = classes(py)?;
    match failure {
        Failure::Transport(error) => transport_error(py, classes, error),
        Failure::Argument { argument, message } => {
            build(py, &classes.argument, message, &[("argument", opt_str(py, argument.as_deref()))])
        }
        Failure::Python(error) => Ok(error),
        Failure::Forked { what } => build(
            py,
            &classes.fork,
            format!(
                "this {what} was created before os.fork() and cannot be used in the child process: create a new {what} in the child"
            ),
            &[],
        ),
        Failure::Webhook(error) => {
            let reason = match &error {
                WebhookError::Signature(signature) => signature_reason(signature),
                _ => "payload",
            };
            build(py, &classes.webhook, error.to_string(), &[("reason", reason.into_pyobject(py)?.into_any().unbind())])
        }
        Failure::Decode { message, path } => {
            build(py, &classes.decode, message, &[("path", opt_str(py, path.as_deref()))])
        }
        Failure::Io { context, source } => {
            let message = format!("{context}: {source}");
            Ok(match source.raw_os_error() {
                Some(code) => PyOSError::new_err((code, message)),
                None => PyOSError::new_err(message),
            })
        }
        Failure::Partial { message } => build(py, &classes.base, message, &[]),
        Failure::Emulator(message) => Ok(PyRuntimeError::new_err(message)),
    }
}

fn signature_reason(error: &SignatureError) -> &'static str {
    match error {
        SignatureError::BodyTooLarge { .. } => "body_too_large",
        SignatureError::EmptySecret => "empty_secret",
        SignatureError::MalformedHeader { .. } => "malformed_header",
        SignatureError::NoSignature => "no_signature",
        SignatureError::TooOld { .. } => "too_old",
        SignatureError::InFuture { .. } => "in_future",
        SignatureError::Mismatch => "mismatch",
        _ => "mismatch",
    }
}

/// The Python name of the setting a configuration error is about.
fn config_argument(error: &ConfigError) -> Option<&'static str> {
    Some(match error {
        ConfigError::BaseUrl(_) | ConfigError::InsecureBaseUrl { .. } => "base_url",
        ConfigError::AllowedDomain(_) => "allowed_domain",
        ConfigError::Resolve(_) => "resolve",
        ConfigError::MissingCredential(which) if *which == "key" => "api_key",
        ConfigError::MissingCredential(_) => "api_secret",
        ConfigError::CaCertificate { .. } | ConfigError::NoTrustRoots => "ca_cert",
        ConfigError::Proxy { .. } => "HTTPS_PROXY",
        ConfigError::Env { name, .. } => name,
        ConfigError::Zero(name) => name,
        _ => return None,
    })
}

/// The exception class for an API answer with this status.
fn status_class(classes: &Classes, status: u16) -> &Py<PyType> {
    match status {
        400 => &classes.bad_request,
        401 => &classes.authentication,
        403 => &classes.permission_denied,
        404 => &classes.not_found,
        409 => &classes.conflict,
        429 => &classes.rate_limit,
        500..=599 => &classes.server,
        _ => &classes.api,
    }
}

fn transport_error(py: Python<'_>, classes: &Classes, error: TransportError) -> PyResult<PyErr> {
    // The whole chain (`Display` is one level; an api error's details are its source).
    let message = format!("{error:#}");
    let request_id = error.request_id().map(str::to_owned);
    let retry_after = error.retry_after().map(|wait| wait.as_secs_f64());
    let code = error.api_code().map(|code| code.as_str().to_owned());
    let api = error.api_error().cloned();
    let api_kwargs = |status: u16, endpoint: Option<&str>| -> PyResult<Vec<(&'static str, Py<PyAny>)>> {
        let mut kwargs: Vec<(&'static str, Py<PyAny>)> = vec![
            ("status", status.into_pyobject(py)?.into_any().unbind()),
            ("code", opt_str(py, code.as_deref())),
            ("server_message", opt_str(py, api.as_ref().and_then(|api| api.message.as_deref()))),
            ("request_id", opt_str(py, request_id.as_deref())),
            ("field", opt_str(py, api.as_ref().and_then(|api| api.field.as_deref()))),
            ("endpoint", opt_str(py, endpoint)),
        ];
        if status == 429 {
            kwargs.push(("retry_after", retry_after.into_pyobject(py)?.into_any().unbind()));
        }
        Ok(kwargs)
    };
    if error.is_ambiguous() {
        let endpoint = match error.kind() {
            ErrorKind::Ambiguous { endpoint, .. } => Some(*endpoint),
            _ => None,
        };
        return build(py, &classes.ambiguous, message, &[("endpoint", opt_str(py, endpoint))]);
    }
    match error.into_kind() {
        ErrorKind::Api { endpoint, error: api_error } => {
            let status = api_error.status.as_u16();
            build(py, status_class(classes, status), message, &api_kwargs(status, Some(endpoint))?)
        }
        ErrorKind::RateLimited { endpoint, .. } => {
            build(py, &classes.rate_limit, message, &api_kwargs(429, Some(endpoint))?)
        }
        ErrorKind::Login { reason, error: login_error, .. } => match (login_error, reason) {
            (Some(api_error), _) => {
                let status = api_error.status.as_u16();
                let class = if status == 400 { &classes.authentication } else { status_class(classes, status) };
                build(py, class, message, &api_kwargs(status, Some("auth.login"))?)
            }
            (None, cyrisma_core::session::LoginFailureReason::Status(status)) => {
                let status = status.as_u16();
                build(py, status_class(classes, status), message, &api_kwargs(status, Some("auth.login"))?)
            }
            (None, cyrisma_core::session::LoginFailureReason::InvalidResponse) => {
                build(py, &classes.decode, message, &[("request_id", opt_str(py, request_id.as_deref()))])
            }
            (None, _) => build(py, &classes.connection, message, &[]),
        },
        ErrorKind::NotFound { .. } | ErrorKind::InstanceNotFound { .. } => {
            build(py, &classes.not_found, message, &api_kwargs(404, None)?)
        }
        ErrorKind::Timeout { .. } => build(py, &classes.timeout, message, &[]),
        ErrorKind::Connect { .. } | ErrorKind::Transport { .. } => build(py, &classes.connection, message, &[]),
        ErrorKind::Tls { .. } => build(
            py,
            &classes.connection,
            message,
            &[("is_tls", true.into_pyobject(py)?.to_owned().into_any().unbind())],
        ),
        ErrorKind::BodyTooLarge { .. } | ErrorKind::HostRefused { .. } | ErrorKind::InsecureScheme { .. } => {
            build(py, &classes.transport, message, &[])
        }
        ErrorKind::Decode(decode) => build(
            py,
            &classes.decode,
            message,
            &[
                ("status", decode.status.as_u16().into_pyobject(py)?.into_any().unbind()),
                ("request_id", opt_str(py, decode.request_id.as_deref())),
                ("path", opt_str(py, decode.path.as_deref())),
            ],
        ),
        ErrorKind::Config(config) => {
            let argument = config_argument(&config);
            let message = match argument {
                Some(argument) if !message.contains(argument) => format!("`{argument}`: {message}"),
                _ => message,
            };
            build(py, &classes.argument, message, &[("argument", opt_str(py, argument))])
        }
        ErrorKind::Request(request) => {
            let argument = request_argument(&request);
            build(py, &classes.argument, message, &[("argument", opt_str(py, argument))])
        }
        ErrorKind::SecretNotSaved { unsaved, source } => {
            let secret = Py::new(py, Secret::from_new_secret(&unsaved))?.into_any();
            let error = build(
                py,
                &classes.rotation,
                message,
                &[("saved", false.into_pyobject(py)?.to_owned().into_any().unbind()), ("secret", secret)],
            )?;
            if let Ok(cause) = source.downcast::<PyErr>() {
                error.set_cause(py, Some(*cause));
            }
            Ok(error)
        }
        ErrorKind::SecretUnreadable => {
            build(py, &classes.rotation, message, &[("saved", true.into_pyobject(py)?.to_owned().into_any().unbind())])
        }
        ErrorKind::SecretNotVerified { source } => {
            let cause = transport_error(py, classes, *source)?;
            let error = build(
                py,
                &classes.rotation,
                message,
                &[("saved", true.into_pyobject(py)?.to_owned().into_any().unbind())],
            )?;
            error.set_cause(py, Some(cause));
            Ok(error)
        }
        _ => build(py, &classes.base, message, &[]),
    }
}

/// The wire name of the field a request error is about, which the Python API names the same.
fn request_argument(error: &cyrisma_core::RequestError) -> Option<&'static str> {
    match error {
        cyrisma_core::RequestError::EmptyField { field } | cyrisma_core::RequestError::InvalidField { field, .. } => {
            Some(field)
        }
        cyrisma_core::RequestError::InvalidPathParameter { param, .. } => Some(param),
        _ => None,
    }
}
