//! `POST /partner/webhooks`: register a webhook. PROVISIONAL.
//!
//! Evidence: none published; the whole endpoint is the project's provisional contract
//! \[ASSUMED\]. Form fields `url` and `events` (comma-separated event types); the answer is the
//! registration `{"webhook_id","url","events","secret"}`, whose signing `secret` is shown only
//! here, once: store it, as deliveries cannot be verified without it. Not idempotent: never
//! retried once bytes were sent (a retry could register the URL twice).

use crate::endpoint::{Endpoint, Params, metadata};
use crate::error::RequestError;
use crate::types::{Webhook, WebhookEventType};
use crate::wire::{self, FieldError};

metadata! {
    name: "webhooks.create_webhook",
    method: POST,
    path: "/partner/webhooks",
    host: Central,
    auth: AccessToken,
    idempotent: false,
    body: Form,
    evidence: Provisional,
    example: Request::new(
        "https://hooks.fabrikam.example/cyrisma?tenant=a&b=c%20d",
        [WebhookEventType::InstanceProvisioned, WebhookEventType::ScanCompleted, WebhookEventType::InstanceProvisioned],
    ),
}

/// Registers `url` to receive deliveries of `events`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The receiving URL: `https://` (the emulator also accepts `http://` on loopback).
    pub url: String,
    /// The event types to deliver (at least one; duplicates are sent once).
    pub events: Vec<WebhookEventType>,
}

impl Request {
    /// Creates the request.
    pub fn new(url: impl Into<String>, events: impl IntoIterator<Item = WebhookEventType>) -> Self {
        Self { url: url.into(), events: events.into_iter().collect() }
    }
}

impl Endpoint for Request {
    const METADATA: crate::endpoint::Metadata = METADATA;
    type Response = Webhook;

    fn form(&self, form: &mut Params) -> Result<(), RequestError> {
        let url = self.url.trim();
        if url.is_empty() {
            return Err(RequestError::EmptyField { field: "url" });
        }
        if !is_http_url(url) {
            return Err(RequestError::InvalidField {
                field: "url",
                reason: "give an absolute `https://` url with a host (`http://` only for a loopback emulator)",
            });
        }
        if self.events.is_empty() {
            return Err(RequestError::EmptyField { field: "events" });
        }
        if self.events.iter().any(WebhookEventType::is_unknown) {
            return Err(RequestError::InvalidField {
                field: "events",
                reason: "use known event types: instance.provisioned, instance.suspended, instance.reactivated, instance.converted, user.created, user.disabled, scan.completed",
            });
        }
        let mut names: Vec<&str> = Vec::with_capacity(self.events.len());
        for event in &self.events {
            if !names.contains(&event.as_str()) {
                names.push(event.as_str());
            }
        }
        form.required("url", url)?.required("events", &names.join(","))?;
        Ok(())
    }

    fn parse_success(body: &[u8]) -> Result<Webhook, FieldError> {
        wire::from_slice(body)
    }
}

/// Whether `url` is an absolute `https://` or `http://` URL with a host and no white space.
fn is_http_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    let scheme_ok = uri
        .scheme_str()
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http"));
    scheme_ok && uri.host().is_some_and(|host| !host.is_empty())
}
