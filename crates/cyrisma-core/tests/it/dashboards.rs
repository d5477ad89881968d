//! Requests and responses of the `dashboards` endpoints.

use cyrisma_core::api::dashboards::{
    get_baseline_dashboard, get_data_dashboard, get_overall_dashboard, get_vulnerability_dashboard, list_cves,
};
use cyrisma_core::endpoint::{AuthKind, Endpoint, HostKind};
use cyrisma_core::types::{Grade, GradingPeriod, OverallDashboard, RiskLevel};

use crate::check_request;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn list_cves_one_cve_request() {
    check_request!("list_cves_one_cve_request", list_cves::Request::new().with_cve_id(" CVE-2021-44228 "));
}

#[test]
fn list_cves_leaves_out_an_empty_filter() {
    let rendered = crate::render_request(&list_cves::Request::new().with_cve_id("  "));
    assert!(rendered.contains("/partner/dashboards/vulnerability/cve\n"), "{rendered}");
}

#[test]
fn dashboard_endpoints_are_instance_reads() {
    let all = [
        get_overall_dashboard::METADATA,
        get_data_dashboard::METADATA,
        get_baseline_dashboard::METADATA,
        get_vulnerability_dashboard::METADATA,
        list_cves::METADATA,
    ];
    for metadata in all {
        assert_eq!(metadata.method, http::Method::GET, "{}", metadata.name);
        assert_eq!(metadata.host, HostKind::Instance, "{}", metadata.name);
        assert_eq!(metadata.auth, AuthKind::AccessToken, "{}", metadata.name);
        assert!(metadata.idempotent, "{}", metadata.name);
    }
}

#[test]
fn overall_dashboard_areas() {
    let dashboard: OverallDashboard = <get_overall_dashboard::Request as Endpoint>::parse_success(&fixture(
        "dashboards/get_overall_dashboard/200-start-of-period.json",
    ))
    .unwrap();
    let rows: Vec<_> =
        dashboard.areas().iter().map(|area| (area.key, area.name, area.current, area.previous)).collect();
    assert_eq!(
        rows,
        [
            ("or", "Overall risk", None, Some(&Grade::B)),
            ("ds", "Data", None, None),
            ("vn", "Vulnerability", None, Some(&Grade::BPlus)),
            ("sb", "Secure baseline", None, None),
            ("cp", "Compliance", None, None),
        ]
    );
    let keys: Vec<_> = dashboard.areas().iter().map(|area| area.key).collect();
    assert_eq!(keys, cyrisma_core::assumed::DASHBOARD_AREAS);
    assert_eq!(dashboard.area(" VN ").and_then(|area| area.previous), Some(&Grade::BPlus));
    assert!(dashboard.area("ir").is_none());
    assert_eq!(dashboard.grading_period, Some(GradingPeriod::Quarterly));
}

#[test]
fn cves_can_be_found_by_id() {
    let body = fixture("dashboards/list_cves/200-assumed.json");
    let cves = <list_cves::Request as Endpoint>::parse_success(&body).unwrap();
    let log4shell = cves.find("cve-2021-44228").unwrap();
    assert_eq!(log4shell.score, Some(10.0));
    assert_eq!(log4shell.risk_level, Some(RiskLevel::Critical));
    assert!(cves.find("CVE-2099-0001").is_none());
}
