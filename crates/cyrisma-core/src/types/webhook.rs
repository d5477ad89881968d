//! Webhook registrations and event envelopes (PROVISIONAL contract).
//!
//! CYRISMA promises webhooks but publishes no wire format. These shapes follow the project's
//! provisional contract \[ASSUMED\]: a registration is `{"webhook_id","url","events","secret"}`
//! (the signing secret only in the create response) and a delivery is the envelope
//! `{"id","type","created_at","partner_id","instance_id","data"}`.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};

use crate::secret::WebhookSecret;
use crate::types::WebhookEventType;
use crate::wire::{Lenient, LenientSeed, model};

model! {
    /// A webhook registration \[ASSUMED\], as listed by `GET /partner/webhooks` and returned by
    /// `POST /partner/webhooks`.
    pub struct Webhook {
        /// The registration id.
        pub webhook_id: String => "webhook_id" | "webhookId" | "id",
        /// The receiving URL.
        pub url: Option<String> => "url",
        /// The event types delivered (a comma-separated string or an array on the wire).
        pub events: WebhookEvents => "events" | "event_types" | "eventTypes",
        /// The signing secret: shown once, in the create response only. Redacted in `Debug`.
        pub secret: Option<WebhookSecret> => "secret" | "signing_secret" | "signingSecret",
    }
}

model! {
    /// The answer to deleting a webhook registration \[ASSUMED\]. The server may answer with an
    /// empty body, in which case every field is empty.
    pub struct DeletedWebhook {
        /// The deleted registration's id, if the server says.
        pub webhook_id: Option<String> => "webhook_id" | "webhookId" | "id",
        /// Whether the server says it deleted it.
        pub deleted: Option<bool> => "deleted" | "success",
    }
}

model! {
    /// The envelope of a webhook delivery \[ASSUMED\]. Verify the signature over the raw bytes
    /// (see [`crate::webhook`]) before parsing, and drop duplicate `id`s.
    pub struct WebhookEvent {
        /// The event id, unique per event: the key to drop duplicate deliveries.
        pub id: String => "id" | "event_id" | "eventId",
        /// What happened (the wire key is `type`).
        pub event_type: WebhookEventType => "type" | "event_type" | "eventType",
        /// When it happened, RFC 3339.
        pub created_at: Option<String> => "created_at" | "createdAt",
        /// The partner the event belongs to.
        pub partner_id: Option<String> => "partner_id" | "partnerId",
        /// The instance the event is about, if any.
        pub instance_id: Option<String> => "instance_id" | "instanceId",
        /// The event-specific payload, kept as sent.
        pub data: serde_json::Value => "data",
    }
}

/// The event types of a registration.
///
/// Read liberally: a JSON array of strings, or one comma-separated string (`"scan.completed,
/// user.created"`, the form the create request sends); `null`, `""` and a missing field are no
/// events. Written as a JSON array of strings. Unknown types are kept as
/// [`WebhookEventType::Unknown`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookEvents(pub Vec<WebhookEventType>);

impl WebhookEvents {
    /// The event types, in the order the server sent them.
    pub fn as_slice(&self) -> &[WebhookEventType] {
        &self.0
    }

    /// Whether the registration delivers events of this type.
    pub fn contains(&self, event_type: &WebhookEventType) -> bool {
        self.0.contains(event_type)
    }

    /// The comma-separated form, as the create request sends it.
    pub fn to_comma_separated(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(WebhookEventType::as_str).collect();
        names.join(",")
    }

    fn from_comma_separated(text: &str) -> Self {
        Self(text.split(',').map(str::trim).filter(|name| !name.is_empty()).map(WebhookEventType::from_wire).collect())
    }
}

impl From<Vec<WebhookEventType>> for WebhookEvents {
    fn from(events: Vec<WebhookEventType>) -> Self {
        Self(events)
    }
}

impl serde::Serialize for WebhookEvents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for event in &self.0 {
            seq.serialize_element(event.as_str())?;
        }
        seq.end()
    }
}

impl<'de> serde::Deserialize<'de> for WebhookEvents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EventsVisitor)
    }
}

impl Lenient for WebhookEvents {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Self as serde::Deserialize>::deserialize(deserializer)
    }

    fn missing() -> Option<Self> {
        Some(Self::default())
    }
}

struct EventsVisitor;

impl<'de> Visitor<'de> for EventsVisitor {
    type Value = WebhookEvents;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of event types or a comma-separated string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<WebhookEvents, E> {
        Ok(WebhookEvents::from_comma_separated(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<WebhookEvents, E> {
        Ok(WebhookEvents::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<WebhookEvents, E> {
        Ok(WebhookEvents::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WebhookEvents, A::Error> {
        let mut events = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(name) = seq.next_element_seed(LenientSeed::<String>::new())? {
            // An element may itself be a comma-separated list; be liberal.
            events.extend(WebhookEvents::from_comma_separated(&name).0);
        }
        Ok(WebhookEvents(events))
    }
}

/// The models of this file, in the order of their Python classes: every `model!` above is listed
/// here (`types::tests` fails otherwise), and [`crate::types::MODELS`] joins the files' lists.
pub(super) const MODELS: &[&crate::wire::ModelSchema] =
    &[&Webhook::SCHEMA, &DeletedWebhook::SCHEMA, &WebhookEvent::SCHEMA];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_from_string_or_array_and_write_an_array() {
        let from_string: WebhookEvents = serde_json::from_str(r#"" scan.completed, user.created ,""#).unwrap();
        let from_array: WebhookEvents = serde_json::from_str(r#"["scan.completed","user.created"]"#).unwrap();
        assert_eq!(from_string, from_array);
        assert_eq!(from_string.to_comma_separated(), "scan.completed,user.created");
        assert_eq!(serde_json::to_string(&from_string).unwrap(), r#"["scan.completed","user.created"]"#);
        let none: WebhookEvents = serde_json::from_str("null").unwrap();
        assert!(none.0.is_empty());
    }
}
