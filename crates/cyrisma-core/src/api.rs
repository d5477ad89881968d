//! Every endpoint of the contract, one module per resource and one file per endpoint.
//!
//! Each endpoint file holds a `//!` header with the method and path, a `metadata!` block, a
//! `Request` with a `new(required…)` constructor, and its `Endpoint` impl. Response models shared
//! by several endpoints live in [`crate::types`].
//!
//! [`for_each_endpoint!`](crate::for_each_endpoint) lists every endpoint once and declares the
//! modules; [`ENDPOINTS`], [`EndpointId`] and the router [`route`] derive from it.

use std::fmt;

use crate::base_url::HostKind;
use crate::endpoint::Metadata;

/// Calls the macro `$callback` once with every endpoint of the contract: the one list that the
/// modules of [`crate::api`], [`ENDPOINTS`], [`EndpointId`], the router, the emulator's handlers,
/// the CLI's `api` dispatch, the fuzz harness and the core's request and response tests derive
/// from.
///
/// The list is grouped by resource (in contract order within each resource); it declares the
/// resource modules and their endpoint files (`src/api/<resource>/<endpoint>.rs`), so an
/// endpoint is its file plus one line here. `$callback` receives one entry per endpoint,
/// `(resource, endpoint, Id)`: the module path below [`crate::api`] (`$resource::$endpoint::Request`,
/// `::Response`, `::METADATA`, `::example()`) and the [`EndpointId`] variant. Every consumer then
/// either picks a new endpoint up or fails to compile (a handler missing) or fails a test. A test
/// compares this list with the endpoint files of `src/api/<resource>/`, so neither can be
/// forgotten.
///
/// ```
/// macro_rules! names {
///     ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
///         [$(concat!(stringify!($resource), ".", stringify!($endpoint))),*]
///     };
/// }
/// let names = cyrisma_core::for_each_endpoint!(names);
/// assert_eq!(names.len(), cyrisma_core::api::ENDPOINTS.len());
/// assert_eq!(names[1], "auth.login");
/// ```
#[macro_export]
macro_rules! for_each_endpoint {
    ($callback:ident) => {
        $crate::for_each_endpoint! { @grouped [$crate::__flatten_endpoints] $callback }
    };
    (@grouped [$($declare:tt)*] $($extra:tt)*) => {
        $($declare)*! {
            [$($extra)*]
            /// Endpoints for partner credentials: logging in and rotating the API secret (central host).
            auth {
                regen_pass: RegenPass,
                login: Login,
            }
            /// Endpoints for organizations and instances: structure, provisioning, MFA and instance
            /// authentication (central host).
            instances {
                authenticate_instance: AuthenticateInstance,
                authenticate_all_instances: AuthenticateAllInstances,
                list_instances: ListInstances,
                get_instance: GetInstance,
                create_instance: CreateInstance,
                convert_instance: ConvertInstance,
                suspend_instance: SuspendInstance,
                reactivate_instance: ReactivateInstance,
                set_mfa: SetMfa,
            }
            /// Endpoints for users under organizations (central host).
            users {
                create_user: CreateUser,
                list_users: ListUsers,
                get_user: GetUser,
                disable_user: DisableUser,
            }
            /// Endpoints for scan summaries and the vulnerability scan detail (instance hosts).
            scans {
                list_data_scans: ListDataScans,
                list_baseline_scans: ListBaselineScans,
                list_vulnerability_scans: ListVulnerabilityScans,
                get_vulnerability_scan: GetVulnerabilityScan,
            }
            /// Endpoints for risk dashboards and CVE details (instance hosts).
            dashboards {
                get_overall_dashboard: GetOverallDashboard,
                get_data_dashboard: GetDataDashboard,
                get_baseline_dashboard: GetBaselineDashboard,
                get_vulnerability_dashboard: GetVulnerabilityDashboard,
                list_cves: ListCves,
            }
            /// Endpoints for vulnerability assets (instance hosts) \[OBS\].
            assets {
                list_assets: ListAssets,
                get_authenticated_asset: GetAuthenticatedAsset,
                get_ip_asset: GetIpAsset,
            }
            /// Endpoints for webhook registrations (central host). PROVISIONAL: CYRISMA promises
            /// webhooks but publishes no wire format; this follows the project's provisional contract.
            webhooks {
                list_webhooks: ListWebhooks,
                create_webhook: CreateWebhook,
                delete_webhook: DeleteWebhook,
            }
        }
    };
}

