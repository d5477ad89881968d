//! Host-to-address overrides, like curl's `--resolve`: `HOST=ADDR` and `*.domain=ADDR`.
//!
//! An override only changes where the connection goes. The request keeps the real host name:
//! the `Host` header, TLS SNI and the certificate check all use it, so an emulator on loopback can
//! serve `api.cyrisma.test` and `cc1.cyrisma.test` with a certificate for those names.
//!
//! `ADDR` is an IP address with or without a port (`127.0.0.1`, `127.0.0.1:8443`, `[::1]:8443`,
//! `::1`). Without a port, the port of the URL is kept. An exact entry wins over a wildcard; among
//! wildcards the longest (most specific) domain wins. `*.domain` matches sub-domains at any depth
//! but not `domain` itself, as with a DNS wildcard.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// One parsed override.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolveOverride {
    /// What it matches.
    pub pattern: HostPattern,
    /// The address to connect to.
    pub ip: IpAddr,
    /// The port to connect to, if the override gives one (else the URL's port).
    pub port: Option<u16>,
}

/// The host side of an override.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostPattern {
    /// Exactly this host (lower-case, no trailing dot).
    Exact(String),
    /// Every sub-domain of this domain (`*.cyrisma.test` is stored as `cyrisma.test`).
    Wildcard(String),
}

impl HostPattern {
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(name) => name == host,
            HostPattern::Wildcard(domain) => {
                host.strip_suffix(domain.as_str()).is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
            }
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(name) => f.write_str(name),
            HostPattern::Wildcard(domain) => write!(f, "*.{domain}"),
        }
    }
}

/// Why an override was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid resolve override `{entry}`: {reason} (write it like `api.cyrisma.test=127.0.0.1:8443` or `*.cyrisma.test=127.0.0.1`)"
)]
pub struct ResolveOverrideError {
    entry: String,
    reason: &'static str,
}

impl FromStr for ResolveOverride {
    type Err = ResolveOverrideError;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let error = |reason| ResolveOverrideError { entry: entry.trim().chars().take(200).collect(), reason };
        let (host, addr) = entry.trim().split_once('=').ok_or_else(|| error("there is no `=`"))?;
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        let pattern = match host.strip_prefix("*.") {
            Some(domain) => HostPattern::Wildcard(domain.to_owned()),
            None => HostPattern::Exact(host.clone()),
        };
        let name = match &pattern {
            HostPattern::Exact(name) | HostPattern::Wildcard(name) => name,
        };
        let valid_name = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty() && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            });
        if !valid_name {
            return Err(error("the host is not a dns name or `*.` followed by one"));
        }
        let addr = addr.trim();
        let (ip, port) = if let Ok(socket) = addr.parse::<SocketAddr>() {
            (socket.ip(), Some(socket.port()))
        } else if let Ok(ip) = addr.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            (ip, None)
        } else {
            return Err(error("the address is not an ip address with an optional port"));
        };
        Ok(Self { pattern, ip, port })
    }
}

impl fmt::Display for ResolveOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.ip, self.port) {
            (IpAddr::V6(ip), Some(port)) => write!(f, "{}=[{ip}]:{port}", self.pattern),
            (ip, Some(port)) => write!(f, "{}={ip}:{port}", self.pattern),
            (ip, None) => write!(f, "{}={ip}", self.pattern),
        }
    }
}

/// A set of overrides, looked up by host name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolveOverrides {
    entries: Vec<ResolveOverride>,
}

impl ResolveOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a comma-separated list (`CYRISMA_RESOLVE`); empty items are skipped.
    pub fn parse_list(list: &str) -> Result<Self, ResolveOverrideError> {
        let mut overrides = Self::new();
        for item in list.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            overrides.push(item.parse()?);
        }
        Ok(overrides)
    }

    /// Adds an override; a later entry for the same pattern replaces the earlier one.
    pub fn push(&mut self, entry: ResolveOverride) {
        self.entries.retain(|existing| existing.pattern != entry.pattern);
        self.entries.push(entry);
    }

    /// Whether there is no override.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The overrides, in the order they were added.
    pub fn entries(&self) -> &[ResolveOverride] {
        &self.entries
    }

    /// Where a connection to `host:port` goes, if an override covers `host`.
    pub fn lookup(&self, host: &str, port: u16) -> Option<SocketAddr> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let exact =
            self.entries.iter().find(|entry| matches!(&entry.pattern, HostPattern::Exact(name) if *name == host));
        let best = exact.or_else(|| {
            self.entries.iter().filter(|entry| entry.pattern.matches(&host)).max_by_key(|entry| match &entry.pattern {
                HostPattern::Exact(name) | HostPattern::Wildcard(name) => name.len(),
            })
        })?;
        Some(SocketAddr::new(best.ip, best.port.unwrap_or(port)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_shapes() {
        let entry: ResolveOverride = "API.Cyrisma.test=127.0.0.1".parse().unwrap();
        assert_eq!(entry.pattern, HostPattern::Exact("api.cyrisma.test".into()));
        assert_eq!(entry.port, None);
        let entry: ResolveOverride = "*.cyrisma.test=127.0.0.1:8443".parse().unwrap();
        assert_eq!(entry.pattern, HostPattern::Wildcard("cyrisma.test".into()));
        assert_eq!(entry.port, Some(8443));
        let entry: ResolveOverride = "x.test=[::1]:9".parse().unwrap();
        assert_eq!(entry.to_string(), "x.test=[::1]:9");
        let entry: ResolveOverride = "x.test=::1".parse().unwrap();
        assert_eq!(entry.port, None);
        let entry: ResolveOverride = "x.test=[::1]".parse().unwrap();
        assert_eq!(entry.port, None);
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "x.test",
            "=127.0.0.1",
            "x.test=",
            "x.test=localhost",
            "*.=1.2.3.4",
            "a b=1.2.3.4",
            "x..y=1.2.3.4",
            "x.test=1.2.3.4:99999",
        ] {
            let error = bad.parse::<ResolveOverride>().unwrap_err();
            let text = error.to_string();
            assert!(text.starts_with("invalid resolve override"), "{text}");
        }
    }

    #[test]
    fn exact_wins_then_longest_wildcard() {
        let overrides = ResolveOverrides::parse_list(
            "*.test=10.0.0.1, *.cyrisma.test=127.0.0.1:8443 ,api.cyrisma.test=127.0.0.2,,",
        )
        .unwrap();
        assert_eq!(overrides.entries().len(), 3);
        assert_eq!(overrides.lookup("api.cyrisma.test", 443), Some("127.0.0.2:443".parse().unwrap()));
        assert_eq!(overrides.lookup("CC1.cyrisma.test.", 443), Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(overrides.lookup("a.b.cyrisma.test", 443), Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(overrides.lookup("cyrisma.test", 443), Some("10.0.0.1:443".parse().unwrap()));
        assert_eq!(overrides.lookup("evilcyrisma.test", 80), Some("10.0.0.1:80".parse().unwrap()));
        assert_eq!(overrides.lookup("cyrisma.com", 443), None);
        assert_eq!(overrides.lookup("test", 443), None);
    }

    #[test]
    fn later_entries_replace_earlier_ones() {
        let overrides = ResolveOverrides::parse_list("a.test=127.0.0.1,a.test=127.0.0.3:1").unwrap();
        assert_eq!(overrides.entries().len(), 1);
        assert_eq!(overrides.lookup("a.test", 443), Some("127.0.0.3:1".parse().unwrap()));
    }
}
