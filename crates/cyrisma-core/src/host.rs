//! Instance host validation: a host name that comes from server data is untrusted input.
//!
//! Reporting calls go to `https://{instance-host}/app/partner/...`, where the instance host is the
//! `url` field of the instance in `GET /partner/instances/info/`. Every such call carries the
//! access token, so a host the server (or anyone who can tamper with its answer) names must not be
//! able to send the token elsewhere. [`HostPolicy::validate`] turns the raw field into an
//! [`InstanceHost`] only when it is a plain DNS name inside the allowed domain:
//!
//! 1. the whole field may contain no control character, white space, invisible formatting
//!    character, `%` (no percent-encoding) or `\`;
//! 2. a leading `https://` or `http://` (any case) is stripped; any other `scheme://` is refused;
//!    everything from the first `/`, `?` or `#` on (a path) is dropped;
//! 3. what is left, the authority, may carry no user name (`@`), no port (`:`), and must not be
//!    an IP literal (`[::1]`, `::1`);
//! 4. it goes through IDNA (UTS #46 ToASCII: lower-casing, mapping, punycode), so a homoglyph
//!    such as Cyrillic `с` becomes an `xn--` label and no longer matches the allowed domain;
//! 5. **one trailing dot is normalised away** (`cc1.cyrisma.com.` is the same DNS name as
//!    `cc1.cyrisma.com`); a second one leaves an empty label and is refused;
//! 6. the ASCII result must not be an IPv4 address in any spelling the WHATWG URL parser
//!    accepts (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`): a host whose last label is
//!    all digits or `0x` hex is refused;
//! 7. each label is 1 to 63 characters of `[a-z0-9-]`, the whole name at most 253;
//! 8. the name ends with `.` + the allowed domain (a label boundary: `evilcyrisma.com` and
//!    `cyrisma.com.evil.test` are refused); instance hosts are strict sub-domains, so the bare
//!    allowed domain itself (`cyrisma.com`, the company's web site) is refused too.
//!
//! Labels may start or end with `-`: the contract's label rule is `[a-z0-9-]{1,63}` and such a
//! name cannot leave the allowed domain.
//!
//! The allowed domain defaults to the parent domain of the central host ([`HostPolicy::for_central`]:
//! `cyrisma.com` for `api.cyrisma.com`) and can be configured ([`HostPolicy::new`]); it must itself
//! be a DNS name of at least two labels, so that a bare top-level domain such as `com` can never
//! be allowed.
//!
//! ```
//! use cyrisma_core::{BaseUrl, HostPolicy};
//!
//! let central = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
//! let policy = HostPolicy::for_central(&central).unwrap();
//! assert_eq!(policy.allowed_domain(), "cyrisma.com");
//! let host = policy.validate("https://CC123456.cyrisma.com/app").unwrap();
//! assert_eq!(host.as_str(), "cc123456.cyrisma.com");
//! assert_eq!(central.instance(&host).as_str(), "https://cc123456.cyrisma.com/app");
//! assert!(policy.validate("cyrisma.com.evil.test").is_err());
//! ```

use std::net::IpAddr;

use idna::AsciiDenyList;
use idna::uts46::{DnsLength, Hyphens, Uts46};

use crate::base_url::BaseUrl;
pub use crate::base_url::InstanceHost;

/// The longest DNS name accepted, without a trailing dot.
pub const MAX_HOST_LEN: usize = 253;

/// The longest DNS label accepted.
pub const MAX_LABEL_LEN: usize = 63;

/// The longest raw authority (before IDNA) that is even looked at, to bound the work spent on a
/// hostile field; anything longer cannot become a valid name.
const MAX_RAW_LEN: usize = 1024;

/// How many characters of an offending host an error message shows.
const SHOWN_CHARS: usize = 96;

