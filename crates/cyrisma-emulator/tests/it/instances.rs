//! Structure, creation, hierarchy rules, conversion, suspension, MFA and instance
//! authentication.

use std::time::Duration;

use cyrisma_core::api::{instances, scans};
use cyrisma_core::types::{InstanceStatus, InstanceType, MfaType};
use http::Method;

use crate::support::{Harness, api_error, json, small};

#[tokio::test]
async fn the_structure_lists_organizations_and_instances_with_valid_hosts() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let all = h.central(&instances::list_instances::Request::new(), Some(&token)).await.unwrap();
    assert_eq!(all.len(), 8);
    let orgs: Vec<_> = all.iter().filter(|instance| instance.is_organization()).collect();
    assert_eq!(orgs.len(), 2);
    for instance in &all {
        let host = h.policy.validate(instance.url.as_deref().unwrap()).expect("the url names a valid host");
        assert_eq!(host.as_str(), format!("{}.cyrisma.test", instance.instance_id));
        let hierarchy = instance.hierarchy.as_deref().unwrap();
        assert!(hierarchy.starts_with("partner01/") && hierarchy.ends_with(&instance.instance_id));
        assert!(
            instance.number_of_endpoints.is_some() && instance.agent_key.is_some() && instance.created_at.is_some()
        );
        assert!(instance.extra.is_empty(), "only contract fields: {:?}", instance.extra);
        if instance.is_organization() {
            assert_eq!(instance.parent_id.as_deref(), Some("partner01"));
            assert!(instance.mfa.is_some(), "organizations carry an mfa method");
            assert_eq!(instance.is_consulting, Some(false));
        } else {
            assert!(instance.mfa.is_none(), "mfa applies only to organizations");
            assert!(orgs.iter().any(|org| Some(&org.instance_id) == instance.parent_id.as_ref()));
            assert_eq!(instance.instance_type, Some(InstanceType::Standard));
        }
    }
}

#[tokio::test]
async fn single_lookups_return_one_element_arrays() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let id = h.active_instances()[0].clone();
    let response = h.raw(&instances::get_instance::Request::new(&id), &h.base, Some(&token)).await;
    let value = json(&response);
    assert_eq!(value.as_array().map(Vec::len), Some(1), "{value}");
    assert_eq!(value[0]["instance_id"], id.as_str());
    // `?instance_id=` is served too.
    let auth = format!("access_token {}", token.expose_secret());
    let response = h
        .request(
            Method::GET,
            "api.cyrisma.test",
            &format!("/app/partner/instances/info/?instance_id={id}"),
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(json(&response).as_array().map(Vec::len), Some(1));
    assert_eq!(h.emu.count("instances.get_instance"), 2);
    let unknown = h.central(&instances::get_instance::Request::new("cc999999"), Some(&token)).await;
    assert_eq!(api_error(unknown), (404, "not_found".into(), None));
}

fn create(kind: InstanceType, consulting: bool, parent: &str, name: &str) -> instances::create_instance::Request {
    instances::create_instance::Request::new(
        kind,
        consulting,
        parent,
        name,
        name.to_lowercase().replace(' ', ""),
        "US",
        "it@example.com",
    )
}

