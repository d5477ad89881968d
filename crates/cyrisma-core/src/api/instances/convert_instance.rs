//! `PATCH /partner/instances/convert`: convert a consulting instance into a managed (standard)
//! one.
//!
//! Evidence: \[DOC\] for the path, the form field `instance_id` and the response
//! `{"instance_id","name","consulting_status"}`. A consulting instance can be converted once; a
//! second conversion, or converting a non-consulting instance, is refused with `409`
//! `{"error":"conflict"}` \[ASSUMED\].
//!
//! Not idempotent: the second call is refused, so the call is never retried once bytes were sent.

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::ConvertedInstance;
use crate::wire::{self, FieldError};

metadata! {
    name: "instances.convert_instance",
    method: PATCH,
    path: "/partner/instances/convert",
    host: Central,
    auth: AccessToken,
    idempotent: false,
    body: Form,
    evidence: Doc,
    example: Request::new("cc777777"),
}

/// Converts a consulting instance into a managed one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The consulting instance to convert.
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
    type Response = ConvertedInstance;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        form.required("instance_id", &self.instance_id)?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<ConvertedInstance, FieldError> {
        wire::from_slice(body)
    }
}