/// Why a host or an allowed domain was refused.
///
/// Hosts shown in messages are server data, not secrets: they are shown with control and
/// invisible formatting characters removed and cut to a readable length.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Nothing is left once the scheme and path are stripped.
    #[error("the host is empty: the server sent no usable host name")]
    Empty,
    /// A `scheme://` other than `https://` or `http://`.
    #[error("host `{host}` has an unsupported scheme: only `https://` or `http://` may prefix a host name")]
    UnsupportedScheme {
        /// The offending value, sanitized.
        host: String,
    },
    /// A character no host name field may contain (control, white space, invisible
    /// formatting, `%`, `\`).
    #[error(
        "host `{host}` contains the character {character:?}, which has no place in a dns name (percent-encoding, white space, backslashes and control characters are refused)"
    )]
    ForbiddenCharacter {
        /// The offending value, sanitized.
        host: String,
        /// The first forbidden character.
        character: char,
    },
    /// User information (`user@`) before the host.
    #[error("host `{host}` carries user information (`@`), which could redirect the request elsewhere")]
    Userinfo {
        /// The offending value, sanitized.
        host: String,
    },
    /// An explicit port.
    #[error("host `{host}` carries a port: instance hosts use the scheme and port of the central base url")]
    Port {
        /// The offending value, sanitized.
        host: String,
    },
    /// An IPv4 (in any spelling) or IPv6 literal.
    #[error("host `{host}` is an ip address, not a dns name")]
    IpLiteral {
        /// The offending value, sanitized.
        host: String,
    },
    /// IDNA (UTS #46) processing refused the name.
    #[error("host `{host}` is not a valid internationalized domain name")]
    Idna {
        /// The offending value, sanitized.
        host: String,
    },
    /// Two dots in a row, a leading dot, or more than one trailing dot.
    #[error("host `{host}` has an empty label (a leading dot or two dots in a row)")]
    EmptyLabel {
        /// The offending value, sanitized.
        host: String,
    },
    /// A label longer than 63 characters (after IDNA).
    #[error("host `{host}` has a label longer than 63 characters")]
    LabelTooLong {
        /// The offending value, sanitized.
        host: String,
    },
    /// A label with characters outside `[a-z0-9-]` (after IDNA).
    #[error("host `{host}` has a label with characters other than `a-z`, `0-9` and `-`")]
    LabelCharacters {
        /// The offending value, sanitized.
        host: String,
    },
    /// A name longer than 253 characters (after IDNA).
    #[error("host `{host}` is longer than 253 characters")]
    TooLong {
        /// The offending value, sanitized.
        host: String,
    },
    /// A valid DNS name outside the allowed domain.
    #[error(
        "host `{host}` is outside the allowed domain `{allowed_domain}`, so no token is sent there: if this host is legitimate, configure the allowed domain"
    )]
    OutsideAllowedDomain {
        /// The normalised host.
        host: String,
        /// The allowed domain.
        allowed_domain: String,
    },
    /// The allowed domain itself, which is no instance's host (instances are sub-domains).
    #[error("host `{host}` is the allowed domain itself, not an instance host under it, so no token is sent there")]
    BareAllowedDomain {
        /// The normalised host.
        host: String,
    },
    /// The configured allowed domain is not a usable DNS name.
    #[error("the allowed domain `{domain}` is not usable ({reason}): give a dns name such as `cyrisma.com`")]
    InvalidAllowedDomain {
        /// The configured value, sanitized.
        domain: String,
        /// What is wrong with it.
        reason: Box<HostError>,
    },
    /// The configured allowed domain is a single label (a top-level domain such as `com`).
    #[error(
        "the allowed domain `{domain}` is a single label, which would allow a whole top-level domain: give a domain with at least two labels, such as `cyrisma.com`"
    )]
    AllowedDomainTooBroad {
        /// The normalised domain.
        domain: String,
    },
    /// No allowed domain can be derived from a central host that is an IP address.
    #[error(
        "the central host `{host}` is an ip address, so no allowed domain can be derived from it: configure the allowed domain explicitly (for example `cyrisma.com`)"
    )]
    CentralHostIsIp {
        /// The central host.
        host: String,
    },
    /// No allowed domain can be derived from a central host without a parent domain of at least
    /// two labels (`localhost`, `cyrisma.com`).
    #[error(
        "the central host `{host}` has no parent domain of at least two labels to allow: configure the allowed domain explicitly (for example `cyrisma.com`)"
    )]
    CentralHostWithoutParent {
        /// The central host.
        host: String,
    },
}

