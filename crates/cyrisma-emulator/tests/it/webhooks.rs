//! Webhook registrations and signed deliveries with bounded retries (provisional contract).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use cyrisma_core::api::{instances, users, webhooks};
use cyrisma_core::assumed::WEBHOOK_SIGNATURE_HEADER;
use cyrisma_core::types::{InstanceType, WebhookEventType};
use cyrisma_core::{WebhookSecret, webhook};
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::support::{Harness, api_error, json, small};

/// A receiver on loopback that records deliveries and answers with scripted statuses (200 once
/// the script runs out).
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<(String, Bytes)>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                        let log = Arc::clone(&log);
                        let script = Arc::clone(&script);
                        async move {
                            let signature = request
                                .headers()
                                .get(WEBHOOK_SIGNATURE_HEADER)
                                .and_then(|value| value.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let body =
                                request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
                            log.lock().unwrap().push((signature, body));
                            let status = script.lock().unwrap().pop_front().unwrap_or(200);
                            let mut response = http::Response::new(Full::new(Bytes::new()));
                            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, received }
    }

    fn url(&self) -> String {
        format!("http://{}/hooks/cyrisma", self.addr)
    }

    /// Waits (bounded) until `count` deliveries arrived.
    async fn wait_for(&self, count: usize) -> Vec<(String, Bytes)> {
        for _ in 0..200 {
            if self.received.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.received.lock().unwrap().clone()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test]
async fn registrations_are_created_listed_and_deleted() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let request = webhooks::create_webhook::Request::new(
        "http://127.0.0.1:9/hook",
        vec![WebhookEventType::ScanCompleted, WebhookEventType::UserCreated],
    );
    let created = h.central(&request, Some(&token)).await.unwrap();
    assert!(created.secret.as_ref().is_some_and(|secret| !secret.is_empty()), "the secret is shown once");
    assert_eq!(created.events.as_slice(), [WebhookEventType::ScanCompleted, WebhookEventType::UserCreated]);
    let listed = h.central(&webhooks::list_webhooks::Request::new(), Some(&token)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].webhook_id, created.webhook_id);
    assert!(listed[0].secret.is_none(), "secrets are not listed");
    let deleted = h.central(&webhooks::delete_webhook::Request::new(&created.webhook_id), Some(&token)).await.unwrap();
    assert_eq!(deleted.deleted, Some(true));
    let again = h.central(&webhooks::delete_webhook::Request::new(&created.webhook_id), Some(&token)).await;
    assert_eq!(api_error(again).0, 404);
    assert!(h.emu.webhooks().is_empty());
    // Only loopback receivers, only known event types.
    for (url, events) in [
        ("http://192.0.2.10/hook", "scan.completed"),
        ("https://hooks.example.com/x", "scan.completed"),
        ("http://127.0.0.1:9/hook", "scan.started"),
        ("not a url", "scan.completed"),
    ] {
        let body = format!("url={}&events={events}", url.replace(' ', "+"));
        let response = h.form(Method::POST, "/partner/webhooks", Some(&token), &body).await;
        assert_eq!(response.status(), 400, "{url} {events}");
        assert_eq!(json(&response)["error"], "invalid_request");
    }
}

