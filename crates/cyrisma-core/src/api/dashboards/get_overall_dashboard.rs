//! `GET /partner/dashboards/overall`: current and previous grades of every risk area.
//!
//! Evidence: \[DOC\] for the path and its meaning, \[OBS\] for the flat keys `current_or_grade`,
//! `previous_or_grade`, `current_vn_grade` and `previous_vn_grade`; the `ds`, `sb` and `cp` keys
//! are \[ASSUMED\] (see [`crate::types::OverallDashboard`]).

use crate::endpoint::{Endpoint, metadata};
use crate::types::OverallDashboard;
use crate::wire::{self, FieldError};

metadata! {
    name: "dashboards.get_overall_dashboard",
    method: GET,
    path: "/partner/dashboards/overall",
    host: Instance,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Doc,
    example: Request::new(),
}

/// Fetches the overall risk dashboard of an instance.
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
    type Response = OverallDashboard;

    fn parse_success(body: &[u8]) -> Result<OverallDashboard, FieldError> {
        wire::from_slice(body)
    }
}