/// Which hosts may receive a token: the allowed domain and its sub-domains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPolicy {
    allowed_domain: String,
}

impl HostPolicy {
    /// A policy for an explicit allowed domain (`cyrisma.com`).
    ///
    /// The domain is normalised like an instance host (a scheme, path and one trailing dot are
    /// stripped, IDNA applied) and must be a DNS name of at least two labels.
    pub fn new(allowed_domain: &str) -> Result<Self, HostError> {
        let domain = normalize(allowed_domain).map_err(|reason| HostError::InvalidAllowedDomain {
            domain: sanitize(allowed_domain),
            reason: Box::new(reason),
        })?;
        if !domain.contains('.') {
            return Err(HostError::AllowedDomainTooBroad { domain });
        }
        Ok(Self { allowed_domain: domain })
    }

    /// The default policy for a central base URL: the parent domain of its host (`cyrisma.com`
    /// for `api.cyrisma.com`, `cyrisma.test` for `api.cyrisma.test`).
    ///
    /// Fails when the central host is an IP address or has no parent of at least two labels
    /// (`localhost`, `cyrisma.com`): configure the allowed domain with [`HostPolicy::new`] then.
    pub fn for_central(base: &BaseUrl) -> Result<Self, HostError> {
        let host = base.host();
        if host.starts_with('[') || host.contains(':') || is_ipv4_like(host) {
            return Err(HostError::CentralHostIsIp { host: sanitize(host) });
        }
        match host.split_once('.') {
            Some((_, parent)) if parent.contains('.') => Self::new(parent),
            _ => Err(HostError::CentralHostWithoutParent { host: sanitize(host) }),
        }
    }

    /// The allowed domain (lower-case ASCII, no trailing dot).
    pub fn allowed_domain(&self) -> &str {
        &self.allowed_domain
    }

    /// Validates an instance's `url` field (a host, possibly with a scheme or path) and returns
    /// the normalised host, or why it may not receive a token.
    pub fn validate(&self, raw: &str) -> Result<InstanceHost, HostError> {
        let host = normalize(raw)?;
        if host == self.allowed_domain {
            return Err(HostError::BareAllowedDomain { host: sanitize(&host) });
        }
        let inside =
            host.strip_suffix(self.allowed_domain.as_str()).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'));
        if !inside {
            return Err(HostError::OutsideAllowedDomain {
                host: sanitize(&host),
                allowed_domain: self.allowed_domain.clone(),
            });
        }
        Ok(InstanceHost::checked(host))
    }
}

