//! `GET /partner/scans/baseline`: the summaries of the instance's secure baseline scans.
//!
//! Evidence: \[DOC\] for the path; the answer `{"baseline_scans": [...]}` and its fields are
//! \[ASSUMED\] (see [`crate::types::BaselineScan`]).

use crate::endpoint::{Endpoint, metadata};
use crate::types::BaselineScans;
use crate::wire::{self, FieldError};

metadata! {
    name: "scans.list_baseline_scans",
    method: GET,
    path: "/partner/scans/baseline",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Lists the secure baseline scans of an instance.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Request {}

impl Request {
    /// Creates the request.
    pub fn new() -> Self {
        Self {}
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = BaselineScans;

    fn parse_success(body: &[u8]) -> Result<BaselineScans, FieldError> {
        wire::from_slice(body)
    }
}
