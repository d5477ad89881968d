//! Pooled connections after a fan-out: each instance host's pool is dropped as that instance's
//! item completes, so idle sockets do not pile up with the number of instance hosts (each one
//! held a grown read buffer, which made an export's peak memory grow with the instance count),
//! and a host used again afterwards gets a fresh pool; outside fan-outs only the most recently
//! used instance hosts keep a pool.

use cyrisma_emulator::EmulatorConfig;
use cyrisma_transport::Client;
use cyrisma_transport::fan_out::is_reportable;
use futures_util::StreamExt;

use crate::support;

/// Runs a fan-out that reads every instance's scan list and one scan detail (several requests per
/// host, some in parallel), then waits (bounded) for hyper to close the dropped pools' connections.
/// Returns (instances, connections opened, connections alive after the fan-out).
async fn fan_out_then_count(instances: u32) -> (usize, u64, u64) {
    let emulator = support::emulator(EmulatorConfig::default().with_size(2, instances, 2, 3)).await;
    let client: Client = support::client(&emulator);
    let mut results = client
        .fan_out(is_reportable, 16, |instance| async move {
            let scans = instance.vulnerability_scans().await?.vulnerability_scans;
            let details =
                futures_util::future::try_join_all(scans.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
                    .await?;
            Ok(details.len())
        })
        .await
        .unwrap();
    let mut reached = 0;
    while let Some(item) = results.next().await {
        let details = item.result.unwrap_or_else(|error| panic!("{}: {error}", item.instance_id));
        assert!(details > 0, "{} has scans", item.instance_id);
        reached += 1;
    }
    drop(results);
    // The dropped pools' connections end on their own tasks: give them a bounded number of turns.
    let mut alive = client.connections_alive();
    for _ in 0..500 {
        if alive <= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        alive = client.connections_alive();
    }
    (reached, client.connections_opened(), alive)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_instance_connections_do_not_accumulate_with_the_number_of_instance_hosts() {
    let (small_reached, small_opened, small_alive) = fan_out_then_count(10).await;
    assert!(small_opened >= small_reached as u64, "{small_opened} connections for {small_reached} instances");
    let (large_reached, large_opened, large_alive) = fan_out_then_count(120).await;
    assert!(large_reached >= 10 * small_reached / 2, "{large_reached} vs {small_reached} instances reached");
    // Many connections were opened (at least one per instance host)...
    assert!(large_opened >= large_reached as u64, "{large_opened} connections for {large_reached} instances");
    // ...but only the central host's may stay pooled: none per instance host.
    let central_limit = cyrisma_transport::ClientConfig::default().max_concurrency_per_host as u64;
    assert!(small_alive <= central_limit, "{small_alive} connections alive after {small_reached} instances");
    assert!(large_alive <= central_limit, "{large_alive} connections alive after {large_reached} instances");
    assert!(large_alive <= small_alive + 2, "alive after the fan-out: {small_alive} (small) vs {large_alive} (large)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_host_released_by_a_fan_out_serves_the_next_calls() {
    let emulator = support::emulator(EmulatorConfig::default().with_size(1, 6, 1, 2)).await;
    let client = support::client(&emulator);
    for round in 0..3 {
        let mut results = client
            .fan_out(is_reportable, 4, |instance| async move { instance.vulnerability_scans().await })
            .await
            .unwrap();
        let mut ids = Vec::new();
        while let Some(item) = results.next().await {
            item.result.unwrap_or_else(|error| panic!("round {round}, {}: {error}", item.instance_id));
            ids.push(item.instance_id);
        }
        assert!(!ids.is_empty());
        // The same hosts again, outside a fan-out, right after their connections were retired.
        for id in &ids {
            let scans = client.instance(id.as_str()).vulnerability_scans().await;
            scans.unwrap_or_else(|error| panic!("round {round}, {id} after the fan-out: {error}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_to_many_instances_outside_a_fan_out_keep_a_bounded_number_of_pools() {
    // A long-running service calling instance after instance with `client.instance(id)`: each
    // host needs a connection, but idle ones are kept for a bounded number of hosts only.
    let emulator = support::emulator(EmulatorConfig::default().with_size(1, 80, 1, 1)).await;
    let client = support::client(&emulator);
    let ids: Vec<String> =
        emulator.instances().into_iter().filter(is_reportable).map(|instance| instance.instance_id).collect();
    assert!(ids.len() >= 60, "{} reportable instances", ids.len());
    for id in &ids {
        client.instance(id.as_str()).vulnerability_scans().await.unwrap_or_else(|error| panic!("{id}: {error}"));
    }
    let opened = client.connections_opened();
    assert!(opened >= ids.len() as u64, "{opened} connections for {} instance hosts", ids.len());
    // Dropped pools close their idle connections on their own tasks: a bounded number of turns.
    let central_limit = cyrisma_transport::ClientConfig::default().max_concurrency_per_host as u64;
    let bound = 32 + central_limit; // 32: `MAX_INSTANCE_POOLS` in src/pool.rs
    let mut alive = client.connections_alive();
    // Up to 10 s: under a loaded CI machine those tasks can wait long for a turn (it failed at 1 s).
    for _ in 0..2_500 {
        if alive <= bound {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(4)).await;
        alive = client.connections_alive();
    }
    assert!(alive <= bound, "{alive} connections alive after {} instance hosts (bound {bound})", ids.len());
    // The most recent hosts still have their pool: calling one again opens no connection.
    let before = client.connections_opened();
    let last = ids.last().expect("an instance");
    client.instance(last.as_str()).vulnerability_scans().await.unwrap();
    assert_eq!(client.connections_opened(), before, "the most recent host reused its pooled connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_wider_than_the_pool_cap_keeps_each_items_connection() {
    // 64 items in flight, more than the 32 idle pools kept outside fan-outs: an item's pool must
    // survive between its calls, so that each instance host costs one connection, not one per
    // call.
    let emulator = support::emulator(EmulatorConfig::default().with_size(1, 100, 1, 1)).await;
    let client = support::client(&emulator);
    let mut results = client
        .fan_out(is_reportable, 64, |instance| async move {
            for _ in 0..3 {
                instance.vulnerability_scans().await?;
                instance.dashboard_overall().await?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let mut reached = 0_u64;
    while let Some(item) = results.next().await {
        item.result.unwrap_or_else(|error| panic!("{}: {error}", item.instance_id));
        reached += 1;
    }
    assert!(reached > 64, "{reached} instances: wider than the fan-out's 64 in flight");
    let central = cyrisma_transport::ClientConfig::default().max_concurrency_per_host as u64;
    let opened = client.connections_opened();
    // One per instance host (6 sequential calls each), the central host's, and a little slack
    // for a connection hyper had not yet put back when the next call asked for one.
    assert!(opened <= reached + central + reached / 10, "{opened} connections for {reached} instances");
}

#[test]
fn a_current_thread_runtimes_connections_are_never_handed_to_a_call_on_another_runtime() {
    // A blocking front end drives each call on the caller's thread with a current-thread runtime:
    // between its calls nobody polls that runtime, so its idle connections' tasks are parked. A
    // call on the multi-thread runtime that got one would wait for a connection task that never
    // runs, until the attempt timeout (then, with no retry, the call fails); it must open a
    // connection of its own instead.
    let shared = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let caller = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let emulator = shared.block_on(support::default_emulator());
    let client = {
        let _context = shared.enter();
        support::builder(&emulator).attempt_timeout(std::time::Duration::from_secs(10)).max_retries(0).build().unwrap()
    };
    caller.block_on(client.instances().list()).expect("the call on the current-thread runtime");
    let opened = client.connections_opened();
    assert!(opened >= 1, "{opened} connections opened");
    shared.block_on(client.instances().list()).expect("the call on the multi-thread runtime");
    assert_eq!(client.connections_opened(), opened + 1, "the multi-thread runtime's call opened its own connection");
    // Each runtime then reuses its own idle connection (returned to its pool when the call read
    // the answer, before the call returned).
    caller.block_on(client.instances().list()).expect("the current-thread runtime's next call");
    shared.block_on(client.instances().list()).expect("the multi-thread runtime's next call");
    assert_eq!(client.connections_opened(), opened + 1, "both runtimes reused their pooled connection");
    drop(client);
    shared.block_on(emulator.shutdown());
}
