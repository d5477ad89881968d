//! The emulator's clock: `POST /__emulator/advance` (and the handle's `advance`/`rescan`) add a
//! period of scans to every active instance, with deterministic churn; a generated past gives N
//! monthly periods from the start. Everything is read back over loopback with the core.

use std::collections::{BTreeMap, BTreeSet};

use cyrisma_core::AccessToken;
use cyrisma_core::api::{dashboards, instances, scans};
use cyrisma_core::types::{Grade, RiskLevel, ScanDetail, VulnerabilityScan};
use http::Method;

use crate::support::{Harness, json, small};

/// A finding's identity: asset id, kind and rule (CVE or title, port, alert reference).
type Identity = (String, &'static str, String);

/// One scan's findings by identity (with score and title), and the assets it covered.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    findings: BTreeMap<Identity, (Option<String>, Option<String>)>,
    assets: BTreeMap<String, (Option<String>, Option<String>)>,
}

fn seen(detail: &ScanDetail) -> Seen {
    let mut seen = Seen::default();
    for asset in &detail.assets {
        let id = asset.asset_id.clone().expect("an asset id");
        seen.assets.insert(id.clone(), (asset.name.clone(), asset.ip_address.clone()));
        for vulnerability in &asset.vulnerabilities {
            let rule = vulnerability.cve.clone().or_else(|| vulnerability.title.clone()).expect("a rule");
            let volatile = (vulnerability.score.map(|score| score.to_string()), vulnerability.title.clone());
            seen.findings.insert((id.clone(), "vulnerability", rule), volatile);
        }
        for port in &asset.open_ports {
            let rule = format!("{}/tcp", port.port_number.as_deref().expect("a port"));
            seen.findings.insert((id.clone(), "open_port", rule), (None, None));
        }
        for flaw in &asset.flaws {
            let rule = flaw.alert_ref.clone().expect("an alert reference");
            seen.findings.insert((id.clone(), "web_flaw", rule), (flaw.alert_id.clone(), None));
        }
    }
    seen
}

fn code(scan: &VulnerabilityScan) -> String {
    scan.scan_type.as_ref().expect("a type").to_string()
}

fn day(finished: Option<&str>) -> String {
    finished.expect("a finish time")[..10].to_owned()
}

async fn vulnerability_scans(h: &Harness, id: &str, token: &AccessToken) -> Vec<VulnerabilityScan> {
    h.on(id, &scans::list_vulnerability_scans::Request::new(), token).await.expect("scans").vulnerability_scans
}

/// The latest scan of each type, with what it saw.
async fn latest(h: &Harness, id: &str, token: &AccessToken) -> BTreeMap<String, (String, Seen)> {
    let mut latest = BTreeMap::new();
    for scan in vulnerability_scans(h, id, token).await {
        latest.insert(code(&scan), scan.scan_id);
    }
    let mut out = BTreeMap::new();
    for (code, scan_id) in latest {
        let detail = h.on(id, &scans::get_vulnerability_scan::Request::new(&scan_id), token).await.expect("detail");
        out.insert(code, (scan_id, seen(&detail)));
    }
    out
}

async fn advance(h: &Harness, body: &str) -> (u16, serde_json::Value) {
    let host = h.emu.central_host().to_owned();
    let response = h.request(Method::POST, &host, "/__emulator/advance", &[], body).await;
    (response.status().as_u16(), json(&response))
}

