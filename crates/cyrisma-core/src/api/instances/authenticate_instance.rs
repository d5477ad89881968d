//! `POST /partner/instances/login/{instanceId}`: authenticate one instance for reporting with the
//! current access token.
//!
//! Evidence: \[DOC + OBS\]. Required before any reporting call to the instance, and again after
//! **every** new access token \[DOC\]. No body. The answer is
//! `{"success_token_inserts": [...]}` \[OBS\]; that its elements are instance ids and that a
//! `failed_token_inserts` array lists refusals are \[ASSUMED\] (see [`InstanceLogin`]). A
//! suspended instance refuses it with `403` `{"error":"instance_suspended"}` \[ASSUMED\].
//!
//! Idempotent: the call only inserts the current token for the instance, so sending it twice
//! leaves the same state as sending it once, and a lost answer may be retried.

use crate::endpoint::{Endpoint, metadata};
use crate::types::InstanceLogin;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.authenticate_instance",
    method: POST,
    path: "/partner/instances/login/{instanceId}",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Doc,
    example: Request::new("cc123456"),
}

/// Authenticates one instance for reporting with the current access token.
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
    type Response = InstanceLogin;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("instanceId", &self.instance_id)]
    }

    fn parse_success(body: &[u8]) -> Result<InstanceLogin, FieldError> {
        wire::from_slice(body)
    }
}