/// Steps 1 to 7 of the module documentation: the raw field to a lower-case ASCII DNS name that
/// is not an IP address (without the allowed-domain check).
fn normalize(raw: &str) -> Result<String, HostError> {
    if let Some(character) = raw.chars().find(|&ch| is_forbidden(ch)) {
        return Err(HostError::ForbiddenCharacter { host: sanitize(raw), character });
    }
    let authority = authority(raw)?;
    if authority.is_empty() {
        return Err(HostError::Empty);
    }
    let shown = || sanitize(authority);
    if authority.len() > MAX_RAW_LEN {
        return Err(HostError::TooLong { host: shown() });
    }
    if authority.contains('@') {
        return Err(HostError::Userinfo { host: shown() });
    }
    if authority.starts_with('[') {
        return Err(HostError::IpLiteral { host: shown() });
    }
    if authority.contains(':') {
        // `::1` and `fe80::1` are IPv6 literals; a single colon introduces a port.
        let ipv6 = authority.matches(':').count() > 1 || authority.parse::<IpAddr>().is_ok();
        return Err(if ipv6 { HostError::IpLiteral { host: shown() } } else { HostError::Port { host: shown() } });
    }
    let ascii = Uts46::new()
        .to_ascii(authority.as_bytes(), AsciiDenyList::EMPTY, Hyphens::Allow, DnsLength::Ignore)
        .map_err(|_| HostError::Idna { host: shown() })?;
    let name = ascii.strip_suffix('.').unwrap_or(&ascii);
    if name.is_empty() {
        return Err(HostError::Empty);
    }
    if is_ipv4_like(name) || name.parse::<IpAddr>().is_ok() {
        return Err(HostError::IpLiteral { host: shown() });
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(HostError::EmptyLabel { host: shown() });
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(HostError::LabelTooLong { host: shown() });
        }
        if !label.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-') {
            return Err(HostError::LabelCharacters { host: shown() });
        }
    }
    if name.len() > MAX_HOST_LEN {
        return Err(HostError::TooLong { host: shown() });
    }
    Ok(name.to_owned())
}

/// Strips a leading `https://` or `http://` and anything from the first `/`, `?` or `#` on.
fn authority(raw: &str) -> Result<&str, HostError> {
    let rest = match strip_prefix_ignore_case(raw, "https://").or_else(|| strip_prefix_ignore_case(raw, "http://")) {
        Some(rest) => rest,
        None => {
            // Any other `scheme://` before the path, query or fragment is refused.
            let scheme_end = raw.find("://");
            let path_start = raw.find(['/', '?', '#']);
            if scheme_end.is_some_and(|end| path_start.is_none_or(|start| end < start)) {
                return Err(HostError::UnsupportedScheme { host: sanitize(raw) });
            }
            raw
        }
    };
    Ok(rest.find(['/', '?', '#']).map_or(rest, |end| &rest[..end]))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Whether a lower-case ASCII name is an IPv4 address as the WHATWG URL parser reads hosts: its
/// last label (ignoring one trailing dot) is a decimal or `0x` hexadecimal number. This covers
/// `127.0.0.1`, `127.1`, `2130706433`, `0x7f000001` and octal `0177.0.0.1`.
fn is_ipv4_like(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    let last = name.rsplit('.').next().unwrap_or(name);
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|byte| byte.is_ascii_hexdigit()),
        None => !last.is_empty() && last.bytes().all(|byte| byte.is_ascii_digit()),
    }
}

/// Characters refused anywhere in a host field.
fn is_forbidden(ch: char) -> bool {
    ch.is_control() || ch.is_whitespace() || ch == '%' || ch == '\\' || is_invisible(ch)
}

/// Invisible formatting characters (zero-width, bidirectional controls, soft hyphen, byte order
/// mark): IDNA would drop or refuse some of them, and none belongs in a host or a message.
fn is_invisible(ch: char) -> bool {
    matches!(
        ch,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A host for an error message: control and invisible characters removed, cut to a readable
/// length.
fn sanitize(raw: &str) -> String {
    let mut kept = raw.chars().filter(|&ch| !ch.is_control() && !is_invisible(ch));
    let mut shown: String = kept.by_ref().take(SHOWN_CHARS).collect();
    if kept.next().is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_spellings_are_recognised() {
        for ip in ["127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "1.2.3.0x", "10.0.0.1."] {
            assert!(is_ipv4_like(ip), "{ip}");
        }
        for name in ["cyrisma.com", "cc123456.cyrisma.com", "1a.com", "x.0xg"] {
            assert!(!is_ipv4_like(name), "{name}");
        }
    }

    #[test]
    fn sanitize_strips_controls_and_cuts() {
        assert_eq!(sanitize("a\u{0}b\u{202E}c\n"), "abc");
        let long = "a".repeat(200);
        assert_eq!(sanitize(&long).chars().count(), SHOWN_CHARS + 1);
    }
}
