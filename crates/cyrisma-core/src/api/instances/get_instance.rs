//! `GET /partner/instances/info/{instanceId}`: one organization or instance.
//!
//! Evidence: \[DOC + OBS\]. The answer is a one-element array (an object is also accepted); the
//! emulator also serves `?instance_id=`.

use crate::endpoint::{Endpoint, metadata};
use crate::types::Instance;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.get_instance",
    method: GET,
    path: "/partner/instances/info/{instanceId}",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Doc,
    example: Request::new("cc123456"),
}

/// Looks up one instance by id.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The instance id.
    pub instance_id: String,
}

impl Request {
    /// Creates the request.
    pub fn new(instance_id: impl Into<String>) -> Self {
        Self { instance_id: instance_id.into() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Vec<Instance>;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("instanceId", &self.instance_id)]
    }

    fn parse_success(body: &[u8]) -> Result<Vec<Instance>, FieldError> {
        wire::one_or_many(body)
    }
}
