//! `POST /partner/instances/login/`: authenticate every instance of the partner for reporting
//! with the current access token.
//!
//! Evidence: \[DOC + OBS\]. Without an instance id the call authenticates all instances \[DOC\];
//! it is needed again after **every** new access token. No body. The answer is
//! `{"success_token_inserts": [...]}` \[OBS\]; that its elements are instance ids and that a
//! `failed_token_inserts` array lists the instances that refused the token (suspended ones, for
//! example) are \[ASSUMED\] (see [`InstanceLogin::succeeded_ids`] and
//! [`InstanceLogin::failed_ids`], which also read objects carrying an id).
//!
//! Idempotent: the call only inserts the current token for each instance, so sending it twice
//! leaves the same state as sending it once, and a lost answer may be retried.

use crate::endpoint::{Endpoint, metadata};
use crate::types::InstanceLogin;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.authenticate_all_instances",
    method: POST,
    path: "/partner/instances/login/",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Doc,
    example: Request::new(),
}

/// Authenticates every instance of the partner for reporting with the current access token.
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
    type Response = InstanceLogin;

    fn parse_success(body: &[u8]) -> Result<InstanceLogin, FieldError> {
        wire::from_slice(body)
    }
}
