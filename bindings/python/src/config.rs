//! The client's keyword arguments, checked and turned into the transport's configuration.
//!
//! `Client(...)` and `AsyncClient(...)` take the same arguments; `from_env()` starts from the
//! `CYRISMA_*` variables (the transport's reader, so the CLI and Python agree) and applies the
//! arguments given on top. Both honour `HTTPS_PROXY`/`NO_PROXY`. Every refusal is an
//! `InvalidArgumentError` that names the argument and never repeats a secret.

use std::path::PathBuf;
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_transport::{ClientBuilder, ClientConfig, ResolveOverrides};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMapping, PyString};

use crate::errors::Failure;
use crate::models::Secret;

/// The fan-out width of `report()` and `export_findings()` when `concurrency` is not given (the
/// CLI's default).
pub(crate) const DEFAULT_CONCURRENCY: usize = 8;

/// The client's arguments, as given (all optional).
#[derive(Default)]
pub(crate) struct ClientOptions {
    pub(crate) api_key: Option<String>,
    pub(crate) api_secret: Option<ApiSecret>,
    pub(crate) base_url: Option<String>,
    pub(crate) resolve: Vec<String>,
    pub(crate) ca_cert: Option<CaCert>,
    pub(crate) allowed_domain: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
    pub(crate) concurrency: Option<usize>,
}

