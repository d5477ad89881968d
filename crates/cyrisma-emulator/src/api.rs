//! Routing and the handlers of every endpoint of the contract.
//!
//! Requests are routed with the core's own router (`cyrisma_core::api::route_on`), so the
//! emulator serves exactly the paths the core sends to, and dispatched on the core's
//! `EndpointId` to one handler per endpoint (generated from `cyrisma_core::for_each_endpoint!`).
//! Paths are matched below the `/app` prefix, with or without a trailing slash, path parameters
//! percent-decoded.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use cyrisma_core::api::{EndpointId, RouteError, auth};
use cyrisma_core::endpoint::{HostKind, INSTANCE_PATH_PREFIX};
use cyrisma_core::types::{AssetType, DeletedWebhook, ErrorCode, Webhook, WebhookEventType, WebhookEvents};
use cyrisma_core::{AccessToken, RefreshToken, WebhookSecret};
use http::{Method, StatusCode};

use crate::failure::ApiFailure;
use crate::shared::Shared;
use crate::state::{Form, ReportingTarget};

/// What routing found.
#[derive(Debug)]
pub(crate) enum Routed {
    /// An endpoint, with its path parameter (if any).
    Found { id: EndpointId, param: Option<String> },
    /// The path exists for other methods.
    MethodNotAllowed { allowed: Vec<Method> },
    /// Nothing here.
    NotFound,
}

/// Finds the endpoint for a request on a host kind with the core's router. `path` is the raw
/// request path, below the `/app` prefix.
pub(crate) fn route(host: HostKind, method: &Method, path: &str, query: &Form) -> Routed {
    let Some(rest) = path.strip_prefix(INSTANCE_PATH_PREFIX).filter(|rest| rest.is_empty() || rest.starts_with('/'))
    else {
        return Routed::NotFound;
    };
    match cyrisma_core::api::route_on(host, method, rest) {
        Ok(matched) => {
            // `GET /partner/instances/info/?instance_id=` is the single lookup [emulator extension].
            if matched.id == EndpointId::ListInstances
                && let Some(id) = query.optional("instance_id")
            {
                return Routed::Found { id: EndpointId::GetInstance, param: Some(id.to_owned()) };
            }
            Routed::Found { id: matched.id, param: matched.params.into_iter().next().map(|(_, value)| value) }
        }
        Err(RouteError::MethodNotAllowed { allowed }) => Routed::MethodNotAllowed { allowed },
        Err(_) => Routed::NotFound,
    }
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

macro_rules! dispatch_every_endpoint {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        /// Handles a routed request: the JSON body of a `200`, or the contract's error. Every
        /// endpoint of `cyrisma_core::for_each_endpoint!` goes to the handler of its name in
        /// [`handlers`], so an endpoint without a handler does not compile.
        pub(crate) fn dispatch(shared: &Arc<Shared>, id: EndpointId, call: &Call) -> Result<Bytes, ApiFailure> {
            match id {
                $(EndpointId::$id => handlers::$endpoint(shared, call),)*
                // `EndpointId` is `#[non_exhaustive]`; the list above covers every variant.
                _ => Err(ApiFailure::new(
                    StatusCode::NOT_IMPLEMENTED,
                    ErrorCode::InternalError,
                    format!("The emulator does not serve {id}."),
                )),
            }
        }
    };
}

cyrisma_core::for_each_endpoint!(dispatch_every_endpoint);

/// One handler per endpoint, named like the endpoint's file in `cyrisma_core::api`.
mod handlers {
    use super::*;

    type Answer = Result<Bytes, ApiFailure>;

    pub(super) fn login(shared: &Arc<Shared>, call: &Call) -> Answer {
        super::login(shared, call)
    }

    pub(super) fn regen_pass(shared: &Arc<Shared>, call: &Call) -> Answer {
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

    pub(super) fn list_instances(shared: &Arc<Shared>, call: &Call) -> Answer {
        let state = shared.state();
        state.check_token(call.token.as_deref(), call.now)?;
        json(&state.list_instances(call.now))
    }

    pub(super) fn get_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        let state = shared.state();
        state.check_token(call.token.as_deref(), call.now)?;
        json(&state.get_instance(call.param.as_deref().unwrap_or_default(), call.now)?)
    }

