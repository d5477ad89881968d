//! `GET /partner/scans/data`: the summaries of the instance's data (sensitive data) scans.
//!
//! Evidence: \[DOC\] for the path; the answer `{"data_scans": [...]}` and its fields are
//! \[ASSUMED\] (see [`crate::types::DataScan`]).

use crate::endpoint::{Endpoint, metadata};
use crate::types::DataScans;
use crate::wire::{self, FieldError};

metadata! {
    name: "scans.list_data_scans",
    method: GET,
    path: "/partner/scans/data",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Lists the data scans of an instance.
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
    type Response = DataScans;

    fn parse_success(body: &[u8]) -> Result<DataScans, FieldError> {
        wire::from_slice(body)
    }
}