/// A certificate authority: a PEM file, or PEM text.
pub(crate) enum CaCert {
    Path(PathBuf),
    Pem(Vec<u8>),
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
        Ok(Self {
            api_key: optional_text(api_key, "api_key")?,
            api_secret: api_secret.filter(|value| !value.is_none()).map(read_secret).transpose()?,
            base_url: optional_text(base_url, "base_url")?,
            resolve: resolve.filter(|value| !value.is_none()).map(read_resolve).transpose()?.unwrap_or_default(),
            ca_cert: ca_cert.filter(|value| !value.is_none()).map(read_ca).transpose()?,
            allowed_domain: optional_text(allowed_domain, "allowed_domain")?,
            timeout: timeout.filter(|value| !value.is_none()).map(|value| seconds(value, "timeout")).transpose()?,
            max_retries: max_retries.filter(|value| !value.is_none()).map(read_retries).transpose()?,
            concurrency: concurrency.filter(|value| !value.is_none()).map(read_concurrency).transpose()?,
        })
    }

    /// The transport builder: `base` (defaults or the environment) with these options on top.
    pub(crate) fn builder(self, mut base: ClientConfig) -> Result<ClientBuilder, Failure> {
        if let Some(url) = self.base_url {
            base.base_url = url;
        }
        if let Some(key) = self.api_key {
            base.api_key = Some(key);
        }
        if let Some(secret) = self.api_secret {
            base.api_secret = Some(secret);
        }
        if let Some(domain) = self.allowed_domain {
            base.allowed_domain = Some(domain);
        }
        if base.api_key.as_deref().is_none_or(|key| key.trim().is_empty()) {
            return Err(Failure::argument(
                "api_key",
                "no api key was given: pass `api_key=` or set `CYRISMA_API_KEY` (with `Client.from_env()`)",
            ));
        }
        if base.api_secret.as_ref().is_none_or(ApiSecret::is_empty) {
            return Err(Failure::argument(
                "api_secret",
                "no api secret was given: pass `api_secret=` or set `CYRISMA_API_SECRET` (with `Client.from_env()`)",
            ));
        }
        let mut builder = ClientBuilder::from_config(base);
        for entry in &self.resolve {
            builder = builder.resolve(entry);
        }
        match self.ca_cert {
            Some(CaCert::Path(path)) => builder = builder.add_ca_certificate_file(path),
            Some(CaCert::Pem(pem)) => builder = builder.add_ca_certificate_pem(pem),
            None => {}
        }
        if let Some(total) = self.timeout {
            let config = builder.config();
            let (attempt, connect) = (config.attempt_timeout.min(total), config.connect_timeout.min(total));
            builder = builder.total_timeout(total).attempt_timeout(attempt).connect_timeout(connect);
        }
        if let Some(retries) = self.max_retries {
            builder = builder.max_retries(retries);
        }
        let concurrency = self.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
        builder = builder.concurrency(concurrency.max(16), 4);
        builder = builder.proxy_from_env();
        Ok(builder.user_agent(concat!("cyrisma-python/", env!("CARGO_PKG_VERSION"))))
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

fn read_secret(value: &Bound<'_, PyAny>) -> Result<ApiSecret, Failure> {
    if let Ok(secret) = value.cast::<Secret>() {
        return Ok(ApiSecret::new(secret.get().expose()));
    }
    match value.cast::<PyString>() {
        Ok(text) => Ok(ApiSecret::new(text.to_cow().map_err(Failure::from)?.into_owned())),
        Err(_) => Err(Failure::argument(
            "api_secret",
            format!("`api_secret` must be a str or a cyrisma.Secret, not {}", type_name(value)),
        )),
    }
}

fn read_resolve(value: &Bound<'_, PyAny>) -> Result<Vec<String>, Failure> {
    if let Ok(text) = value.cast::<PyString>() {
        return check_resolve(vec![text.to_cow().map_err(Failure::from)?.into_owned()]);
    }
    let invalid = || {
        Failure::argument(
            "resolve",
            "`resolve` must be a str like `*.cyrisma.test=127.0.0.1` (comma-separated for several), a list of them, \
             or a mapping like {\"*.cyrisma.test\": \"127.0.0.1\"}",
        )
    };
    // A mapping `{"host": "address"}`: each item is one `host=address` override.
    if let Ok(mapping) = value.cast::<PyMapping>() {
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
        return check_resolve(entries);
    }
    let items = value.try_iter().map_err(|_| invalid())?;
    let mut entries = Vec::new();
    for item in items {
        let item = item.map_err(Failure::from)?;
        let item = item.cast::<PyString>().map_err(|_| invalid())?;
        entries.push(item.to_cow().map_err(Failure::from)?.into_owned());
    }
    check_resolve(entries)
}

/// Refuses an override the transport cannot read, naming the argument.
fn check_resolve(entries: Vec<String>) -> Result<Vec<String>, Failure> {
    for entry in &entries {
        if let Err(error) = ResolveOverrides::parse_list(entry) {
            return Err(Failure::argument("resolve", format!("`resolve`: {error}")));
        }
    }
    Ok(entries)
}

fn read_ca(value: &Bound<'_, PyAny>) -> Result<CaCert, Failure> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(CaCert::Pem(bytes.as_bytes().to_vec()));
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_cow().map_err(Failure::from)?;
        if text.trim_start().starts_with("-----BEGIN") {
            return Ok(CaCert::Pem(text.as_bytes().to_vec()));
        }
        return Ok(CaCert::Path(PathBuf::from(text.as_ref())));
    }
    match value.extract::<PathBuf>() {
        Ok(path) => Ok(CaCert::Path(path)),
        Err(_) => Err(Failure::argument(
            "ca_cert",
            format!("`ca_cert` must be the path of a PEM file or PEM text, not {}", type_name(value)),
        )),
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

fn whole_number(value: &Bound<'_, PyAny>, name: &str, minimum: u64) -> Result<u64, Failure> {
    let invalid = || Failure::argument(name, format!("`{name}` must be a whole number of at least {minimum}"));
    if value.is_instance_of::<pyo3::types::PyBool>() || !value.is_instance_of::<pyo3::types::PyInt>() {
        return Err(invalid());
    }
    let number: i64 = value.extract().map_err(|_| invalid())?;
    u64::try_from(number).ok().filter(|number| *number >= minimum).ok_or_else(invalid)
}

fn read_retries(value: &Bound<'_, PyAny>) -> Result<u32, Failure> {
    let retries = whole_number(value, "max_retries", 0)?;
    u32::try_from(retries)
        .ok()
        .filter(|retries| *retries <= 100)
        .ok_or_else(|| Failure::argument("max_retries", "`max_retries` must be a whole number between 0 and 100"))
}

/// A concurrency limit: a whole number from 1 to 1024.
pub(crate) fn read_concurrency(value: &Bound<'_, PyAny>) -> Result<usize, Failure> {
    let limit = whole_number(value, "concurrency", 1)?;
    usize::try_from(limit)
        .ok()
        .filter(|limit| *limit <= 1024)
        .ok_or_else(|| Failure::argument("concurrency", "`concurrency` must be a whole number between 1 and 1024"))
}

/// The transport's configuration from the `CYRISMA_*` environment variables.
pub(crate) fn from_env() -> Result<ClientConfig, Failure> {
    ClientConfig::from_env().map_err(|error| Failure::Transport(error.into()))
}

/// The fan-out width from `CYRISMA_CONCURRENCY` (the CLI's variable), if set.
pub(crate) fn concurrency_from_env() -> Result<Option<usize>, Failure> {
    let Some(value) = std::env::var("CYRISMA_CONCURRENCY").ok().filter(|value| !value.trim().is_empty()) else {
        return Ok(None);
    };
    value.trim().parse::<usize>().ok().filter(|limit| (1..=1024).contains(limit)).map(Some).ok_or_else(|| {
        Failure::argument(
            "CYRISMA_CONCURRENCY",
            "environment variable `CYRISMA_CONCURRENCY` must be a whole number between 1 and 1024",
        )
    })
}
