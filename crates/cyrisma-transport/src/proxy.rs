//! HTTPS through an HTTP proxy (`CONNECT` tunnels), with `NO_PROXY` exclusions.
//!
//! The library reads no environment unless asked: [`Proxy::from_env`] reads `HTTPS_PROXY` and
//! `NO_PROXY` (and their lower-case spellings) for front ends that opt in. Matching follows curl's
//! rules through `hyper-util`'s matcher: `NO_PROXY` lists domains (matching sub-domains too), IP
//! addresses, CIDR ranges, or `*`.
//!
//! Only `https://` targets use the proxy: plain http is allowed only towards loopback, which is
//! never proxied, and hosts covered by a resolve override connect directly. The tunnel ends at the
//! target, so TLS (and the certificate check) is between the client and the target; the proxy sees
//! only the host name and port.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

use crate::error::ConfigError;

/// An HTTP proxy for HTTPS requests.
#[derive(Clone)]
pub struct Proxy {
    url: String,
    no_proxy: Option<String>,
    matcher: Arc<Matcher>,
}

impl Proxy {
    /// Sends every HTTPS request through the proxy at `url` (`http://proxy.example:3128`,
    /// optionally with `user:password@`).
    pub fn https(url: &str) -> Result<Self, ConfigError> {
        let url = url.trim();
        let uri: Uri =
            url.parse().map_err(|_| ConfigError::Proxy { reason: "the proxy url is not a valid url".into() })?;
        match uri.scheme_str() {
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => {}
            Some(_) => {
                return Err(ConfigError::Proxy {
                    reason: "only `http://` proxies are supported (the tunnel to the target is still tls)".into(),
                });
            }
            None => {
                return Err(ConfigError::Proxy {
                    reason: "the proxy url needs a scheme, like `http://proxy:3128`".into(),
                });
            }
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(ConfigError::Proxy { reason: "the proxy url has no host".into() });
        }
        let mut proxy = Self { url: url.to_owned(), no_proxy: None, matcher: Arc::new(Matcher::builder().build()) };
        proxy.rebuild();
        Ok(proxy)
    }

    /// Excludes hosts from the proxy: a comma-separated `NO_PROXY` list.
    pub fn no_proxy(mut self, list: &str) -> Self {
        let list = list.trim();
        self.no_proxy = (!list.is_empty()).then(|| list.to_owned());
        self.rebuild();
        self
    }

    /// The proxy named by `HTTPS_PROXY` (or `https_proxy`), with the exclusions of `NO_PROXY`
    /// (or `no_proxy`); `None` when no proxy is set.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        let Some(url) = first_env(&["HTTPS_PROXY", "https_proxy"]) else {
            return Ok(None);
        };
        let proxy = Self::https(&url).map_err(|error| ConfigError::Env {
            name: "HTTPS_PROXY",
            reason: match error {
                ConfigError::Proxy { reason } => reason,
                other => other.to_string(),
            },
        })?;
        Ok(Some(match first_env(&["NO_PROXY", "no_proxy"]) {
            Some(list) => proxy.no_proxy(&list),
            None => proxy,
        }))
    }

    fn rebuild(&mut self) {
        let mut builder = Matcher::builder().https(self.url.clone());
        if let Some(list) = &self.no_proxy {
            builder = builder.no(list.clone());
        }
        self.matcher = Arc::new(builder.build());
    }

    /// The proxy to use for `uri`, if any.
    pub(crate) fn intercept(&self, uri: &Uri) -> Option<Intercept> {
        let intercept = self.matcher.intercept(uri)?;
        let proxy_uri = intercept.uri();
        let host = proxy_uri.host()?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = proxy_uri.port_u16().unwrap_or(80);
        Some(Intercept { host, port, authorization: intercept.basic_auth().cloned() })
    }

    /// Whether `uri` would go through the proxy.
    pub fn intercepts(&self, uri: &Uri) -> bool {
        self.intercept(uri).is_some()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: show only the host and port.
        let shown = self
            .url
            .parse::<Uri>()
            .ok()
            .and_then(|uri| uri.host().map(|host| format!("http://{host}:{}", uri.port_u16().unwrap_or(80))))
            .unwrap_or_else(|| "<invalid>".into());
        f.debug_struct("Proxy").field("url", &shown).field("no_proxy", &self.no_proxy).finish()
    }
}

/// The proxy chosen for one connection: where to open the tunnel, and its credentials.
pub(crate) struct Intercept {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) authorization: Option<HeaderValue>,
}

fn first_env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_owned())
        .find(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_targets_use_the_proxy_unless_excluded() {
        let proxy =
            Proxy::https("http://user:pass@proxy.example:3128").unwrap().no_proxy("internal.example, 10.0.0.0/8");
        let intercept = proxy.intercept(&"https://api.cyrisma.com/app".parse().unwrap()).unwrap();
        assert_eq!((intercept.host.as_str(), intercept.port), ("proxy.example", 3128));
        assert_eq!(intercept.authorization.unwrap(), "Basic dXNlcjpwYXNz");
        assert!(!proxy.intercepts(&"https://x.internal.example/app".parse().unwrap()));
        assert!(!proxy.intercepts(&"https://internal.example/app".parse().unwrap()));
        assert!(!proxy.intercepts(&"https://10.1.2.3/app".parse().unwrap()));
        assert!(proxy.intercepts(&"https://notinternal.example/app".parse().unwrap()));
        assert!(!proxy.intercepts(&"http://api.cyrisma.com/app".parse().unwrap()));
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let proxy = Proxy::https("http://user:secret-canary@proxy.example:3128").unwrap();
        let debug = format!("{proxy:?}");
        assert!(!debug.contains("secret-canary"), "{debug}");
        assert!(debug.contains("proxy.example:3128"), "{debug}");
    }

    #[test]
    fn bad_proxies_are_refused() {
        for bad in ["proxy:3128", "https://proxy:3128", "socks5://proxy:1080", "http://"] {
            assert!(Proxy::https(bad).is_err(), "{bad}");
        }
        assert!(Proxy::https("http://proxy").is_ok());
    }
}
