//! `GET /partner/dashboards/baseline`: the secure baseline dashboard of an instance.
//!
//! Evidence: \[DOC\] for the path and its meaning; the answer
//! `{"current_grade", "previous_grade", "grading_period", "targets": [{"name", "grade"}]}` is
//! \[ASSUMED\] (see [`crate::types::BaselineDashboard`]).

use crate::endpoint::{Endpoint, metadata};
use crate::types::BaselineDashboard;
use crate::wire::{self, FieldError};

metadata! {
    name: "dashboards.get_baseline_dashboard",
    method: GET,
    path: "/partner/dashboards/baseline",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Fetches the secure baseline dashboard of an instance.
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
    type Response = BaselineDashboard;

    fn parse_success(body: &[u8]) -> Result<BaselineDashboard, FieldError> {
        wire::from_slice(body)
    }
}
