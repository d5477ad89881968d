//! Every reporting endpoint on instance hosts: scans of all four types, details, dashboards,
//! CVEs and assets, parsed by the core, consistent with one another and deterministic.

use std::collections::BTreeSet;

use cyrisma_core::Endpoint;
use cyrisma_core::api::{assets, dashboards, instances, scans};
use cyrisma_core::types::{AssetType, RiskLevel, ScanType};
use http::Method;

use crate::support::{Harness, api_error, json, small};

#[tokio::test]
async fn vulnerability_scans_cover_all_four_types_and_match_their_details() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let summary = h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    let types: BTreeSet<String> =
        summary.vulnerability_scans.iter().map(|scan| scan.scan_type.as_ref().unwrap().to_string()).collect();
    assert_eq!(types, ["10", "11", "5", "9"].iter().map(|code| code.to_string()).collect());
    for scan in &summary.vulnerability_scans {
        assert!(scan.scan_started.as_deref().unwrap() < scan.scan_finished.as_deref().unwrap());
        assert_eq!(scan.scan_finished.as_deref().unwrap().len(), 19, "YYYY-MM-DD HH:MM:SS");
        assert!(scan.grade_alpha.is_some());
        let detail = h.on(&id, &scans::get_vulnerability_scan::Request::new(&scan.scan_id), &token).await.unwrap();
        assert_eq!(detail.assets.len(), 6);
        let mut counts = [0u64; 4];
        let mut tally = |risk: &RiskLevel| match risk {
            RiskLevel::Critical => counts[0] += 1,
            RiskLevel::High => counts[1] += 1,
            RiskLevel::Medium => counts[2] += 1,
            RiskLevel::Low => counts[3] += 1,
            _ => {}
        };
        if scan.scan_type == Some(ScanType::ExternalWebApplication) {
            for (asset, flaw) in detail.flaws() {
                assert!(asset.ip_address.as_deref().unwrap().starts_with("https://"));
                assert!(flaw.alert_desc.as_deref().unwrap().starts_with("<p>"));
                assert!(!flaw.instances.is_empty() && flaw.alert_count == Some(flaw.instances.len() as u64));
                tally(flaw.risk_level.as_ref().unwrap());
            }
            assert!(detail.vulnerabilities().next().is_none());
        } else {
            assert!(detail.open_ports().next().is_some());
            for (_, vulnerability) in detail.vulnerabilities() {
                let score = vulnerability.score.unwrap();
                let expected = match score {
                    s if s >= 9.0 => RiskLevel::Critical,
                    s if s >= 7.0 => RiskLevel::High,
                    s if s >= 4.0 => RiskLevel::Medium,
                    s if s > 0.0 => RiskLevel::Low,
                    _ => RiskLevel::Info,
                };
                assert_eq!(vulnerability.risk_level.as_ref(), Some(&expected), "risk level consistent with the score");
                if let Some(cve) = &vulnerability.cve {
                    assert!(cve.starts_with("CVE-") && cve.len() >= 13, "{cve}");
                }
                tally(vulnerability.risk_level.as_ref().unwrap());
            }
        }
        assert_eq!(
            [
                scan.critical_vulnerabilities,
                scan.high_vulnerabilities,
                scan.medium_vulnerabilities,
                scan.low_vulnerabilities
            ],
            counts.map(Some),
            "summary counts agree with the detail of {}",
            scan.scan_id
        );
        assert_eq!(scan.total_vulnerabilities(), Some(counts.iter().sum()));
    }
    let unknown = h.on(&id, &scans::get_vulnerability_scan::Request::new("123"), &token).await;
    assert_eq!(api_error(unknown), (404, "not_found".into(), None));
}

