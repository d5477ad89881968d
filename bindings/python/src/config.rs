//! The client's keyword arguments, checked and turned into the transport's configuration.
//!
//! `Client(...)` and `AsyncClient(...)` take the same arguments; `from_env()` adds the
//! `CYRISMA_*` variables below them. Both go through the transport's one reader
//! (`cyrisma_transport::Settings`, the CLI's too), so every setting has the CLI's range and
//! precedence (argument > environment > default). Both honour `HTTPS_PROXY`/`NO_PROXY`. Every
//! refusal is an `InvalidArgumentError` that names the argument (or the variable) and never
//! repeats a secret.

use std::path::PathBuf;
use std::time::Duration;

use cyrisma_transport::{ClientBuilder, ClientConfig, Layer, Origin, Setting, Settings};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMapping, PyString};

use crate::errors::Failure;
use crate::models::Secret;

/// The client's arguments, checked, as the top layer of the settings.
pub(crate) struct ClientOptions {
    arguments: Layer,
    environment: bool,
}

impl ClientOptions {
    /// Reads the keyword arguments.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_args(
        api_key: Option<&Bound<'_, PyAny>>,
        api_secret: Option<&Bound<'_, PyAny>>,
        base_url: Option<&Bound<'_, PyAny>>,
        resolve: Option<&Bound<'_, PyAny>>,
        ca_cert: Option<&Bound<'_, PyAny>>,
        allowed_domain: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        concurrency: Option<&Bound<'_, PyAny>>,
    ) -> Result<Self, Failure> {
        fn given<'py>(value: Option<&Bound<'py, PyAny>>) -> Option<Bound<'py, PyAny>> {
            value.filter(|value| !value.is_none()).cloned()
        }
        let mut arguments = Layer::new(Origin::Argument);
        arguments
            .set(Setting::ApiKey, optional_text(api_key, "api_key")?)
            .set(Setting::ApiSecret, given(api_secret).map(|value| read_secret(&value)).transpose()?)
            .set(Setting::BaseUrl, optional_text(base_url, "base_url")?)
            .set(Setting::Resolve, given(resolve).map(|value| read_resolve(&value)).transpose()?)
            .set(Setting::CaCert, given(ca_cert).map(|value| read_ca(&value)).transpose()?)
            .set(Setting::AllowedDomain, optional_text(allowed_domain, "allowed_domain")?)
            .set(Setting::Timeout, given(timeout).map(|value| read_seconds(&value, Setting::Timeout)).transpose()?)
            .set(
                Setting::MaxRetries,
                given(max_retries).map(|value| read_count(&value, Setting::MaxRetries)).transpose()?,
            )
            .set(
                Setting::Concurrency,
                given(concurrency).map(|value| read_count(&value, Setting::Concurrency)).transpose()?,
            );
        Ok(Self { arguments, environment: false })
    }

    /// Adds the `CYRISMA_*` variables below the arguments (`from_env()`).
    pub(crate) fn with_environment(mut self) -> Self {
        self.environment = true;
        self
    }

    /// The transport builder and the fan-out width: the arguments, then the variables (with
    /// `from_env()`), then the defaults.
    pub(crate) fn builder(self) -> Result<(ClientBuilder, usize), Failure> {
        let mut settings = Settings::new().layer(self.arguments);
        if self.environment {
            settings = settings.layer(Layer::env());
        }
        let mut defaults = ClientConfig::default();
        defaults.user_agent = concat!("cyrisma-python/", env!("CARGO_PKG_VERSION")).to_owned();
        let resolved = settings.resolve(defaults).map_err(|error| Failure::Transport(error.into()))?;
        let config = resolved.config;
        if config.api_key.is_none() {
            return Err(Failure::argument(
                "api_key",
                "no api key was given: pass `api_key=` or set `CYRISMA_API_KEY` (with `Client.from_env()`)",
            ));
        }
        if config.api_secret.is_none() {
            return Err(Failure::argument(
                "api_secret",
                "no api secret was given: pass `api_secret=` or set `CYRISMA_API_SECRET` (with `Client.from_env()`)",
            ));
        }
        Ok((ClientBuilder::from_config(config).proxy_from_env(), resolved.concurrency))
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|name| name.to_string()).unwrap_or_else(|_| "?".to_owned())
}

/// A `str` argument; `None` is absent.
pub(crate) fn optional_text(value: Option<&Bound<'_, PyAny>>, name: &str) -> Result<Option<String>, Failure> {
    match value {
        None => Ok(None),
        Some(value) if value.is_none() => Ok(None),
        Some(value) => text(value, name).map(Some),
    }
}

/// A required `str` argument.
pub(crate) fn text(value: &Bound<'_, PyAny>, name: &str) -> Result<String, Failure> {
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow().map_err(Failure::from)?.into_owned()),
        Err(_) => Err(Failure::argument(name, format!("`{name}` must be a str, not {}", type_name(value)))),
    }
}