/// Turns the grouped list of [`for_each_endpoint!`](crate::for_each_endpoint) into the flat
/// `(resource, endpoint, Id)` entries its callback receives. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __flatten_endpoints {
    (
        [$callback:ident]
        $($(#[$doc:meta])* $resource:ident { $($endpoint:ident: $id:ident),* $(,)? })*
    ) => {
        $callback! { $($(($resource, $endpoint, $id),)*)* }
    };
}

/// Declares `pub mod <resource> { pub mod <endpoint>; }` for every resource of the list, the
/// endpoint modules coming from `src/api/<resource>/<endpoint>.rs`.
macro_rules! declare_modules {
    (
        []
        $($(#[$doc:meta])* $resource:ident { $($endpoint:ident: $id:ident),* $(,)? })*
    ) => {
        $(
            $(#[$doc])*
            pub mod $resource {
                $(pub mod $endpoint;)*
            }
        )*
    };
}

for_each_endpoint!(@grouped [declare_modules]);

macro_rules! declare_endpoints {
    ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
        /// The metadata of every endpoint of the contract, in the order of the list (grouped by
        /// resource, from
        /// [`for_each_endpoint!`](crate::for_each_endpoint)).
        ///
        /// Servers (the emulator) route with it, and tests check that every endpoint is covered.
        pub const ENDPOINTS: &[Metadata] = &[$($resource::$endpoint::METADATA),*];

        /// Names one endpoint of the contract; [`route`] answers with it, so a server can `match`
        /// on the endpoint instead of comparing names. The variants follow [`ENDPOINTS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EndpointId {
            $(
                #[doc = concat!("`", stringify!($resource), "::", stringify!($endpoint), "`.")]
                $id,
            )*
        }

        impl EndpointId {
            /// Every endpoint, in the order of [`ENDPOINTS`].
            pub const ALL: &'static [EndpointId] = &[$(EndpointId::$id),*];
        }
    };
}

for_each_endpoint!(declare_endpoints);

impl EndpointId {
    /// The endpoint's metadata.
    pub fn metadata(self) -> &'static Metadata {
        &ENDPOINTS[self as usize]
    }

    /// The endpoint's stable name, `<resource>.<endpoint>`.
    pub fn name(self) -> &'static str {
        self.metadata().name
    }

    /// The endpoint with this name (`instances.get_instance`), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|id| id.name() == name)
    }
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An endpoint matched by [`route`], with its decoded path parameters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Matched {
    /// Which endpoint.
    pub id: EndpointId,
    /// The endpoint's metadata.
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
    route_among(None, method, path)
}

/// [`route`] among the endpoints one kind of host serves: a server that answers for both the
/// central host and instance hosts routes each request with the kind of host it was sent to.
pub fn route_on(host: HostKind, method: &http::Method, path: &str) -> Result<Matched, RouteError> {
    route_among(Some(host), method, path)
}

fn route_among(host: Option<HostKind>, method: &http::Method, path: &str) -> Result<Matched, RouteError> {
    let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut allowed = Vec::new();
    for &id in EndpointId::ALL {
        let metadata = id.metadata();
        if host.is_some_and(|host| host != metadata.host) {
            continue;
        }
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
            return Ok(Matched { id, metadata, params });
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
        // The list names exactly the endpoint files of `src/api/<resource>/`: a file that is not
        // listed (or a listed endpoint whose file moved) fails here, whatever the count.
        let mut files = endpoint_files();
        files.sort_unstable();
        assert_eq!(names, files, "`for_each_endpoint!` and the files of src/api/ differ");
        for metadata in ENDPOINTS {
            let path = metadata
                .path
                .replace("{instanceId}", "cc1")
                .replace("{userRef}", "a%40b.example")
                .replace("{scanId}", "s1")
                .replace("{webhookId}", "w1");
            let matched = route(&metadata.method, &path).unwrap();
            assert_eq!(matched.metadata.name, metadata.name, "{path}");
            assert_eq!(matched.id.metadata().name, metadata.name, "{path}");
            let on_host = route_on(metadata.host, &metadata.method, &path).unwrap();
            assert_eq!(on_host.id, matched.id);
            let other = if metadata.host == HostKind::Central { HostKind::Instance } else { HostKind::Central };
            assert!(route_on(other, &metadata.method, &path).is_err(), "{path} on the {other} host");
        }
    }

    /// `<resource>.<endpoint>` for every `src/api/<resource>/<endpoint>.rs`.
    fn endpoint_files() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut found = Vec::new();
        for resource in std::fs::read_dir(&root).unwrap() {
            let resource = resource.unwrap().path();
            if !resource.is_dir() {
                continue;
            }
            let resource_name = resource.file_name().unwrap().to_string_lossy().into_owned();
            for file in std::fs::read_dir(&resource).unwrap() {
                let file = file.unwrap().path();
                if let Some(stem) = file.file_stem().filter(|_| file.extension().is_some_and(|ext| ext == "rs")) {
                    found.push(format!("{resource_name}.{}", stem.to_string_lossy()));
                }
            }
        }
        assert!(!found.is_empty(), "no endpoint files under {}", root.display());
        found
    }

    #[test]
    fn endpoint_ids_follow_the_endpoint_list() {
        assert_eq!(EndpointId::ALL.len(), ENDPOINTS.len());
        for (index, id) in EndpointId::ALL.iter().enumerate() {
            assert_eq!(id.name(), ENDPOINTS[index].name);
            assert_eq!(EndpointId::from_name(id.name()), Some(*id));
            assert_eq!(id.to_string(), id.name());
        }
        assert_eq!(EndpointId::from_name("auth.nothing"), None);
        assert_eq!(EndpointId::Login.name(), "auth.login");
        assert_eq!(EndpointId::GetUser.metadata().path, "/partner/users/info/{userRef}");
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