#[tokio::test]
async fn data_and_baseline_scans_are_served() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[1].clone();
    let data = h.on(&id, &scans::list_data_scans::Request::new(), &token).await.unwrap();
    assert_eq!(data.data_scans.len(), 2);
    for scan in &data.data_scans {
        assert!(scan.sensitive_files.unwrap() <= scan.files_scanned.unwrap());
        assert!(scan.grade_alpha.is_some() && scan.extra.is_empty());
    }
    let baseline = h.on(&id, &scans::list_baseline_scans::Request::new(), &token).await.unwrap();
    assert_eq!(baseline.baseline_scans.len(), 2);
    for scan in &baseline.baseline_scans {
        assert!(scan.benchmark.as_deref().unwrap().starts_with("CIS "));
        assert!(scan.target_count().unwrap() >= 1 && scan.passed_checks.is_some() && scan.failed_checks.is_some());
    }
}

#[tokio::test]
async fn dashboards_have_current_and_previous_grades_for_all_five_areas() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let overall = h.on(&id, &dashboards::get_overall_dashboard::Request::new(), &token).await.unwrap();
    for area in overall.areas() {
        assert!(area.current.is_some() && area.previous.is_some(), "{area:?}");
    }
    assert!(overall.grading_period.is_some() && overall.extra.is_empty());
    let vulnerability = h.on(&id, &dashboards::get_vulnerability_dashboard::Request::new(), &token).await.unwrap();
    assert_eq!(vulnerability.current_grade, overall.current_vn_grade);
    assert!(vulnerability.critical.is_some() && vulnerability.low.is_some());
    let data = h.on(&id, &dashboards::get_data_dashboard::Request::new(), &token).await.unwrap();
    assert_eq!(data.current_grade, overall.current_ds_grade);
    assert!(data.sensitive_files.is_some());
    let baseline = h.on(&id, &dashboards::get_baseline_dashboard::Request::new(), &token).await.unwrap();
    assert_eq!(baseline.current_grade, overall.current_sb_grade);
    assert!(
        !baseline.targets.is_empty()
            && baseline.targets.iter().all(|target| target.name.is_some() && target.grade.is_some())
    );
}

#[tokio::test]
async fn cve_details_agree_with_the_scans() {
    let h = Harness::start(small().with_size(1, 2, 4, 30)).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let cves = h.on(&id, &dashboards::list_cves::Request::new(), &token).await.unwrap();
    assert!(!cves.cves.is_empty());
    let summary = h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    let mut seen = BTreeSet::new();
    for scan in summary.vulnerability_scans.iter().filter(|scan| !scan.is_web_application()) {
        let detail = h.on(&id, &scans::get_vulnerability_scan::Request::new(&scan.scan_id), &token).await.unwrap();
        seen.extend(detail.vulnerabilities().filter_map(|(_, vulnerability)| vulnerability.cve.clone()));
    }
    for cve in &cves.cves {
        assert!(seen.contains(&cve.cve), "{} comes from a scan", cve.cve);
        let affected = cve.affected_assets.unwrap();
        assert!((1..=90).contains(&affected));
        assert!(cve.score.is_some() && cve.risk_level.is_some() && cve.first_seen.is_some());
    }
    let wanted = cves.cves[0].cve.clone();
    let mut one = dashboards::list_cves::Request::new();
    one.cve_id = Some(wanted.to_lowercase());
    let filtered = h.on(&id, &one, &token).await.unwrap();
    assert_eq!(filtered.cves.len(), 1);
    assert_eq!(filtered.find(&wanted), cves.find(&wanted));
}

