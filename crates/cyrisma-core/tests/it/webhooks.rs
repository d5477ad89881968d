//! Requests and responses of the `webhooks` endpoints (provisional contract).

use std::path::Path;

use cyrisma_core::RequestError;
use cyrisma_core::api::webhooks::{create_webhook, delete_webhook, list_webhooks};
use cyrisma_core::endpoint::Endpoint;
use cyrisma_core::types::{Webhook, WebhookEventType};

use crate::render_response;

/// The signing secret the create fixtures carry; it must never appear in a snapshot.
const CANARY_SECRET: &str = "whsec_CANARYsecret0123456789";

fn central() -> cyrisma_core::BaseUrl {
    cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap()
}

#[test]
fn webhook_endpoints_are_provisional() {
    for metadata in [list_webhooks::METADATA, create_webhook::METADATA, delete_webhook::METADATA] {
        assert!(metadata.is_provisional(), "{}", metadata.name);
    }
    let idempotent =
        [list_webhooks::METADATA, create_webhook::METADATA, delete_webhook::METADATA].map(|m| m.idempotent);
    assert_eq!(idempotent, [true, false, true]);
}

#[test]
fn create_webhook_accepts_loopback_http_for_the_emulator() {
    let request = create_webhook::Request::new("http://127.0.0.1:9000/hook", [WebhookEventType::UserCreated]);
    let built = request.to_http_request(&central(), Some(&"t".into())).unwrap();
    let form: Vec<(String, String)> = form_urlencoded::parse(built.body().as_bytes()).into_owned().collect();
    assert_eq!(form, [("url".into(), "http://127.0.0.1:9000/hook".into()), ("events".into(), "user.created".into())]);
}

#[test]
fn create_webhook_refuses_bad_input() {
    let build = |url: &str, events: Vec<WebhookEventType>| {
        create_webhook::Request::new(url, events).to_http_request(&central(), Some(&"t".into())).unwrap_err()
    };
    let scan = || vec![WebhookEventType::ScanCompleted];
    for empty in ["", "   "] {
        let error = build(empty, scan());
        assert!(matches!(error, RequestError::EmptyField { field: "url" }), "{empty:?}: {error}");
    }
    for bad in
        ["hooks.fabrikam.example/x", "ftp://hooks.fabrikam.example/x", "https://", "/relative", "https://a b.example/"]
    {
        let error = build(bad, scan());
        assert!(matches!(error, RequestError::InvalidField { field: "url", .. }), "{bad:?}: {error}");
    }
    let error = build("https://hooks.fabrikam.example/x", vec![]);
    assert!(matches!(error, RequestError::EmptyField { field: "events" }), "{error}");
    let error = build("https://hooks.fabrikam.example/x", vec![WebhookEventType::from_wire("instance.deleted")]);
    assert!(matches!(error, RequestError::InvalidField { field: "events", .. }), "{error}");
    assert!(error.to_string().contains("scan.completed"), "{error}");
}

#[test]
fn create_webhook_secret_is_read_but_never_shown() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/webhooks/create_webhook");
    for name in ["200-created.json", "200-array-events.json"] {
        let rendered = render_response::<create_webhook::Request>(&fixtures.join(name));
        assert!(!rendered.contains(CANARY_SECRET), "{name}: {rendered}");
        assert!(rendered.contains("WebhookSecret(<redacted>)"), "{name}: {rendered}");
        let webhook: Webhook = serde_json::from_slice(&std::fs::read(fixtures.join(name)).unwrap()).unwrap();
        assert_eq!(webhook.secret.as_ref().map(|secret| secret.expose_secret()), Some(CANARY_SECRET), "{name}");
    }
}

#[test]
fn webhook_events_round_trip_as_an_array() {
    let webhook: Webhook =
        serde_json::from_str(r#"{"webhook_id":"wh_1","events":"scan.completed, instance.deleted","x":1}"#).unwrap();
    assert_eq!(webhook.events.to_comma_separated(), "scan.completed,instance.deleted");
    assert!(webhook.events.contains(&WebhookEventType::ScanCompleted));
    let json = serde_json::to_value(&webhook).unwrap();
    assert_eq!(json, serde_json::json!({"webhook_id":"wh_1","events":["scan.completed","instance.deleted"],"x":1}));
}

#[test]
fn delete_webhook_refuses_ids_that_change_the_path() {
    for bad in ["", "a/b", "..", " "] {
        let error = delete_webhook::Request::new(bad).to_http_request(&central(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::InvalidPathParameter { param: "webhookId", .. }), "{bad:?}: {error}");
    }
}
