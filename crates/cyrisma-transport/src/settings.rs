//! The one configuration reader: [`Settings`] resolves each [`Setting`] from layers of text
//! values (flag or argument > environment > profile > default) into a [`ClientConfig`], with one
//! range and one error message per setting, for the CLI, Python and [`ClientConfig::from_env`].
//!
//! A front end fills the layers it has (the CLI its flags, the `CYRISMA_*` variables and the
//! profile of `config.toml`; Python its keyword arguments and, in `from_env()`, the variables)
//! and reads the [`Resolved`] result. Values are text, so every source goes through the same
//! parser; an unusable value names its source (`--timeout`, `CYRISMA_TIMEOUT`, the profile key)
//! and what is allowed, never the value itself (a resolve list quotes the entry it cannot read).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use cyrisma_core::ApiSecret;

use crate::config::ClientConfig;
use crate::error::ConfigError;
use crate::resolve::ResolveOverrides;
use crate::tls::CaSource;

impl ClientConfig {
    /// Overrides the settings whose variable `lookup` returns (see
    /// [`from_env`](ClientConfig::from_env)), through the one reader of every front end
    /// ([`Settings`]), so the ranges are the CLI's and Python's. Empty values count as unset.
    pub fn apply_vars(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let resolved = Settings::new().layer(Layer::vars(lookup)).resolve(self.clone())?;
        *self = resolved.config;
        Ok(())
    }
}

/// The fan-out width (instances queried at once) when none is given.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The smallest and largest fan-out width (`CYRISMA_CONCURRENCY`).
pub const CONCURRENCY_RANGE: (u64, u64) = (1, 1024);

/// The largest number of seconds a timeout takes.
pub const MAX_SECONDS: f64 = 1_000_000.0;

/// The largest number of retries.
pub const MAX_RETRIES: u64 = 100;

/// The largest request limit (`CYRISMA_MAX_CONCURRENCY`, `CYRISMA_MAX_CONCURRENCY_PER_HOST`).
pub const MAX_REQUESTS: u64 = 65_536;

/// The largest response body limit, in bytes (1 TiB).
pub const MAX_BODY_BYTES: u64 = 1 << 40;

/// One setting shared by every front end, with its `CYRISMA_*` variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// `CYRISMA_BASE_URL`: the central base URL.
    BaseUrl,
    /// `CYRISMA_API_KEY`: the API key.
    ApiKey,
    /// `CYRISMA_API_SECRET`: the API secret (taken verbatim, never trimmed).
    ApiSecret,
    /// `CYRISMA_RESOLVE`: host-to-address overrides, comma-separated.
    Resolve,
    /// `CYRISMA_CA_CERT`: an extra certificate authority (a PEM file, or PEM text).
    CaCert,
    /// `CYRISMA_ALLOWED_DOMAIN`: the domain instance hosts must belong to.
    AllowedDomain,
    /// `CYRISMA_TIMEOUT`: the limit for a whole call, in seconds; also caps the two below.
    Timeout,
    /// `CYRISMA_CONNECT_TIMEOUT`: the limit for a connection, in seconds.
    ConnectTimeout,
    /// `CYRISMA_ATTEMPT_TIMEOUT`: the limit for one attempt, in seconds.
    AttemptTimeout,
    /// `CYRISMA_MAX_RETRIES`: retries after the first attempt.
    MaxRetries,
    /// `CYRISMA_CONCURRENCY`: instances queried at once by fan-outs (report, export).
    Concurrency,
    /// `CYRISMA_MAX_CONCURRENCY`: requests in flight at once over all hosts.
    MaxConcurrency,
    /// `CYRISMA_MAX_CONCURRENCY_PER_HOST`: requests in flight at once to one host.
    MaxConcurrencyPerHost,
    /// `CYRISMA_MAX_BODY_SIZE`: the largest response body read, in bytes.
    MaxBodySize,
    /// `CYRISMA_USER_AGENT`: the `User-Agent` header.
    UserAgent,
}

impl Setting {
    /// Every setting, in documentation order.
    pub const ALL: [Setting; 15] = [
        Setting::BaseUrl,
        Setting::ApiKey,
        Setting::ApiSecret,
        Setting::Resolve,
        Setting::CaCert,
        Setting::AllowedDomain,
        Setting::Timeout,
        Setting::ConnectTimeout,
        Setting::AttemptTimeout,
        Setting::MaxRetries,
        Setting::Concurrency,
        Setting::MaxConcurrency,
        Setting::MaxConcurrencyPerHost,
        Setting::MaxBodySize,
        Setting::UserAgent,
    ];

