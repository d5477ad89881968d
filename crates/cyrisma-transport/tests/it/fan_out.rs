//! Fan-out over many instances: token refreshes mid-run, an injected `401`, partial failures.

use std::collections::BTreeSet;
use std::time::Duration;

use cyrisma_emulator::{EmulatorConfig, Fault};
use cyrisma_transport::fan_out::is_reportable;
use futures_util::StreamExt;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_fan_out_over_a_thousand_instances_outlives_its_tokens() {
    let config = EmulatorConfig::default().with_size(10, 1_000, 2, 4).with_token_ttl(Duration::from_secs(2));
    let emulator = support::emulator(config).await;
    let client = support::client(&emulator);
    // Stretch the run over several token lifetimes.
    emulator.add_fault(Fault::latency(40).on("dashboards.get_overall_dashboard"));
    let expected: BTreeSet<String> = support::reportable_ids(&emulator).into_iter().collect();

    let started = std::time::Instant::now();
    let mut results = client
        .fan_out(is_reportable, 64, |instance| async move {
            let dashboard = instance.dashboard_overall().await?;
            let scans = instance.vulnerability_scans().await?;
            Ok((dashboard, scans.vulnerability_scans.len()))
        })
        .await
        .unwrap();
    assert_eq!(results.len(), expected.len());
    let mut seen = BTreeSet::new();
    while let Some(item) = results.next().await {
        if let Err(error) = &item.result {
            panic!("{}: {error}", item.instance_id);
        }
        assert!(seen.insert(item.instance_id), "one item per instance");
    }
    let elapsed = started.elapsed();
    assert_eq!(seen, expected);

    let unauthorized: Vec<_> = emulator.requests().into_iter().filter(|record| record.status == 401).collect();
    assert!(unauthorized.is_empty(), "requests with an expired token: {unauthorized:?}");
    let logins = emulator.count("auth.login");
    assert!(logins >= 2, "the run ({elapsed:?}) outlived the first token: {logins} logins");
    assert!(u128::from(logins) <= elapsed.as_millis() / 700 + 2, "{logins} logins in {elapsed:?}");
    assert_eq!(emulator.count("instances.authenticate_instance"), 0, "never one instance at a time");
    let all = emulator.count("instances.authenticate_all_instances");
    assert!(all >= 1 && all <= logins, "the all-instances form once per token: {all} for {logins} logins");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_mid_fan_out_causes_one_relogin_and_no_lost_or_duplicated_results() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(4, 60, 1, 2)).await;
    let client = support::client(&emulator);
    let expected: BTreeSet<String> = support::reportable_ids(&emulator).into_iter().collect();
    client.users().list().await.unwrap();
    emulator.reset_counters();
    emulator.add_fault(Fault::unauthorized_on_nth("dashboards.get_overall_dashboard", 20));

    let mut results = client
        .fan_out(is_reportable, 16, |instance| async move {
            let dashboard = instance.dashboard_overall().await?;
            Ok((instance.id().to_owned(), dashboard))
        })
        .await
        .unwrap();
    let mut seen = BTreeSet::new();
    while let Some(item) = results.next().await {
        let (id, _) = item.result.unwrap_or_else(|error| panic!("{}: {error}", item.instance_id));
        assert_eq!(id, item.instance_id);
        assert!(seen.insert(item.instance_id), "one item per instance");
    }
    assert_eq!(seen, expected, "no instance missing");
    assert_eq!(emulator.count("auth.login"), 1, "one re-login");
    assert_eq!(
        emulator.count("dashboards.get_overall_dashboard"),
        expected.len() as u64 + 1,
        "only the refused call was replayed, once"
    );
    assert_eq!(emulator.count("instances.authenticate_instance"), 0);
    assert!(emulator.count("instances.authenticate_all_instances") <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_instance_does_not_stop_the_others() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(2, 20, 1, 2)).await;
    let client = support::builder(&emulator).max_retries(0).build().unwrap();
    let expected = support::reportable_ids(&emulator);
    emulator.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").skip(3).times(2));

    let results: Vec<_> = client
        .fan_out(is_reportable, 4, |instance| async move { instance.dashboard_overall().await })
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(results.len(), expected.len());
    let failed: Vec<_> = results.iter().filter(|item| item.result.is_err()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    for item in failed {
        let error = item.result.as_ref().unwrap_err();
        assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
        assert!(item.name.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspended_instances_fail_alone_when_included() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(2, 10, 1, 2)).await;
    let client = support::client(&emulator);
    let victim = support::reportable_ids(&emulator).remove(0);
    client.instances().suspend(&victim).await.unwrap();

    let results: Vec<_> = client
        .fan_out(
            |instance| !instance.is_organization(),
            8,
            |instance| async move { instance.dashboard_overall().await },
        )
        .await
        .unwrap()
        .collect()
        .await;
    for item in &results {
        let suspended = emulator.instance(&item.instance_id).unwrap().is_suspended();
        assert_eq!(item.result.is_err(), suspended, "{}: {:?}", item.instance_id, item.result.as_ref().err());
    }
    assert!(results.iter().any(|item| item.instance_id == victim && item.result.is_err()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_set_up_ahead_are_used_and_requests_stay_within_the_concurrency() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(1, 40, 1, 1)).await;
    let client = support::client(&emulator);
    // Slow answers, so that the instances waiting for a permit have set up their connections.
    emulator.add_fault(Fault::latency(15).on("dashboards.get_overall_dashboard"));
    emulator.add_fault(Fault::latency(15).on("dashboards.get_vulnerability_dashboard"));
    let expected = support::reportable_ids(&emulator).len();
    emulator.reset_in_flight_max();
    let opened_before = client.connections_opened();
    let taken_before = client.connections_prepared_taken();
    let mut results = client
        .fan_out(is_reportable, 4, |instance| async move {
            instance.dashboard_overall().await?;
            instance.dashboard_vulnerability().await
        })
        .await
        .unwrap();
    let mut reached = 0;
    while let Some(item) = results.next().await {
        item.result.unwrap_or_else(|error| panic!("{}: {error}", item.instance_id));
        reached += 1;
    }
    assert_eq!(reached, expected);
    // At most `concurrency` instances make calls at once, one call each (the central calls are
    // done before the first instance starts).
    let in_flight = emulator.in_flight();
    assert!(in_flight.max <= 4, "{} requests in flight at once with a concurrency of 4", in_flight.max);
    // Every instance's first call went over the connection set up ahead for its host. (More
    // connections than hosts can still be opened: hyper's pool opens a second one when a call
    // starts before the previous answer's connection is back in the pool, which happens under
    // load, so the count of opened connections is only bounded from below.)
    let taken = client.connections_prepared_taken() - taken_before;
    assert_eq!(taken, reached as u64, "{taken} prepared connections taken for {reached} instances");
    let opened = client.connections_opened() - opened_before;
    assert!(opened >= reached as u64, "{opened} connections for {reached} instances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_structure_listing_and_the_instance_authentication_overlap() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(1, 6, 1, 1)).await;
    let client = support::client(&emulator);
    client.users().list().await.unwrap();
    // Slow central answers: the two calls overlap only if the second is sent before the first
    // is answered.
    emulator.add_fault(Fault::latency(300).on("instances.list_instances"));
    emulator.add_fault(Fault::latency(300).on("instances.authenticate_all_instances"));
    emulator.reset_counters();
    emulator.reset_in_flight_max();
    let expected = support::reportable_ids(&emulator).len();
    let run = || async {
        let results: Vec<_> = client
            .fan_out(is_reportable, 1, |instance| async move { instance.dashboard_overall().await })
            .await
            .unwrap()
            .collect()
            .await;
        assert_eq!(results.len(), expected);
        for item in results {
            item.result.unwrap_or_else(|error| panic!("{}: {error}", item.instance_id));
        }
    };
    run().await;
    let in_flight = emulator.in_flight();
    assert_eq!(in_flight.max_per_host, 2, "the listing and the authentication at once: {in_flight:?}");
    assert_eq!(emulator.count("instances.authenticate_all_instances"), 1);
    assert_eq!(emulator.count("instances.authenticate_instance"), 0);
    // A second fan-out with the same token: the instances are authenticated already, nothing
    // is sent ahead.
    run().await;
    assert_eq!(emulator.count("instances.authenticate_all_instances"), 1);
    assert_eq!(emulator.count("instances.list_instances"), 2);
}
