//! The admin API: JSON under `/__emulator/...` on the central host, only from loopback peers.
//!
//! | Method and path | Effect |
//! | --- | --- |
//! | `GET /__emulator/health` | `{"ok": true}` |
//! | `GET /__emulator/counters` | requests per endpoint name |
//! | `GET /__emulator/requests` | the request log (no secrets) |
//! | `POST /__emulator/reset` | removes faults, clears counters and the log, keep-alive back on |
//! | `GET /__emulator/faults` | the faults with how often they matched and fired |
//! | `POST /__emulator/faults` | adds a fault (JSON [`crate::Fault`]); answers `{"id": n}` |
//! | `DELETE /__emulator/faults` | removes every fault |
//! | `DELETE /__emulator/faults/{id}` | removes one fault |
//! | `POST /__emulator/expire-tokens` | expires every access and refresh token now |
//! | `POST /__emulator/keep-alive` | `{"close_after_response": true}` closes connections after every answer |
//! | `POST /__emulator/scans` | `{"instance_id": "...", "scan_type": 5}` adds a completed scan (emits `scan.completed`) |
//! | `POST /__emulator/advance` | `{"days": 30}` moves the clock and adds a period of scans to every active instance (`"churn": false`: a rescan) |
//! | `GET /__emulator/instances` | the structure, as `GET /partner/instances/info/` lists it |
//! | `GET /__emulator/webhook-deliveries` | every webhook delivery attempt |
//! | `GET /__emulator/in-flight` | requests in flight now and the most at once, overall and per host |
//! | `POST /__emulator/in-flight/reset` | starts the highest in-flight counts again from the current ones |

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::Fault;
use crate::shared::Shared;

/// An admin answer.
pub(crate) struct ControlReply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

fn reply(status: StatusCode, value: &Value) -> ControlReply {
    ControlReply { status, body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()) }
}

fn error(status: StatusCode, message: &str) -> ControlReply {
    reply(status, &json!({ "error": "invalid_request", "message": message }))
}

/// `POST /__emulator/advance`: `{"days": N, "churn": true}`.
fn advance(shared: &Shared, body: &[u8]) -> ControlReply {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (Some(days), churn) = (value.get("days").and_then(Value::as_u64), value.get("churn")) else {
        return error(StatusCode::BAD_REQUEST, "the body must be {\"days\": 30} (optionally \"churn\": false)");
    };
    let Some(churn) = churn.map_or(Some(true), Value::as_bool) else {
        return error(StatusCode::BAD_REQUEST, "churn must be true or false");
    };
    match shared.advance(u32::try_from(days).unwrap_or(u32::MAX), churn) {
        Ok(advanced) => reply(StatusCode::OK, &serde_json::to_value(advanced).unwrap_or_default()),
        Err(failure) => ControlReply { status: failure.status, body: failure.body() },
    }
}

/// Serves one admin request.
pub(crate) fn serve(shared: &Shared, peer: SocketAddr, method: &Method, path: &str, body: &[u8]) -> ControlReply {
    if !peer.ip().is_loopback() {
        return error(StatusCode::FORBIDDEN, "the admin api answers loopback clients only");
    }
    let rest = path.trim_start_matches("/__emulator").trim_end_matches('/');
    match (method.as_str(), rest) {
        ("GET", "/health") => reply(StatusCode::OK, &json!({ "ok": true })),
        ("GET", "/counters") => reply(StatusCode::OK, &json!({ "counters": shared.admin().counters() })),
        ("GET", "/requests") => reply(StatusCode::OK, &json!({ "requests": shared.admin().requests() })),
        ("POST", "/reset") => {
            shared.admin().reset();
            shared.in_flight().reset_max();
            shared.close_after_response.store(false, Ordering::Relaxed);
            reply(StatusCode::OK, &json!({ "reset": true }))
        }
        ("GET", "/faults") => reply(StatusCode::OK, &json!({ "faults": shared.admin().faults() })),
        ("POST", "/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(fault) => {
                let id = shared.admin().add_fault(fault);
                reply(StatusCode::OK, &json!({ "id": id }))
            }
            Err(_) => error(
                StatusCode::BAD_REQUEST,
                "the body must be a fault: {\"endpoint\": \"auth.login\", \"times\": 1, \"kind\": \"status\", \"status\": 503}",
            ),
        },
        ("DELETE", "/faults") => {
            shared.admin().clear_faults();
            reply(StatusCode::OK, &json!({ "cleared": true }))
        }
        ("DELETE", rest) if rest.starts_with("/faults/") => {
            match rest["/faults/".len()..].parse::<u64>().ok().map(|id| shared.admin().remove_fault(id)) {
                Some(true) => reply(StatusCode::OK, &json!({ "removed": true })),
                _ => error(StatusCode::NOT_FOUND, "no such fault"),
            }
        }
        ("POST", "/expire-tokens") => {
            shared.state().expire_tokens();
            reply(StatusCode::OK, &json!({ "expired": true }))
        }
        ("POST", "/keep-alive") => {
            let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            match value.get("close_after_response").and_then(Value::as_bool) {
                Some(close) => {
                    shared.close_after_response.store(close, Ordering::Relaxed);
                    reply(StatusCode::OK, &json!({ "close_after_response": close }))
                }
                None => error(StatusCode::BAD_REQUEST, "the body must be {\"close_after_response\": true|false}"),
            }
        }
        ("POST", "/scans") => {
            let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let Some(instance_id) = value.get("instance_id").and_then(Value::as_str) else {
                return error(StatusCode::BAD_REQUEST, "the body must be {\"instance_id\": \"...\", \"scan_type\": 5}");
            };
            let scan_type = value.get("scan_type").and_then(Value::as_u64).unwrap_or(5).min(255) as u8;
            match shared.trigger_scan(instance_id, scan_type) {
                Ok(scan_id) => reply(StatusCode::OK, &json!({ "scan_id": scan_id })),
                Err(failure) => ControlReply { status: failure.status, body: failure.body() },
            }
        }
        ("POST", "/advance") => advance(shared, body),
        ("GET", "/instances") => {
            let instances = shared.state().list_instances(Instant::now());
            reply(StatusCode::OK, &serde_json::to_value(instances).unwrap_or_default())
        }
        ("GET", "/in-flight") => reply(StatusCode::OK, &json!(shared.in_flight().stats())),
        ("POST", "/in-flight/reset") => {
            shared.in_flight().reset_max();
            reply(StatusCode::OK, &json!(shared.in_flight().stats()))
        }
        ("GET", "/webhook-deliveries") => reply(StatusCode::OK, &json!({ "deliveries": shared.webhooks.deliveries() })),
        _ => error(StatusCode::NOT_FOUND, "unknown admin endpoint"),
    }
}
