//! Webhook delivery (PROVISIONAL contract): signed `POST`s of the core's [`WebhookEvent`]
//! envelope to loopback receivers, retried a bounded number of times with doubling backoff.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use cyrisma_core::WebhookSecret;
use cyrisma_core::assumed::WEBHOOK_SIGNATURE_HEADER;
use cyrisma_core::types::WebhookEvent;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::prng;
use crate::state::{PendingEvent, WebhookRecord};

/// The most delivery attempts remembered.
const DELIVERY_LOG_CAPACITY: usize = 10_000;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// One delivery attempt, as the handle and the admin API report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// The registration.
    pub webhook_id: String,
    /// The event id (the same for every attempt and every registration).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The receiving URL.
    pub url: String,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed, when it did not get an answer.
    pub error: Option<String>,
    /// Whether the attempt succeeded (a 2xx answer).
    pub delivered: bool,
}

/// Sends deliveries in the background.
#[derive(Clone)]
pub(crate) struct Dispatcher {
    client: Client<HttpConnector, Full<Bytes>>,
    retries: u32,
    backoff: Duration,
    log: Arc<Mutex<VecDeque<DeliveryRecord>>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// The runtime the emulator started on: deliveries may be triggered from any thread
    /// (through the handle).
    runtime: tokio::runtime::Handle,
}

impl Dispatcher {
    /// Must be called on the emulator's runtime.
    pub(crate) fn new(retries: u32, backoff: Duration, shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(ATTEMPT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(2).build(connector);
        let runtime = tokio::runtime::Handle::current();
        Self { client, retries, backoff, log: Arc::new(Mutex::new(VecDeque::new())), shutdown, runtime }
    }

    /// Every attempt so far, oldest first.
    pub(crate) fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    fn remember(&self, record: DeliveryRecord) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= DELIVERY_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(record);
    }

    /// The emulator's runtime.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Builds the envelope of an event and delivers it to each registration, in the background.
    pub(crate) fn deliver(&self, partner_id: &str, event: PendingEvent, hooks: Vec<WebhookRecord>) {
        let envelope = WebhookEvent {
            id: format!("evt_{}", prng::random_alphanumeric(20)),
            event_type: event.event_type,
            created_at: Some(clock::rfc3339(clock::now_secs())),
            partner_id: Some(partner_id.to_owned()),
            instance_id: event.instance_id,
            data: event.data,
            ..Default::default()
        };
        let Ok(body) = serde_json::to_vec(&envelope) else { return };
        let body = Bytes::from(body);
        for hook in hooks {
            let dispatcher = self.clone();
            let body = body.clone();
            let event_id = envelope.id.clone();
            let event_type = envelope.event_type.to_string();
            self.runtime.spawn(async move { dispatcher.attempts(hook, event_id, event_type, body).await });
        }
    }

    async fn attempts(self, hook: WebhookRecord, event_id: String, event_type: String, body: Bytes) {
        let mut shutdown = self.shutdown.clone();
        let secret = WebhookSecret::new(hook.secret.clone());
        let mut delay = self.backoff;
        for attempt in 1..=self.retries + 1 {
            let outcome = self.attempt(&hook.url, &secret, body.clone()).await;
            let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
            self.remember(DeliveryRecord {
                webhook_id: hook.id.clone(),
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                url: hook.url.clone(),
                attempt,
                status: outcome.as_ref().ok().copied(),
                error: outcome.err(),
                delivered,
            });
            if delivered || attempt > self.retries {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = shutdown.changed() => return,
            }
            delay = delay.saturating_mul(2);
        }
    }

    async fn attempt(&self, url: &str, secret: &WebhookSecret, body: Bytes) -> Result<u16, String> {
        // Signed at send time, so that a retry carries a fresh timestamp.
        let signature = cyrisma_core::webhook::sign(secret, clock::now_secs().max(0) as u64, &body);
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, concat!("cyrisma-emulator/", env!("CARGO_PKG_VERSION")))
            .header(WEBHOOK_SIGNATURE_HEADER, signature)
            .body(Full::new(body))
            .map_err(|_| "the url cannot be used".to_owned())?;
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response.status().as_u16()),
            Ok(Err(_)) => Err("connection failed".to_owned()),
            Err(_) => Err("timed out".to_owned()),
        }
    }
}