#[tokio::test]
async fn advance_scans_every_active_instance_on_the_new_day() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let active = h.active_instances();
    let suspended = active[1].clone();
    h.central(&instances::suspend_instance::Request::new(&suspended), Some(&token)).await.expect("suspended");
    let before: BTreeMap<String, usize> = {
        let mut counts = BTreeMap::new();
        for id in &active {
            if *id != suspended {
                counts.insert(id.clone(), vulnerability_scans(&h, id, &token).await.len());
            }
        }
        counts
    };

    let (status, answer) = advance(&h, r#"{"days": 30}"#).await;
    assert_eq!(status, 200, "{answer}");
    // The anchor is 2025-06-16.
    assert_eq!(answer["today"], "2025-07-16");
    assert_eq!(answer["days_advanced"], 30);
    let scanned: BTreeSet<String> =
        answer["instances"].as_array().unwrap().iter().map(|id| id.as_str().unwrap().to_owned()).collect();
    let expected: BTreeSet<String> = before.keys().cloned().collect();
    assert_eq!(scanned, expected, "every active instance, not the suspended one nor organizations");

    for (id, count) in &before {
        let scans = vulnerability_scans(&h, id, &token).await;
        assert_eq!(scans.len(), count + 4);
        let new: Vec<&VulnerabilityScan> =
            scans.iter().filter(|scan| day(scan.scan_finished.as_deref()) == "2025-07-16").collect();
        let types: BTreeSet<String> = new.iter().map(|scan| code(scan)).collect();
        assert_eq!(types, ["10", "11", "5", "9"].map(String::from).into(), "{id}");
        // Oldest first: the new scans come last.
        assert!(scans[scans.len() - 4..].iter().all(|scan| day(scan.scan_finished.as_deref()) == "2025-07-16"));
        for scan in new {
            let detail = h.on(id, &scans::get_vulnerability_scan::Request::new(&scan.scan_id), &token).await.unwrap();
            let graded = |risk: Option<&RiskLevel>| {
                matches!(risk, Some(RiskLevel::Critical | RiskLevel::High | RiskLevel::Medium | RiskLevel::Low))
            };
            let counted = detail.vulnerabilities().filter(|(_, found)| graded(found.risk_level.as_ref())).count()
                + detail.flaws().filter(|(_, flaw)| graded(flaw.risk_level.as_ref())).count();
            assert_eq!(scan.total_vulnerabilities(), Some(counted as u64), "summary agrees with the detail");
        }
        let data = h.on(id, &scans::list_data_scans::Request::new(), &token).await.unwrap().data_scans;
        assert_eq!(day(data.last().unwrap().scan_finished.as_deref()), "2025-07-16");
        let baseline = h.on(id, &scans::list_baseline_scans::Request::new(), &token).await.unwrap().baseline_scans;
        assert_eq!(day(baseline.last().unwrap().scan_finished.as_deref()), "2025-07-16");
    }

    // The suspended instance got nothing, even once it is back.
    h.central(&instances::reactivate_instance::Request::new(&suspended), Some(&token)).await.expect("back");
    h.central(&instances::authenticate_instance::Request::new(&suspended), Some(&token)).await.expect("authenticated");
    let scans = vulnerability_scans(&h, &suspended, &token).await;
    assert!(scans.iter().all(|scan| day(scan.scan_finished.as_deref()).as_str() < "2025-07-16"));
    // The next advance includes it again.
    let advanced = h.emu.advance(7).expect("advanced");
    assert_eq!((advanced.period, advanced.days_advanced, advanced.today.as_str()), (2, 37, "2025-07-23"));
    assert!(advanced.instances.contains(&suspended));

    for bad in
        [r#"{"days": 0}"#, r#"{"days": 100000}"#, r#"{"days": -1}"#, "{}", "not json", r#"{"days": 3, "churn": "no"}"#]
    {
        let (status, answer) = advance(&h, bad).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|message| message.contains("days") || message.contains("churn"))
        );
    }
    assert!(h.emu.advance(0).is_err());
}