#[tokio::test]
async fn state_changes_deliver_signed_events() {
    let h = Harness::start(small()).await;
    let receiver = Receiver::start(Vec::new()).await;
    let token = h.token().await;
    let all = WebhookEventType::KNOWN.to_vec();
    let created = h.central(&webhooks::create_webhook::Request::new(receiver.url(), all), Some(&token)).await.unwrap();
    let secret = created.secret.clone().unwrap();

    let org = h.organizations()[0].clone();
    let user = h
        .central(&users::create_user::Request::new(&org, "hook.user@example.com", "Hook", "User"), Some(&token))
        .await
        .unwrap();
    h.central(&users::disable_user::Request::new(&user.id), Some(&token)).await.unwrap();
    let instance = h.active_instances()[0].clone();
    h.central(&instances::suspend_instance::Request::new(&instance), Some(&token)).await.unwrap();
    h.central(&instances::reactivate_instance::Request::new(&instance), Some(&token)).await.unwrap();
    let consulting = instances::create_instance::Request::new(
        InstanceType::Standard,
        true,
        &org,
        "Hooked",
        "hooked",
        "US",
        "a@b.example",
    );
    let new = h.central(&consulting, Some(&token)).await.unwrap();
    h.central(&instances::convert_instance::Request::new(&new.instance_id), Some(&token)).await.unwrap();
    // The handle's admin methods work from any thread, not only on the runtime.
    let scan_id = std::thread::scope(|scope| scope.spawn(|| h.emu.trigger_scan(&instance, 5)).join().unwrap()).unwrap();

    let received = receiver.wait_for(7).await;
    assert_eq!(received.len(), 7);
    let mut types = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (signature, body) in &received {
        webhook::verify(&secret, signature, body, now()).expect("a valid signature");
        assert!(webhook::verify(&WebhookSecret::new("whsec_wrong"), signature, body, now()).is_err());
        let event = webhook::parse_event(body).unwrap();
        assert_eq!(event.partner_id.as_deref(), Some("partner01"));
        assert!(event.created_at.is_some());
        ids.insert(event.id.clone());
        match &event.event_type {
            WebhookEventType::ScanCompleted => {
                assert_eq!(event.instance_id.as_deref(), Some(instance.as_str()));
                assert_eq!(event.data["scan_id"], scan_id.as_str());
            }
            WebhookEventType::UserCreated | WebhookEventType::UserDisabled => {
                assert_eq!(event.data["id"], user.id.as_str())
            }
            _ => assert!(event.instance_id.is_some()),
        }
        types.push(event.event_type.to_string());
    }
    assert_eq!(ids.len(), 7, "event ids are unique");
    types.sort();
    assert_eq!(
        types,
        [
            "instance.converted",
            "instance.provisioned",
            "instance.reactivated",
            "instance.suspended",
            "scan.completed",
            "user.created",
            "user.disabled"
        ]
    );
    // The new scan is served.
    let token = h.reporting_token().await;
    let detail =
        h.on(&instance, &cyrisma_core::api::scans::get_vulnerability_scan::Request::new(&scan_id), &token).await;
    assert!(detail.is_ok());
}

#[tokio::test]
async fn failed_deliveries_are_retried_a_bounded_number_of_times() {
    let config = small().with_webhook_retries(2, Duration::from_millis(20));
    let h = Harness::start(config).await;
    let token = h.token().await;
    let flaky = Receiver::start(vec![503, 500]).await;
    let broken = Receiver::start(vec![500; 10]).await;
    for receiver in [&flaky, &broken] {
        let request = webhooks::create_webhook::Request::new(receiver.url(), vec![WebhookEventType::ScanCompleted]);
        h.central(&request, Some(&token)).await.unwrap();
    }
    let instance = h.active_instances()[0].clone();
    h.emu.trigger_scan(&instance, 9).unwrap();
    let flaky_received = flaky.wait_for(3).await;
    let broken_received = broken.wait_for(3).await;
    assert_eq!(flaky_received.len(), 3, "two failures, then success");
    assert_eq!(broken_received.len(), 3, "1 attempt + 2 retries, then it gives up");
    // The same event id on every attempt; a fresh signature each time.
    let first = webhook::parse_event(&flaky_received[0].1).unwrap().id;
    assert!(flaky_received.iter().all(|(_, body)| webhook::parse_event(body).unwrap().id == first));
    // An attempt is recorded once the receiver's answer is back: wait (bounded) for all six
    // records, then a while longer to see that no fourth attempt comes.
    for _ in 0..500 {
        if h.emu.webhook_deliveries().len() >= 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(broken.received.lock().unwrap().len(), 3, "no more attempts");
    let deliveries = h.emu.webhook_deliveries();
    assert_eq!(deliveries.len(), 6);
    assert_eq!(deliveries.iter().filter(|record| record.delivered).count(), 1);
}
