//! `POST /partner/instances/users/create`: create a user under an organization.
//!
//! Evidence: \[DOC\]. Form fields, all required: `instance_id` (must be an organization),
//! `username`, `first_name`, `last_name`. There is no password: the user sets one through
//! self-service reset. The answer is `{"id","username","first_name","last_name","enabled",
//! "instance_id"}`, all strings (`enabled` is `"true"`/`"false"`). Note the path lives under
//! `/partner/instances/`, not `/partner/users/`.
//!
//! Not idempotent: a second call would try to create the user again, so it is never retried
//! once bytes were sent.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::User;
use crate::wire::{self, FieldError};

metadata! {
    name: "users.create_user",
    method: POST,
    path: "/partner/instances/users/create",
    host: Central,
    auth: AccessToken,
    idempotent: false,
    body: Form,
    evidence: Doc,
    example: Request::new("org1001", "frank+it@northwind.example", "Frank", "Meyer-Ørsted"),
}

/// Creates a user under an organization.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The organization (not a standard instance).
    pub instance_id: String,
    /// The username (an email address).
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

impl Request {
    /// Creates the request with its (all required) fields.
    pub fn new(
        instance_id: impl Into<String>,
        username: impl Into<String>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
    ) -> Self {
        Self {
            instance_id: instance_id.into(),
            username: username.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
        }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = User;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        form.required("instance_id", &self.instance_id)?
            .required("username", &self.username)?
            .required("first_name", &self.first_name)?
            .required("last_name", &self.last_name)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<User, FieldError> {
        wire::from_slice(body)
    }
}
