//! Requests and responses of the `instances` endpoints.

use cyrisma_core::RequestError;
use cyrisma_core::api::instances::{
    authenticate_all_instances, authenticate_instance, convert_instance, create_instance, get_instance,
    reactivate_instance, set_mfa, suspend_instance,
};
use cyrisma_core::endpoint::Endpoint;
use cyrisma_core::types::{Instance, InstanceType, MfaType};
use cyrisma_core::wire::one_or_many;

fn central() -> cyrisma_core::BaseUrl {
    cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap()
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
fn create_instance_refuses_bad_input() {
    let request =
        create_instance::Request::new(InstanceType::Standard, true, "org1", "Name", "short", "", "a@b.example");
    let error = request.to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "country" }), "{error}");
    let request = create_instance::Request::new(
        InstanceType::from_wire("enterprise"),
        false,
        "org1",
        "N",
        "s",
        "US",
        "a@b.example",
    );
    let error = request.to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::InvalidField { field: "instance_type", .. }), "{error}");
}

#[test]
fn authenticate_instance_refuses_ids_that_change_the_path() {
    for bad in ["", " ", "a/b", "..", "a\\b"] {
        let error =
            authenticate_instance::Request::new(bad).to_http_request(&central(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::InvalidPathParameter { param: "instanceId", .. }), "{bad:?}: {error}");
    }
}

#[test]
fn authenticate_instance_needs_a_token() {
    let error = authenticate_instance::Request::new("cc1").to_http_request(&central(), None).unwrap_err();
    assert!(matches!(error, RequestError::MissingToken { endpoint: "instances.authenticate_instance" }));
}

fn instance_login_fixture(name: &str) -> cyrisma_core::types::InstanceLogin {
    let path = format!("{}/tests/fixtures/instances/authenticate_all_instances/{name}", env!("CARGO_MANIFEST_DIR"));
    authenticate_all_instances::Request::parse_success(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn authenticate_all_instances_reports_succeeded_and_failed_ids() {
    let login = instance_login_fixture("200-documented.json");
    assert_eq!(login.succeeded_ids(), ["org1001", "cc123456", "cc654321"]);
    assert!(login.failed_ids().is_empty());

    let login = instance_login_fixture("200-with-failures.json");
    assert_eq!(login.succeeded_ids(), ["org1001", "cc123456"]);
    assert_eq!(login.failed_ids(), ["cc000009"]);

    // Objects carrying `instance_id`, `instanceId` or `id` (also numeric); an object without an
    // id is skipped rather than invented.
    let login = instance_login_fixture("200-object-elements.json");
    assert_eq!(login.succeeded_ids(), ["org1001", "cc123456", "654321"]);
    assert_eq!(login.failed_ids(), ["cc000009"]);

    let login = instance_login_fixture("200-empty-object.json");
    assert!(login.succeeded_ids().is_empty() && login.failed_ids().is_empty());
}

#[test]
fn convert_instance_refuses_an_empty_id() {
    let error = convert_instance::Request::new("  ").to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "instance_id" }), "{error}");
}

#[test]
fn suspend_instance_refuses_an_empty_id() {
    let error = suspend_instance::Request::new("").to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "instance_id" }), "{error}");
}

#[test]
fn reactivate_instance_refuses_an_empty_id() {
    let error = reactivate_instance::Request::new("\t").to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "instance_id" }), "{error}");
}

#[test]
fn set_mfa_sends_every_known_code() {
    for (mfa, code) in [(MfaType::None, "0"), (MfaType::Email, "1"), (MfaType::Authenticator, "2")] {
        let built = set_mfa::Request::new("org1001", mfa).to_http_request(&central(), Some(&"t".into())).unwrap();
        let body = std::str::from_utf8(built.body().as_bytes()).unwrap().to_owned();
        assert_eq!(body, format!("instance_id=org1001&mfa_type={code}"));
    }
}

#[test]
fn set_mfa_refuses_bad_input() {
    let error = set_mfa::Request::new("org1001", MfaType::from_wire("sms"))
        .to_http_request(&central(), Some(&"t".into()))
        .unwrap_err();
    assert!(matches!(error, RequestError::InvalidField { field: "mfa_type", .. }), "{error}");
    let error = set_mfa::Request::new("org1001", MfaType::default())
        .to_http_request(&central(), Some(&"t".into()))
        .unwrap_err();
    assert!(matches!(error, RequestError::InvalidField { field: "mfa_type", .. }), "{error}");
    let error = set_mfa::Request::new("", MfaType::Email).to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "instance_id" }), "{error}");
}

