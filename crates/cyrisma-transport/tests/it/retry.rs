//! Retries per the core policy: `Retry-After`, the cap, idempotency, ambiguous outcomes, stale
//! keep-alive connections, redirects.

use std::time::{Duration, Instant};

use cyrisma_core::api::instances::{create_instance, get_instance};
use cyrisma_core::types::InstanceType;
use cyrisma_emulator::Fault;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::rate_limited("2").on("users.list_users").times(1));
    let started = Instant::now();
    client.users().list().await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    assert_eq!(emulator.count("users.list_users"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_above_the_cap_fails_at_once() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::rate_limited("300").on("users.list_users").times(1));
    let started = Instant::now();
    let error = client.users().list().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "no sleep: {:?}", started.elapsed());
    assert!(error.is_rate_limited(), "{error}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(300)));
    assert!(error.to_string().contains("request id"), "{error}");
    assert_eq!(emulator.count("users.list_users"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_for_idempotent_calls_only() {
    let emulator = support::default_emulator().await;
    let client = support::builder(&emulator).max_retries(3).build().unwrap();
    let organization = emulator.instances().into_iter().find(|instance| instance.is_organization()).unwrap();
    client.users().list().await.unwrap();
    emulator.reset_counters();

    emulator.add_fault(Fault::status(503).on("users.list_users").times(2));
    client.users().list().await.unwrap();
    assert_eq!(emulator.count("users.list_users"), 3);

    emulator.add_fault(Fault::status(502).on("users.list_users").times(10));
    let error = client.users().list().await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::BAD_GATEWAY), "{error}");
    assert!(error.is_retryable() && !error.is_ambiguous());
    assert_eq!(emulator.count("users.list_users"), 3 + 4, "max_retries + 1 attempts");
    emulator.clear_faults();

    emulator.add_fault(Fault::status(500).on("instances.create_instance").times(1));
    let request = create_instance::Request::new(
        InstanceType::Standard,
        false,
        &organization.instance_id,
        "Retry Test",
        "retrytest",
        "US",
        "r@example.test",
    );
    let error = client.instances().create(&request).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR), "{error}");
    assert_eq!(emulator.count("instances.create_instance"), 1, "a create is never sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_is_sent_once_and_ambiguous() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let organization = emulator.instances().into_iter().find(|instance| instance.is_organization()).unwrap();
    let before = emulator.instances().len();
    emulator.add_fault(Fault::drop_after_commit().on("instances.create_instance").times(1));

    let request = create_instance::Request::new(
        InstanceType::Standard,
        false,
        &organization.instance_id,
        "Lost Answer",
        "lostanswer",
        "US",
        "l@example.test",
    );
    let error = client.instances().create(&request).await.unwrap_err();
    assert!(error.is_ambiguous(), "{error}");
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("list the instances"), "{error}");
    assert_eq!(emulator.count("instances.create_instance"), 1, "exactly one create reached the emulator");
    assert_eq!(emulator.instances().len(), before + 1, "and it was committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_an_idempotent_call_is_retried() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::drop_after_commit().on("users.list_users").times(1));
    client.users().list().await.unwrap();
    assert_eq!(emulator.count("users.list_users"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_closed_after_every_answer_do_not_fail_calls() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let ids: Vec<String> = emulator.instances().into_iter().map(|instance| instance.instance_id).collect();
    client.users().list().await.unwrap();
    emulator.set_close_after_response(true);
    emulator.reset_counters();
    for index in 0..1_000 {
        let id = &ids[index % ids.len()];
        client.send(&get_instance::Request::new(id)).await.unwrap();
    }
    let sent = emulator.count("instances.get_instance");
    assert!((1_000..=2_000).contains(&sent), "at most one extra attempt each: {sent}");
    assert!(client.connections_opened() >= 1_000, "every answer closed its connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::status(302).on("users.list_users").times(1));
    let error = client.users().list().await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::FOUND), "{error}");
    assert_eq!(emulator.count("users.list_users"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_retried_for_idempotent_calls() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.add_fault(Fault::truncated_body(Some(10), false).on("users.list_users").times(1));
    client.users().list().await.unwrap();
    assert_eq!(emulator.count("users.list_users"), 3);
}
