//! The emulator serves every endpoint of the core's list (`cyrisma_core::api::ENDPOINTS`): each
//! one, sent to its kind of host over a real socket, is routed to itself and handled (an answer
//! of the contract, not "no endpoint here" or "not served").

use cyrisma_core::endpoint::HostKind;

use crate::support::{Harness, json, small};

#[tokio::test]
async fn every_endpoint_of_the_core_is_served_on_its_host() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let auth = format!("access_token {}", token.expose_secret());
    let instance = h.active_instances().into_iter().next().expect("an active instance");
    let instance_host = h.instance_base(&instance).host().to_owned();
    let central_host = h.emu.central_host().to_owned();
    for metadata in cyrisma_core::api::ENDPOINTS {
        let path = metadata
            .path
            .replace("{instanceId}", &instance)
            .replace("{userRef}", "nobody%40example.test")
            .replace("{scanId}", "no-such-scan")
            .replace("{webhookId}", "no-such-webhook");
        let host = if metadata.host == HostKind::Central { &central_host } else { &instance_host };
        let headers = [("authorization", auth.as_str()), ("content-type", "application/x-www-form-urlencoded")];
        let response = h.request(metadata.method.clone(), host, &format!("/app{path}"), &headers, "").await;
        let status = response.status().as_u16();
        assert!(![405, 501].contains(&status), "{}: {status} {}", metadata.name, json(&response));
        let record = h.emu.requests().pop().expect("the request is logged");
        assert_eq!(record.endpoint, metadata.name, "{} {path} on {host}: {status}", metadata.method);
    }
    assert_eq!(
        h.emu.counters().keys().filter(|name| cyrisma_core::api::EndpointId::from_name(name).is_some()).count(),
        cyrisma_core::api::ENDPOINTS.len(),
        "{:?}",
        h.emu.counters()
    );
}
