//! Round trips of every model keep unknown fields (proptest).
//!
//! Two properties, for every model: (1) unknown fields added at random to a valid document are
//! kept in `extra` and written back by `Serialize`; (2) after one parse, serializing and parsing
//! again gives an equal value (nothing the model holds is lost or changed by a round trip).

use cyrisma_core::api::auth::{login, regen_pass};
use cyrisma_core::types::{
    Asset, BaselineDashboard, BaselineScan, BaselineScans, BaselineTarget, ConvertedInstance, CreatedInstance, Cve,
    Cves, DataDashboard, DataScan, DataScans, DeletedWebhook, ErrorBody, Flaw, FlawInstance, Instance, InstanceLogin,
    InstanceStatusChange, MfaChange, OpenPort, OverallDashboard, ScanDetail, User, Vulnerability,
    VulnerabilityDashboard, VulnerabilityScan, VulnerabilityScans, Webhook, WebhookEvent,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::String),
        "\\PC{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Unknown fields: keys that no model knows (the `zz_` prefix matches no wire name).
fn extras() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("zz_[a-zA-Z0-9_]{1,10}", json_value(), 0..6).prop_map(|map| map.into_iter().collect())
}

/// Property (1) and (2) for one model, starting from its `Default` document.
fn check_model<M>(extra: &Map<String, Value>) -> Result<(), TestCaseError>
where
    M: Default + DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let Value::Object(mut document) = serde_json::to_value(M::default()).unwrap() else {
        return Err(TestCaseError::fail("a model must serialize to an object"));
    };
    document.extend(extra.clone());
    let parsed: M =
        serde_json::from_value(Value::Object(document)).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let written = serde_json::to_value(&parsed).unwrap();
    for (key, value) in extra {
        prop_assert_eq!(written.get(key), Some(value), "unknown field `{}` lost", key);
    }
    let again: M = serde_json::from_value(written).unwrap();
    prop_assert_eq!(again, parsed);
    Ok(())
}

macro_rules! roundtrip_models {
    ($($name:ident: $model:ty),* $(,)?) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $name(extra in extras()) {
                    check_model::<$model>(&extra)?;
                }
            )*
        }
    };
}

roundtrip_models! {
    instance_keeps_unknown_fields: Instance,
    user_keeps_unknown_fields: User,
    created_instance_keeps_unknown_fields: CreatedInstance,
    converted_instance_keeps_unknown_fields: ConvertedInstance,
    status_change_keeps_unknown_fields: InstanceStatusChange,
    mfa_change_keeps_unknown_fields: MfaChange,
    instance_login_keeps_unknown_fields: InstanceLogin,
    error_body_keeps_unknown_fields: ErrorBody,
    login_response_keeps_unknown_fields: login::Response,
    regen_pass_response_keeps_unknown_fields: regen_pass::Response,
    vulnerability_scan_keeps_unknown_fields: VulnerabilityScan,
    vulnerability_scans_keeps_unknown_fields: VulnerabilityScans,
    scan_detail_keeps_unknown_fields: ScanDetail,
    asset_keeps_unknown_fields: Asset,
    vulnerability_keeps_unknown_fields: Vulnerability,
    open_port_keeps_unknown_fields: OpenPort,
    flaw_keeps_unknown_fields: Flaw,
    flaw_instance_keeps_unknown_fields: FlawInstance,
    data_scan_keeps_unknown_fields: DataScan,
    data_scans_keeps_unknown_fields: DataScans,
    baseline_scan_keeps_unknown_fields: BaselineScan,
    baseline_scans_keeps_unknown_fields: BaselineScans,
    baseline_target_keeps_unknown_fields: BaselineTarget,
    overall_dashboard_keeps_unknown_fields: OverallDashboard,
    data_dashboard_keeps_unknown_fields: DataDashboard,
    baseline_dashboard_keeps_unknown_fields: BaselineDashboard,
    vulnerability_dashboard_keeps_unknown_fields: VulnerabilityDashboard,
    cve_keeps_unknown_fields: Cve,
    cves_keeps_unknown_fields: Cves,
    webhook_keeps_unknown_fields: Webhook,
    webhook_event_keeps_unknown_fields: WebhookEvent,
    deleted_webhook_keeps_unknown_fields: DeletedWebhook,
}

