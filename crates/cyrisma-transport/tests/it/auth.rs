//! Automatic authentication: single flight, compare-and-clear on `401`, one replay, shared
//! failures.

use std::sync::Arc;
use std::time::Duration;

use cyrisma_core::ApiSecret;
use cyrisma_emulator::{EmulatorConfig, Fault};
use futures_util::future::join_all;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_on_an_expired_token_cause_one_login() {
    let emulator = support::emulator(EmulatorConfig::default().with_token_ttl(Duration::from_secs(1))).await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    // Let the token expire on both sides.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    emulator.reset_counters();

    let calls = (0..200).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.users().list().await })
    });
    for result in join_all(calls).await {
        result.unwrap().unwrap();
    }
    assert_eq!(emulator.count("auth.login"), 1, "{:?}", emulator.counters());
    assert_eq!(emulator.count("users.list_users"), 200, "no call was sent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_calls_on_a_token_the_server_expired_cause_one_login() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    // The server forgets every token (refresh tokens included); the client still believes in its
    // own, so every call gets a `401` and the session clears the token once.
    emulator.expire_tokens();
    emulator.reset_counters();
    let before = client.logins_performed();

    let calls = (0..200).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.users().list().await })
    });
    for result in join_all(calls).await {
        result.unwrap().unwrap();
    }
    assert_eq!(client.logins_performed() - before, 1, "one logical login");
    // The refresh grant fails (the refresh token expired too), then the password grant works.
    assert!(emulator.count("auth.login") <= 2, "{:?}", emulator.counters());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_401_after_the_replay_is_an_auth_error_not_a_loop() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    emulator.reset_counters();
    emulator.add_fault(Fault::status(401).on("users.list_users").times(2));

    let error = client.users().list().await.unwrap_err();
    assert!(error.is_auth(), "{error}");
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(emulator.count("users.list_users"), 2, "sent once, replayed once");
    assert_eq!(emulator.count("auth.login"), 1, "one re-login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_login_is_shared_by_its_waiters_and_not_cached() {
    let emulator = support::default_emulator().await;
    let client =
        support::builder(&emulator).credentials(emulator.api_key(), ApiSecret::new("not-the-secret")).build().unwrap();
    // Slow logins, so that every caller polls while the one login is in flight.
    emulator.add_fault(Fault::latency(300).on("auth.login"));

    let calls = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.users().list().await })
    });
    for result in join_all(calls).await {
        let error = result.unwrap().unwrap_err();
        assert!(error.is_auth(), "{error}");
        // The API's answer is the login error's source: the chain shows it.
        assert!(format!("{error:#}").contains("401"), "{error:#}");
    }
    assert_eq!(emulator.count("auth.login"), 1, "waiters share the failure");
    assert_eq!(emulator.count("users.list_users"), 0, "nothing is sent without a token");

    // The failure is not remembered as a success: the next call logs in again.
    client.users().list().await.unwrap_err();
    assert_eq!(emulator.count("auth.login"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refreshed_before_they_expire() {
    let emulator = support::emulator(EmulatorConfig::default().with_token_ttl(Duration::from_secs(2))).await;
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    let instance = client.instance(&id);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(4500);
    let mut calls = 0u32;
    while tokio::time::Instant::now() < deadline && calls < 5_000 {
        instance.dashboard_overall().await.unwrap();
        calls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let unauthorized = emulator.requests().iter().filter(|record| record.status == 401).count();
    assert_eq!(unauthorized, 0, "no request went out with an expired token");
    let logins = emulator.count("auth.login");
    assert!((2..=6).contains(&logins), "about one refresh per second of token life: {logins}");
    assert_eq!(
        emulator.count("instances.authenticate_instance"),
        logins,
        "the instance is authenticated once per token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_401_leads_to_one_reauthentication_and_one_replay() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    let instance = Arc::new(client.instance(&id));
    instance.dashboard_overall().await.unwrap();
    emulator.reset_counters();
    // A fresh token for every instance on the server side: the client's instance marks are stale.
    emulator.expire_tokens();
    instance.dashboard_overall().await.unwrap();
    assert_eq!(emulator.count("dashboards.get_overall_dashboard"), 2, "sent, then replayed once");
    assert!(emulator.count("auth.login") <= 2, "{:?}", emulator.counters());
    assert_eq!(emulator.count("instances.authenticate_instance"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_login_does_not_strand_the_callers_waiting_on_it() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let fault = emulator.add_fault(Fault::latency(1_000).on("auth.login").times(1));

    // The performer of the login is cancelled while its login is in flight ...
    let performer = {
        let client = client.clone();
        tokio::spawn(async move { client.users().list().await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waiter = {
        let client = client.clone();
        tokio::spawn(async move { client.users().list().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    performer.abort();
    assert!(performer.await.unwrap_err().is_cancelled());

    // ... and its waiter takes over at once instead of waiting for the session's login timeout.
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(20), waiter).await.unwrap().unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    emulator.remove_fault(fault);
    client.users().list().await.unwrap();
}
