//! Requests and responses of the `users` endpoints.

use cyrisma_core::RequestError;
use cyrisma_core::api::users::{create_user, disable_user, get_user, list_users};
use cyrisma_core::endpoint::{AuthKind, BodyKind, Endpoint, HostKind, Metadata};

use crate::check_request;

fn central() -> cyrisma_core::BaseUrl {
    cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap()
}

#[test]
fn get_user_by_username_request() {
    // Usernames are email addresses: `@` and `+` are percent-encoded in the path segment.
    check_request!("get_user_by_username_request", get_user::Request::new("alice+ops@northwind.example"));
}

#[test]
fn get_user_refuses_refs_that_change_the_path() {
    for bad in ["", "  ", "alice/../admin", "a/b", "..", "."] {
        let error = get_user::Request::new(bad).to_http_request(&central(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::InvalidPathParameter { param: "userRef", .. }), "{bad:?}: {error}");
    }
}

#[test]
fn get_user_needs_a_token() {
    let error = get_user::Request::new("u-1001").to_http_request(&central(), None).unwrap_err();
    assert!(matches!(error, RequestError::MissingToken { endpoint: "users.get_user" }));
}

#[test]
fn create_user_refuses_empty_fields() {
    let cases = [
        (create_user::Request::new("", "a@b.example", "A", "B"), "instance_id"),
        (create_user::Request::new("org1", " ", "A", "B"), "username"),
        (create_user::Request::new("org1", "a@b.example", "", "B"), "first_name"),
        (create_user::Request::new("org1", "a@b.example", "A", "\n"), "last_name"),
    ];
    for (request, field) in cases {
        let error = request.to_http_request(&central(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::EmptyField { field: got } if got == field), "{field}: {error}");
    }
}

#[test]
fn disable_user_uses_the_assumed_field_name() {
    let built = disable_user::Request::new("u-1001").to_http_request(&central(), Some(&"t".into())).unwrap();
    let body = std::str::from_utf8(built.body().as_bytes()).unwrap().to_owned();
    assert_eq!(body, format!("{}=u-1001", cyrisma_core::assumed::DISABLE_USER_FIELD));
}

#[test]
fn disable_user_refuses_an_empty_ref() {
    let error = disable_user::Request::new(" ").to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "user_id" }), "{error}");
}

#[test]
fn disabled_user_reads_as_disabled() {
    for body in [r#"{"id":"u1","enabled":"false"}"#, r#"{"id":"u1","enabled":false}"#, r#"{"id":"u1","enabled":"0"}"#] {
        let user = disable_user::Request::parse_success(body.as_bytes()).unwrap();
        assert!(!user.is_enabled(), "{body}");
    }
    let user = disable_user::Request::parse_success(br#"{"id":"u1","enabled":null}"#).unwrap();
    assert!(user.is_enabled(), "a missing value counts as enabled");
}

#[test]
fn user_metadata_matches_the_contract() {
    let table: [(Metadata, &str, &str, bool, BodyKind); 4] = [
        (list_users::METADATA, "GET", "/partner/users/info", true, BodyKind::None),
        (get_user::METADATA, "GET", "/partner/users/info/{userRef}", true, BodyKind::None),
        (create_user::METADATA, "POST", "/partner/instances/users/create", false, BodyKind::Form),
        (disable_user::METADATA, "PATCH", "/partner/users/disable", true, BodyKind::Form),
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
