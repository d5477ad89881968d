//! Routing and the handlers of every endpoint of the contract.
//!
//! The route table is built from the core's endpoint metadata (method, path template, host kind
//! and name), so the emulator serves exactly the paths the core sends to. Paths are matched
//! below the `/app` prefix, with or without a trailing slash, segments percent-decoded.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use cyrisma_core::api::{assets, auth, dashboards, instances, scans, users, webhooks};
use cyrisma_core::endpoint::{HostKind, INSTANCE_PATH_PREFIX};
use cyrisma_core::types::{AssetType, DeletedWebhook, ErrorCode, Webhook, WebhookEventType, WebhookEvents};
use cyrisma_core::{AccessToken, Metadata, RefreshToken, WebhookSecret};
use http::{Method, StatusCode};
use percent_encoding::percent_decode_str;

use crate::failure::ApiFailure;
use crate::server::Shared;
use crate::state::{Form, ReportingTarget};

/// Which endpoint a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Login,
    RegenPass,
    ListInstances,
    GetInstance,
    CreateInstance,
    ConvertInstance,
    SuspendInstance,
    ReactivateInstance,
    SetMfa,
    AuthenticateInstance,
    AuthenticateAllInstances,
    CreateUser,
    ListUsers,
    GetUser,
    DisableUser,
    ListWebhooks,
    CreateWebhook,
    DeleteWebhook,
    ListDataScans,
    ListBaselineScans,
    ListVulnerabilityScans,
    GetVulnerabilityScan,
    OverallDashboard,
    DataDashboard,
    BaselineDashboard,
    VulnerabilityDashboard,
    ListCves,
    ListAssets,
    AuthenticatedAsset,
    IpAsset,
}

/// One row of the route table.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) metadata: Metadata,
    pub(crate) kind: Kind,
    segments: Vec<String>,
}

/// The route table, from the core's metadata.
pub(crate) fn routes() -> Vec<Route> {
    let table: Vec<(Metadata, Kind)> = vec![
        (auth::login::METADATA, Kind::Login),
        (auth::regen_pass::METADATA, Kind::RegenPass),
        (instances::list_instances::METADATA, Kind::ListInstances),
        (instances::get_instance::METADATA, Kind::GetInstance),
        (instances::create_instance::METADATA, Kind::CreateInstance),
        (instances::convert_instance::METADATA, Kind::ConvertInstance),
        (instances::suspend_instance::METADATA, Kind::SuspendInstance),
        (instances::reactivate_instance::METADATA, Kind::ReactivateInstance),
        (instances::set_mfa::METADATA, Kind::SetMfa),
        (instances::authenticate_instance::METADATA, Kind::AuthenticateInstance),
        (instances::authenticate_all_instances::METADATA, Kind::AuthenticateAllInstances),
        (users::create_user::METADATA, Kind::CreateUser),
        (users::list_users::METADATA, Kind::ListUsers),
        (users::get_user::METADATA, Kind::GetUser),
        (users::disable_user::METADATA, Kind::DisableUser),
        (webhooks::list_webhooks::METADATA, Kind::ListWebhooks),
        (webhooks::create_webhook::METADATA, Kind::CreateWebhook),
        (webhooks::delete_webhook::METADATA, Kind::DeleteWebhook),
        (scans::list_data_scans::METADATA, Kind::ListDataScans),
        (scans::list_baseline_scans::METADATA, Kind::ListBaselineScans),
        (scans::list_vulnerability_scans::METADATA, Kind::ListVulnerabilityScans),
        (scans::get_vulnerability_scan::METADATA, Kind::GetVulnerabilityScan),
        (dashboards::get_overall_dashboard::METADATA, Kind::OverallDashboard),
        (dashboards::get_data_dashboard::METADATA, Kind::DataDashboard),
        (dashboards::get_baseline_dashboard::METADATA, Kind::BaselineDashboard),
        (dashboards::get_vulnerability_dashboard::METADATA, Kind::VulnerabilityDashboard),
        (dashboards::list_cves::METADATA, Kind::ListCves),
        (assets::list_assets::METADATA, Kind::ListAssets),
        (assets::get_authenticated_asset::METADATA, Kind::AuthenticatedAsset),
        (assets::get_ip_asset::METADATA, Kind::IpAsset),
    ];
    table
        .into_iter()
        .map(|(metadata, kind)| {
            let segments = metadata
                .path
                .split('/')
                .filter(|segment| !segment.is_empty())
                .map(|segment| if segment.starts_with('{') { "{}".to_owned() } else { segment.to_owned() })
                .collect();
            Route { metadata, kind, segments }
        })
        .collect()
}

