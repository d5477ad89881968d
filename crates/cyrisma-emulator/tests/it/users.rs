//! Users: only under organizations, string `enabled`, lookups by id or username, disabling.

use cyrisma_core::api::users;
use http::Method;

use crate::support::{Harness, api_error, json, small};

#[tokio::test]
async fn users_are_created_only_under_organizations() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[0].clone();
    let request = users::create_user::Request::new(&org, "jane.doe@contoso.example", "Jane", "Doe");
    let response = h.raw(&request, &h.base, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let value = json(&response);
    // Every field is a string; `enabled` is "true" [DOC].
    for key in ["id", "username", "first_name", "last_name", "enabled", "instance_id"] {
        assert!(value[key].is_string(), "{key} in {value}");
    }
    assert_eq!(value["enabled"], "true");
    assert_eq!(value["instance_id"], org.as_str());

    let standard = h.active_instances()[0].clone();
    let refused = h.central(&users::create_user::Request::new(&standard, "x@y.example", "X", "Y"), Some(&token)).await;
    assert_eq!(api_error(refused), (400, "invalid_request".into(), Some("instance_id".into())));
    let duplicate = h.central(&request, Some(&token)).await;
    assert_eq!(api_error(duplicate), (409, "conflict".into(), None));
    let unknown = h.central(&users::create_user::Request::new("cc999999", "z@y.example", "Z", "Y"), Some(&token)).await;
    assert_eq!(api_error(unknown).0, 404);
    let response = h
        .form(
            Method::POST,
            "/partner/instances/users/create",
            Some(&token),
            &format!("instance_id={org}&username=a@b.example&first_name=A"),
        )
        .await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("last_name")));
}

#[tokio::test]
async fn users_are_listed_looked_up_and_disabled() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let org = h.organizations()[1].clone();
    let created = h
        .central(&users::create_user::Request::new(&org, "sam.smith@fabrikam.example", "Sam", "Smith"), Some(&token))
        .await
        .unwrap();
    let all = h.central(&users::list_users::Request::new(), Some(&token)).await.unwrap();
    assert!(all.len() > 1 && all.iter().any(|user| user.id == created.id));
    assert!(all.iter().all(|user| h.organizations().contains(user.instance_id.as_ref().unwrap())));

    for reference in [created.id.as_str(), "sam.smith@fabrikam.example", "SAM.SMITH@fabrikam.example"] {
        let response = h.raw(&users::get_user::Request::new(reference), &h.base, Some(&token)).await;
        let value = json(&response);
        assert_eq!(value.as_array().map(Vec::len), Some(1), "{reference}: {value}");
        assert_eq!(value[0]["id"], created.id.as_str());
    }
    let unknown = h.central(&users::get_user::Request::new("nobody@example.com"), Some(&token)).await;
    assert_eq!(api_error(unknown), (404, "not_found".into(), None));

    let disabled =
        h.central(&users::disable_user::Request::new("sam.smith@fabrikam.example"), Some(&token)).await.unwrap();
    assert!(!disabled.is_enabled());
    let response = h.raw(&users::disable_user::Request::new(&created.id), &h.base, Some(&token)).await;
    assert_eq!(json(&response)["enabled"], "false", "disabling twice is idempotent");
    assert!(!h.emu.users().iter().find(|user| user.id == created.id).unwrap().is_enabled());
    let unknown = h.central(&users::disable_user::Request::new("99999"), Some(&token)).await;
    assert_eq!(api_error(unknown).0, 404);
}
