//! `GET /partner/dashboards/data`: the data (sensitive data) dashboard of an instance.
//!
//! Evidence: \[DOC\] for the path and its meaning; the answer
//! `{"current_grade", "previous_grade", "grading_period", "sensitive_files"}` is \[ASSUMED\] (see
//! [`crate::types::DataDashboard`]).

use crate::endpoint::{Endpoint, metadata};
use crate::types::DataDashboard;
use crate::wire::{self, FieldError};

metadata! {
    name: "dashboards.get_data_dashboard",
    method: GET,
    path: "/partner/dashboards/data",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Fetches the data (sensitive data) dashboard of an instance.
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
    type Response = DataDashboard;

    fn parse_success(body: &[u8]) -> Result<DataDashboard, FieldError> {
        wire::from_slice(body)
    }
}
