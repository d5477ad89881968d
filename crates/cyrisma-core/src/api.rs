//! Every endpoint of the contract, one module per resource and one file per endpoint.
//!
//! Each endpoint file holds a `//!` header with the method and path, a `metadata!` block, a
//! `Request` with a `new(required…)` constructor, and its `Endpoint` impl. Response models shared
//! by several endpoints live in [`crate::types`].

pub mod assets;
pub mod auth;
pub mod dashboards;
pub mod instances;
pub mod scans;
pub mod users;
pub mod webhooks;

use crate::endpoint::Metadata;

/// The metadata of every endpoint of the contract, in contract order.
///
/// Servers (the emulator) route with it, and tests check that every endpoint is covered.
pub const ENDPOINTS: &[Metadata] = &[
    auth::regen_pass::METADATA,
    auth::login::METADATA,
    instances::authenticate_instance::METADATA,
    instances::authenticate_all_instances::METADATA,
    instances::list_instances::METADATA,
    instances::get_instance::METADATA,
    instances::create_instance::METADATA,
    users::create_user::METADATA,
    instances::convert_instance::METADATA,
    instances::suspend_instance::METADATA,
    instances::reactivate_instance::METADATA,
    users::list_users::METADATA,
    users::get_user::METADATA,
    users::disable_user::METADATA,
    instances::set_mfa::METADATA,
    scans::list_data_scans::METADATA,
    scans::list_baseline_scans::METADATA,
    scans::list_vulnerability_scans::METADATA,
    scans::get_vulnerability_scan::METADATA,
    dashboards::get_overall_dashboard::METADATA,
    dashboards::get_data_dashboard::METADATA,
    dashboards::get_baseline_dashboard::METADATA,
    dashboards::get_vulnerability_dashboard::METADATA,
    dashboards::list_cves::METADATA,
    assets::list_assets::METADATA,
    assets::get_authenticated_asset::METADATA,
    assets::get_ip_asset::METADATA,
    webhooks::list_webhooks::METADATA,
    webhooks::create_webhook::METADATA,
    webhooks::delete_webhook::METADATA,
];

/// An endpoint matched by [`route`], with its decoded path parameters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Matched {
    /// The endpoint.
    pub metadata: &'static Metadata,
    /// `{param}` placeholders and their percent-decoded values.
    pub params: Vec<(&'static str, String)>,
}

impl Matched {
    /// The decoded value of a path parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(param, _)| *param == name).map(|(_, value)| value.as_str())
    }
}

/// Why [`route`] found no endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// No endpoint has this path.
    #[error("no endpoint has this path")]
    NotFound,
    /// Endpoints have this path, but not with this method.
    #[error("this path does not take this method")]
    MethodNotAllowed {
        /// The methods the path takes.
        allowed: Vec<http::Method>,
    },
}

/// Finds the endpoint of a method and a path below the base URL's prefix (for example
/// `/partner/instances/info/cc1`), for servers such as the emulator.
///
/// A trailing slash is not significant, so `/partner/login` matches `/partner/login/`. Path
/// parameters must be non-empty and are percent-decoded.
pub fn route(method: &http::Method, path: &str) -> Result<Matched, RouteError> {
    let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    for metadata in ENDPOINTS {
        let template: Vec<&'static str> = metadata.path.trim_matches('/').split('/').collect();
        if template.len() != wanted.len() {
            continue;
        }
        let mut params = Vec::new();
        let matched = template.iter().zip(&wanted).all(|(part, actual)| {
            match part.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                Some(name) => {
                    let decoded = percent_encoding::percent_decode_str(actual).decode_utf8_lossy().into_owned();
                    params.push((name, decoded));
                    !actual.is_empty()
                }
                None => part == actual,
            }
        });
        if !matched {
            continue;
        }
        if metadata.method == method {
            return Ok(Matched { metadata, params });
        }
        allowed.push(metadata.method.clone());
    }
    if allowed.is_empty() { Err(RouteError::NotFound) } else { Err(RouteError::MethodNotAllowed { allowed }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_listed_once_and_routes_to_itself() {
        let mut names: Vec<&str> = ENDPOINTS.iter().map(|metadata| metadata.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ENDPOINTS.len(), "duplicate endpoint names");
        assert_eq!(ENDPOINTS.len(), 30);
        for metadata in ENDPOINTS {
            let path = metadata
                .path
                .replace("{instanceId}", "cc1")
                .replace("{userRef}", "a%40b.example")
                .replace("{scanId}", "s1")
                .replace("{webhookId}", "w1");
            let matched = route(&metadata.method, &path).unwrap();
            assert_eq!(matched.metadata.name, metadata.name, "{path}");
        }
    }

    #[test]
    fn routing_is_liberal_about_trailing_slashes_and_strict_about_methods() {
        assert_eq!(route(&http::Method::POST, "/partner/login").unwrap().metadata.name, "auth.login");
        assert_eq!(route(&http::Method::POST, "/partner/login/").unwrap().metadata.name, "auth.login");
        let matched = route(&http::Method::GET, "/partner/users/info/a%40b.example").unwrap();
        assert_eq!(matched.param("userRef"), Some("a@b.example"));
        assert_eq!(route(&http::Method::GET, "/partner/nothing").unwrap_err(), RouteError::NotFound);
        assert!(matches!(
            route(&http::Method::DELETE, "/partner/instances/create"),
            Err(RouteError::MethodNotAllowed { .. })
        ));
        let with_slashes = route(&http::Method::GET, "/partner/instances/info//").unwrap();
        assert_eq!(with_slashes.metadata.name, "instances.list_instances");
    }
}