/// What routing found.
#[derive(Debug)]
pub(crate) enum Routed<'a> {
    /// An endpoint, with its path parameter (if any).
    Found { route: &'a Route, param: Option<String> },
    /// The path exists for other methods.
    MethodNotAllowed { allowed: Vec<Method> },
    /// Nothing here.
    NotFound,
}

/// Finds the endpoint for a request on a host kind. `path` is the raw request path.
pub(crate) fn route<'a>(routes: &'a [Route], host: HostKind, method: &Method, path: &str, query: &Form) -> Routed<'a> {
    let Some(rest) = path.strip_prefix(INSTANCE_PATH_PREFIX).filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return Routed::NotFound;
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let mut allowed = Vec::new();
    for route in routes.iter().filter(|route| route.metadata.host == host) {
        if route.segments.len() != segments.len() {
            continue;
        }
        let mut param = None;
        let matched = route.segments.iter().zip(&segments).all(|(pattern, segment)| {
            if pattern == "{}" {
                param = Some(segment.clone());
                true
            } else {
                pattern == segment
            }
        });
        if !matched {
            continue;
        }
        if route.metadata.method != *method {
            allowed.push(route.metadata.method.clone());
            continue;
        }
        // `GET /partner/instances/info/?instance_id=` is the single lookup [emulator extension].
        if route.kind == Kind::ListInstances
            && let Some(id) = query.optional("instance_id")
            && let Some(get) = routes.iter().find(|route| route.kind == Kind::GetInstance)
        {
            return Routed::Found { route: get, param: Some(id.to_owned()) };
        }
        return Routed::Found { route, param };
    }
    if allowed.is_empty() { Routed::NotFound } else { Routed::MethodNotAllowed { allowed } }
}

/// A request, decoded.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) param: Option<String>,
    pub(crate) query: Form,
    pub(crate) form: Form,
    /// The token of `Authorization: access_token <token>`; `None` when absent or another scheme.
    pub(crate) token: Option<String>,
    /// The first label of an instance host.
    pub(crate) instance_label: Option<String>,
    pub(crate) now: Instant,
}

/// Reads `Authorization: access_token <token>`: the literal, lower-case word, one space, the
/// token \[DOC\]. `Bearer` and every other spelling give `None`, so a client that strays from the
/// contract is caught here rather than by the real service.
pub(crate) fn access_token(value: Option<&http::HeaderValue>) -> Option<String> {
    let token = value?.to_str().ok()?.strip_prefix("access_token ")?;
    (!token.is_empty() && !token.contains(' ')).then(|| token.to_owned())
}

fn json<T: serde::Serialize>(value: &T) -> Result<Bytes, ApiFailure> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|_| {
        ApiFailure::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError, "The answer could not be encoded.")
    })
}