#[test]
fn provisioning_metadata_matches_the_contract() {
    use cyrisma_core::endpoint::{AuthKind, BodyKind, HostKind, Metadata};
    let table: [(Metadata, &str, &str, bool, BodyKind); 6] = [
        (authenticate_instance::METADATA, "POST", "/partner/instances/login/{instanceId}", true, BodyKind::None),
        (authenticate_all_instances::METADATA, "POST", "/partner/instances/login/", true, BodyKind::None),
        (convert_instance::METADATA, "PATCH", "/partner/instances/convert", false, BodyKind::Form),
        (suspend_instance::METADATA, "PATCH", "/partner/instances/suspend", true, BodyKind::Form),
        (reactivate_instance::METADATA, "PATCH", "/partner/instances/reactivate", true, BodyKind::Form),
        (set_mfa::METADATA, "PATCH", "/partner/instances/mfa", true, BodyKind::Form),
    ];
    for (metadata, method, path, idempotent, body) in table {
        assert_eq!(metadata.method.as_str(), method, "{}", metadata.name);
        assert_eq!(metadata.path, path, "{}", metadata.name);
        assert_eq!(metadata.idempotent, idempotent, "{}", metadata.name);
        assert_eq!(metadata.body, body, "{}", metadata.name);
        assert_eq!(metadata.host, HostKind::Central, "{}", metadata.name);
        assert_eq!(metadata.auth, AuthKind::AccessToken, "{}", metadata.name);
    }
}

#[test]
fn counts_near_2_pow_64_fit_exactly_or_fail_naming_the_field() {
    use cyrisma_core::types::Instance;
    let parse = |count: &str| {
        cyrisma_core::wire::from_slice::<Instance>(
            format!(r#"{{"instance_id": "cc1", "number_of_endpoints": {count}}}"#).as_bytes(),
        )
    };
    assert_eq!(parse("18446744073709551615").unwrap().number_of_endpoints, Some(u64::MAX));
    assert_eq!(parse("\"18446744073709551615\"").unwrap().number_of_endpoints, Some(u64::MAX));
    assert_eq!(parse("9007199254740992.0").unwrap().number_of_endpoints, Some(1 << 53));
    // 2^64 and beyond do not fit: an error naming the field, never a silent u64::MAX.
    for too_big in ["18446744073709551616", "1.8446744073709552e19", "\"18446744073709551616\"", "1e30"] {
        let error = parse(too_big).unwrap_err();
        assert_eq!(error.path.as_deref(), Some("number_of_endpoints"), "{too_big}: {error:?}");
        assert!(error.message.contains("an integer (u64)"), "{error:?}");
    }
}

#[test]
fn text_and_bytes_that_are_not_utf8_parse_alike_and_fail_with_a_position() {
    // Valid UTF-8 (the text path), with escapes and non-ASCII names.
    let text = r#"[{"instance_id":"cc1","name":"Caf\u00e9 \"Nord\" — Zürich","number_of_endpoints":"3"}]"#;
    let parsed: Vec<Instance> = one_or_many(text.as_bytes()).unwrap();
    assert_eq!(parsed[0].name.as_deref(), Some("Café \"Nord\" — Zürich"));
    assert_eq!(parsed[0].number_of_endpoints, Some(3));
    // Not UTF-8 (the bytes path): an error that says where, never a panic.
    let mut bytes = br#"[{"instance_id":"cc1","name":"X"}]"#.to_vec();
    let at = bytes.iter().position(|byte| *byte == b'X').unwrap();
    bytes[at] = 0xff;
    let error = one_or_many::<Instance>(&bytes).unwrap_err();
    assert!(error.is_syntax, "{error:?}");
    assert!(error.message.contains("line 1 column"), "{error:?}");
    // A wrong field type fails the same way on both paths, with the field's path.
    let wrong = br#"{"instance_id":"cc1","is_consulting":[1]}"#;
    let error = one_or_many::<Instance>(wrong).unwrap_err();
    assert_eq!(error.path.as_deref(), Some("is_consulting"), "{error:?}");
}