    pub(super) fn create_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        let created = {
            let mut state = shared.state();
            state.check_token(call.token.as_deref(), call.now)?;
            state.create_instance(&call.form, call.now)?
        };
        shared.schedule_provisioning(&created.instance_id);
        json(&created)
    }

    pub(super) fn convert_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.convert(&call.form))
    }

    pub(super) fn suspend_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.set_suspended(&call.form, true, call.now))
    }

    pub(super) fn reactivate_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.set_suspended(&call.form, false, call.now))
    }

    pub(super) fn set_mfa(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.set_mfa(&call.form))
    }

    pub(super) fn authenticate_instance(shared: &Arc<Shared>, call: &Call) -> Answer {
        let token = call.token.clone().unwrap_or_default();
        let id = call.param.clone().unwrap_or_default();
        json(&shared.state().authenticate_instance(&token, &id, call.now)?)
    }

    pub(super) fn authenticate_all_instances(shared: &Arc<Shared>, call: &Call) -> Answer {
        let token = call.token.clone().unwrap_or_default();
        json(&shared.state().authenticate_all(&token, call.now)?)
    }

    pub(super) fn create_user(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.create_user(&call.form))
    }

    pub(super) fn list_users(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| Ok(state.list_users()))
    }

    pub(super) fn get_user(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.get_user(call.param.as_deref().unwrap_or_default()))
    }

    pub(super) fn disable_user(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| state.disable_user(&call.form))
    }

    pub(super) fn list_webhooks(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| {
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
        })
    }

    pub(super) fn create_webhook(shared: &Arc<Shared>, call: &Call) -> Answer {
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

    pub(super) fn delete_webhook(shared: &Arc<Shared>, call: &Call) -> Answer {
        with_token(shared, call, |state| {
            let record = state.delete_webhook(call.param.as_deref().unwrap_or_default())?;
            Ok(DeletedWebhook { webhook_id: Some(record.id), deleted: Some(true), ..Default::default() })
        })
    }

    pub(super) fn list_data_scans(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.data_scans(&target)))
    }

    pub(super) fn list_baseline_scans(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.baseline_scans(&target)))
    }

    pub(super) fn list_vulnerability_scans(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.vulnerability_scans(&target)))
    }

    pub(super) fn get_vulnerability_scan(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| {
            let id = call.param.as_deref().unwrap_or_default();
            let plan = shared
                .generator
                .find_plan(&target, id)
                .ok_or_else(|| ApiFailure::not_found(format!("No scan with id {}", crate::failure::printable(id))))?;
            json(&shared.generator.scan_detail(&target, &plan))
        })
    }

    pub(super) fn get_overall_dashboard(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.overall_dashboard(&target)))
    }

    pub(super) fn get_data_dashboard(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.data_dashboard(&target)))
    }

    pub(super) fn get_baseline_dashboard(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.baseline_dashboard(&target)))
    }

    pub(super) fn get_vulnerability_dashboard(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.vulnerability_dashboard(&target)))
    }

    pub(super) fn list_cves(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| json(&shared.generator.cves(&target, call.query.optional("cve_id"))))
    }

    pub(super) fn list_assets(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| {
            let raw = call.query.required("assetType")?;
            let external = match AssetType::from_wire(raw) {
                AssetType::Internal => false,
                AssetType::External => true,
                _ => return Err(ApiFailure::invalid("assetType", "assetType must be internal or external")),
            };
            json(&shared.generator.asset_list(&target, external))
        })
    }

    pub(super) fn get_authenticated_asset(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| {
            let id = call.query.required("assetId")?;
            json(&shared.generator.authenticated_asset(&target, id))
        })
    }

    pub(super) fn get_ip_asset(shared: &Arc<Shared>, call: &Call) -> Answer {
        reporting(shared, call, |shared, target| {
            let ip = call.query.required("assetIp")?;
            json(&shared.generator.ip_asset(&target, ip))
        })
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
        let empty = Form::default();
        let name = |host, method: &Method, path: &str, query: &Form| match route(host, method, path, query) {
            Routed::Found { id, param } => format!("{id} {param:?}"),
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
            route(HostKind::Central, &Method::GET, "/app/partner/login/", &empty),
            Routed::MethodNotAllowed { .. }
        ));
        // A reporting path on the central host is not served there.
        assert!(matches!(route(HostKind::Central, &Method::GET, "/app/partner/scans/data", &empty), Routed::NotFound));
        assert!(matches!(route(HostKind::Central, &Method::POST, "/partner/login/", &empty), Routed::NotFound));
        assert!(matches!(
            route(HostKind::Central, &Method::POST, "/application/partner/login/", &empty),
            Routed::NotFound
        ));
    }

    #[test]
    fn every_core_endpoint_routes_to_itself_on_its_host() {
        for &id in EndpointId::ALL {
            let metadata = id.metadata();
            let sample = metadata
                .path
                .replace("{instanceId}", "cc1")
                .replace("{userRef}", "u1")
                .replace("{scanId}", "1")
                .replace("{webhookId}", "w1");
            let routed = route(metadata.host, &metadata.method, &format!("/app{sample}"), &Form::default());
            assert!(matches!(routed, Routed::Found { id: found, .. } if found == id), "{id}: {routed:?}");
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
