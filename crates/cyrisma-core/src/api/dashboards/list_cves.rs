//! `GET /partner/dashboards/vulnerability/cve`: the CVEs found in an instance, optionally
//! filtered by `cve_id`.
//!
//! Evidence: \[DOC\] for the path and the optional `cve_id` query parameter; the answer
//! `{"cves": [...]}` is \[ASSUMED\] (see [`crate::types::Cve`]).

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::Cves;
use crate::wire::{self, FieldError};

metadata! {
    name: "dashboards.list_cves",
    method: GET,
    path: "/partner/dashboards/vulnerability/cve",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Lists the CVEs of an instance, or the details of one CVE.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Request {
    /// Only this CVE (`CVE-2021-44228`); `None` or empty lists every CVE.
    pub cve_id: Option<String>,
}

impl Request {
    /// Creates the request for every CVE.
    pub fn new() -> Self {
        Self { cve_id: None }
    }

    /// Restricts the request to one CVE.
    pub fn with_cve_id(mut self, cve_id: impl Into<String>) -> Self {
        self.cve_id = Some(cve_id.into());
        self
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Cves;

    fn query(&self, query: &mut Params) -> Result<(), RequestError> {
        query.optional("cve_id", self.cve_id.as_deref());
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Cves, FieldError> {
        wire::from_slice(body)
    }
}
