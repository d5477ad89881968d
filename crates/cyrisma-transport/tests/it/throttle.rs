//! Per-host back-pressure against the emulator: after a `429` with `Retry-After`, every call to
//! that host waits out the pause and the host's concurrency is halved; a pause longer than the
//! client waits fails the other calls at once, without sending them.

use std::time::{Duration, Instant};

use cyrisma_emulator::Fault;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::support;

const OVERALL: &str = "dashboards.get_overall_dashboard";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_the_host_for_every_call_and_halves_its_concurrency() {
    let emulator = support::default_emulator().await;
    let client = support::builder(&emulator).concurrency(16, 4).build().unwrap();
    let id = support::reportable_ids(&emulator)[0].clone();
    // Log in and authenticate the instance first, so that only the calls below reach the host.
    client.instance(id.clone()).dashboard_overall().await.unwrap();
    let before = emulator.count(OVERALL);
    // The first call is answered `429, Retry-After: 1` at once; every later one takes 500 ms.
    emulator.add_fault(Fault::rate_limited("1").on(OVERALL).at_host(id.as_str()).times(1));
    emulator.add_fault(Fault::latency(500).on(OVERALL).at_host(id.as_str()).skip(1));
    emulator.reset_in_flight_max();

    let started = Instant::now();
    let mut calls: FuturesUnordered<_> = (0..12)
        .map(|_| {
            let instance = client.instance(id.clone());
            async move { instance.dashboard_overall().await.map(|_| started.elapsed()) }
        })
        .collect();
    let mut finished = Vec::new();
    let mut first_wave_max = None;
    while let Some(result) = calls.next().await {
        finished.push(result.expect("every call succeeds in the end"));
        if finished.len() == 3 {
            // The first wave's three other calls are done. Every call still to come waits for
            // the pause, so the per-host peak from here on is the halved limit's.
            first_wave_max = Some(emulator.in_flight().max_per_host);
            emulator.reset_in_flight_max();
        }
    }
    let after = emulator.in_flight();

    assert_eq!(emulator.count(OVERALL) - before, 13, "12 calls and one retry of the rate-limited one");
    // The 429 is answered at once, often before the wave's last call arrives: 3 or 4 at once.
    assert!(first_wave_max.is_some_and(|max| max >= 3), "above half the limit before the 429: {first_wave_max:?}");
    assert_eq!(after.max_per_host, 2, "half the limit after the 429: {after:?}");
    // Nothing but the first wave was sent before the pause ended (≥ 1 s after the start), and
    // each of those later calls took 500 ms at the server.
    let fourth = finished[3];
    assert!(fourth >= Duration::from_millis(1500), "a call finished {fourth:?} after the start, inside the pause");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_longer_than_the_client_waits_fails_later_calls_without_sending_them() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let ids = support::reportable_ids(&emulator);
    let (limited, other) = (ids[0].clone(), ids[1].clone());
    client.instance(limited.clone()).dashboard_overall().await.unwrap();
    emulator.add_fault(Fault::rate_limited("300").on(OVERALL).at_host(limited.as_str()).times(1));

    let first = client.instance(limited.clone()).dashboard_overall().await.unwrap_err();
    assert!(first.is_rate_limited(), "{first}");
    let sent = emulator.count(OVERALL);

    let started = Instant::now();
    let later = client.instance(limited.clone()).dashboard_overall().await.unwrap_err();
    assert!(later.is_rate_limited(), "{later}");
    let left = later.retry_after().expect("the time left of the pause");
    assert!(left > Duration::from_secs(240) && left <= Duration::from_secs(300), "{left:?}");
    assert!(started.elapsed() < Duration::from_secs(60), "failed at once, not after waiting");
    assert_eq!(emulator.count(OVERALL), sent, "the later call was not sent");
    assert!(later.to_string().contains("rate limited"), "{later}");

    // Other hosts are not paused.
    client.instance(other).dashboard_overall().await.unwrap();
    assert_eq!(emulator.count(OVERALL), sent + 1);
}
