//! `GET /partner/instances/info/`: the partner's whole structure of organizations and instances.
//!
//! Evidence: \[DOC\]. The answer is a JSON array; there is no pagination \[OBS\].

use crate::endpoint::{Endpoint, metadata};
use crate::types::Instance;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.list_instances",
    method: GET,
    path: "/partner/instances/info/",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Doc,
    example: Request::new(),
}

/// Lists every organization and instance of the partner.
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
    type Response = Vec<Instance>;

    fn parse_success(body: &[u8]) -> Result<Vec<Instance>, FieldError> {
        wire::one_or_many(body)
    }
}
