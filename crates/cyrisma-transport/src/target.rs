//! Where a call goes: the central host, or an instance host with the instance it serves.

use cyrisma_core::BaseUrl;

/// Where a call goes: the central host, or an instance host (with the instance it serves, for
/// instance authentication).
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) base: &'a BaseUrl,
    pub(crate) instance: Option<InstanceScope<'a>>,
}

/// The instance an instance-host call is for, and the other instances of the same fan-out (so
/// that authentication covers them all at once).
#[derive(Clone, Copy)]
pub(crate) struct InstanceScope<'a> {
    pub(crate) id: &'a str,
    pub(crate) group: Option<&'a [String]>,
}

impl<'a> Target<'a> {
    /// The central host.
    pub(crate) fn central(base: &'a BaseUrl) -> Self {
        Self { base, instance: None }
    }

    /// The instance the call is for, if it goes to an instance host.
    pub(crate) fn instance_id(&self) -> Option<&'a str> {
        self.instance.map(|scope| scope.id)
    }

    /// The `host:port` key of the target's pool and gate.
    pub(crate) fn host_key(&self) -> String {
        host_key(self.base)
    }
}

/// The `host:port` key of a base URL's pool and gate.
pub(crate) fn host_key(base: &BaseUrl) -> String {
    format!("{}:{}", base.host(), base.port_or_default())
}
