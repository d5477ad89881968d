//! Requests and responses of the `assets` endpoints.

use cyrisma_core::RequestError;
use cyrisma_core::api::assets::{get_authenticated_asset, get_ip_asset, list_assets};
use cyrisma_core::endpoint::{AuthKind, Endpoint, HostKind};
use cyrisma_core::types::{Asset, AssetType, RiskLevel};
use cyrisma_core::{BaseUrl, HostPolicy};

use crate::check_request;

fn instance() -> BaseUrl {
    let central = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
    central.instance(&HostPolicy::for_central(&central).unwrap().validate("cc123456.cyrisma.com").unwrap())
}

#[test]
fn list_assets_external_request() {
    check_request!("list_assets_external_request", list_assets::Request::new(AssetType::External));
}

#[test]
fn list_assets_refuses_an_unknown_type() {
    let request = list_assets::Request::new(AssetType::from_wire("webapp"));
    let error = request.to_http_request(&instance(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::InvalidField { field: "assetType", .. }), "{error}");
}

#[test]
fn get_authenticated_asset_refuses_an_empty_id() {
    for bad in ["", "   "] {
        let request = get_authenticated_asset::Request::new(bad);
        let error = request.to_http_request(&instance(), Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::EmptyField { field: "assetId" }), "{bad:?}: {error}");
    }
}

#[test]
fn get_ip_asset_refuses_an_empty_address() {
    let error = get_ip_asset::Request::new(" ").to_http_request(&instance(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::EmptyField { field: "assetIp" }), "{error}");
}

#[test]
fn get_ip_asset_needs_a_token() {
    let error = get_ip_asset::Request::new("203.0.113.10").to_http_request(&instance(), None).unwrap_err();
    assert!(matches!(error, RequestError::MissingToken { endpoint: "assets.get_ip_asset" }), "{error}");
}

#[test]
fn asset_endpoints_are_instance_reads() {
    for metadata in [list_assets::METADATA, get_authenticated_asset::METADATA, get_ip_asset::METADATA] {
        assert_eq!(metadata.method, http::Method::GET, "{}", metadata.name);
        assert_eq!(metadata.host, HostKind::Instance, "{}", metadata.name);
        assert_eq!(metadata.auth, AuthKind::AccessToken, "{}", metadata.name);
        assert!(metadata.idempotent, "{}", metadata.name);
    }
}

#[test]
fn asset_bodies_read_in_every_shape() {
    let asset = r#"{"assetId": "A-1", "OpenPorts": [{"PortNumber": "443", "RiskLevel": "high"}]}"#;
    let shapes = [
        asset.to_owned(),
        format!("[{asset}]"),
        format!(r#"{{"assets": [{asset}]}}"#),
        format!(r#"{{"total": 1, "assets": [{asset}]}}"#),
        format!(" \n{{ \"Assets\" : [{asset}]}}"),
    ];
    for body in &shapes {
        let assets = Asset::list_from_slice(body.as_bytes()).unwrap();
        assert_eq!(assets.len(), 1, "{body}");
        assert_eq!(assets[0].identifier(), Some("A-1"), "{body}");
        assert_eq!(assets[0].open_ports[0].port(), Some(443), "{body}");
        assert_eq!(assets[0].open_ports[0].risk_level, Some(RiskLevel::High), "{body}");
    }
    assert!(Asset::list_from_slice(b"null").unwrap().is_empty());
    assert!(Asset::list_from_slice(b"{\"assets\": null}").unwrap().is_empty());
    let error = Asset::list_from_slice(b"\"A-1\"").unwrap_err();
    assert!(!error.is_syntax, "{error:?}");
}