/// Handles a routed request: the JSON body of a `200`, or the contract's error.
pub(crate) fn dispatch(shared: &Arc<Shared>, kind: Kind, call: &Call) -> Result<Bytes, ApiFailure> {
    match kind {
        Kind::Login => login(shared, call),
        Kind::RegenPass => {
            let form = &call.form;
            let api_key = form.raw_any(&["username", "Username"]).unwrap_or_default().trim();
            let secret = form.raw_any(&["password", "Password"]).unwrap_or_default();
            if api_key.is_empty() {
                return Err(ApiFailure::missing("username"));
            }
            if secret.is_empty() {
                return Err(ApiFailure::missing("password"));
            }
            let new_secret = shared.state().regen_pass(api_key, secret)?;
            json(&auth::regen_pass::Response {
                username: Some(api_key.to_owned()),
                password: cyrisma_core::ApiSecret::new(new_secret),
                ..Default::default()
            })
        }
        Kind::ListInstances => {
            let state = shared.state();
            state.check_token(call.token.as_deref(), call.now)?;
            json(&state.list_instances(call.now))
        }
        Kind::GetInstance => {
            let state = shared.state();
            state.check_token(call.token.as_deref(), call.now)?;
            json(&state.get_instance(call.param.as_deref().unwrap_or_default(), call.now)?)
        }
        Kind::CreateInstance => {
            let created = {
                let mut state = shared.state();
                state.check_token(call.token.as_deref(), call.now)?;
                state.create_instance(&call.form, call.now)?
            };
            shared.schedule_provisioning(&created.instance_id);
            json(&created)
        }
        Kind::ConvertInstance => with_token(shared, call, |state| state.convert(&call.form)),
        Kind::SuspendInstance => with_token(shared, call, |state| state.set_suspended(&call.form, true, call.now)),
        Kind::ReactivateInstance => with_token(shared, call, |state| state.set_suspended(&call.form, false, call.now)),
        Kind::SetMfa => with_token(shared, call, |state| state.set_mfa(&call.form)),
        Kind::AuthenticateInstance => {
            let token = call.token.clone().unwrap_or_default();
            let id = call.param.clone().unwrap_or_default();
            json(&shared.state().authenticate_instance(&token, &id, call.now)?)
        }
        Kind::AuthenticateAllInstances => {
            let token = call.token.clone().unwrap_or_default();
            json(&shared.state().authenticate_all(&token, call.now)?)
        }
        Kind::CreateUser => with_token(shared, call, |state| state.create_user(&call.form)),
        Kind::ListUsers => with_token(shared, call, |state| Ok(state.list_users())),
        Kind::GetUser => with_token(shared, call, |state| state.get_user(call.param.as_deref().unwrap_or_default())),
        Kind::DisableUser => with_token(shared, call, |state| state.disable_user(&call.form)),
        Kind::ListWebhooks => with_token(shared, call, |state| {
            Ok(state
                .webhooks()
                .iter()
                .map(|hook| Webhook {
                    webhook_id: hook.id.clone(),
                    url: Some(hook.url.clone()),
                    events: WebhookEvents(hook.events.clone()),
                    secret: None,
                    ..Default::default()
                })
                .collect::<Vec<_>>())
        }),
        Kind::CreateWebhook => {
            let (url, events) = webhook_form(&call.form)?;
            with_token(shared, call, |state| {
                let record = state.create_webhook(url.clone(), events.clone());
                Ok(Webhook {
                    webhook_id: record.id,
                    url: Some(record.url),
                    events: WebhookEvents(record.events),
                    secret: Some(WebhookSecret::new(record.secret)),
                    ..Default::default()
                })
            })
        }
        Kind::DeleteWebhook => with_token(shared, call, |state| {
            let record = state.delete_webhook(call.param.as_deref().unwrap_or_default())?;
            Ok(DeletedWebhook { webhook_id: Some(record.id), deleted: Some(true), ..Default::default() })
        }),
        Kind::ListDataScans => reporting(shared, call, |shared, target| json(&shared.generator.data_scans(&target))),
        Kind::ListBaselineScans => {
            reporting(shared, call, |shared, target| json(&shared.generator.baseline_scans(&target)))
        }
        Kind::ListVulnerabilityScans => {
            reporting(shared, call, |shared, target| json(&shared.generator.vulnerability_scans(&target)))
        }
        Kind::GetVulnerabilityScan => reporting(shared, call, |shared, target| {
            let id = call.param.as_deref().unwrap_or_default();
            let plan = shared
                .generator
                .find_plan(&target, id)
                .ok_or_else(|| ApiFailure::not_found(format!("No scan with id {}", crate::failure::printable(id))))?;
            json(&shared.generator.scan_detail(&target, &plan))
        }),
        Kind::OverallDashboard => {
            reporting(shared, call, |shared, target| json(&shared.generator.overall_dashboard(&target)))
        }
        Kind::DataDashboard => {
            reporting(shared, call, |shared, target| json(&shared.generator.data_dashboard(&target)))
        }
        Kind::BaselineDashboard => {
            reporting(shared, call, |shared, target| json(&shared.generator.baseline_dashboard(&target)))
        }
        Kind::VulnerabilityDashboard => {
            reporting(shared, call, |shared, target| json(&shared.generator.vulnerability_dashboard(&target)))
        }
        Kind::ListCves => reporting(shared, call, |shared, target| {
            json(&shared.generator.cves(&target, call.query.optional("cve_id")))
        }),
        Kind::ListAssets => reporting(shared, call, |shared, target| {
            let raw = call.query.required("assetType")?;
            let external = match AssetType::from_wire(raw) {
                AssetType::Internal => false,
                AssetType::External => true,
                _ => return Err(ApiFailure::invalid("assetType", "assetType must be internal or external")),
            };
            json(&shared.generator.asset_list(&target, external))
        }),
        Kind::AuthenticatedAsset => reporting(shared, call, |shared, target| {
            let id = call.query.required("assetId")?;
            json(&shared.generator.authenticated_asset(&target, id))
        }),
        Kind::IpAsset => reporting(shared, call, |shared, target| {
            let ip = call.query.required("assetIp")?;
            json(&shared.generator.ip_asset(&target, ip))
        }),
    }
}

