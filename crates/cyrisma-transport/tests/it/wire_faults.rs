//! Faults on the wire, through the in-repo fault proxy (`fault_proxy.rs`): each toxic against
//! the transport gives the documented outcome, and a 500-instance fan-out with failing and
//! hanging instances stays within the concurrency limits and lists every failure.
//!
//! The emulator runs in plain HTTP here so that the proxy can see request boundaries (to reset
//! after a request and to count requests in flight); the proxy itself works at the TCP level.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cyrisma_core::api::instances::create_instance;
use cyrisma_core::types::InstanceType;
use cyrisma_emulator::{EmulatorConfig, EmulatorHandle, Fault};
use cyrisma_transport::fan_out::is_reportable;
use cyrisma_transport::{Client, ClientBuilder};
use futures_util::StreamExt;

use crate::fault_proxy::{FaultProxy, Toxic};
use crate::support;

/// A plain emulator (keep-alive off, so each request opens a connection the proxy can poison),
/// a proxy in front of it, and a client builder that reaches every host through the proxy.
async fn setup(config: EmulatorConfig, seed: u64) -> (EmulatorHandle, FaultProxy, ClientBuilder) {
    let emulator = support::emulator(config).await;
    emulator.set_close_after_response(true);
    let proxy = FaultProxy::start(emulator.addr(), seed).await;
    let builder = Client::builder()
        .base_url(emulator.base_url())
        .resolve(&format!("{}={}", emulator.central_host(), proxy.addr()))
        .resolve(&format!("*.{}={}", emulator.domain(), proxy.addr()))
        .allowed_domain(emulator.allowed_domain())
        .credentials(emulator.api_key(), emulator.api_secret())
        .native_roots(false);
    (emulator, proxy, builder)
}