#[tokio::test]
async fn asset_endpoints_serve_the_observed_shapes() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let base = h.instance_base(&id);
    let internal = h.on(&id, &assets::list_assets::Request::new(AssetType::Internal), &token).await.unwrap();
    assert_eq!(internal.len(), 6);
    assert!(internal.iter().all(|asset| asset.scan_type.as_deref().unwrap().starts_with("Internal")));
    let raw = h.raw(&assets::list_assets::Request::new(AssetType::External), &base, Some(&token)).await;
    let value = json(&raw);
    assert!(value.is_array() && value[0]["assetIp"].is_string(), "the observed `assetIp` key: {value}");
    let external = assets::list_assets::Request::parse_response(&raw).expect("assets");

    let asset_id = internal[0].asset_id.clone().unwrap();
    let detail = h.on(&id, &assets::get_authenticated_asset::Request::new(&asset_id), &token).await.unwrap();
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0].asset_id.as_deref(), Some(asset_id.as_str()));
    assert!(detail[0].open_ports.iter().all(|port| port.port().is_some() && port.risk_level.is_some()));
    let raw = h.raw(&assets::get_authenticated_asset::Request::new(&asset_id), &base, Some(&token)).await;
    assert!(json(&raw)[0]["openPorts"][0]["portName"].is_string(), "{}", json(&raw));

    let ip = external[0].ip_address.clone().unwrap();
    let raw = h.raw(&assets::get_ip_asset::Request::new(&ip), &base, Some(&token)).await;
    assert!(json(&raw)[0]["OpenPorts"][0]["PortNumber"].is_string(), "the observed PascalCase: {}", json(&raw));
    let detail = h.on(&id, &assets::get_ip_asset::Request::new(&ip), &token).await.unwrap();
    assert_eq!(detail[0].ip_address.as_deref(), Some(ip.as_str()));
    assert!(!detail[0].open_ports.is_empty());

    let none = h.on(&id, &assets::get_ip_asset::Request::new("192.0.2.254"), &token).await.unwrap();
    assert!(none.is_empty(), "an unknown asset is an empty list");
    let auth = format!("access_token {}", token.expose_secret());
    let host = format!("{id}.cyrisma.test");
    let response = h
        .request(
            Method::GET,
            &host,
            "/app/partner/vulnerability/assets?assetType=cloud",
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("assetType")));
    let response =
        h.request(Method::GET, &host, "/app/partner/vulnerability/assets/ip", &[("authorization", &auth)], "").await;
    assert_eq!((response.status().as_u16(), json(&response)["field"].as_str()), (400, Some("assetIp")));
}

#[tokio::test]
async fn reporting_is_served_only_on_instance_hosts() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let auth = format!("access_token {}", token.expose_secret());
    let response = h
        .request(Method::GET, "api.cyrisma.test", "/app/partner/scans/vulnerability", &[("authorization", &auth)], "")
        .await;
    assert_eq!((response.status().as_u16(), json(&response)["error"].as_str()), (404, Some("not_found")));
    let id = h.active_instances()[0].clone();
    let response = h
        .request(
            Method::GET,
            &format!("{id}.cyrisma.test"),
            "/app/partner/instances/info/",
            &[("authorization", &auth)],
            "",
        )
        .await;
    assert_eq!(response.status(), 404);
    // An organization is a host too, with no scans.
    let org = h.organizations()[0].clone();
    let listed = h.on(&org, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    assert!(listed.vulnerability_scans.is_empty());
}

async fn snapshot(seed: u64) -> Vec<String> {
    let h = Harness::start(small().with_seed(seed)).await;
    let token = h.reporting_token().await;
    let mut out = vec![
        String::from_utf8_lossy(h.raw(&instances::list_instances::Request::new(), &h.base, Some(&token)).await.body())
            .into_owned(),
    ];
    for id in h.active_instances().iter().take(2) {
        let base = h.instance_base(id);
        let summary = h.raw(&scans::list_vulnerability_scans::Request::new(), &base, Some(&token)).await;
        out.push(String::from_utf8_lossy(summary.body()).into_owned());
        let detail =
            h.raw(&scans::get_vulnerability_scan::Request::new(format!("{}001", &id[2..])), &base, Some(&token)).await;
        out.push(String::from_utf8_lossy(detail.body()).into_owned());
        out.push(
            String::from_utf8_lossy(
                h.raw(&dashboards::get_overall_dashboard::Request::new(), &base, Some(&token)).await.body(),
            )
            .into_owned(),
        );
    }
    out
}

#[tokio::test]
async fn seeded_data_is_deterministic_for_a_seed() {
    let a = snapshot(5).await;
    assert_eq!(a, snapshot(5).await);
    assert_ne!(a, snapshot(6).await);
    assert!(a[2].contains("\"assets\""), "the detail was found: {}", &a[2][..a[2].len().min(200)]);
}