#[tokio::test]
async fn created_instances_provision_then_become_active() {
    let config = small().with_provisioning_delay(Duration::from_millis(300));
    let h = Harness::start(config).await;
    let token = h.token().await;
    let org = h.central(&create(InstanceType::Msp, false, "partner01", "New MSP"), Some(&token)).await.unwrap();
    assert!(org.instance_id.starts_with("cc") && org.agent_key.is_some());
    let mut request = create(InstanceType::Standard, true, &org.instance_id, "New Customer");
    request.tenant_id = Some("tenant-1".into());
    let created = h.central(&request, Some(&token)).await.unwrap();
    let lookup = instances::get_instance::Request::new(&created.instance_id);
    let found = h.central(&lookup, Some(&token)).await.unwrap().remove(0);
    assert_eq!(found.status, Some(InstanceStatus::Provisioning));
    assert_eq!(found.parent_id.as_deref(), Some(org.instance_id.as_str()));
    assert_eq!(found.is_consulting, Some(true));
    assert_eq!(found.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(
        found.hierarchy.as_deref(),
        Some(format!("partner01/{}/{}", org.instance_id, created.instance_id).as_str())
    );
    let mut status = found.status;
    for _ in 0..50 {
        if status == Some(InstanceStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = h.central(&lookup, Some(&token)).await.unwrap().remove(0).status;
    }
    assert_eq!(status, Some(InstanceStatus::Active));
    // A new instance is served at its host, with no scans yet.
    h.central(&instances::authenticate_instance::Request::new(&created.instance_id), Some(&token)).await.unwrap();
    let listed = h.on(&created.instance_id, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    assert!(listed.vulnerability_scans.is_empty());
}

#[tokio::test]
async fn a_zero_delay_means_active_at_once() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[0].clone();
    let created = h.central(&create(InstanceType::Standard, false, &org, "Instant"), Some(&token)).await.unwrap();
    let found = h.central(&instances::get_instance::Request::new(&created.instance_id), Some(&token)).await.unwrap();
    assert_eq!(found[0].status, Some(InstanceStatus::Active));
}

#[tokio::test]
async fn creation_is_validated_with_the_contract_errors() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[0].clone();
    let standard = h.active_instances()[0].clone();
    // A missing field names the field.
    let response = h.form(Method::POST, "/partner/instances/create", Some(&token), &format!("instance_type=standard&is_consulting=false&parent_instance_id={org}&name=X&short_name=x&email=a@b.example")).await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("country")));
    // An unknown type.
    let response = h.form(Method::POST, "/partner/instances/create", Some(&token), &format!("instance_type=enterprise&is_consulting=false&parent_instance_id={org}&name=X&short_name=x&country=US&email=a@b.example")).await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("instance_type")));
    // A parent that is not an organization.
    let result = h.central(&create(InstanceType::Standard, false, &standard, "Nested"), Some(&token)).await;
    assert_eq!(api_error(result), (400, "invalid_request".into(), Some("parent_instance_id".into())));
    // The partner is not an organization either, for instances.
    let result = h.central(&create(InstanceType::Standard, false, "partner01", "Top"), Some(&token)).await;
    assert_eq!(api_error(result).2.as_deref(), Some("parent_instance_id"));
    // mfa_type on a non-organization.
    let mut request = create(InstanceType::Standard, false, &org, "With MFA");
    request.mfa_type = Some(MfaType::Email);
    assert_eq!(
        api_error(h.central(&request, Some(&token)).await),
        (400, "invalid_request".into(), Some("mfa_type".into()))
    );
    // An unknown parent.
    let result = h.central(&create(InstanceType::Standard, false, "cc999999", "Orphan"), Some(&token)).await;
    assert_eq!(api_error(result).0, 404);
    // Organizations with MFA are fine.
    let mut request = create(InstanceType::Mssp, false, "partner01", "MFA Org");
    request.mfa_type = Some(MfaType::Authenticator);
    let created = h.central(&request, Some(&token)).await.unwrap();
    assert_eq!(h.emu.instance(&created.instance_id).unwrap().mfa, Some(MfaType::Authenticator));
    // Nothing needs a token less.
    assert_eq!(
        api_error(
            h.central(
                &create(InstanceType::Msp, false, "partner01", "No token"),
                Some(&cyrisma_core::AccessToken::new("x"))
            )
            .await
        )
        .0,
        401
    );
}

#[tokio::test]
async fn a_consulting_instance_converts_once() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[0].clone();
    let consulting =
        h.central(&create(InstanceType::Standard, true, &org, "Consulting Co"), Some(&token)).await.unwrap();
    let converted =
        h.central(&instances::convert_instance::Request::new(&consulting.instance_id), Some(&token)).await.unwrap();
    assert_eq!(converted.instance_id, consulting.instance_id);
    assert_eq!(converted.consulting_status.as_deref(), Some("converted"));
    assert_eq!(converted.name.as_deref(), Some("Consulting Co"));
    assert_eq!(h.emu.instance(&consulting.instance_id).unwrap().is_consulting, Some(false));
    let again = h.central(&instances::convert_instance::Request::new(&consulting.instance_id), Some(&token)).await;
    assert_eq!(api_error(again), (409, "conflict".into(), None));
    let standard = h.central(&create(InstanceType::Standard, false, &org, "Managed Co"), Some(&token)).await.unwrap();
    let refused = h.central(&instances::convert_instance::Request::new(&standard.instance_id), Some(&token)).await;
    assert_eq!(api_error(refused).1, "conflict");
    let unknown = h.central(&instances::convert_instance::Request::new("cc999999"), Some(&token)).await;
    assert_eq!(api_error(unknown).0, 404);
}

