//! `DELETE /partner/webhooks/{webhookId}`: delete a webhook registration. PROVISIONAL.
//!
//! Evidence: none published; the whole endpoint is the project's provisional contract
//! \[ASSUMED\]. Idempotent: deleting twice leaves the same state as deleting once (a second
//! attempt may answer `404`). Any 2xx body is accepted: a JSON object is read into
//! [`DeletedWebhook`]; anything else (empty, not JSON) gives an empty [`DeletedWebhook`].

use crate::endpoint::{Endpoint, metadata};
use crate::types::DeletedWebhook;
use crate::wire::{self, FieldError};

metadata! {
    name: "webhooks.delete_webhook",
    method: DELETE,
    path: "/partner/webhooks/{webhookId}",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Provisional,
    example: Request::new("wh_05"),
}

/// Deletes one webhook registration.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The registration id.
    pub webhook_id: String,
}

impl Request {
    /// Creates the request.
    pub fn new(webhook_id: impl Into<String>) -> Self {
        Self { webhook_id: webhook_id.into() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = DeletedWebhook;

    fn path_params(&self) -> Vec<(&'static str, &str)> {
        vec![("webhookId", &self.webhook_id)]
    }

    fn parse_success(body: &[u8]) -> Result<DeletedWebhook, FieldError> {
        // The status already says the deletion worked: a body that is not a readable object
        // (empty, `true`, `OK`, cut short) is ignored rather than turned into an error.
        Ok(wire::from_slice(body).unwrap_or_default())
    }
}