// Unknown fields deep inside a scan detail (asset, vulnerability, port, flaw, flaw instance)
// survive a round trip too.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn nested_unknown_fields_survive(extra in extras()) {
        let object = |extra: &Map<String, Value>, mut base: Map<String, Value>| { base.extend(extra.clone()); Value::Object(base) };
        let instance = object(&extra, Map::new());
        let flaw = object(&extra, [("instances".to_owned(), Value::Array(vec![instance]))].into_iter().collect());
        let vulnerability = object(&extra, [("cve".to_owned(), Value::from("CVE-2024-0001"))].into_iter().collect());
        let port = object(&extra, [("portNumber".to_owned(), Value::from("443"))].into_iter().collect());
        let asset = object(&extra, [
            ("vulnerabilities".to_owned(), Value::Array(vec![vulnerability])),
            ("openPorts".to_owned(), Value::Array(vec![port])),
            ("flaws".to_owned(), Value::Array(vec![flaw])),
        ].into_iter().collect());
        let document = object(&extra, [("assets".to_owned(), Value::Array(vec![asset]))].into_iter().collect());
        let parsed: ScanDetail = serde_json::from_value(document.clone()).unwrap();
        let written = serde_json::to_value(&parsed).unwrap();
        let asset = &written["assets"][0];
        for (key, value) in &extra {
            prop_assert_eq!(written.get(key), Some(value));
            prop_assert_eq!(asset.get(key), Some(value));
            prop_assert_eq!(asset["vulnerabilities"][0].get(key), Some(value));
            prop_assert_eq!(asset["openPorts"][0].get(key), Some(value));
            prop_assert_eq!(asset["flaws"][0].get(key), Some(value));
            prop_assert_eq!(asset["flaws"][0]["instances"][0].get(key), Some(value));
        }
    }
}

/// Every success fixture, once parsed, survives a serialize-and-parse round trip unchanged.
#[test]
fn parsed_fixtures_round_trip_unchanged() {
    use cyrisma_core::endpoint::Endpoint;

    fn check<E>(resource_endpoint: &str)
    where
        E: Endpoint,
        E::Response: Serialize + PartialEq + std::fmt::Debug,
    {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(resource_endpoint);
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with('2') {
                continue;
            }
            let Ok(parsed) = E::parse_success(&std::fs::read(&path).unwrap()) else { continue };
            let written = serde_json::to_vec(&parsed).unwrap();
            let again = E::parse_success(&written).unwrap_or_else(|error| panic!("{name}: {error:?}"));
            assert_eq!(again, parsed, "{resource_endpoint}/{name}");
            checked += 1;
        }
        assert!(checked > 0, "no success fixture parsed in {resource_endpoint}");
    }

    macro_rules! check_every_endpoint {
        ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
            $(check::<cyrisma_core::api::$resource::$endpoint::Request>(concat!(
                stringify!($resource),
                "/",
                stringify!($endpoint)
            ));)*
        };
    }
    cyrisma_core::for_each_endpoint!(check_every_endpoint);
}

/// The endpoint list names every endpoint file of `src/api/` and every fixture folder, and
/// nothing else: an endpoint cannot be added without joining the list every consumer reads.
#[test]
fn every_endpoint_file_and_fixture_folder_is_in_the_endpoint_list() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut listed: Vec<String> =
        cyrisma_core::api::ENDPOINTS.iter().map(|metadata| metadata.name.replace('.', "/")).collect();
    listed.sort();
    for (dir, extension) in [("src/api", ".rs"), ("tests/fixtures", "")] {
        let mut found = Vec::new();
        for resource in std::fs::read_dir(root.join(dir)).unwrap() {
            let resource = resource.unwrap();
            if !resource.file_type().unwrap().is_dir() {
                continue;
            }
            for endpoint in std::fs::read_dir(resource.path()).unwrap() {
                let name = endpoint.unwrap().file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(extension) {
                    found.push(format!("{}/{stem}", resource.file_name().to_string_lossy()));
                }
            }
        }
        found.sort();
        assert_eq!(found, listed, "{dir} and `cyrisma_core::for_each_endpoint!` disagree");
    }
}
