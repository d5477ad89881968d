//! `PATCH /partner/instances/suspend`: suspend an instance.
//!
//! Evidence: \[DOC\] for the path only; the form field `instance_id` and the response
//! `{"instance_id","name","status"}` with `status` `suspended` are \[ASSUMED\]. A suspended
//! instance refuses instance authentication and reporting (`403` `instance_suspended`).
//!
//! Idempotent: the call sets a state rather than toggling it, so sending it twice leaves the
//! instance suspended exactly as sending it once does, and a lost answer may be retried.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::InstanceStatusChange;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.suspend_instance",
    method: PATCH,
    path: "/partner/instances/suspend",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: Form,
    evidence: Assumed,
    example: Request::new("cc123456"),
}

/// Suspends an instance.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The instance to suspend.
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
    type Response = InstanceStatusChange;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        form.required("instance_id", &self.instance_id)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<InstanceStatusChange, FieldError> {
        wire::from_slice(body)
    }
}
