//! Instance host validation: a host name that comes from server data is untrusted input.
//!
//! STUB: the real implementation is being written; the API below is fixed.

use crate::endpoint::BaseUrl;

/// A validated instance host name: lower-case ASCII DNS name inside the allowed domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceHost(String);

impl InstanceHost {
    /// The host name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a host was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Placeholder.
    #[error("the host is not valid")]
    Invalid,
}

/// Which hosts may receive a token: the allowed domain and its sub-domains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPolicy {
    allowed_domain: String,
}

impl HostPolicy {
    /// A policy for an explicit allowed domain.
    pub fn new(allowed_domain: &str) -> Result<Self, HostError> {
        Ok(Self { allowed_domain: allowed_domain.to_ascii_lowercase() })
    }

    /// The default policy for a central base URL: the parent domain of its host.
    pub fn for_central(base: &BaseUrl) -> Result<Self, HostError> {
        let host = base.host();
        let parent = host.split_once('.').map(|(_, rest)| rest).unwrap_or(host);
        Self::new(parent)
    }

    /// The allowed domain.
    pub fn allowed_domain(&self) -> &str {
        &self.allowed_domain
    }

    /// Validates an instance's `url` field (a host, possibly with a scheme or path).
    pub fn validate(&self, raw: &str) -> Result<InstanceHost, HostError> {
        Ok(InstanceHost(raw.to_ascii_lowercase()))
    }
}
