//! Base URLs and host kinds: where a request goes. A leaf module (it uses nothing else of the
//! crate), shared by [`crate::endpoint`], [`crate::error`] and [`crate::host`].
//!
//! A [`BaseUrl`] is the validated scheme, authority and path prefix of the central host or of an
//! instance host; an [`InstanceHost`] is an instance host name that passed
//! [`crate::host::HostPolicy::validate`].

use std::fmt;

/// Which host serves an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostKind {
    /// The central host (`https://api.cyrisma.com/app`): provisioning and authentication.
    Central,
    /// An instance host (`https://{instance}/app`): reporting.
    Instance,
}

impl fmt::Display for HostKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostKind::Central => "central",
            HostKind::Instance => "instance",
        })
    }
}

/// A validated instance host name: a lower-case ASCII DNS name inside the allowed domain, without
/// a trailing dot. Only [`HostPolicy::validate`](crate::host::HostPolicy::validate) makes one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceHost(String);

impl InstanceHost {
    /// Wraps a name [`crate::host::HostPolicy::validate`] has checked.
    pub(crate) fn checked(name: String) -> Self {
        Self(name)
    }
}

impl InstanceHost {
    /// The host name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for InstanceHost {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a base URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error("the base url is not a valid url: write it like `https://api.cyrisma.com/app`")]
    Invalid,
    /// The scheme is neither `https` nor `http`.
    #[error("the base url must start with `https://` (or `http://` for a loopback emulator)")]
    Scheme,
    /// There is no host.
    #[error("the base url has no host")]
    MissingHost,
    /// User name or password in the URL.
    #[error("the base url must not contain a user name or password")]
    Userinfo,
    /// Query or fragment in the URL.
    #[error("the base url must not contain a query or fragment")]
    Query,
}

/// The path prefix of instance hosts: reporting lives at `https://{instance}/app/partner/...`.
pub const INSTANCE_PATH_PREFIX: &str = "/app";

/// A validated base URL: scheme, authority and path prefix, and which kind of host it names.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    text: String,
    scheme_len: usize,
    host: String,
    port: Option<u16>,
    kind: HostKind,
}

impl BaseUrl {
    /// Parses the central base URL (`https://api.cyrisma.com/app`).
    ///
    /// Only the shape is checked here; whether plain `http` may be used (only towards loopback)
    /// is for the transport to decide once it has resolved the host.
    pub fn central(url: &str) -> Result<Self, BaseUrlError> {
        let uri: http::Uri = url.trim().parse().map_err(|_| BaseUrlError::Invalid)?;
        let scheme = match uri.scheme_str() {
            Some(scheme) if scheme.eq_ignore_ascii_case("https") => "https",
            Some(scheme) if scheme.eq_ignore_ascii_case("http") => "http",
            _ => return Err(BaseUrlError::Scheme),
        };
        let authority = uri.authority().ok_or(BaseUrlError::MissingHost)?;
        if authority.as_str().contains('@') {
            return Err(BaseUrlError::Userinfo);
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(BaseUrlError::Query);
        }
        let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Err(BaseUrlError::MissingHost);
        }
        let prefix = uri.path().trim_end_matches('/');
        Ok(Self::assemble(scheme, host, authority.port_u16(), prefix, HostKind::Central))
    }

    /// The base URL of an instance host: same scheme and port as this central URL, path `/app`.
    pub fn instance(&self, host: &InstanceHost) -> Self {
        Self::assemble(self.scheme(), host.as_str().to_owned(), self.port, INSTANCE_PATH_PREFIX, HostKind::Instance)
    }

    fn assemble(scheme: &str, host: String, port: Option<u16>, prefix: &str, kind: HostKind) -> Self {
        let mut text = format!("{scheme}://");
        if host.contains(':') {
            text.push_str(&format!("[{host}]"));
        } else {
            text.push_str(&host);
        }
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        text.push_str(prefix);
        Self { text, scheme_len: scheme.len(), host, port, kind }
    }

    /// The whole base URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        &self.text[..self.scheme_len]
    }

    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.scheme() == "https"
    }

    /// The host name (lower-case, without brackets or a trailing dot).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port in use: the explicit one or the scheme's default.
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.is_https() { 443 } else { 80 })
    }

    /// Which kind of host this is.
    pub fn kind(&self) -> HostKind {
        self.kind
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({} {})", self.kind, self.text)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_base_url_is_normalised() {
        let base = BaseUrl::central("HTTPS://API.Cyrisma.com/app/").unwrap();
        assert_eq!(base.as_str(), "https://api.cyrisma.com/app");
        assert_eq!(base.port_or_default(), 443);
        let base = BaseUrl::central("http://127.0.0.1:8080/app").unwrap();
        assert_eq!(base.host(), "127.0.0.1");
        assert_eq!(base.port(), Some(8080));
        assert!(!base.is_https());
    }

    #[test]
    fn bad_base_urls_are_refused() {
        assert_eq!(BaseUrl::central("ftp://x/app"), Err(BaseUrlError::Scheme));
        assert_eq!(BaseUrl::central("https://u:p@api.cyrisma.com/app"), Err(BaseUrlError::Userinfo));
        assert_eq!(BaseUrl::central("https://api.cyrisma.com/app?x=1"), Err(BaseUrlError::Query));
        assert_eq!(BaseUrl::central("not a url"), Err(BaseUrlError::Invalid));
        assert_eq!(BaseUrl::central("/app"), Err(BaseUrlError::Scheme));
    }
}
