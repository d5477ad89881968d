//! `GET /partner/webhooks`: the partner's webhook registrations. PROVISIONAL.
//!
//! Evidence: none published; the whole endpoint is the project's provisional contract
//! \[ASSUMED\]. The answer is read liberally: a JSON array of registrations, a single
//! registration object, or an object wrapping the array under `webhooks` (or `data`). Signing
//! secrets are not listed (they are shown only when a webhook is created).

use serde::Deserializer;

use crate::endpoint::{Endpoint, metadata};
use crate::types::Webhook;
use crate::wire::{self, FieldError, Lenient};

metadata! {
    name: "webhooks.list_webhooks",
    method: GET,
    path: "/partner/webhooks",
    host: Central,
    auth: AccessToken,
    idempotent: true,
    body: None,
    evidence: Provisional,
    example: Request::new(),
}

/// Lists every webhook registration of the partner.
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
    type Response = Vec<Webhook>;

    fn parse_success(body: &[u8]) -> Result<Vec<Webhook>, FieldError> {
        let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
        if first == Some(&b'{')
            && let Some(webhooks) = wire::from_slice::<Envelope>(body)?.webhooks
        {
            return Ok(webhooks);
        }
        wire::one_or_many(body)
    }
}

/// An object that may wrap the list; any other key is ignored here.
#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(default, alias = "data", deserialize_with = "present_list")]
    webhooks: Option<Vec<Webhook>>,
}

/// A present `webhooks` key, read liberally (`null` is an empty list).
fn present_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Webhook>>, D::Error> {
    Vec::<Webhook>::deserialize_lenient(deserializer).map(Some)
}
