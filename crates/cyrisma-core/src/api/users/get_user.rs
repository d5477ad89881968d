//! `GET /partner/users/info/{userRef}`: one user, by id or username.
//!
//! Evidence: \[DOC\] for the path only; that `userRef` is a user id or a username and that the
//! answer is a one-element array of user objects are \[ASSUMED\]. A single object is also
//! accepted. Usernames are email addresses: `@` (and every other character outside the
//! unreserved set) is percent-encoded in the path segment, and a reference containing `/` is
//! refused before sending.

use crate::endpoint::{Endpoint, metadata};
use crate::types::User;
use crate::wire::{self, FieldError};

metadata! {
    name: "users.get_user",
    method: GET,
    path: "/partner/users/info/{userRef}",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Assumed,
    example: Request::new("u-1001"),
}

/// Looks up one user by id or username.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The user id or username (email address).
    pub user_ref: String,
}

impl Request {
    /// Creates the request.
    pub fn new(user_ref: impl Into<String>) -> Self {
        Self { user_ref: user_ref.into() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Vec<User>;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("userRef", &self.user_ref)]
    }

    fn parse_success(body: &[u8]) -> Result<Vec<User>, FieldError> {
        wire::one_or_many(body)
    }
}