    /// The setting's name: the profile key, the Python argument and the CLI flag (`--` and
    /// dashes) where those exist.
    pub fn key(self) -> &'static str {
        match self {
            Setting::BaseUrl => "base_url",
            Setting::ApiKey => "api_key",
            Setting::ApiSecret => "api_secret",
            Setting::Resolve => "resolve",
            Setting::CaCert => "ca_cert",
            Setting::AllowedDomain => "allowed_domain",
            Setting::Timeout => "timeout",
            Setting::ConnectTimeout => "connect_timeout",
            Setting::AttemptTimeout => "attempt_timeout",
            Setting::MaxRetries => "max_retries",
            Setting::Concurrency => "concurrency",
            Setting::MaxConcurrency => "max_concurrency",
            Setting::MaxConcurrencyPerHost => "max_concurrency_per_host",
            Setting::MaxBodySize => "max_body_size",
            Setting::UserAgent => "user_agent",
        }
    }

    /// The environment variable.
    pub fn var(self) -> &'static str {
        match self {
            Setting::BaseUrl => "CYRISMA_BASE_URL",
            Setting::ApiKey => "CYRISMA_API_KEY",
            Setting::ApiSecret => "CYRISMA_API_SECRET",
            Setting::Resolve => "CYRISMA_RESOLVE",
            Setting::CaCert => "CYRISMA_CA_CERT",
            Setting::AllowedDomain => "CYRISMA_ALLOWED_DOMAIN",
            Setting::Timeout => "CYRISMA_TIMEOUT",
            Setting::ConnectTimeout => "CYRISMA_CONNECT_TIMEOUT",
            Setting::AttemptTimeout => "CYRISMA_ATTEMPT_TIMEOUT",
            Setting::MaxRetries => "CYRISMA_MAX_RETRIES",
            Setting::Concurrency => "CYRISMA_CONCURRENCY",
            Setting::MaxConcurrency => "CYRISMA_MAX_CONCURRENCY",
            Setting::MaxConcurrencyPerHost => "CYRISMA_MAX_CONCURRENCY_PER_HOST",
            Setting::MaxBodySize => "CYRISMA_MAX_BODY_SIZE",
            Setting::UserAgent => "CYRISMA_USER_AGENT",
        }
    }

    /// The setting of a variable name.
    pub fn from_var(name: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|setting| setting.var() == name)
    }

    /// What the setting allows, as written in errors and in `docs/configuration.md`.
    pub fn allowed(self) -> &'static str {
        match self {
            Setting::BaseUrl => "an https url (plain http only towards loopback)",
            Setting::ApiKey | Setting::AllowedDomain | Setting::UserAgent => "a non-empty text",
            Setting::ApiSecret => "a non-empty text (taken verbatim)",
            Setting::Resolve => "`HOST=ADDR` entries, comma-separated, like `*.cyrisma.test=127.0.0.1`",
            Setting::CaCert => "the path of a PEM file",
            Setting::Timeout | Setting::ConnectTimeout | Setting::AttemptTimeout => {
                "a number of seconds greater than 0 and at most 1000000, like `120` or `2.5`"
            }
            Setting::MaxRetries => "a whole number from 0 to 100",
            Setting::Concurrency => "a whole number from 1 to 1024",
            Setting::MaxConcurrency | Setting::MaxConcurrencyPerHost => "a whole number from 1 to 65536",
            Setting::MaxBodySize => "a whole number of bytes from 1 to 1099511627776 (1 TiB)",
        }
    }

    /// Checks a value of this setting: `Ok` when usable, else what is allowed (never the value).
    pub fn check(self, value: &str) -> Result<(), String> {
        parse(self, value).map(|_| ())
    }
}

/// Where a layer's values come from; errors name the source.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// CLI flags (`--base-url`).
    Flag,
    /// Keyword arguments of a library call (`base_url=`).
    Argument,
    /// The `CYRISMA_*` environment variables.
    Env,
    /// A profile of the CLI's `config.toml`, by name.
    Profile(String),
    /// A JSON settings file (`cyrisma tap --config FILE`), by path.
    File(String),
}

impl Origin {
    /// How an error names `setting` from this source.
    pub fn describe(&self, setting: Setting) -> String {
        match self {
            Origin::Flag => format!("flag `--{}`", setting.key().replace('_', "-")),
            Origin::Argument => format!("argument `{}`", setting.key()),
            Origin::Env => format!("environment variable `{}`", setting.var()),
            Origin::Profile(name) => format!("key `{}` of profile `{name}`", setting.key()),
            Origin::File(path) => format!("key `{}` of `{path}`", setting.key()),
        }
    }
}

