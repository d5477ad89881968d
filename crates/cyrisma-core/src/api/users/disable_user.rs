//! `PATCH /partner/users/disable`: disable a user.
//!
//! Evidence: \[DOC\] for the path only; the form field (see
//! [`crate::assumed::DISABLE_USER_FIELD`], `user_id`, carrying an id or a username) and the
//! answer (the user object with `enabled` `"false"`) are \[ASSUMED\].
//!
//! Idempotent: the call sets a state rather than toggling it, so sending it twice leaves the
//! user disabled exactly as sending it once does, and a lost answer may be retried.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::User;
use crate::wire::{self, FieldError};

metadata! {
    name: "users.disable_user",
    method: PATCH,
    path: "/partner/users/disable",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: Form,
    evidence: Assumed,
    example: Request::new("alice@northwind.example"),
}

/// Disables a user.
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
    type Response = User;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        form.required(crate::assumed::DISABLE_USER_FIELD, &self.user_ref)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<User, FieldError> {
        wire::from_slice(body)
    }
}