fn read_secret(value: &Bound<'_, PyAny>) -> Result<String, Failure> {
    if let Ok(secret) = value.cast::<Secret>() {
        return Ok(secret.get().expose().to_owned());
    }
    match value.cast::<PyString>() {
        Ok(text) => Ok(text.to_cow().map_err(Failure::from)?.into_owned()),
        Err(_) => Err(Failure::argument(
            "api_secret",
            format!("`api_secret` must be a str or a cyrisma.Secret, not {}", type_name(value)),
        )),
    }
}

/// Overrides as one comma-separated list.
fn read_resolve(value: &Bound<'_, PyAny>) -> Result<String, Failure> {
    let invalid = || {
        Failure::argument(
            "resolve",
            "`resolve` must be a str like `*.cyrisma.test=127.0.0.1` (comma-separated for several), a list of them, \
             or a mapping like {\"*.cyrisma.test\": \"127.0.0.1\"}",
        )
    };
    let entries = if let Ok(text) = value.cast::<PyString>() {
        vec![text.to_cow().map_err(Failure::from)?.into_owned()]
    } else if let Ok(mapping) = value.cast::<PyMapping>() {
        // A mapping `{"host": "address"}`: each item is one `host=address` override.
        let mut entries = Vec::new();
        for item in mapping.items().map_err(Failure::from)?.iter() {
            let (host, address): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract().map_err(|_| invalid())?;
            let text = |value: &Bound<'_, PyAny>| -> Result<String, Failure> {
                let value = value.cast::<PyString>().map_err(|_| invalid())?;
                Ok(value.to_cow().map_err(Failure::from)?.into_owned())
            };
            let (host, address) = (text(&host)?, text(&address)?);
            if host.contains(['=', ',']) || address.contains(['=', ',']) {
                return Err(invalid());
            }
            entries.push(format!("{host}={address}"));
        }
        entries
    } else {
        let mut entries = Vec::new();
        for item in value.try_iter().map_err(|_| invalid())? {
            let item = item.map_err(Failure::from)?;
            let item = item.cast::<PyString>().map_err(|_| invalid())?;
            entries.push(item.to_cow().map_err(Failure::from)?.into_owned());
        }
        entries
    };
    checked(Setting::Resolve, entries.join(","))
}

/// A path, or PEM text (`str` or `bytes`).
fn read_ca(value: &Bound<'_, PyAny>) -> Result<String, Failure> {
    let invalid = || {
        Failure::argument(
            "ca_cert",
            format!("`ca_cert` must be the path of a PEM file or PEM text, not {}", type_name(value)),
        )
    };
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return match std::str::from_utf8(bytes.as_bytes()) {
            Ok(text) if text.trim_start().starts_with("-----BEGIN") => Ok(text.to_owned()),
            _ => Err(Failure::argument("ca_cert", "`ca_cert` bytes must be PEM text (`-----BEGIN CERTIFICATE-----`)")),
        };
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_cow().map_err(Failure::from)?.into_owned());
    }
    let path: PathBuf = value.extract().map_err(|_| invalid())?;
    path.to_str().map(str::to_owned).ok_or_else(invalid)
}

/// A number of seconds (not a bool), in the setting's range.
fn read_seconds(value: &Bound<'_, PyAny>, setting: Setting) -> Result<String, Failure> {
    let name = setting.key();
    let invalid = || Failure::argument(name, format!("`{name}` must be {}", setting.allowed()));
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid());
    }
    let seconds: f64 = value.extract().map_err(|_| invalid())?;
    checked(setting, seconds.to_string())
}

/// A whole number (an `int`, not a bool), in the setting's range.
fn read_count(value: &Bound<'_, PyAny>, setting: Setting) -> Result<String, Failure> {
    let name = setting.key();
    let invalid = || Failure::argument(name, format!("`{name}` must be {}", setting.allowed()));
    if value.is_instance_of::<pyo3::types::PyBool>() || !value.is_instance_of::<pyo3::types::PyInt>() {
        return Err(invalid());
    }
    let number: i128 = value.extract().map_err(|_| invalid())?;
    checked(setting, number.to_string())
}

/// The value when the setting allows it, else an error naming the argument and the range.
fn checked(setting: Setting, value: String) -> Result<String, Failure> {
    let name = setting.key();
    match setting.check(&value) {
        Ok(()) => Ok(value),
        Err(allowed) => Err(Failure::argument(name, format!("`{name}` must be {allowed}"))),
    }
}

/// A positive number of seconds.
pub(crate) fn seconds(value: &Bound<'_, PyAny>, name: &str) -> Result<Duration, Failure> {
    let invalid = || Failure::argument(name, format!("`{name}` must be a positive number of seconds, like 30 or 2.5"));
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid());
    }
    let seconds: f64 = value.extract().map_err(|_| invalid())?;
    if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(invalid())
    }
}

/// A fan-out width (`concurrency=` of one call), in the range of `CYRISMA_CONCURRENCY`.
pub(crate) fn read_concurrency(value: &Bound<'_, PyAny>) -> Result<usize, Failure> {
    let text = read_count(value, Setting::Concurrency)?;
    text.parse().map_err(|_| {
        Failure::argument("concurrency", format!("`concurrency` must be {}", Setting::Concurrency.allowed()))
    })
}