fn create_request(emulator: &EmulatorHandle, short: &str) -> create_instance::Request {
    let organization = emulator.instances().into_iter().find(|instance| instance.is_organization()).unwrap();
    create_instance::Request::new(
        InstanceType::Standard,
        false,
        organization.instance_id,
        "Fault Proxy Test",
        short,
        "US",
        "proxy@example.test",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_below_the_attempt_timeout_is_harmless_and_above_it_times_out_and_retries_gets() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 1).await;
    let client = builder.attempt_timeout(Duration::from_millis(1500)).max_retries(1).build().unwrap();
    client.users().list().await.unwrap();

    proxy.add(Toxic::Latency(Duration::from_millis(50)), None);
    emulator.reset_counters();
    client.users().list().await.unwrap();
    assert_eq!(emulator.count("users.list_users"), 1);

    proxy.clear();
    proxy.add(Toxic::Latency(Duration::from_secs(4)), None);
    emulator.reset_counters();
    let started = Instant::now();
    let error = client.users().list().await.unwrap_err();
    assert!(error.is_timeout() && !error.is_connect(), "{error}");
    assert_eq!(emulator.count("users.list_users"), 2, "an idempotent GET is retried once");
    assert!(started.elapsed() < Duration::from_secs(20), "timed out at all: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_times_out_and_never_resends_a_create() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 2).await;
    let client = builder
        .attempt_timeout(Duration::from_secs(1))
        .total_timeout(Duration::from_secs(10))
        .max_retries(1)
        .build()
        .unwrap();
    client.users().list().await.unwrap();
    let request = create_request(&emulator, "blackhole");
    let before = proxy.connections();
    proxy.add(Toxic::Blackhole, None);
    emulator.reset_counters();

    let error = client.users().list().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(proxy.connections() - before, 2, "a GET into a black hole is tried max_retries + 1 times");

    let before = proxy.connections();
    let error = client.instances().create(&request).await.unwrap_err();
    assert!(error.is_timeout() || error.is_ambiguous(), "{error}");
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(proxy.connections() - before, 1, "a create whose bytes may have left is never sent again");
    assert_eq!(emulator.count("users.list_users") + emulator.count("instances.create_instance"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starved_bandwidth_hits_the_attempt_timeout_and_a_fair_one_gives_the_same_data() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 3).await;
    let client = builder.attempt_timeout(Duration::from_millis(1500)).max_retries(1).build().unwrap();
    let direct = support::client(&emulator);
    let expected = format!("{:?}", direct.instances().list().await.unwrap());
    client.users().list().await.unwrap();

    proxy.add(Toxic::Bandwidth(256 * 1024), None);
    let through = format!("{:?}", client.instances().list().await.unwrap());
    assert_eq!(through, expected);

    proxy.clear();
    proxy.add(Toxic::Bandwidth(200), None);
    emulator.reset_counters();
    let error = client.instances().list().await.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(emulator.count("instances.list_instances"), 2, "retried once, then given up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_after_the_request_makes_a_create_ambiguous_and_a_get_retried() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 4).await;
    let client = builder.build().unwrap();
    client.users().list().await.unwrap();
    let before = emulator.instances().len();
    let request = create_request(&emulator, "resetpeer");
    emulator.reset_counters();

    proxy.add(Toxic::ResetAfterRequest, Some(1));
    let error = client.instances().create(&request).await.unwrap_err();
    assert!(error.is_ambiguous() && !error.is_retryable(), "{error}");
    assert_eq!(emulator.count("instances.create_instance"), 1, "exactly one create reached the emulator");
    assert_eq!(emulator.instances().len(), before + 1, "and it was committed");
    assert_eq!(proxy.resets(), 1);

    proxy.add(Toxic::ResetAfterRequest, Some(1));
    client.users().list().await.unwrap();
    assert_eq!(emulator.count("users.list_users"), 2, "the GET was sent again once, and answered");
    assert_eq!(proxy.resets(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_close_does_not_hold_a_complete_answer() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 5).await;
    let client = builder.attempt_timeout(Duration::from_secs(20)).build().unwrap();
    client.users().list().await.unwrap();
    proxy.add(Toxic::SlowClose(Duration::from_secs(10)), None);
    emulator.reset_counters();
    let started = Instant::now();
    client.users().list().await.unwrap();
    client.instances().list().await.unwrap();
    // The answers carry their length: the client does not wait for the close (2 × 10 s).
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(emulator.count("users.list_users"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sliced_answers_read_exactly_like_whole_ones() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain().with_size(2, 8, 2, 6), 6).await;
    let client = builder.build().unwrap();
    let direct = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    let scans = direct.instance(&id).vulnerability_scans().await.unwrap();
    let scan_id = scans.vulnerability_scans[0].scan_id.clone();
    let expected = (
        format!("{:?}", direct.instances().list().await.unwrap()),
        format!("{:?}", direct.instance(&id).vulnerability_scan(&scan_id).await.unwrap()),
    );
    proxy.add(Toxic::Slicer { max: 97, max_delay: Duration::from_millis(1) }, None);
    let through = (
        format!("{:?}", client.instances().list().await.unwrap()),
        format!("{:?}", client.instance(&id).vulnerability_scan(&scan_id).await.unwrap()),
    );
    assert_eq!(through, expected);
    assert!(proxy.connections() >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_cut_short_is_retried_for_a_get_and_never_for_a_create() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain(), 7).await;
    let client = builder.build().unwrap();
    client.users().list().await.unwrap();
    emulator.reset_counters();

    proxy.add(Toxic::LimitData(120), Some(1));
    client.instances().list().await.unwrap();
    assert_eq!(emulator.count("instances.list_instances"), 2, "the cut answer was fetched again");

    let before = emulator.instances().len();
    proxy.add(Toxic::LimitData(120), Some(1));
    let error = client.instances().create(&create_request(&emulator, "limitdata")).await.unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    assert_eq!(emulator.count("instances.create_instance"), 1, "never sent twice");
    assert_eq!(emulator.instances().len(), before + 1);
}

#[allow(clippy::print_stderr, reason = "the figures are the point of this test (run with --nocapture)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_over_500_instances_with_5_percent_failing_and_1_percent_hanging() {
    let config = EmulatorConfig::plain().with_size(10, 540, 1, 2);
    let (emulator, proxy, builder) = setup(config, 8).await;
    // Keep-alive on: the proxy counts requests, not connections.
    emulator.set_close_after_response(false);
    let ids: Vec<String> = support::reportable_ids(&emulator).into_iter().take(500).collect();
    assert_eq!(ids.len(), 500);
    let failing: BTreeSet<String> = ids.iter().step_by(20).cloned().collect();
    let hanging: BTreeSet<String> = ids.iter().skip(7).step_by(100).cloned().collect();
    assert_eq!((failing.len(), hanging.len()), (25, 5));
    assert!(failing.is_disjoint(&hanging));
    for id in &failing {
        emulator.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").at_host(id.as_str()));
    }
    for id in &hanging {
        emulator.add_fault(Fault::latency(120_000).on("dashboards.get_overall_dashboard").at_host(id.as_str()));
    }
    let client = builder
        .concurrency(16, 4)
        .attempt_timeout(Duration::from_secs(2))
        .total_timeout(Duration::from_secs(20))
        .max_retries(1)
        .build()
        .unwrap();
    let chosen: BTreeSet<String> = ids.iter().cloned().collect();

    let started = Instant::now();
    let mut results = client
        .fan_out(
            move |instance| is_reportable(instance) && chosen.contains(&instance.instance_id),
            64,
            // Six calls at once per instance, so that the per-host limit is what holds them.
            |instance| async move {
                let (overall, ..) = tokio::try_join!(
                    instance.dashboard_overall(),
                    instance.dashboard_data(),
                    instance.dashboard_baseline(),
                    instance.dashboard_vulnerability(),
                    instance.data_scans(),
                    instance.baseline_scans(),
                )?;
                Ok(overall)
            },
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 500);
    let (mut healthy, mut failed) = (BTreeSet::new(), Vec::new());
    while let Some(item) = results.next().await {
        match item.result {
            Ok(_) => {
                healthy.insert(item.instance_id);
            }
            Err(error) => failed.push((item.instance_id, error)),
        }
    }
    let elapsed = started.elapsed();

    let expected_healthy: BTreeSet<String> =
        ids.iter().filter(|id| !failing.contains(*id) && !hanging.contains(*id)).cloned().collect();
    assert_eq!(healthy, expected_healthy, "every healthy instance completes");
    assert_eq!(failed.len(), 30, "every faulty instance is listed");
    for (id, error) in &failed {
        if failing.contains(id) {
            assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR), "{id}: {error}");
        } else {
            assert!(hanging.contains(id) && error.is_timeout(), "{id}: {error}");
        }
        assert!(!error.to_string().is_empty());
    }
    let (total, per_host) = proxy.max_in_flight();
    assert!(total <= 16 && per_host <= 4, "in flight at the proxy: {total} overall, {per_host} per host");
    assert!(total > 4 && per_host > 1, "the run was concurrent: {total} overall, {per_host} per host");
    assert!(proxy.requests() >= 6 * 470);
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    eprintln!(
        "fan-out 500: {} healthy, {} failed, max in flight {total} overall / {per_host} per host, {} requests, {elapsed:?}",
        healthy.len(),
        failed.len(),
        proxy.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toxic_works_the_same_through_tls() {
    let emulator = support::default_emulator().await;
    let proxy = FaultProxy::start(emulator.addr(), 9).await;
    let client = support::builder(&emulator)
        .resolve(&format!("{}={}", emulator.central_host(), proxy.addr()))
        .resolve(&format!("*.{}={}", emulator.domain(), proxy.addr()))
        .build()
        .unwrap();
    let direct = support::client(&emulator);
    let expected = format!("{:?}", direct.instances().list().await.unwrap());
    proxy.add(Toxic::Slicer { max: 61, max_delay: Duration::from_millis(1) }, None);
    assert_eq!(format!("{:?}", client.instances().list().await.unwrap()), expected);
    assert!(proxy.connections() >= 1, "the TLS connection went through the proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_fan_out_cancels_every_request_in_flight() {
    let (emulator, proxy, builder) = setup(EmulatorConfig::plain().with_size(2, 40, 1, 2), 10).await;
    emulator.set_close_after_response(false);
    emulator.add_fault(Fault::latency(30_000).on("dashboards.get_overall_dashboard"));
    let client = builder.concurrency(16, 4).attempt_timeout(Duration::from_secs(60)).build().unwrap();
    let mut results =
        client.fan_out(is_reportable, 64, |instance| async move { instance.dashboard_overall().await }).await.unwrap();
    // Drive the stream until requests hang at the server, then drop it (what Ctrl-C does).
    let deadline = Instant::now() + Duration::from_secs(20);
    while proxy.in_flight() < 4 && Instant::now() < deadline {
        let polled = tokio::time::timeout(Duration::from_millis(50), results.next()).await;
        assert!(polled.is_err(), "every call hangs");
    }
    assert!(proxy.in_flight() >= 4, "requests were in flight: {}", proxy.in_flight());
    let started = Instant::now();
    drop(results);
    let deadline = Instant::now() + Duration::from_secs(5);
    while proxy.in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(proxy.in_flight(), 0, "requests still in flight after the fan-out was dropped");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

/// What a rotation's sink received.
type Saved = Arc<Mutex<Vec<cyrisma_transport::NewSecret>>>;

fn sink(
    saved: Saved,
    fail: bool,
) -> impl FnOnce(cyrisma_transport::NewSecret) -> std::future::Ready<Result<(), std::io::Error>> + Send {
    move |secret| {
        saved.lock().unwrap().push(secret);
        std::future::ready(if fail { Err(std::io::Error::other("no space left on device")) } else { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_failing_at_each_point_is_sent_at_most_once_and_never_loses_a_delivered_secret() {
    // TLS, so that a reset during the handshake is unambiguously "before send".
    let emulator = support::default_emulator().await;
    emulator.set_close_after_response(true);
    let proxy = FaultProxy::start(emulator.addr(), 11).await;
    let client = support::builder(&emulator)
        .resolve(&format!("{}={}", emulator.central_host(), proxy.addr()))
        .resolve(&format!("*.{}={}", emulator.domain(), proxy.addr()))
        .build()
        .unwrap();
    let mut report = Vec::new();

    // 1. Before send: the connection is reset during the TLS handshake.
    proxy.add(Toxic::ResetOnConnect, Some(1));
    let before = emulator.api_secret();
    let saved = Saved::default();
    let error = client.rotate_secret(sink(saved.clone(), false)).await.unwrap_err();
    assert!(error.is_connect() && !error.is_ambiguous(), "before send: {error}");
    assert_eq!(emulator.count("auth.regen_pass"), 0, "before send: nothing reached the server");
    assert_eq!(emulator.api_secret(), before, "before send: nothing changed");
    report.push(("before send", emulator.count("auth.regen_pass")));

    // 2. The server committed, then the connection dropped.
    emulator.reset_counters();
    emulator.add_fault(Fault::drop_after_commit().on("auth.regen_pass").times(1));
    let error = client.rotate_secret(sink(saved.clone(), false)).await.unwrap_err();
    assert!(error.is_ambiguous(), "dropped after commit: {error}");
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    assert!(saved.lock().unwrap().is_empty(), "no secret reached the client");
    report.push(("committed, connection dropped", emulator.count("auth.regen_pass")));
    // The secret was rotated and lost: what the CLI's `auth probe` finds out. Restore it here.
    emulator.set_api_secret(&before);

    // 3. A truncated answer (the length was announced; the connection closes early).
    emulator.reset_counters();
    emulator.add_fault(Fault::truncated_body(Some(8), false).on("auth.regen_pass").times(1));
    let error = client.rotate_secret(sink(saved.clone(), false)).await.unwrap_err();
    assert!(error.is_ambiguous() || !error.is_retryable(), "truncated: {error}");
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    report.push(("truncated answer", emulator.count("auth.regen_pass")));
    emulator.set_api_secret(&before);

    // 4. The store write fails: the secret stays inside the error.
    emulator.reset_counters();
    let failing = Saved::default();
    let error = client.rotate_secret(sink(failing.clone(), true)).await.unwrap_err();
    let kept = error.unsaved_secret().and_then(cyrisma_transport::NewSecret::secret).cloned();
    assert_eq!(kept, Some(emulator.api_secret()), "store failed: the secret is recoverable from the error");
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    report.push(("store write fails", emulator.count("auth.regen_pass")));
    emulator.set_api_secret(&before);

    // 5. The verification login fails: the secret was saved first.
    emulator.reset_counters();
    let stored = Saved::default();
    emulator.add_fault(Fault::status(401).on("auth.login").times(1));
    let error = client.rotate_secret(sink(stored.clone(), false)).await.unwrap_err();
    assert!(matches!(error.kind(), cyrisma_transport::ErrorKind::SecretNotVerified { .. }), "verify: {error}");
    let in_store = stored.lock().unwrap().first().and_then(|secret| secret.secret().cloned());
    assert_eq!(in_store, Some(emulator.api_secret()), "verification failed: the secret is in the store");
    assert_eq!(emulator.count("auth.regen_pass"), 1);
    report.push(("verification login fails", emulator.count("auth.regen_pass")));

    // 6. "Killed right after persisting": the library's part ends when the sink returns `Ok`; the
    // sink has the secret before anything else happens (checked in case 5). The process kill
    // itself is a CLI test.
    assert!(report.iter().skip(1).all(|(_, count)| *count == 1), "{report:?}");
    assert_eq!(proxy.resets(), 1);
    assert!(proxy.connections() >= 6, "every call went through the proxy: {}", proxy.connections());
}