fn with_token<T: serde::Serialize>(
    shared: &Arc<Shared>,
    call: &Call,
    operation: impl FnOnce(&mut crate::state::State) -> Result<T, ApiFailure>,
) -> Result<Bytes, ApiFailure> {
    let value = {
        let mut state = shared.state();
        state.check_token(call.token.as_deref(), call.now)?;
        operation(&mut state)?
    };
    json(&value)
}

fn reporting(
    shared: &Arc<Shared>,
    call: &Call,
    operation: impl FnOnce(&Shared, ReportingTarget) -> Result<Bytes, ApiFailure>,
) -> Result<Bytes, ApiFailure> {
    let label = call.instance_label.as_deref().unwrap_or_default();
    // The lock is released before the (possibly large) answer is generated.
    let target = shared.state().reporting_access(call.token.as_deref(), label, call.now)?;
    operation(shared, target)
}

fn login(shared: &Arc<Shared>, call: &Call) -> Result<Bytes, ApiFailure> {
    let form = &call.form;
    let grant_type = form
        .raw_any(&["grant_type", "GrantType"])
        .map(str::trim)
        .filter(|grant| !grant.is_empty())
        .ok_or_else(|| ApiFailure::missing("grant_type"))?;
    let grant = if grant_type.eq_ignore_ascii_case("password") {
        let api_key = form.raw_any(&["username", "Username"]).unwrap_or_default().trim();
        let secret = form.raw_any(&["password", "Password"]).unwrap_or_default();
        if api_key.is_empty() {
            return Err(ApiFailure::missing("username"));
        }
        if secret.is_empty() {
            return Err(ApiFailure::missing("password"));
        }
        shared.state().login_password(api_key, secret, call.now)?
    } else if grant_type.eq_ignore_ascii_case(cyrisma_core::assumed::REFRESH_GRANT_TYPE) {
        let refresh = form
            .raw_any(&[cyrisma_core::assumed::REFRESH_TOKEN_FIELD, "RefreshToken"])
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiFailure::missing(cyrisma_core::assumed::REFRESH_TOKEN_FIELD))?;
        shared.state().login_refresh(refresh, call.now)?
    } else {
        return Err(ApiFailure::invalid("grant_type", "grant_type must be password or refresh_token"));
    };
    json(&auth::login::Response {
        access_token: AccessToken::new(grant.access_token),
        token_type: Some("access".to_owned()),
        expires_in: Some(grant.expires_in),
        refresh_token: Some(RefreshToken::new(grant.refresh_token)),
        client_id: Some(String::new()),
        ..Default::default()
    })
}