/// One source's values, as text.
#[derive(Clone, Debug)]
pub struct Layer {
    origin: Origin,
    values: BTreeMap<Setting, String>,
}

impl Layer {
    /// An empty layer from `origin`.
    pub fn new(origin: Origin) -> Self {
        Self { origin, values: BTreeMap::new() }
    }

    /// The `CYRISMA_*` environment variables that are set.
    pub fn env() -> Self {
        Self::vars(|name| std::env::var(name).ok())
    }

    /// The variables that `lookup` returns, as the environment layer.
    pub fn vars(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut layer = Self::new(Origin::Env);
        for setting in Setting::ALL {
            layer.set(setting, lookup(setting.var()));
        }
        layer
    }

    /// Sets a value; `None` and empty (or blank, except for the secret) values count as unset.
    pub fn set(&mut self, setting: Setting, value: Option<String>) -> &mut Self {
        let blank = |value: &String| match setting {
            Setting::ApiSecret => value.is_empty(),
            _ => value.trim().is_empty(),
        };
        match value.filter(|value| !blank(value)) {
            Some(value) => self.values.insert(setting, value),
            None => self.values.remove(&setting),
        };
        self
    }

    /// The value of a setting in this layer.
    pub fn get(&self, setting: Setting) -> Option<&str> {
        self.values.get(&setting).map(String::as_str)
    }

    /// Where the values come from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
}

/// Layers in precedence order, resolved over defaults.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    layers: Vec<Layer>,
}

/// The outcome of [`Settings::resolve`]: the client's configuration and the fan-out width.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Resolved {
    /// The transport's configuration.
    pub config: ClientConfig,
    /// Instances queried at once by fan-outs. Default: [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    sources: BTreeMap<Setting, Origin>,
}

impl Resolved {
    /// Where a setting came from (`None`: the default).
    pub fn source(&self, setting: Setting) -> Option<&Origin> {
        self.sources.get(&setting)
    }
}

impl Settings {
    /// No layers: everything at its default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a layer below the ones already added (add the one that wins first).
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// The winning value of a setting, and its origin.
    pub fn get(&self, setting: Setting) -> Option<(&str, &Origin)> {
        self.layers.iter().find_map(|layer| layer.get(setting).map(|value| (value, &layer.origin)))
    }

    /// Resolves every setting over `defaults` (whose `resolve` entries and CAs are kept, and whose
    /// request limits are raised to the fan-out width when not set). The first unusable value is
    /// an error naming its source and what is allowed.
    pub fn resolve(&self, defaults: ClientConfig) -> Result<Resolved, ConfigError> {
        let mut config = defaults;
        let mut sources = BTreeMap::new();
        let mut values = BTreeMap::new();
        for setting in Setting::ALL {
            if let Some((text, origin)) = self.get(setting) {
                let value = parse(setting, text).map_err(|allowed| error(origin, setting, &allowed))?;
                values.insert(setting, value);
                sources.insert(setting, origin.clone());
            }
        }
        let mut concurrency = DEFAULT_CONCURRENCY;
        for (setting, value) in values {
            match (setting, value) {
                (Setting::BaseUrl, Value::Text(url)) => config.base_url = url,
                (Setting::ApiKey, Value::Text(key)) => config.api_key = Some(key),
                (Setting::ApiSecret, Value::Text(secret)) => config.api_secret = Some(ApiSecret::new(secret)),
                (Setting::Resolve, Value::Resolve(list)) => {
                    for entry in list.entries() {
                        config.resolve.push(entry.clone());
                    }
                }
                (Setting::CaCert, Value::Ca(source)) => config.ca_certificates.push(source),
                (Setting::AllowedDomain, Value::Text(domain)) => config.allowed_domain = Some(domain),
                (Setting::Timeout, Value::Seconds(total)) => config.total_timeout = total,
                (Setting::ConnectTimeout, Value::Seconds(limit)) => config.connect_timeout = limit,
                (Setting::AttemptTimeout, Value::Seconds(limit)) => config.attempt_timeout = limit,
                (Setting::MaxRetries, Value::Count(retries)) => {
                    config.retry.max_retries = u32::try_from(retries).unwrap_or(u32::MAX);
                }
                (Setting::Concurrency, Value::Count(width)) => concurrency = usize_of(width),
                (Setting::MaxConcurrency, Value::Count(limit)) => config.max_concurrency = usize_of(limit),
                (Setting::MaxConcurrencyPerHost, Value::Count(limit)) => {
                    config.max_concurrency_per_host = usize_of(limit);
                }
                (Setting::MaxBodySize, Value::Count(bytes)) => config.max_body_size = bytes,
                (Setting::UserAgent, Value::Text(user_agent)) => config.user_agent = user_agent,
                _ => unreachable!("parse gives each setting its own kind of value"),
            }
        }
        // The total limit caps the others; a fan-out wider than the request limit would queue.
        config.connect_timeout = config.connect_timeout.min(config.total_timeout);
        config.attempt_timeout = config.attempt_timeout.min(config.total_timeout);
        if !sources.contains_key(&Setting::MaxConcurrency) {
            config.max_concurrency = config.max_concurrency.max(concurrency);
        }
        Ok(Resolved { config, concurrency, sources })
    }
}

