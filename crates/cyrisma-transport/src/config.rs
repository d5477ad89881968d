//! Client configuration: [`ClientConfig`] (plain data with finite defaults), its environment
//! reader, and [`ClientBuilder`].
//!
//! The library reads no environment variable unless asked: front ends call
//! [`ClientConfig::from_env`] (the variables the emulator prints) and
//! [`ClientBuilder::proxy_from_env`] (`HTTPS_PROXY`, `NO_PROXY`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_core::retry::RetryPolicy;
use cyrisma_core::session::SessionConfig;

use crate::error::ConfigError;
use crate::proxy::Proxy;
use crate::resolve::ResolveOverrides;
use crate::tls::CaSource;

/// The production central base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.cyrisma.com/app";

/// Everything a [`Client`](crate::Client) is built from. `Default` gives the documented defaults, without
/// credentials.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The central base URL. Default: [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// The API key (the "username").
    pub api_key: Option<String>,
    /// The API secret (the "password").
    pub api_secret: Option<ApiSecret>,
    /// The domain instance hosts must belong to. Default: the parent domain of the base URL's
    /// host (`cyrisma.com`).
    pub allowed_domain: Option<String>,
    /// Host-to-address overrides, like curl's `--resolve`.
    pub resolve: ResolveOverrides,
    /// Extra certificate authorities, on top of the system's.
    pub ca_certificates: Vec<CaSource>,
    /// Whether to trust the system's certificate store. Default: `true`.
    pub native_roots: bool,
    /// The proxy for HTTPS requests. Default: none.
    pub proxy: Option<Proxy>,
    /// Limit for establishing a connection (TCP and TLS). Default: 10 s.
    pub connect_timeout: Duration,
    /// Limit for one attempt: sending the request and reading the whole answer. Default: 30 s.
    pub attempt_timeout: Duration,
    /// Limit for a whole call, retries and authentication included. Default: 120 s.
    pub total_timeout: Duration,
    /// When to retry. Default: the core policy's defaults (2 retries, `Retry-After` up to 120 s).
    pub retry: RetryPolicy,
    /// Token timing. Default: the core session's defaults.
    pub session: SessionConfig,
    /// Requests in flight at once, over all hosts. Default: 16.
    pub max_concurrency: usize,
    /// Requests in flight at once to one host. Default: 4.
    pub max_concurrency_per_host: usize,
    /// The largest response body read, in bytes. Default: 64 MiB.
    pub max_body_size: u64,
    /// The `User-Agent` header. Default: `cyrisma-sdk-rust/<version>`.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            api_secret: None,
            allowed_domain: None,
            resolve: ResolveOverrides::new(),
            ca_certificates: Vec::new(),
            native_roots: true,
            proxy: None,
            connect_timeout: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            session: SessionConfig::default(),
            max_concurrency: 16,
            max_concurrency_per_host: 4,
            max_body_size: 64 * 1024 * 1024,
            user_agent: concat!("cyrisma-sdk-rust/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl ClientConfig {
    /// The defaults, overridden by the `CYRISMA_*` environment variables that are set:
    /// `CYRISMA_BASE_URL`, `CYRISMA_API_KEY`, `CYRISMA_API_SECRET`, `CYRISMA_RESOLVE`
    /// (comma-separated overrides), `CYRISMA_CA_CERT` (a PEM file), `CYRISMA_ALLOWED_DOMAIN`,
    /// `CYRISMA_TIMEOUT` (the total timeout in seconds) and `CYRISMA_MAX_RETRIES` (the ones the
    /// emulator prints, or that users set most), and for finer control `CYRISMA_CONNECT_TIMEOUT`,
    /// `CYRISMA_ATTEMPT_TIMEOUT` (seconds), `CYRISMA_MAX_CONCURRENCY`,
    /// `CYRISMA_MAX_CONCURRENCY_PER_HOST`, `CYRISMA_MAX_BODY_SIZE` (bytes), `CYRISMA_USER_AGENT`
    /// and `CYRISMA_CONCURRENCY` (a fan-out wider than `max_concurrency` raises it), with the
    /// ranges of [`Setting::allowed`](crate::settings::Setting::allowed).
    /// The proxy is read separately, by [`ClientBuilder::proxy_from_env`].
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut config = Self::default();
        config.apply_vars(|name| std::env::var(name).ok())?;
        Ok(config)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("api_secret", &self.api_secret)
            .field("allowed_domain", &self.allowed_domain)
            .field("resolve", &self.resolve)
            .field("ca_certificates", &self.ca_certificates.len())
            .field("native_roots", &self.native_roots)
            .field("proxy", &self.proxy)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("retry", &self.retry)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_concurrency_per_host", &self.max_concurrency_per_host)
            .field("max_body_size", &self.max_body_size)
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`](crate::Client); start with [`Client::builder`](crate::Client::builder).
#[derive(Clone, Debug, Default)]
pub struct ClientBuilder {
    config: ClientConfig,
    errors: Vec<String>,
}

impl ClientBuilder {
    /// A builder with the default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder starting from `config`.
    pub fn from_config(config: ClientConfig) -> Self {
        Self { config, errors: Vec::new() }
    }

    /// The central base URL (default `https://api.cyrisma.com/app`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// The API key and secret.
    pub fn credentials(mut self, api_key: impl Into<String>, api_secret: ApiSecret) -> Self {
        self.config.api_key = Some(api_key.into());
        self.config.api_secret = Some(api_secret);
        self
    }

    /// The domain instance hosts must belong to (default: the parent domain of the base URL's
    /// host).
    pub fn allowed_domain(mut self, domain: impl Into<String>) -> Self {
        self.config.allowed_domain = Some(domain.into());
        self
    }

    /// Adds host-to-address overrides: one entry (`api.cyrisma.test=127.0.0.1:8443`,
    /// `*.cyrisma.test=127.0.0.1`) or a comma-separated list of them, as in `CYRISMA_RESOLVE`.
    pub fn resolve(mut self, entries: &str) -> Self {
        match ResolveOverrides::parse_list(entries) {
            Ok(parsed) => {
                for entry in parsed.entries() {
                    self.config.resolve.push(entry.clone());
                }
            }
            Err(error) => self.errors.push(error.to_string()),
        }
        self
    }

    /// Trusts the certificate authorities of a PEM file, on top of the system's.
    pub fn add_ca_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ca_certificates.push(CaSource::Path(path.into()));
        self
    }

    /// Trusts the certificate authorities of PEM text, on top of the system's.
    pub fn add_ca_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.config.ca_certificates.push(CaSource::Pem(pem.into()));
        self
    }

    /// Whether to trust the system's certificate store (default `true`).
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.config.native_roots = enabled;
        self
    }

    /// Sends HTTPS requests through this proxy.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.config.proxy = Some(proxy);
        self
    }

    /// Uses the proxy of `HTTPS_PROXY` and `NO_PROXY`, if set (the library reads them only when
    /// asked, through this method).
    pub fn proxy_from_env(mut self) -> Self {
        match Proxy::from_env() {
            Ok(proxy) => self.config.proxy = proxy.or(self.config.proxy),
            Err(error) => self.errors.push(error.to_string()),
        }
        self
    }

    /// Limit for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Limit for one attempt (default 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.config.attempt_timeout = timeout;
        self
    }

    /// Limit for a whole call, retries included (default 120 s).
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.config.total_timeout = timeout;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// The number of retries after the first attempt (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.config.retry.max_retries = retries;
        self
    }

    /// Token timing rules.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.config.session = session;
        self
    }

    /// Requests in flight at once over all hosts (default 16), and to one host (default 4).
    pub fn concurrency(mut self, global: usize, per_host: usize) -> Self {
        self.config.max_concurrency = global;
        self.config.max_concurrency_per_host = per_host;
        self
    }

    /// The largest response body read, in bytes (default 64 MiB).
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// Changes any setting of the configuration directly.
    pub fn config_mut(mut self, change: impl FnOnce(&mut ClientConfig)) -> Self {
        change(&mut self.config);
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The configuration, or the first invalid setting given to the builder (the client is
    /// built from it in `client.rs`, [`ClientBuilder::build`]).
    pub(crate) fn into_config(self) -> Result<ClientConfig, ConfigError> {
        match self.errors.into_iter().next() {
            Some(first) => Err(ConfigError::Setting(first)),
            None => Ok(self.config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let vars = [
            ("CYRISMA_BASE_URL", "https://api.cyrisma.test:8443/app"),
            ("CYRISMA_API_KEY", " key "),
            ("CYRISMA_API_SECRET", "s3cret "),
            ("CYRISMA_RESOLVE", "api.cyrisma.test=127.0.0.1:8443, *.cyrisma.test=127.0.0.1:8443"),
            ("CYRISMA_CA_CERT", "/tmp/ca.pem"),
            ("CYRISMA_ALLOWED_DOMAIN", "cyrisma.test"),
            ("CYRISMA_TIMEOUT", "5"),
            ("CYRISMA_MAX_RETRIES", "4"),
            ("CYRISMA_ATTEMPT_TIMEOUT", "3"),
            ("CYRISMA_MAX_CONCURRENCY", "64"),
            ("CYRISMA_MAX_CONCURRENCY_PER_HOST", "8"),
            ("CYRISMA_MAX_BODY_SIZE", "1048576"),
            ("CYRISMA_USER_AGENT", "cyrisma-cli/0.1.0"),
        ];
        let mut config = ClientConfig::default();
        config
            .apply_vars(|name| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned()))
            .unwrap();
        assert_eq!(config.base_url, "https://api.cyrisma.test:8443/app");
        assert_eq!(config.api_key.as_deref(), Some("key"));
        assert_eq!(config.api_secret.as_ref().map(ApiSecret::expose_secret), Some("s3cret "));
        assert_eq!(config.resolve.entries().len(), 2);
        assert_eq!(config.ca_certificates, vec![CaSource::Path("/tmp/ca.pem".into())]);
        assert_eq!(config.allowed_domain.as_deref(), Some("cyrisma.test"));
        assert_eq!(config.total_timeout, Duration::from_secs(5));
        assert_eq!(config.attempt_timeout, Duration::from_secs(3));
        assert_eq!((config.max_concurrency, config.max_concurrency_per_host), (64, 8));
        assert_eq!(config.max_body_size, 1_048_576);
        assert_eq!(config.user_agent, "cyrisma-cli/0.1.0");
        assert_eq!(config.connect_timeout, Duration::from_secs(5));
        assert_eq!(config.retry.max_retries, 4);
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn bad_environment_values_name_the_variable_not_the_value() {
        for (name, value) in [
            ("CYRISMA_TIMEOUT", "soon"),
            ("CYRISMA_MAX_RETRIES", "-1"),
            ("CYRISMA_RESOLVE", "nonsense"),
            ("CYRISMA_CONNECT_TIMEOUT", "0"),
            ("CYRISMA_MAX_CONCURRENCY", "0"),
            ("CYRISMA_MAX_BODY_SIZE", "lots"),
        ] {
            let mut config = ClientConfig::default();
            let error = config.apply_vars(|key| (key == name).then(|| value.to_owned())).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
