//! Every typed method once, end to end, against the TLS emulator.

use std::time::Duration;

use cyrisma_core::api::instances::{create_instance, list_instances};
use cyrisma_core::api::scans::list_data_scans;
use cyrisma_core::api::users::create_user;
use cyrisma_core::api::webhooks::create_webhook;
use cyrisma_core::types::{AssetType, InstanceStatus, InstanceType, MfaType, WebhookEventType};
use cyrisma_emulator::EmulatorConfig;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn central_methods() {
    let emulator =
        support::emulator(EmulatorConfig::default().with_provisioning_delay(Duration::from_millis(300))).await;
    let client = support::client(&emulator);
    let instances = client.instances();

    let listed = instances.list().await.unwrap();
    assert_eq!(listed.len(), emulator.instances().len());
    let organization = listed.iter().find(|instance| instance.is_organization()).unwrap().clone();
    let got = instances.get(&organization.instance_id).await.unwrap();
    assert_eq!(got.instance_id, organization.instance_id);
    assert!(instances.get("cc999999").await.unwrap_err().is_not_found());

    let request = create_instance::Request::new(
        InstanceType::Standard,
        true,
        &organization.instance_id,
        "Transport Test Dental",
        "transporttest",
        "US",
        "it@transport.example",
    );
    let created = instances.create(&request).await.unwrap();
    assert_eq!(emulator.count("instances.create_instance"), 1);
    let active = instances.wait_until_active(&created.instance_id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(active.status, Some(InstanceStatus::Active));

    let converted = instances.convert(&created.instance_id).await.unwrap();
    assert_eq!(converted.instance_id, created.instance_id);
    let second = instances.convert(&created.instance_id).await.unwrap_err();
    assert_eq!(second.status(), Some(http::StatusCode::CONFLICT), "{second}");
    assert_eq!(emulator.count("instances.convert_instance"), 2, "a refused conversion is not retried");

    let suspended = instances.suspend(&created.instance_id).await.unwrap();
    assert_eq!(suspended.status, Some(InstanceStatus::Suspended));
    let reactivated = instances.reactivate(&created.instance_id).await.unwrap();
    assert_eq!(reactivated.status, Some(InstanceStatus::Active));

    let mfa = instances.set_mfa(&organization.instance_id, MfaType::Authenticator).await.unwrap();
    assert_eq!(mfa.mfa_type, Some(MfaType::Authenticator));

    let one = instances.authenticate(Some(&created.instance_id)).await.unwrap();
    assert!(one.succeeded_ids().contains(&created.instance_id), "{one:?}");
    let all = instances.authenticate(None).await.unwrap();
    assert!(all.succeeded_ids().len() > 1, "{all:?}");

    let users = client.users();
    let listed_users = users.list().await.unwrap();
    assert_eq!(listed_users.len(), emulator.users().len());
    let user = users.get(&listed_users[0].id).await.unwrap();
    assert_eq!(user.id, listed_users[0].id);
    let created_user = users
        .create(&create_user::Request::new(&organization.instance_id, "new.user@transport.example", "New", "User"))
        .await
        .unwrap();
    assert!(created_user.is_enabled());
    let by_name = users.get("new.user@transport.example").await.unwrap();
    assert_eq!(by_name.id, created_user.id);
    let disabled = users.disable(&created_user.id).await.unwrap();
    assert!(!disabled.is_enabled());

    let webhooks = client.webhooks();
    let hook = webhooks
        .create(&create_webhook::Request::new("http://127.0.0.1:9/cyrisma-hook", [WebhookEventType::ScanCompleted]))
        .await
        .unwrap();
    assert!(hook.secret.is_some());
    let hooks = webhooks.list().await.unwrap();
    assert!(hooks.iter().any(|listed| listed.webhook_id == hook.webhook_id));
    webhooks.delete(&hook.webhook_id).await.unwrap();
    assert!(webhooks.list().await.unwrap().iter().all(|listed| listed.webhook_id != hook.webhook_id));

    let generic = client.send(&list_instances::Request::new()).await.unwrap();
    assert_eq!(generic.len(), listed.len() + 1);
    let wrong_host = client.send(&list_data_scans::Request::new()).await.unwrap_err();
    assert!(wrong_host.is_config(), "{wrong_host}");

    assert_eq!(emulator.count("auth.login"), 1, "one login for the whole run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporting_methods() {
    let emulator = support::default_emulator().await;
    let client = support::client(&emulator);
    let id = support::reportable_ids(&emulator).remove(0);
    let instance = client.instance(&id);

    let scans = instance.vulnerability_scans().await.unwrap();
    assert!(!scans.vulnerability_scans.is_empty());
    assert_eq!(instance.name(), emulator.instance(&id).unwrap().name.as_deref());
    let detail = instance.vulnerability_scan(&scans.vulnerability_scans[0].scan_id).await.unwrap();
    assert!(!detail.assets.is_empty());
    instance.data_scans().await.unwrap();
    instance.baseline_scans().await.unwrap();
    instance.dashboard_overall().await.unwrap();
    instance.dashboard_data().await.unwrap();
    instance.dashboard_baseline().await.unwrap();
    instance.dashboard_vulnerability().await.unwrap();
    let cves = instance.cves(None).await.unwrap();
    if let Some(first) = cves.cves.first() {
        let one = instance.cves(Some(&first.cve)).await.unwrap();
        assert!(one.cves.iter().all(|cve| cve.cve == first.cve));
    }
    let internal = instance.assets(AssetType::Internal).await.unwrap();
    let external = instance.assets(AssetType::External).await.unwrap();
    if let Some(asset_id) = internal.iter().find_map(|asset| asset.asset_id.clone()) {
        instance.authenticated_asset(&asset_id).await.unwrap();
    }
    if let Some(ip) = external.iter().find_map(|asset| asset.ip_address.clone()) {
        instance.ip_asset(&ip).await.unwrap();
    }
    let via_value = client.instance_for(&emulator.instance(&id).unwrap()).unwrap();
    via_value.send(&list_data_scans::Request::new()).await.unwrap();

    assert_eq!(emulator.count("auth.login"), 1);
    assert_eq!(emulator.count("instances.authenticate_instance"), 1, "once per instance per token");
    assert_eq!(emulator.count("instances.list_instances"), 1, "the structure is listed once");
    assert!(cyrisma_transport::tls_config_loads() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tls_configuration_per_client_whatever_the_hosts() {
    let emulator = support::default_emulator().await;
    let before = cyrisma_transport::tls_config_loads();
    let client = support::client(&emulator);
    let built = cyrisma_transport::tls_config_loads();
    assert!(built > before);
    for id in support::reportable_ids(&emulator) {
        client.instance(&id).dashboard_overall().await.unwrap();
    }
    // Other tests in this binary may build clients concurrently, so only this client's share is
    // checked: it loaded one configuration, and reaching many hosts loaded none.
    let hosts = support::reportable_ids(&emulator).len() as u64;
    assert!(cyrisma_transport::tls_config_loads() - built < hosts, "no configuration per host");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_the_instances_refreshes_the_cache_instance_hosts_are_found_in() {
    let emulator = support::emulator(EmulatorConfig::default().with_provisioning_delay(Duration::ZERO)).await;
    let client = support::client(&emulator);
    let instances = client.instances();
    let first = instances.list().await.unwrap();
    // The same listing again: the caller gets its own equal list.
    let again = instances.list().await.unwrap();
    assert_eq!(again, first);
    let organization = first.iter().find(|instance| instance.is_organization()).unwrap();
    let request = create_instance::Request::new(
        InstanceType::Standard,
        false,
        &organization.instance_id,
        "Cache Test Clinic",
        "cachetest",
        "US",
        "cache@transport.example",
    );
    let created = instances.create(&request).await.unwrap();
    let changed = instances.list().await.unwrap();
    assert_eq!(changed.len(), first.len() + 1);
    assert!(changed.iter().any(|instance| instance.instance_id == created.instance_id));
    assert_eq!(emulator.count("instances.list_instances"), 3);
    // The new instance's host is found in the cache the last listing refreshed: no listing more.
    let instance = client.instance(&created.instance_id);
    instance.dashboard_overall().await.unwrap();
    assert_eq!(instance.name(), Some("Cache Test Clinic"));
    // And an instance of the unchanged listings, still cached.
    let known = first.iter().find(|instance| !instance.is_organization()).unwrap();
    client.instance(&known.instance_id).dashboard_overall().await.unwrap();
    assert_eq!(emulator.count("instances.list_instances"), 3, "the instance hosts came from the cache");
}