fn usize_of(count: u64) -> usize {
    usize::try_from(count).unwrap_or(usize::MAX)
}

fn error(origin: &Origin, setting: Setting, allowed: &str) -> ConfigError {
    match origin {
        Origin::Env => ConfigError::Env { name: setting.var(), reason: format!("give {allowed}") },
        origin => ConfigError::Setting(format!("{} is not usable: give {allowed}", origin.describe(setting))),
    }
}

/// A parsed value.
enum Value {
    Text(String),
    Resolve(ResolveOverrides),
    Ca(CaSource),
    Seconds(Duration),
    Count(u64),
}

/// Parses one value; the error is what is allowed.
fn parse(setting: Setting, text: &str) -> Result<Value, String> {
    let allowed = || setting.allowed().to_owned();
    let trimmed = text.trim();
    match setting {
        Setting::ApiSecret if text.is_empty() => Err(allowed()),
        Setting::ApiSecret => Ok(Value::Text(text.to_owned())),
        _ if trimmed.is_empty() => Err(allowed()),
        Setting::BaseUrl | Setting::ApiKey | Setting::AllowedDomain | Setting::UserAgent => {
            Ok(Value::Text(trimmed.to_owned()))
        }
        Setting::Resolve => ResolveOverrides::parse_list(trimmed)
            .map(Value::Resolve)
            .map_err(|error| format!("{} ({error})", setting.allowed())),
        Setting::CaCert if trimmed.starts_with("-----BEGIN") => Ok(Value::Ca(CaSource::Pem(text.as_bytes().to_vec()))),
        Setting::CaCert => Ok(Value::Ca(CaSource::Path(PathBuf::from(trimmed)))),
        Setting::Timeout | Setting::ConnectTimeout | Setting::AttemptTimeout => {
            parse_seconds(trimmed).map(Value::Seconds).ok_or_else(allowed)
        }
        Setting::MaxRetries => count(trimmed, 0, MAX_RETRIES).ok_or_else(allowed),
        Setting::Concurrency => count(trimmed, CONCURRENCY_RANGE.0, CONCURRENCY_RANGE.1).ok_or_else(allowed),
        Setting::MaxConcurrency | Setting::MaxConcurrencyPerHost => count(trimmed, 1, MAX_REQUESTS).ok_or_else(allowed),
        Setting::MaxBodySize => count(trimmed, 1, MAX_BODY_BYTES).ok_or_else(allowed),
    }
}

fn count(text: &str, low: u64, high: u64) -> Option<Value> {
    text.parse::<u64>().ok().filter(|number| (low..=high).contains(number)).map(Value::Count)
}

