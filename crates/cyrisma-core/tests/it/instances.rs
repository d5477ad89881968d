//! Requests and responses of the `instances` endpoints.

use cyrisma_core::RequestError;
use cyrisma_core::api::instances::{create_instance, get_instance, list_instances};
use cyrisma_core::endpoint::Endpoint;
use cyrisma_core::types::{InstanceType, MfaType};

use crate::{check_request, check_responses};

fn central() -> cyrisma_core::BaseUrl {
    cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap()
}

#[test]
fn list_instances_request() {
    check_request!("list_instances_request", list_instances::Request::new());
}

#[test]
fn list_instances_responses() {
    check_responses!(list_instances::Request, "instances/list_instances/*");
}

#[test]
fn get_instance_request() {
    check_request!("get_instance_request", get_instance::Request::new("cc123456"));
}

#[test]
fn get_instance_refuses_ids_that_change_the_path() {
    for bad in ["", "a/b", "..", " "] {
        let error = get_instance::Request::new(bad).to_http_request(&central(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::InvalidPathParameter { param: "instanceId", .. }), "{bad:?}: {error}");
    }
}

#[test]
fn get_instance_needs_a_token() {
    let error = get_instance::Request::new("cc1").to_http_request(&central(), None).unwrap_err();
    assert!(matches!(error, RequestError::MissingToken { endpoint: "instances.get_instance" }));
}

#[test]
fn get_instance_responses() {
    check_responses!(get_instance::Request, "instances/get_instance/*");
}

#[test]
fn create_instance_request() {
    let mut request = create_instance::Request::new(
        InstanceType::Mssp,
        false,
        "partner01",
        "Fabrikam Security & Co",
        "fabrikam",
        "US",
        "ops@fabrikam.example",
    );
    request.mfa_type = Some(MfaType::Authenticator);
    request.city = Some("Austin".into());
    check_request!("create_instance_request", request);
}

#[test]
fn create_instance_refuses_bad_input() {
    let request = create_instance::Request::new(InstanceType::Standard, true, "org1", "Name", "short", "", "a@b.example");
    let error = request.to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "country" }), "{error}");
    let request = create_instance::Request::new(InstanceType::from_wire("enterprise"), false, "org1", "N", "s", "US", "a@b.example");
    let error = request.to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::InvalidField { field: "instance_type", .. }), "{error}");
}

#[test]
fn create_instance_responses() {
    check_responses!(create_instance::Request, "instances/create_instance/*");
}
