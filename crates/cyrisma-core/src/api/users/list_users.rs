//! `GET /partner/users/info`: every user under the partner's organizations.
//!
//! Evidence: \[DOC\] for the path only; the answer, a JSON array of user objects with the fields
//! of create-user, is \[ASSUMED\]. A single object is also accepted as a one-element list. There
//! is no pagination \[OBS\].

use crate::endpoint::{Endpoint, metadata};
use crate::types::User;
use crate::wire::{self, FieldError};

metadata! {
    name: "users.list_users",
    method: GET,
    path: "/partner/users/info",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new(),
}

/// Lists every user of the partner.
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
    type Response = Vec<User>;

    fn parse_success(body: &[u8]) -> Result<Vec<User>, FieldError> {
        wire::one_or_many(body)
    }
}