#[tokio::test]
async fn suspended_instances_refuse_authentication_and_reporting() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let summary = scans::list_vulnerability_scans::Request::new();
    assert!(h.on(&id, &summary, &token).await.is_ok());

    let suspended = h.central(&instances::suspend_instance::Request::new(&id), Some(&token)).await.unwrap();
    assert_eq!(suspended.status, Some(InstanceStatus::Suspended));
    assert_eq!(suspended.instance_id, id);
    assert_eq!(api_error(h.on(&id, &summary, &token).await), (403, "instance_suspended".into(), None));
    let login = h.central(&instances::authenticate_instance::Request::new(&id), Some(&token)).await;
    assert_eq!(api_error(login), (403, "instance_suspended".into(), None));
    let all = h.central(&instances::authenticate_all_instances::Request::new(), Some(&token)).await.unwrap();
    assert!(all.failed_ids().contains(&id) && !all.succeeded_ids().contains(&id));
    // Suspending twice is idempotent.
    assert!(h.central(&instances::suspend_instance::Request::new(&id), Some(&token)).await.is_ok());

    let reactivated = h.central(&instances::reactivate_instance::Request::new(&id), Some(&token)).await.unwrap();
    assert_eq!(reactivated.status, Some(InstanceStatus::Active));
    // Suspension withdrew the authentication: it is needed again.
    assert_eq!(api_error(h.on(&id, &summary, &token).await).1, "instance_not_authenticated");
    h.central(&instances::authenticate_instance::Request::new(&id), Some(&token)).await.unwrap();
    assert!(h.on(&id, &summary, &token).await.is_ok());
    let unknown = h.central(&instances::suspend_instance::Request::new("cc999999"), Some(&token)).await;
    assert_eq!(api_error(unknown).0, 404);
    let response = h.form(Method::PATCH, "/partner/instances/suspend", Some(&token), "").await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("instance_id")));
}

#[tokio::test]
async fn mfa_applies_only_to_organizations() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[0].clone();
    let changed = h.central(&instances::set_mfa::Request::new(&org, MfaType::Email), Some(&token)).await.unwrap();
    assert_eq!((changed.instance_id.as_str(), changed.mfa_type), (org.as_str(), Some(MfaType::Email)));
    assert_eq!(h.emu.instance(&org).unwrap().mfa, Some(MfaType::Email));
    let standard = h.active_instances()[0].clone();
    let refused = h.central(&instances::set_mfa::Request::new(&standard, MfaType::Email), Some(&token)).await;
    assert_eq!(api_error(refused), (400, "invalid_request".into(), Some("instance_id".into())));
    let response =
        h.form(Method::PATCH, "/partner/instances/mfa", Some(&token), &format!("instance_id={org}&mfa_type=7")).await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("mfa_type")));
    let unknown = h.central(&instances::set_mfa::Request::new("cc999999", MfaType::None), Some(&token)).await;
    assert_eq!(api_error(unknown).0, 404);
}

#[tokio::test]
async fn reporting_needs_instance_authentication_for_the_current_token() {
    let h = Harness::start(small()).await;
    let ids = h.active_instances();
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let summary = scans::list_vulnerability_scans::Request::new();
    let token = h.token().await;
    assert_eq!(api_error(h.on(&a, &summary, &token).await), (401, "instance_not_authenticated".into(), None));
    let login = h.central(&instances::authenticate_instance::Request::new(&a), Some(&token)).await.unwrap();
    assert_eq!(login.succeeded_ids(), vec![a.clone()]);
    assert!(h.on(&a, &summary, &token).await.is_ok());
    // Authentication is per instance ...
    assert_eq!(api_error(h.on(&b, &summary, &token).await).1, "instance_not_authenticated");
    // ... and per token: a new token needs it again.
    let fresh = h.token().await;
    assert_eq!(api_error(h.on(&a, &summary, &fresh).await).1, "instance_not_authenticated");
    let all = h.central(&instances::authenticate_all_instances::Request::new(), Some(&fresh)).await.unwrap();
    assert!(all.succeeded_ids().contains(&a) && all.succeeded_ids().contains(&b));
    assert!(h.on(&b, &summary, &fresh).await.is_ok());
    // Unknown instance and missing token.
    let unknown = h.central(&instances::authenticate_instance::Request::new("cc999999"), Some(&fresh)).await;
    assert_eq!(api_error(unknown).0, 404);
    let expired = cyrisma_core::AccessToken::new("AAAAAAAAAAAA20250101000000");
    assert_eq!(
        api_error(h.central(&instances::authenticate_all_instances::Request::new(), Some(&expired)).await).1,
        "invalid_token"
    );
    assert_eq!(api_error(h.on(&a, &summary, &expired).await).1, "invalid_token");
}
