//! Requests and responses of the `auth` endpoints.

use cyrisma_core::ApiSecret;
use cyrisma_core::RefreshToken;
use cyrisma_core::api::auth::{login, regen_pass};
use cyrisma_core::endpoint::Endpoint;

use crate::{CANARY_SECRET, check_request};

#[test]
fn login_refresh_request() {
    check_request!("login_refresh_request", login::Request::refresh(RefreshToken::new(CANARY_SECRET)));
}

#[test]
fn login_refuses_empty_credentials() {
    let base = cyrisma_core::BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    let error = login::Request::password(" ", ApiSecret::new("x")).to_http_request(&base, None).unwrap_err();
    assert_eq!(error.to_string(), "required field `username` is empty: give it a value");
    let error = login::Request::password("key", ApiSecret::new("")).to_http_request(&base, None).unwrap_err();
    assert_eq!(error.to_string(), "required field `password` is empty: give it a value");
}

#[test]
fn regen_pass_reads_every_assumed_secret_key() {
    for key in cyrisma_core::assumed::REGEN_PASS_SECRET_KEYS {
        let body = format!(r#"{{"username":"k","{key}":"new-secret"}}"#);
        let parsed = regen_pass::Request::parse_success(body.as_bytes()).unwrap();
        assert_eq!(parsed.password.expose_secret(), "new-secret", "key {key}");
    }
}
