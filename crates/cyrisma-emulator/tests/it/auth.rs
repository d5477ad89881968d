//! Login (both field spellings, both path forms), refresh, token format and expiry, the
//! `access_token` scheme, and secret rotation.

use std::time::Duration;

use cyrisma_core::api::{auth, instances};
use cyrisma_core::{AccessToken, ApiSecret, Endpoint, RefreshToken};
use http::Method;

use crate::support::{Harness, api_error, json, small};

fn is_token(token: &str) -> bool {
    token.len() == 26
        && token[..12].chars().all(|ch| ch.is_ascii_alphanumeric())
        && token[12..].chars().all(|ch| ch.is_ascii_digit())
        && token[12..16].parse::<u32>().is_ok_and(|year| (2020..2200).contains(&year))
}

#[tokio::test]
async fn password_login_answers_the_documented_shape() {
    let h = Harness::start(small()).await;
    let login = h.login().await;
    assert!(is_token(login.access_token.expose_secret()));
    assert!(is_token(login.refresh_token.as_ref().unwrap().expose_secret()));
    assert_eq!(login.token_type.as_deref(), Some("access"));
    assert_eq!(login.expires_in, Some(600));
    assert_eq!(login.client_id.as_deref(), Some(""));
    assert_ne!(h.token().await, login.access_token, "every login issues a new token");
}

#[tokio::test]
async fn login_accepts_pascal_case_fields_and_both_path_forms() {
    let h = Harness::start(small()).await;
    let key = h.emu.api_key().to_owned();
    let secret = h.emu.api_secret().expose_secret().to_owned();
    let bodies = [
        format!("grant_type=password&username={key}&password={secret}"),
        format!("GrantType=password&Username={key}&Password={secret}"),
    ];
    for path in ["/partner/login/", "/partner/login"] {
        for body in &bodies {
            let response = h.form(Method::POST, path, None, body).await;
            assert_eq!(response.status(), 200, "{path} {}", String::from_utf8_lossy(response.body()));
            let parsed = auth::login::Request::parse_response(&response).expect("a login response");
            assert!(is_token(parsed.access_token.expose_secret()));
        }
    }
}

#[tokio::test]
async fn bad_credentials_and_bad_grants_are_refused() {
    let h = Harness::start(small()).await;
    let wrong = auth::login::Request::password(h.emu.api_key(), ApiSecret::new("not-the-secret"));
    assert_eq!(api_error(h.central(&wrong, None).await), (401, "invalid_grant".into(), None));
    let wrong_key = auth::login::Request::password("00000000-0000-4000-8000-000000000000", h.emu.api_secret());
    assert_eq!(api_error(h.central(&wrong_key, None).await).1, "invalid_grant");
    let response = h.form(Method::POST, "/partner/login/", None, "username=a&password=b").await;
    assert_eq!(response.status(), 400);
    assert_eq!(json(&response)["field"], "grant_type");
    let response = h.form(Method::POST, "/partner/login/", None, "grant_type=client_credentials").await;
    assert_eq!((response.status().as_u16(), json(&response)["error"].as_str()), (400, Some("invalid_request")));
}

#[tokio::test]
async fn refresh_grant_issues_a_new_token_once_per_refresh_token() {
    let h = Harness::start(small()).await;
    let first = h.login().await;
    let refresh = first.refresh_token.clone().unwrap();
    let renewed = h.central(&auth::login::Request::refresh(refresh.clone()), None).await.expect("refresh works");
    assert_ne!(renewed.access_token, first.access_token);
    assert!(is_token(renewed.access_token.expose_secret()));
    let list = instances::list_instances::Request::new();
    assert!(h.central(&list, Some(&renewed.access_token)).await.is_ok());
    // A refresh token is good for one renewal [ASSUMED].
    assert_eq!(api_error(h.central(&auth::login::Request::refresh(refresh), None).await).1, "invalid_grant");
    let unknown = auth::login::Request::refresh(RefreshToken::new("AAAAAAAAAAAA20250101000000"));
    assert_eq!(api_error(h.central(&unknown, None).await), (401, "invalid_grant".into(), None));
}

#[tokio::test]
async fn only_the_access_token_scheme_is_accepted() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let host = h.emu.central_host().to_owned();
    let path = "/app/partner/instances/info/";
    let ok = h
        .request(Method::GET, &host, path, &[("authorization", &format!("access_token {}", token.expose_secret()))], "")
        .await;
    assert_eq!(ok.status(), 200);
    for header in
        [format!("Bearer {}", token.expose_secret()), token.expose_secret().to_owned(), "access_token".to_owned()]
    {
        let response = h.request(Method::GET, &host, path, &[("authorization", &header)], "").await;
        assert_eq!(response.status(), 401);
        assert_eq!(json(&response)["error"], "invalid_token");
    }
    let response = h.request(Method::GET, &host, path, &[], "").await;
    assert_eq!((response.status().as_u16(), json(&response)["error"].as_str()), (401, Some("invalid_token")));
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    // A zero lifetime: every token is expired when it is first used.
    let h = Harness::start(small().with_token_ttl(Duration::ZERO)).await;
    let login = h.login().await;
    assert_eq!(login.expires_in, Some(0));
    let list = instances::list_instances::Request::new();
    assert_eq!(api_error(h.central(&list, Some(&login.access_token)).await), (401, "invalid_token".into(), None));

    let h = Harness::start(small()).await;
    let token = h.token().await;
    assert!(h.central(&list, Some(&token)).await.is_ok());
    h.emu.expire_tokens();
    assert_eq!(api_error(h.central(&list, Some(&token)).await).1, "invalid_token");
    let unknown = AccessToken::new("ZZZZZZZZZZZZ20250101000000");
    assert_eq!(api_error(h.central(&list, Some(&unknown)).await).1, "invalid_token");
}

#[tokio::test]
async fn a_short_lifetime_expires_in_real_time() {
    let config = small().with_token_ttl(Duration::from_millis(300));
    let h = Harness::start(config).await;
    let token = h.token().await;
    let list = instances::list_instances::Request::new();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(api_error(h.central(&list, Some(&token)).await).1, "invalid_token");
}

#[tokio::test]
async fn regen_pass_rotates_the_secret_once() {
    let h = Harness::start(small()).await;
    let old = h.emu.api_secret();
    let rotated =
        h.central(&auth::regen_pass::Request::new(h.emu.api_key(), old.clone()), None).await.expect("rotation works");
    assert_eq!(rotated.username.as_deref(), Some(h.emu.api_key()));
    assert_ne!(rotated.password, old);
    assert_eq!(h.emu.api_secret(), rotated.password, "the handle reports the current secret");
    // The old secret stops working at once; the new one works.
    let with_old = auth::login::Request::password(h.emu.api_key(), old.clone());
    assert_eq!(api_error(h.central(&with_old, None).await).1, "invalid_grant");
    let with_new = auth::login::Request::password(h.emu.api_key(), rotated.password.clone());
    assert!(h.central(&with_new, None).await.is_ok());
    // Rotating again with the old secret fails; the new secret is not shown anywhere else.
    let again = auth::regen_pass::Request::new(h.emu.api_key(), old);
    assert_eq!(api_error(h.central(&again, None).await), (401, "invalid_grant".into(), None));
    let log = serde_json::to_string(&h.emu.requests()).unwrap();
    assert!(!log.contains(rotated.password.expose_secret()));
}