/// Reads and checks the create-webhook form: a loopback `http://` URL and known event types.
fn webhook_form(form: &Form) -> Result<(String, Vec<WebhookEventType>), ApiFailure> {
    let url = form.required("url")?;
    let events_text = form.required("events")?;
    let uri: http::Uri = url.parse().map_err(|_| ApiFailure::invalid("url", "url must be an absolute url"))?;
    if !uri.scheme_str().is_some_and(|scheme| scheme.eq_ignore_ascii_case("http")) {
        return Err(ApiFailure::invalid(
            "url",
            "the emulator delivers webhooks over plain http to loopback receivers only (http://127.0.0.1:PORT/...)",
        ));
    }
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback());
    if !loopback {
        return Err(ApiFailure::invalid("url", "webhook urls must point to a loopback address in the emulator"));
    }
    let mut events = Vec::new();
    for name in events_text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let event = WebhookEventType::from_wire(name);
        if event.is_unknown() {
            return Err(ApiFailure::invalid(
                "events",
                format!("unknown event type {}", crate::failure::printable(name)),
            ));
        }
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(ApiFailure::missing("events"));
    }
    Ok((url.to_owned(), events))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_core_paths_with_and_without_slashes() {
        let routes = routes();
        let empty = Form::default();
        let name = |host, method: &Method, path: &str, query: &Form| match route(&routes, host, method, path, query) {
            Routed::Found { route, param } => format!("{} {:?}", route.metadata.name, param),
            other => format!("{other:?}"),
        };
        assert_eq!(name(HostKind::Central, &Method::POST, "/app/partner/login/", &empty), "auth.login None");
        assert_eq!(name(HostKind::Central, &Method::POST, "/app/partner/login", &empty), "auth.login None");
        assert_eq!(
            name(HostKind::Central, &Method::GET, "/app/partner/instances/info/cc1", &empty),
            "instances.get_instance Some(\"cc1\")"
        );
        let query = Form::parse(b"instance_id=cc2");
        assert_eq!(
            name(HostKind::Central, &Method::GET, "/app/partner/instances/info/", &query),
            "instances.get_instance Some(\"cc2\")"
        );
        assert_eq!(
            name(HostKind::Central, &Method::GET, "/app/partner/users/info/a%40b.example", &empty),
            "users.get_user Some(\"a@b.example\")"
        );
        assert_eq!(
            name(HostKind::Instance, &Method::GET, "/app/partner/dashboards/vulnerability/cve", &empty),
            "dashboards.list_cves None"
        );
        assert!(matches!(
            route(&routes, HostKind::Central, &Method::GET, "/app/partner/login/", &empty),
            Routed::MethodNotAllowed { .. }
        ));
        assert!(matches!(
            route(&routes, HostKind::Central, &Method::GET, "/app/partner/scans/data", &empty),
            Routed::NotFound
        ));
        assert!(matches!(
            route(&routes, HostKind::Central, &Method::POST, "/partner/login/", &empty),
            Routed::NotFound
        ));
        assert!(matches!(
            route(&routes, HostKind::Central, &Method::POST, "/application/partner/login/", &empty),
            Routed::NotFound
        ));
    }

    #[test]
    fn every_core_endpoint_is_served() {
        let routes = routes();
        assert_eq!(routes.len(), cyrisma_core::api::ENDPOINTS.len());
        for metadata in cyrisma_core::api::ENDPOINTS {
            let route = routes.iter().find(|route| route.metadata.name == metadata.name).expect(metadata.name);
            assert_eq!(
                (&route.metadata.method, route.metadata.path, route.metadata.host),
                (&metadata.method, metadata.path, metadata.host)
            );
            // The core's own router agrees with ours on the path.
            let sample = metadata
                .path
                .replace("{instanceId}", "cc1")
                .replace("{userRef}", "u1")
                .replace("{scanId}", "1")
                .replace("{webhookId}", "w1");
            let ours = route_name(&routes, metadata.host, &metadata.method, &format!("/app{sample}"));
            let theirs = cyrisma_core::api::route(&metadata.method, &sample).map(|matched| matched.metadata.name).ok();
            assert_eq!(ours, theirs, "{sample}");
        }
    }

    fn route_name(routes: &[Route], host: HostKind, method: &Method, path: &str) -> Option<&'static str> {
        match route(routes, host, method, path, &Form::default()) {
            Routed::Found { route, .. } => Some(route.metadata.name),
            _ => None,
        }
    }

    #[test]
    fn only_the_access_token_scheme_is_read() {
        let header = |text: &str| http::HeaderValue::from_str(text).unwrap();
        assert_eq!(access_token(Some(&header("access_token abc123"))), Some("abc123".to_owned()));
        assert_eq!(access_token(Some(&header("Bearer abc123"))), None);
        assert_eq!(access_token(Some(&header("access_token "))), None);
        assert_eq!(access_token(Some(&header("Access_Token abc123"))), None);
        assert_eq!(access_token(Some(&header("access_token  abc123"))), None);
        assert_eq!(access_token(None), None);
    }
}