/// Seconds as `120`, `2.5` or `30s`, greater than 0 and at most [`MAX_SECONDS`].
pub(crate) fn parse_seconds(text: &str) -> Option<Duration> {
    let number = text.trim().trim_end_matches('s').trim();
    let seconds: f64 = number.parse().ok()?;
    (seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    #[test]
    fn seconds_parse_liberally() {
        assert_eq!(parse_seconds("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_seconds("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_seconds("0"), None);
        assert_eq!(parse_seconds("NaN"), None);
    }

    use super::*;

    fn layer(origin: Origin, values: &[(Setting, &str)]) -> Layer {
        let mut layer = Layer::new(origin);
        for (setting, value) in values {
            layer.set(*setting, Some((*value).to_owned()));
        }
        layer
    }

    #[test]
    fn the_first_layer_with_a_value_wins() {
        let settings = Settings::new()
            .layer(layer(Origin::Flag, &[(Setting::Timeout, "5")]))
            .layer(layer(Origin::Env, &[(Setting::Timeout, "7"), (Setting::Concurrency, "32"), (Setting::ApiKey, " ")]))
            .layer(layer(
                Origin::Profile("p".into()),
                &[(Setting::Concurrency, "2"), (Setting::MaxRetries, "9"), (Setting::ApiKey, "k")],
            ));
        let resolved = settings.resolve(ClientConfig::default()).unwrap();
        assert_eq!(resolved.config.total_timeout, Duration::from_secs(5));
        assert_eq!(resolved.config.attempt_timeout, Duration::from_secs(5));
        assert_eq!(resolved.concurrency, 32);
        assert_eq!(resolved.config.max_concurrency, 32);
        assert_eq!(resolved.config.retry.max_retries, 9);
        assert_eq!(resolved.config.api_key.as_deref(), Some("k"));
        assert_eq!(resolved.source(Setting::Timeout), Some(&Origin::Flag));
        assert_eq!(resolved.source(Setting::ApiKey), Some(&Origin::Profile("p".into())));
        assert_eq!(resolved.source(Setting::UserAgent), None);
    }

    #[test]
    fn defaults_apply_without_layers() {
        let resolved = Settings::new().resolve(ClientConfig::default()).unwrap();
        let defaults = ClientConfig::default();
        assert_eq!(resolved.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(resolved.config.max_concurrency, defaults.max_concurrency);
        assert_eq!(resolved.config.total_timeout, defaults.total_timeout);
        assert_eq!(resolved.config.retry.max_retries, defaults.retry.max_retries);
    }

    /// Each numeric setting at both edges of its range and one past each.
    #[test]
    fn ranges_are_enforced_at_their_edges() {
        let cases: [(Setting, &[&str], &[&str]); 7] = [
            (Setting::Timeout, &["0.001", "1000000", "30s"], &["0", "-1", "1000000.5", "NaN", "soon"]),
            (Setting::ConnectTimeout, &["0.5", "1000000"], &["0", "1000001"]),
            (Setting::AttemptTimeout, &["1", "1000000"], &["0", "1e7"]),
            (Setting::MaxRetries, &["0", "100"], &["-1", "101", "two"]),
            (Setting::Concurrency, &["1", "1024"], &["0", "1025"]),
            (Setting::MaxConcurrencyPerHost, &["1", "65536"], &["0", "65537"]),
            (Setting::MaxBodySize, &["1", "1099511627776"], &["0", "1099511627777", "lots"]),
        ];
        for (setting, good, bad) in cases {
            for value in good {
                assert!(setting.check(value).is_ok(), "{setting:?} {value}");
            }
            for value in bad {
                let settings = Settings::new().layer(layer(Origin::Env, &[(setting, value)]));
                let error = settings.resolve(ClientConfig::default()).unwrap_err().to_string();
                assert!(error.contains(setting.var()) && error.contains(setting.allowed()), "{error}");
                assert!(!error.contains(&format!("`{value}`")), "{error}");
            }
        }
    }

    #[test]
    fn errors_name_the_source() {
        for (origin, named) in [
            (Origin::Flag, "flag `--max-retries`"),
            (Origin::Argument, "argument `max_retries`"),
            (Origin::Profile("staging".into()), "key `max_retries` of profile `staging`"),
            (Origin::Env, "environment variable `CYRISMA_MAX_RETRIES`"),
        ] {
            let settings = Settings::new().layer(layer(origin, &[(Setting::MaxRetries, "x")]));
            let error = settings.resolve(ClientConfig::default()).unwrap_err().to_string();
            assert!(error.starts_with(named), "{error}");
            assert!(error.contains("from 0 to 100"), "{error}");
        }
    }

    #[test]
    fn every_variable_maps_back_to_its_setting() {
        for setting in Setting::ALL {
            assert_eq!(Setting::from_var(setting.var()), Some(setting));
            assert!(setting.var().ends_with(&setting.key().to_uppercase()));
        }
    }

    #[test]
    fn explicit_request_limits_win_over_the_fan_out() {
        let settings = Settings::new().layer(layer(
            Origin::Env,
            &[(Setting::Concurrency, "100"), (Setting::MaxConcurrency, "12"), (Setting::MaxConcurrencyPerHost, "2")],
        ));
        let config = settings.resolve(ClientConfig::default()).unwrap().config;
        assert_eq!((config.max_concurrency, config.max_concurrency_per_host), (12, 2));
    }
}