/// What every active instance's latest scans saw after each of `periods` advances of 30 days.
async fn run_periods(periods: usize) -> Vec<BTreeMap<(String, String), (String, Seen)>> {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let mut out = Vec::new();
    let mut row = BTreeMap::new();
    for id in h.active_instances() {
        for (code, scan) in latest(&h, &id, &token).await {
            row.insert((id.clone(), code), scan);
        }
    }
    out.push(row);
    for period in 0..periods {
        // Both ways in: the admin route and the handle.
        if period % 2 == 0 {
            assert_eq!(advance(&h, r#"{"days": 30, "churn": true}"#).await.0, 200);
        } else {
            h.emu.advance(30).expect("advanced");
        }
        let mut row = BTreeMap::new();
        for id in h.active_instances() {
            for (code, scan) in latest(&h, &id, &token).await {
                row.insert((id.clone(), code), scan);
            }
        }
        out.push(row);
    }
    h.emu.shutdown().await;
    out
}

#[tokio::test]
async fn churn_is_deterministic_with_fixed_new_reopened_findings_and_gaps() {
    let first = run_periods(5).await;
    let second = run_periods(5).await;
    assert_eq!(first, second, "same seed, same periods, same findings and scan ids");

    let (mut fixed, mut new, mut reopened, mut gaps, mut rescored) = (0, 0, 0, 0, 0);
    let mut identities: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
    for key in first[0].keys() {
        let mut ever: BTreeSet<Identity> = BTreeSet::new();
        for (at, row) in first.iter().enumerate() {
            let (_, now) = &row[key];
            for (asset, identity) in &now.assets {
                // Asset identities (name, IP or URL) never change across periods.
                assert_eq!(identities.entry(asset.clone()).or_insert_with(|| identity.clone()), identity);
            }
            if at > 0 {
                let (_, before) = &first[at - 1][key];
                gaps += before.assets.keys().filter(|asset| !now.assets.contains_key(*asset)).count();
                for (identity, volatile) in &now.findings {
                    if !ever.contains(identity) {
                        new += 1;
                    } else if !before.findings.contains_key(identity) && before.assets.contains_key(&identity.0) {
                        reopened += 1;
                    } else if before.findings.get(identity).is_some_and(|old| old != volatile) {
                        rescored += 1;
                    }
                }
                fixed += before
                    .findings
                    .keys()
                    .filter(|identity| !now.findings.contains_key(*identity) && now.assets.contains_key(&identity.0))
                    .count();
            }
            ever.extend(now.findings.keys().cloned());
        }
    }
    assert!(fixed > 0 && new > 0 && reopened > 0, "fixed {fixed}, new {new}, reopened {reopened}");
    assert!(gaps > 0, "some assets are not scanned in some periods");
    assert!(rescored > 0, "scores, titles or alert ids vary between periods");
    // Each period's scans are new scans, with new ids.
    for key in first[0].keys() {
        let ids: BTreeSet<&String> = first.iter().map(|row| &row[key].0).collect();
        assert_eq!(ids.len(), first.len());
    }
}

#[tokio::test]
async fn a_rescan_keeps_every_identity() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    for round in 0..3 {
        let before = latest(&h, &id, &token).await;
        let answer = if round == 1 {
            let (status, answer) = advance(&h, r#"{"days": 1, "churn": false}"#).await;
            assert_eq!(status, 200, "{answer}");
            answer["period"].as_u64().unwrap() as u32
        } else {
            h.emu.rescan(1).expect("rescanned").period
        };
        assert_eq!(answer, 2 * round + 1, "a rescan, then an advance, per round");
        let after = latest(&h, &id, &token).await;
        for (code, (scan_id, seen)) in &after {
            let (old_id, old) = &before[code];
            assert_ne!(scan_id, old_id, "a new scan of type {code}");
            assert_eq!(seen.assets, old.assets, "the same assets, same identities");
            let identities: BTreeSet<&Identity> = seen.findings.keys().collect();
            assert_eq!(identities, old.findings.keys().collect(), "the same findings in scan type {code}");
        }
        // Then churn again, so the next rescan starts from churned findings.
        h.emu.advance(30).expect("advanced");
    }
}

fn areas(dashboard: &cyrisma_core::types::OverallDashboard) -> Vec<(Option<Grade>, Option<Grade>)> {
    vec![
        (dashboard.current_or_grade.clone(), dashboard.previous_or_grade.clone()),
        (dashboard.current_ds_grade.clone(), dashboard.previous_ds_grade.clone()),
        (dashboard.current_vn_grade.clone(), dashboard.previous_vn_grade.clone()),
        (dashboard.current_sb_grade.clone(), dashboard.previous_sb_grade.clone()),
        (dashboard.current_cp_grade.clone(), dashboard.previous_cp_grade.clone()),
    ]
}

#[tokio::test]
async fn dashboards_move_and_the_previous_grade_is_the_former_current() {
    let h = Harness::start(small().with_size(2, 12, 4, 6)).await;
    let token = h.reporting_token().await;
    let active = h.active_instances();
    let mut before = BTreeMap::new();
    for id in &active {
        before.insert(id.clone(), h.on(id, &dashboards::get_overall_dashboard::Request::new(), &token).await.unwrap());
    }
    // 2025-06-16 + 30 days: July, a new month and a new quarter.
    h.emu.advance(30).expect("advanced");
    let mut moved = 0;
    for id in &active {
        let after = h.on(id, &dashboards::get_overall_dashboard::Request::new(), &token).await.unwrap();
        let (old, new) = (areas(&before[id]), areas(&after));
        for (area, (old, new)) in old.iter().zip(&new).enumerate() {
            assert_eq!(new.1, old.0, "{id} area {area}: the previous grade is the former current one");
            assert!(new.0.is_some());
            moved += usize::from(new.0 != old.0);
        }
        // The vulnerability dashboard counts the new latest scans.
        let vulnerability = h.on(id, &dashboards::get_vulnerability_dashboard::Request::new(), &token).await.unwrap();
        let scans = vulnerability_scans(&h, id, &token).await;
        let newest = &scans[scans.len() - 4..];
        let critical: u64 = newest.iter().map(|scan| scan.critical_vulnerabilities.unwrap()).sum();
        assert_eq!(vulnerability.critical, Some(critical));
    }
    assert!(moved > 0, "some current grades move");
}

/// The (scan id, day) of an instance's data scans and baseline scans.
async fn secondary(h: &Harness, id: &str, token: &AccessToken) -> [Vec<(String, String)>; 2] {
    let data = h.on(id, &scans::list_data_scans::Request::new(), token).await.unwrap().data_scans;
    let baseline = h.on(id, &scans::list_baseline_scans::Request::new(), token).await.unwrap().baseline_scans;
    [
        data.into_iter().map(|scan| (scan.scan_id, day(scan.scan_finished.as_deref()))).collect(),
        baseline.into_iter().map(|scan| (scan.scan_id, day(scan.scan_finished.as_deref()))).collect(),
    ]
}

#[tokio::test]
async fn a_generated_past_has_one_period_of_scans_per_month() {
    let h = Harness::start(small().with_history_periods(3)).await;
    let token = h.reporting_token().await;
    let plain = Harness::start(small()).await;
    let plain_token = plain.reporting_token().await;
    let months = ["2025-03-16", "2025-04-16", "2025-05-16"];
    let mut churned = 0;
    for id in h.active_instances() {
        let scans = vulnerability_scans(&h, &id, &token).await;
        assert_eq!(scans.len(), 4 + 3 * 4, "4 seeded scans and 3 periods of 4");
        let finished: Vec<&str> = scans.iter().map(|scan| scan.scan_finished.as_deref().unwrap()).collect();
        assert!(finished.windows(2).all(|pair| pair[0] <= pair[1]), "oldest first");
        let mut by_period: Vec<BTreeMap<String, Seen>> = Vec::new();
        for month in months {
            let period: Vec<&VulnerabilityScan> =
                scans.iter().filter(|scan| day(scan.scan_finished.as_deref()) == month).collect();
            assert_eq!(period.iter().map(|scan| code(scan)).collect::<BTreeSet<_>>().len(), 4, "{id} {month}");
            let mut seen_by_type = BTreeMap::new();
            for scan in period {
                let detail = h.on(&id, &scans::get_vulnerability_scan::Request::new(&scan.scan_id), &token).await;
                seen_by_type.insert(code(scan), seen(&detail.unwrap()));
            }
            by_period.push(seen_by_type);
        }
        churned += by_period.windows(2).filter(|pair| pair[0] != pair[1]).count();
        // Data and baseline scans: those of the same emulator without a past, and one per month.
        let (with, without) = (secondary(&h, &id, &token).await, secondary(&plain, &id, &plain_token).await);
        for (with, without) in with.iter().zip(&without) {
            let added: Vec<&str> =
                with.iter().filter(|scan| !without.contains(scan)).map(|(_, day)| day.as_str()).collect();
            assert_eq!(added, months, "{id}");
            assert_eq!(with.len(), without.len() + 3);
        }
    }
    assert!(churned > 0);
    // Advances continue the numbering after the generated past.
    assert_eq!(h.emu.advance(30).expect("advanced").period, 4);
}
