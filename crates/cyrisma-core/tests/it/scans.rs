//! Requests and responses of the `scans` endpoints.

use cyrisma_core::api::scans::{
    get_vulnerability_scan, list_baseline_scans, list_data_scans, list_vulnerability_scans,
};
use cyrisma_core::endpoint::{AuthKind, Endpoint, HostKind};
use cyrisma_core::types::{CountOrList, Grade, RiskLevel, ScanDetail, ScanType};
use cyrisma_core::{BaseUrl, RequestError};

fn central() -> BaseUrl {
    BaseUrl::central("https://api.cyrisma.com/app").unwrap()
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn get_vulnerability_scan_refuses_ids_that_change_the_path() {
    let policy = cyrisma_core::HostPolicy::for_central(&central()).unwrap();
    let base = central().instance(&policy.validate("cc123456.cyrisma.com").unwrap());
    for bad in ["", " ", "a/b", "..", "."] {
        let error = get_vulnerability_scan::Request::new(bad).to_http_request(&base, Some(&"t".into())).unwrap_err();
        assert!(matches!(error, RequestError::InvalidPathParameter { param: "scanId", .. }), "{bad:?}: {error}");
    }
}

#[test]
fn scan_endpoints_are_instance_reads() {
    let all = [
        list_vulnerability_scans::METADATA,
        get_vulnerability_scan::METADATA,
        list_data_scans::METADATA,
        list_baseline_scans::METADATA,
    ];
    for metadata in all {
        assert_eq!(metadata.method, http::Method::GET, "{}", metadata.name);
        assert_eq!(metadata.host, HostKind::Instance, "{}", metadata.name);
        assert_eq!(metadata.auth, AuthKind::AccessToken, "{}", metadata.name);
        assert!(metadata.idempotent, "{}", metadata.name);
    }
}

#[test]
fn scan_endpoints_refuse_the_central_host() {
    let error = list_vulnerability_scans::Request::new().to_http_request(&central(), Some(&"t".into())).unwrap_err();
    assert!(matches!(error, RequestError::WrongHost { endpoint: "scans.list_vulnerability_scans", .. }), "{error}");
}

#[test]
fn vulnerability_scan_helpers() {
    let scans = <list_vulnerability_scans::Request as Endpoint>::parse_success(&fixture(
        "scans/list_vulnerability_scans/200-documented.json",
    ))
    .unwrap();
    let web: Vec<_> = scans.vulnerability_scans.iter().filter(|scan| scan.is_web_application()).collect();
    assert_eq!(web.len(), 1);
    assert_eq!(web[0].scan_type, Some(ScanType::ExternalWebApplication));
    assert_eq!(scans.vulnerability_scans[0].total_vulnerabilities(), Some(56));

    let awkward = <list_vulnerability_scans::Request as Endpoint>::parse_success(&fixture(
        "scans/list_vulnerability_scans/200-awkward.json",
    ))
    .unwrap();
    // No `vulnerabilities` total: the sum of the severity counts that were sent.
    assert_eq!(awkward.vulnerability_scans[0].total_vulnerabilities(), Some(5));
    assert_eq!(awkward.vulnerability_scans[1].grade_alpha, Some(Grade::BPlus));
    assert_eq!(awkward.vulnerability_scans[2].total_vulnerabilities(), None);
}

#[test]
fn scan_detail_helpers() {
    let detail: ScanDetail = <get_vulnerability_scan::Request as Endpoint>::parse_success(&fixture(
        "scans/get_vulnerability_scan/200-internal-authenticated.json",
    ))
    .unwrap();
    let critical: Vec<_> = detail
        .vulnerabilities()
        .filter(|(_, vulnerability)| vulnerability.risk_level == Some(RiskLevel::Critical))
        .map(|(asset, vulnerability)| (asset.identifier().unwrap(), vulnerability.cve.as_deref().unwrap()))
        .collect();
    assert_eq!(critical, [("A-7731", "CVE-2019-0708"), ("A-7732", "CVE-2021-44228")]);
    let ports: Vec<_> = detail.open_ports().filter_map(|(_, port)| port.port()).collect();
    assert_eq!(ports, [135, 445, 3389, 22, 8080]);
    assert_eq!(detail.flaws().count(), 0);
    assert_eq!(detail.assets[1].vulnerabilities[0].affected_url_count(), Some(1));
}

#[test]
fn reserializing_a_scan_detail_keeps_unknown_nested_fields() {
    let body = fixture("scans/get_vulnerability_scan/200-awkward.json");
    let detail = <get_vulnerability_scan::Request as Endpoint>::parse_success(&body).unwrap();
    let json = serde_json::to_value(&detail).unwrap();
    // Top level, asset, vulnerability, open port, flaw and flaw instance.
    assert_eq!(json["scan"]["status"], "finished");
    assert_eq!(json["assets"][0]["os"]["build"], "20348");
    assert_eq!(json["assets"][0]["vulnerabilities"][0]["vendor_advisory"], "CTX579459");
    assert_eq!(json["assets"][0]["openPorts"][0]["banner"], "MSSQL 2019");
    assert_eq!(json["assets"][1]["flaws"][0]["cweid"], "352");
    assert_eq!(json["assets"][1]["flaws"][0]["instances"][0]["confidence"], "Low");
    // Values are written back in the form they were read where the model allows it.
    assert_eq!(json["assets"][0]["vulnerabilities"][0]["affectedUrls"], 3);
    assert_eq!(json["assets"][0]["vulnerabilities"][1]["affectedUrls"][1], "https://10.20.0.30:8443/");
    assert_eq!(json["assets"][0]["vulnerabilities"][2]["riskLevel"], "Severe");
    // And the re-serialized document parses to the same value.
    let again: ScanDetail = serde_json::from_value(json).unwrap();
    assert_eq!(again, detail);
}

#[test]
fn baseline_targets_read_as_count_or_list() {
    let scans = <list_baseline_scans::Request as Endpoint>::parse_success(&fixture(
        "scans/list_baseline_scans/200-targets-as-list.json",
    ))
    .unwrap();
    let targets = scans.baseline_scans[0].targets.as_ref().unwrap();
    assert!(matches!(targets, CountOrList::List(list) if list[0].name.as_deref() == Some("FAB-DC01")));
    assert_eq!(scans.baseline_scans[0].target_count(), Some(1));
}

#[test]
fn an_assets_finding_count_is_what_its_findings_list_yields() {
    let detail: ScanDetail = serde_json::from_value(serde_json::json!({"assets": [
        {"asset_id": "a1", "vulnerabilities": [{"cve": "CVE-2024-1"}, {"cve": "CVE-2024-2"}],
         "open_ports": [{"port": 22, "protocol": "tcp"}], "flaws": [{"alert_ref": "10020"}]},
        {"asset_id": "a2", "open_ports": [{"port": 443, "protocol": "tcp"}]},
        {"asset_id": "a3"}
    ]}))
    .unwrap();
    let counts: Vec<usize> = detail.assets.iter().map(cyrisma_core::export::asset_finding_count).collect();
    assert_eq!(counts, [4, 1, 0]);
    for asset in &detail.assets {
        assert_eq!(
            cyrisma_core::export::asset_findings(asset).count(),
            cyrisma_core::export::asset_finding_count(asset)
        );
    }
}
