//! Reporting data generated on request, deterministically from `(seed, instance, scan, asset)`,
//! and serialized with the core's models.
//!
//! Nothing here is stored but each scan's risk counts: a scan detail with 200 assets is rebuilt
//! (in about a millisecond) each time it is asked for, so the seeded state stays small at 1,000
//! instances × 10 scans × 200 assets; the counts behind scan lists and dashboards are cached per
//! scan, so a dashboard does not generate every recent scan again. Summaries, dashboards and CVE details are computed from the same generated assets,
//! so every figure agrees with the details.
//!
//! Shapes: scans and dashboards follow the contract; the asset endpoints mimic the observed key
//! casing (`assetIp` on the list; `OpenPorts`/`PortNumber` on the IP asset; `port`, `portName`,
//! `severity` on the authenticated asset), which the core reads liberally.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use cyrisma_core::types::{
    Asset, BaselineDashboard, BaselineScan, BaselineScans, BaselineTarget, CountOrList, Cve, Cves, DataDashboard,
    DataScan, DataScans, Flaw, FlawInstance, Grade, GradingPeriod, OpenPort, OverallDashboard, RiskLevel, ScanDetail,
    ScanType, VulnerabilityDashboard, VulnerabilityScan, VulnerabilityScans,
};
use serde_json::Value;

use crate::catalog::{self, Seen};
use crate::clock;
use crate::prng::Prng;
use crate::state::ReportingTarget;
use crate::timeline::{self, FindingKey, Period};

const DAY: i64 = 86_400;
/// Scan type codes in the order seeded scans cycle through them.
const TYPE_CYCLE: [u8; 4] = [5, 9, 10, 11];
/// The first scan index of period scans (far above seeded and admin-added ones, so ids differ).
const PERIOD_SCAN_INDEX: u32 = 100_000;

/// The fixed inputs of the generator, and a cache of the risk counts of the scans it generated.
#[derive(Clone, Debug)]
pub(crate) struct Generator {
    pub(crate) seed: u64,
    pub(crate) assets_per_scan: u32,
    /// Unix seconds that seeded times count back from.
    pub(crate) anchor: i64,
    counts: Arc<Mutex<HashMap<CountsKey, Counts>>>,
}

/// The most scans whose counts are cached (about 100 bytes each); past it the cache starts over.
const CACHED_COUNTS: usize = 200_000;

/// Everything a scan's assets (and so its risk counts) are generated from, besides the
/// generator's fixed inputs: the counts of a key never change, so the cache never goes stale.
/// Changes of the state (an advance of the clock, an added scan) give new plans, so new keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CountsKey {
    instance: String,
    number: u32,
    seeded_scans: u32,
    index: u32,
    code: u8,
    id: String,
    started: i64,
    finished: i64,
    period: Option<(u32, u32, i64)>,
}

/// One vulnerability scan, before its assets are generated.
#[derive(Clone, Debug)]
pub(crate) struct ScanPlan {
    pub(crate) index: u32,
    pub(crate) code: u8,
    pub(crate) id: String,
    pub(crate) started: i64,
    pub(crate) finished: i64,
    /// The period it belongs to (a generated past or an advance of the clock); seeded and
    /// admin-added scans have none.
    pub(crate) period: Option<Period>,
}

/// Which pool of assets a scan type looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pool {
    Internal,
    ExternalIp,
    Web,
}

fn pool(code: u8) -> Pool {
    match code {
        9 => Pool::ExternalIp,
        11 => Pool::Web,
        _ => Pool::Internal,
    }
}

fn scan_type(code: u8) -> ScanType {
    ScanType::from_wire(&code.to_string())
}

/// The current and previous grade of an area.
type GradePair = (Option<Grade>, Option<Grade>);

/// Severity counts of a scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) critical: u64,
    pub(crate) high: u64,
    pub(crate) medium: u64,
    pub(crate) low: u64,
}

impl Counts {
    fn add(&mut self, risk: &RiskLevel) {
        match risk {
            RiskLevel::Critical => self.critical += 1,
            RiskLevel::High => self.high += 1,
            RiskLevel::Medium => self.medium += 1,
            RiskLevel::Low => self.low += 1,
            _ => {}
        }
    }

    fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low
    }

    fn merge(&mut self, other: Counts) {
        self.critical += other.critical;
        self.high += other.high;
        self.medium += other.medium;
        self.low += other.low;
    }
}

/// A grade index (0 = `A`, 11 = `F`) as a core [`Grade`].
fn grade(index: usize) -> Grade {
    Grade::KNOWN[index.min(Grade::KNOWN.len() - 1)].clone()
}

fn grade_index(grade: &Grade) -> usize {
    Grade::KNOWN.iter().position(|known| known == grade).unwrap_or(Grade::KNOWN.len() - 1)
}

/// The grade of a vulnerability scan: weighted findings per asset, in bands.
fn vulnerability_grade(counts: Counts, assets: u32) -> Grade {
    let weighted =
        10.0 * counts.critical as f64 + 4.0 * counts.high as f64 + counts.medium as f64 + 0.2 * counts.low as f64;
    let per_asset = weighted / f64::from(assets.max(1));
    const BANDS: [f64; 11] = [0.5, 1.0, 1.5, 2.5, 3.5, 5.0, 7.0, 9.0, 12.0, 15.0, 20.0];
    grade(BANDS.iter().position(|band| per_asset <= *band).unwrap_or(11))
}

/// The grade for a ratio of good outcomes (1.0 = all good).
fn ratio_grade(ratio: f64) -> Grade {
    const BANDS: [f64; 11] = [0.97, 0.94, 0.91, 0.87, 0.83, 0.79, 0.75, 0.70, 0.65, 0.60, 0.55];
    grade(BANDS.iter().position(|band| ratio >= *band).unwrap_or(11))
}

fn average_grade(grades: &[&Grade]) -> Option<Grade> {
    if grades.is_empty() {
        return None;
    }
    let sum: usize = grades.iter().map(|grade| grade_index(grade)).sum();
    Some(grade((sum as f64 / grades.len() as f64).round() as usize))
}

/// The start of the grading period containing `secs`, and of the one before.
fn period_bounds(period: &GradingPeriod, secs: i64) -> (i64, i64) {
    let civil = clock::civil(secs);
    let months = if matches!(period, GradingPeriod::Quarterly) { 3 } else { 1 };
    let first_month = (civil.month - 1) / months * months + 1;
    let start = clock::days_from_civil(civil.year, first_month, 1) * DAY;
    let (prev_year, prev_month) = if first_month > months {
        (civil.year, first_month - months)
    } else {
        (civil.year - 1, first_month + 12 - months)
    };
    (start, clock::days_from_civil(prev_year, prev_month, 1) * DAY)
}

impl Generator {
    pub(crate) fn new(seed: u64, assets_per_scan: u32, anchor: i64) -> Self {
        Generator { seed, assets_per_scan, anchor, counts: Arc::default() }
    }

    fn spacing(count: u32) -> i64 {
        (75 * DAY / i64::from(count.max(1))).clamp(DAY, 30 * DAY)
    }

    /// The vulnerability scans of an instance, oldest first.
    pub(crate) fn vulnerability_plans(&self, target: &ReportingTarget) -> Vec<ScanPlan> {
        let mut plans = self.seeded_plans(target);
        let seeded = target.seeded_scans;
        for (offset, (code, finished)) in target.extra_scans.iter().enumerate() {
            let index = seeded + offset as u32;
            plans.push(ScanPlan {
                index,
                code: *code,
                id: scan_id(target.number, index),
                started: finished - 1800,
                finished: *finished,
                period: None,
            });
        }
        if !target.periods.is_empty() {
            for period in &target.periods {
                let at = self.anchor + period.day * DAY;
                for (slot, code) in TYPE_CYCLE.iter().enumerate() {
                    let index = PERIOD_SCAN_INDEX + (period.number - 1) * TYPE_CYCLE.len() as u32 + slot as u32;
                    let mut prng = Prng::derive(self.seed, &[15, u64::from(target.number), u64::from(index)]);
                    let finished = at + 120 + 300 * slot as i64;
                    plans.push(ScanPlan {
                        index,
                        code: *code,
                        id: scan_id(target.number, index),
                        started: finished - prng.range(20 * 60, 6 * 3600) as i64,
                        finished,
                        period: Some(*period),
                    });
                }
            }
            plans.sort_by_key(|plan| plan.finished);
        }
        plans
    }

    /// The seeded vulnerability scans of an instance, oldest first.
    fn seeded_plans(&self, target: &ReportingTarget) -> Vec<ScanPlan> {
        let seeded = target.seeded_scans;
        let spacing = Self::spacing(seeded);
        let mut plans = Vec::with_capacity(seeded as usize + target.extra_scans.len() + 4 * target.periods.len());
        for index in 0..seeded {
            let mut prng = Prng::derive(self.seed, &[10, u64::from(target.number), u64::from(index)]);
            let back = i64::from(seeded - 1 - index);
            let jitter = if back == 0 { 0 } else { prng.range(0, 20 * 3600) as i64 };
            let finished = self.anchor + 60 - back * spacing - jitter;
            let started = finished - prng.range(20 * 60, 6 * 3600) as i64;
            plans.push(ScanPlan {
                index,
                code: TYPE_CYCLE[index as usize % TYPE_CYCLE.len()],
                id: scan_id(target.number, index),
                started,
                finished,
                period: None,
            });
        }
        plans
    }

    /// The plan of one scan, by id.
    pub(crate) fn find_plan(&self, target: &ReportingTarget, id: &str) -> Option<ScanPlan> {
        self.vulnerability_plans(target).into_iter().find(|plan| plan.id == id.trim())
    }

    fn scan_name(&self, target: &ReportingTarget, plan: &ScanPlan) -> String {
        let label = scan_type(plan.code).label().to_owned();
        format!("{label} Scan {} ({})", clock::date(plan.finished), target.id)
    }

    // ----- Assets -----

    fn asset_identity(&self, target: &ReportingTarget, pool: Pool, index: u32) -> (String, String, String) {
        let pool_code = match pool {
            Pool::Internal => 1,
            Pool::ExternalIp => 2,
            Pool::Web => 3,
        };
        let mut prng = Prng::derive(self.seed, &[20, u64::from(target.number), pool_code, u64::from(index)]);
        let asset_id = format!("{}{}{:05}", target.number, pool_code, index + 1);
        match pool {
            Pool::Internal => {
                let prefix = prng.pick(catalog::HOST_PREFIXES);
                let name = format!("{prefix}-{}-{:03}", &target.id[2..].trim_start_matches('0'), index + 1);
                let subnet = 10 + (target.number % 200);
                let ip = format!("10.{subnet}.{}.{}", index / 250, index % 250 + 2);
                (asset_id, name, ip)
            }
            Pool::ExternalIp => {
                const NETS: [&str; 3] = ["203.0.113", "198.51.100", "192.0.2"];
                let slot = (u64::from(target.number) * 7 + u64::from(index)) % (3 * 253);
                let ip = format!("{}.{}", NETS[(slot / 253) as usize], slot % 253 + 1);
                let name = format!("edge{}.{}.example", index + 1, target.id);
                (asset_id, name, ip)
            }
            Pool::Web => {
                let app = catalog::WEB_APPS[index as usize % catalog::WEB_APPS.len()];
                let round = index as usize / catalog::WEB_APPS.len();
                let host = if round == 0 { app.to_owned() } else { format!("{app}{round}") };
                let url = format!("https://{host}.{}.example/", target.id);
                (asset_id, format!("{host}.{}.example", target.id), url)
            }
        }
    }

    /// The assets of one scan, with their findings.
    pub(crate) fn scan_assets(&self, target: &ReportingTarget, plan: &ScanPlan) -> Vec<Asset> {
        let Some(period) = plan.period else {
            return (0..self.assets_per_scan).map(|index| self.asset(target, plan, index)).collect();
        };
        let skipped = timeline::unscanned(self.seed, target.number, plan.code, period.presence, self.assets_per_scan);
        let base = self.base_plan(target, plan.code);
        (0..self.assets_per_scan)
            .filter(|index| !skipped.contains(index))
            .map(|index| self.period_asset(target, plan, period, base.as_ref(), index))
            .collect()
    }

    /// One asset of a scan, if the scan covered it.
    fn covered_asset(&self, target: &ReportingTarget, plan: &ScanPlan, index: u32) -> Option<Asset> {
        let Some(period) = plan.period else { return Some(self.asset(target, plan, index)) };
        let skipped = timeline::unscanned(self.seed, target.number, plan.code, period.presence, self.assets_per_scan);
        if skipped.contains(&index) {
            return None;
        }
        Some(self.period_asset(target, plan, period, self.base_plan(target, plan.code).as_ref(), index))
    }

    /// The latest seeded scan of a type: its findings are the base of every period's.
    fn base_plan(&self, target: &ReportingTarget, code: u8) -> Option<ScanPlan> {
        self.seeded_plans(target).into_iter().rev().find(|plan| plan.code == code)
    }

    /// An asset of a period's scan: the findings of its universe (those of the latest seeded scan
    /// of the type, and candidates) that the churn shows in the period; scores, titles and order
    /// vary by period.
    fn period_asset(
        &self,
        target: &ReportingTarget,
        plan: &ScanPlan,
        period: Period,
        base: Option<&ScanPlan>,
        index: u32,
    ) -> Asset {
        let code = plan.code;
        let pool = pool(code);
        let (asset_id, name, address) = self.asset_identity(target, pool, index);
        let base = base.map(|base| self.asset(target, base, index)).unwrap_or_default();
        let number = u64::from(target.number);
        let mut candidates = Prng::derive(self.seed, &[90, number, u64::from(code), u64::from(index)]);
        let mut vary =
            Prng::derive(self.seed, &[93, number, u64::from(code), u64::from(index), u64::from(period.number)]);
        let key =
            |rule: &str| FindingKey { instance: target.number, code, asset: index, rule: timeline::rule_hash(rule) };
        let shows = |rule: &str, base: bool| timeline::present(self.seed, key(rule), base, period.presence);
        let mut asset = Asset {
            id: Some(format!("{}", index + 1)),
            asset_id: Some(asset_id),
            name: Some(name.clone()),
            ip_address: Some(address.clone()),
            ..Default::default()
        };
        if pool == Pool::Web {
            let mut universe: Vec<(Flaw, bool)> = base.flaws.into_iter().map(|flaw| (flaw, true)).collect();
            for _ in 0..4 {
                let alert = candidates.pick(catalog::ALERTS);
                if universe.iter().any(|(flaw, _)| flaw.alert_ref.as_deref() == Some(alert.reference)) {
                    continue;
                }
                universe.push((flaw(&mut candidates, alert, &address, String::new()), false));
            }
            let mut flaws: Vec<Flaw> = universe
                .into_iter()
                .filter(|(flaw, base)| shows(flaw.alert_ref.as_deref().unwrap_or_default(), *base))
                .map(|(flaw, _)| flaw)
                .collect();
            rotate(&mut flaws, &mut vary);
            for (number, flaw) in flaws.iter_mut().enumerate() {
                flaw.alert_id = Some(format!("{}{:03}{:02}", plan.id, index + 1, number + 1));
            }
            asset.flaws = flaws;
            return asset;
        }
        let (max_findings, seen) = match code {
            5 => (12, Seen::Internal),
            10 => (5, Seen::Internal),
            _ => (4, Seen::External),
        };
        let rule = |vulnerability: &cyrisma_core::types::Vulnerability| {
            vulnerability.cve.clone().or_else(|| vulnerability.title.clone()).unwrap_or_default()
        };
        let mut universe: Vec<(cyrisma_core::types::Vulnerability, bool)> =
            base.vulnerabilities.into_iter().map(|vulnerability| (vulnerability, true)).collect();
        for _ in 0..max_findings / 2 + 2 {
            let finding = catalog::draw_finding(&mut candidates, seen);
            let candidate = vulnerability(&mut candidates, finding, seen, plan.finished);
            if universe.iter().any(|(known, _)| rule(known) == rule(&candidate)) {
                continue;
            }
            universe.push((candidate, false));
        }
        let mut vulnerabilities: Vec<_> = universe
            .into_iter()
            .filter(|(vulnerability, base)| shows(&rule(vulnerability), *base))
            .map(|(vulnerability, _)| vulnerability)
            .collect();
        for vulnerability in vulnerabilities.iter_mut() {
            let Some(cve) = vulnerability.cve.clone() else { continue };
            // Rescored and retitled now and then, as scanners' feeds do.
            let score = vulnerability.score.unwrap_or(5.0) + (vary.below(3) as f64 - 1.0) / 10.0;
            let score = (score.clamp(0.1, 10.0) * 10.0).round() / 10.0;
            vulnerability.score = Some(score);
            vulnerability.risk_level = Some(RiskLevel::from_wire(catalog::risk_for_score(score)));
            if vary.chance(0.3) {
                vulnerability.title = vulnerability.title.as_ref().map(|title| format!("{cve}: {title}"));
            }
        }
        rotate(&mut vulnerabilities, &mut vary);
        asset.vulnerabilities = vulnerabilities;
        let mut ports: Vec<(OpenPort, bool)> = base.open_ports.into_iter().map(|port| (port, true)).collect();
        let choices: Vec<&catalog::Port> =
            catalog::PORTS.iter().filter(|port| port.seen == seen || port.seen == Seen::Both).collect();
        for _ in 0..2 {
            let port = *candidates.pick(&choices);
            let number = port.number.to_string();
            if !ports.iter().any(|(known, _)| known.port_number.as_deref() == Some(number.as_str())) {
                ports.push((open_port(port, &name, &address), false));
            }
        }
        let mut ports: Vec<OpenPort> = ports
            .into_iter()
            .filter(|(port, base)| shows(&format!("{}/tcp", port.port_number.as_deref().unwrap_or_default()), *base))
            .map(|(port, _)| port)
            .collect();
        rotate(&mut ports, &mut vary);
        asset.open_ports = ports;
        asset
    }

    fn asset(&self, target: &ReportingTarget, plan: &ScanPlan, index: u32) -> Asset {
        let pool = pool(plan.code);
        let (asset_id, name, address) = self.asset_identity(target, pool, index);
        let mut prng =
            Prng::derive(self.seed, &[30, u64::from(target.number), u64::from(plan.index), u64::from(index)]);
        let mut asset = Asset {
            id: Some(format!("{}", index + 1)),
            asset_id: Some(asset_id),
            name: Some(name.clone()),
            ip_address: Some(address.clone()),
            ..Default::default()
        };
        if pool == Pool::Web {
            asset.flaws = self.flaws(&mut prng, plan, &address, index);
            return asset;
        }
        let (max_findings, seen) = match plan.code {
            5 => (12, Seen::Internal),
            10 => (5, Seen::Internal),
            _ => (4, Seen::External),
        };
        let count = prng.below(max_findings + 1) as usize;
        let mut used = Vec::with_capacity(count);
        for _ in 0..count {
            let finding = catalog::draw_finding(&mut prng, seen);
            if used.contains(&finding.title) {
                continue;
            }
            used.push(finding.title);
            asset.vulnerabilities.push(vulnerability(&mut prng, finding, seen, plan.finished));
        }
        // Never empty: ports marked `Both` fit every pool.
        let candidates: Vec<&catalog::Port> =
            catalog::PORTS.iter().filter(|port| port.seen == seen || port.seen == Seen::Both).collect();
        let ports = prng.range(1, 6) as usize;
        let mut numbers = Vec::with_capacity(ports);
        for _ in 0..ports {
            let port = *prng.pick(&candidates);
            if !numbers.contains(&port.number) {
                numbers.push(port.number);
                asset.open_ports.push(open_port(port, &name, &address));
            }
        }
        asset
    }

    fn flaws(&self, prng: &mut Prng, plan: &ScanPlan, url: &str, index: u32) -> Vec<Flaw> {
        let count = prng.range(1, 6) as usize;
        let mut flaws: Vec<Flaw> = Vec::with_capacity(count);
        for number in 0..count {
            let alert = prng.pick(catalog::ALERTS);
            if flaws.iter().any(|flaw| flaw.alert_ref.as_deref() == Some(alert.reference)) {
                continue;
            }
            flaws.push(flaw(prng, alert, url, format!("{}{:03}{:02}", plan.id, index + 1, number + 1)));
        }
        flaws
    }

    fn counts(assets: &[Asset]) -> Counts {
        let mut counts = Counts::default();
        for asset in assets {
            for risk in asset.vulnerabilities.iter().filter_map(|v| v.risk_level.as_ref()) {
                counts.add(risk);
            }
            for risk in asset.flaws.iter().filter_map(|flaw| flaw.risk_level.as_ref()) {
                counts.add(risk);
            }
        }
        counts
    }

    /// The risk counts of a scan's findings: generated once, then cached. Every dashboard and
    /// scan list needs them, and generating a scan's assets is what costs.
    fn scan_counts(&self, target: &ReportingTarget, plan: &ScanPlan) -> Counts {
        let key = CountsKey {
            instance: target.id.clone(),
            number: target.number,
            seeded_scans: target.seeded_scans,
            index: plan.index,
            code: plan.code,
            id: plan.id.clone(),
            started: plan.started,
            finished: plan.finished,
            period: plan.period.map(|period| (period.number, period.presence, period.day)),
        };
        let cached = self.counts.lock().unwrap_or_else(PoisonError::into_inner).get(&key).copied();
        if let Some(counts) = cached {
            return counts;
        }
        // Generated without the lock held: other requests go on meanwhile.
        let counts = Self::counts(&self.scan_assets(target, plan));
        let mut cache = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHED_COUNTS {
            cache.clear();
        }
        cache.insert(key, counts);
        counts
    }

    fn summary(&self, target: &ReportingTarget, plan: &ScanPlan) -> (VulnerabilityScan, Counts) {
        let counts = self.scan_counts(target, plan);
        let kind = scan_type(plan.code);
        let summary = VulnerabilityScan {
            scan_id: plan.id.clone(),
            scan_type_name: Some(kind.label().to_owned()),
            scan_type: Some(kind),
            scan_name: Some(self.scan_name(target, plan)),
            scan_started: Some(clock::scan_time(plan.started)),
            scan_finished: Some(clock::scan_time(plan.finished)),
            critical_vulnerabilities: Some(counts.critical),
            high_vulnerabilities: Some(counts.high),
            medium_vulnerabilities: Some(counts.medium),
            low_vulnerabilities: Some(counts.low),
            vulnerabilities: Some(counts.total()),
            grade_alpha: Some(vulnerability_grade(counts, self.assets_per_scan)),
            ..Default::default()
        };
        (summary, counts)
    }

    // ----- Endpoints -----

    /// `GET /partner/scans/vulnerability`.
    pub(crate) fn vulnerability_scans(&self, target: &ReportingTarget) -> VulnerabilityScans {
        let vulnerability_scans =
            self.vulnerability_plans(target).iter().map(|plan| self.summary(target, plan).0).collect();
        VulnerabilityScans { vulnerability_scans, ..Default::default() }
    }

    /// The summary of one scan (for `scan.completed` events).
    pub(crate) fn vulnerability_scan(&self, target: &ReportingTarget, plan: &ScanPlan) -> VulnerabilityScan {
        self.summary(target, plan).0
    }

    /// `GET /partner/scans/vulnerability/{scanId}`.
    pub(crate) fn scan_detail(&self, target: &ReportingTarget, plan: &ScanPlan) -> ScanDetail {
        ScanDetail { assets: self.scan_assets(target, plan), ..Default::default() }
    }

    fn secondary_count(target: &ReportingTarget) -> u32 {
        if target.seeded_scans == 0 { 0 } else { (target.seeded_scans / 2).max(1) }
    }

    fn secondary_times(&self, target: &ReportingTarget, kind: u64, index: u32, count: u32, offset: i64) -> (i64, i64) {
        let mut prng = Prng::derive(self.seed, &[kind, u64::from(target.number), u64::from(index)]);
        let back = i64::from(count - 1 - index);
        let jitter = if back == 0 { 0 } else { prng.range(0, 20 * 3600) as i64 };
        let finished = self.anchor + offset - back * Self::spacing(count) - jitter;
        (finished - prng.range(15 * 60, 3 * 3600) as i64, finished)
    }

    /// The start and finish of a period's data (`kind` 40) or baseline (50) scan.
    fn period_times(&self, target: &ReportingTarget, kind: u64, period: &Period) -> (i64, i64) {
        let mut prng = Prng::derive(self.seed, &[kind + 5, u64::from(target.number), u64::from(period.number)]);
        let finished = self.anchor + period.day * DAY + if kind == 40 { 1500 } else { 2100 };
        (finished - prng.range(15 * 60, 3 * 3600) as i64, finished)
    }

    /// `GET /partner/scans/data`.
    pub(crate) fn data_scans(&self, target: &ReportingTarget) -> DataScans {
        let count = Self::secondary_count(target);
        let seeded = (0..count).map(|index| {
            let (started, finished) = self.secondary_times(target, 40, index, count, 120);
            let prng = Prng::derive(self.seed, &[41, u64::from(target.number), u64::from(index)]);
            Self::data_scan(prng, format!("{}{:03}", target.number, 500 + index), started, finished)
        });
        let periods = target.periods.iter().map(|period| {
            let (started, finished) = self.period_times(target, 40, period);
            let prng = Prng::derive(self.seed, &[42, u64::from(target.number), u64::from(period.number)]);
            let id = format!("{}{}", target.number, 200_000 + period.number);
            Self::data_scan(prng, id, started, finished)
        });
        let mut data_scans: Vec<DataScan> = seeded.chain(periods).collect();
        if !target.periods.is_empty() {
            data_scans.sort_by(|a, b| a.scan_finished.cmp(&b.scan_finished));
        }
        DataScans { data_scans, ..Default::default() }
    }

    fn data_scan(mut prng: Prng, scan_id: String, started: i64, finished: i64) -> DataScan {
        let files = prng.range(5_000, 400_000);
        let sensitive = files * prng.range(0, 25) / 1000;
        let matches = sensitive * prng.range(1, 12);
        DataScan {
            scan_id,
            scan_name: Some(format!("Sensitive Data Scan {}", clock::date(finished))),
            scan_started: Some(clock::scan_time(started)),
            scan_finished: Some(clock::scan_time(finished)),
            files_scanned: Some(files),
            sensitive_files: Some(sensitive),
            sensitive_matches: Some(matches),
            grade_alpha: Some(ratio_grade(1.0 - 4.0 * sensitive as f64 / files as f64)),
            ..Default::default()
        }
    }

    /// `GET /partner/scans/baseline`.
    pub(crate) fn baseline_scans(&self, target: &ReportingTarget) -> BaselineScans {
        let count = Self::secondary_count(target);
        let seeded = (0..count).map(|index| {
            let (started, finished) = self.secondary_times(target, 50, index, count, 180);
            let prng = Prng::derive(self.seed, &[51, u64::from(target.number), u64::from(index)]);
            Self::baseline_scan(target, prng, format!("{}{:03}", target.number, 700 + index), started, finished)
        });
        let periods = target.periods.iter().map(|period| {
            let (started, finished) = self.period_times(target, 50, period);
            let prng = Prng::derive(self.seed, &[52, u64::from(target.number), u64::from(period.number)]);
            let id = format!("{}{}", target.number, 300_000 + period.number);
            Self::baseline_scan(target, prng, id, started, finished)
        });
        let mut baseline_scans: Vec<BaselineScan> = seeded.chain(periods).collect();
        if !target.periods.is_empty() {
            baseline_scans.sort_by(|a, b| a.scan_finished.cmp(&b.scan_finished));
        }
        BaselineScans { baseline_scans, ..Default::default() }
    }

    fn baseline_scan(
        target: &ReportingTarget,
        mut prng: Prng,
        scan_id: String,
        started: i64,
        finished: i64,
    ) -> BaselineScan {
        let targets = target.endpoints.clamp(1, 50);
        let checks = targets * prng.range(180, 320);
        let passed = (checks as f64 * (0.55 + 0.43 * prng.unit())) as u64;
        BaselineScan {
            scan_id,
            scan_name: Some(format!("Secure Baseline Scan {}", clock::date(finished))),
            scan_started: Some(clock::scan_time(started)),
            scan_finished: Some(clock::scan_time(finished)),
            benchmark: Some((*prng.pick(catalog::BENCHMARKS)).to_owned()),
            targets: Some(CountOrList::Count(targets)),
            passed_checks: Some(passed),
            failed_checks: Some(checks - passed),
            grade_alpha: Some(ratio_grade(passed as f64 / checks as f64)),
            ..Default::default()
        }
    }

    /// The emulator's "now" for a target: the anchor's day, moved by advances of the clock.
    fn today(&self, target: &ReportingTarget) -> i64 {
        self.anchor + target.days_advanced * DAY + 3600
    }

    /// Current and previous grades of an area from dated grades, by grading period. When the
    /// previous period has no scan (history retained is short), the previous grade is derived
    /// from the current one, one step either way.
    fn period_grades(&self, target: &ReportingTarget, area: u64, dated: &[(i64, Grade)]) -> GradePair {
        // The emulator's "today" is the anchor's day (moved by advances), so a fixed anchor gives
        // fixed dashboards.
        let (current_start, previous_start) = period_bounds(&target.grading_period, self.today(target));
        let current: Vec<&Grade> =
            dated.iter().filter(|(at, _)| *at >= current_start).map(|(_, grade)| grade).collect();
        let previous: Vec<&Grade> = dated
            .iter()
            .filter(|(at, _)| *at >= previous_start && *at < current_start)
            .map(|(_, grade)| grade)
            .collect();
        let current = average_grade(&current);
        let previous = average_grade(&previous).or_else(|| {
            let base = current.as_ref()?;
            let mut prng = Prng::derive(self.seed, &[60, u64::from(target.number), area]);
            let shift = prng.below(3) as i64 - 1;
            Some(grade((grade_index(base) as i64 + shift).clamp(0, 11) as usize))
        });
        (current, previous)
    }

    fn vulnerability_grades(&self, target: &ReportingTarget) -> (GradePair, Counts) {
        let mut dated = Vec::new();
        let mut latest: BTreeMap<u8, Counts> = BTreeMap::new();
        let plans = self.vulnerability_plans(target);
        // Only scans of the two grading periods and the latest of each type count: a long
        // generated past is not generated again for every dashboard.
        let (_, previous_start) = period_bounds(&target.grading_period, self.today(target));
        let last_of_type: BTreeMap<u8, usize> = plans.iter().enumerate().map(|(at, plan)| (plan.code, at)).collect();
        for (at, plan) in plans.iter().enumerate() {
            if plan.finished < previous_start && last_of_type.get(&plan.code) != Some(&at) {
                continue;
            }
            // The grade a scan's summary carries, without the rest of the summary (its name and
            // times are text, formatted for nothing here).
            let counts = self.scan_counts(target, plan);
            dated.push((plan.finished, vulnerability_grade(counts, self.assets_per_scan)));
            latest.insert(plan.code, counts);
        }
        let mut totals = Counts::default();
        for counts in latest.into_values() {
            totals.merge(counts);
        }
        (self.period_grades(target, 1, &dated), totals)
    }

    fn data_grades(&self, target: &ReportingTarget) -> (GradePair, Option<u64>) {
        let scans = self.data_scans(target).data_scans;
        let dated = dated_grades(scans.iter().map(|scan| (scan.scan_finished.as_deref(), scan.grade_alpha.as_ref())));
        let sensitive = scans.last().and_then(|scan| scan.sensitive_files);
        (self.period_grades(target, 2, &dated), sensitive)
    }

    fn baseline_grades(&self, target: &ReportingTarget) -> GradePair {
        let scans = self.baseline_scans(target).baseline_scans;
        let dated = dated_grades(scans.iter().map(|scan| (scan.scan_finished.as_deref(), scan.grade_alpha.as_ref())));
        self.period_grades(target, 3, &dated)
    }

    /// Compliance grades: data and baseline averaged, shifted by one step or none. The shift
    /// belongs to the grading period, so a period's grade becomes the next one's previous grade
    /// when the clock moves; the anchor's two periods keep the seeded draws.
    fn compliance_grades(&self, data: &GradePair, baseline: &GradePair, target: &ReportingTarget) -> GradePair {
        let mut seeded = Prng::derive(self.seed, &[70, u64::from(target.number)]);
        let seeded = [seeded.below(3) as i64 - 1, seeded.below(3) as i64 - 1];
        let (anchor_current, anchor_previous) = period_bounds(&target.grading_period, self.anchor + 3600);
        let shift = |start: i64| {
            if start == anchor_current {
                seeded[0]
            } else if start == anchor_previous {
                seeded[1]
            } else {
                Prng::derive(self.seed, &[71, u64::from(target.number), start as u64]).below(3) as i64 - 1
            }
        };
        let derive = |a: &Option<Grade>, b: &Option<Grade>, start: i64| {
            let parts: Vec<&Grade> = [a.as_ref(), b.as_ref()].into_iter().flatten().collect();
            let base = average_grade(&parts)?;
            Some(grade((grade_index(&base) as i64 + shift(start)).clamp(0, 11) as usize))
        };
        let (current_start, previous_start) = period_bounds(&target.grading_period, self.today(target));
        (derive(&data.0, &baseline.0, current_start), derive(&data.1, &baseline.1, previous_start))
    }

    /// `GET /partner/dashboards/overall`.
    pub(crate) fn overall_dashboard(&self, target: &ReportingTarget) -> OverallDashboard {
        let (vn, _) = self.vulnerability_grades(target);
        let (ds, _) = self.data_grades(target);
        let sb = self.baseline_grades(target);
        let cp = self.compliance_grades(&ds, &sb, target);
        let overall = |pick: fn(&GradePair) -> &Option<Grade>| {
            let parts: Vec<&Grade> = [&ds, &vn, &sb, &cp].iter().filter_map(|pair| pick(pair).as_ref()).collect();
            average_grade(&parts)
        };
        OverallDashboard {
            current_or_grade: overall(|pair| &pair.0),
            previous_or_grade: overall(|pair| &pair.1),
            current_ds_grade: ds.0,
            previous_ds_grade: ds.1,
            current_vn_grade: vn.0,
            previous_vn_grade: vn.1,
            current_sb_grade: sb.0,
            previous_sb_grade: sb.1,
            current_cp_grade: cp.0,
            previous_cp_grade: cp.1,
            grading_period: Some(target.grading_period.clone()),
            ..Default::default()
        }
    }

    /// `GET /partner/dashboards/vulnerability`: grades, and the counts of the latest scan of
    /// each type.
    pub(crate) fn vulnerability_dashboard(&self, target: &ReportingTarget) -> VulnerabilityDashboard {
        let ((current, previous), counts) = self.vulnerability_grades(target);
        VulnerabilityDashboard {
            current_grade: current,
            previous_grade: previous,
            grading_period: Some(target.grading_period.clone()),
            critical: Some(counts.critical),
            high: Some(counts.high),
            medium: Some(counts.medium),
            low: Some(counts.low),
            ..Default::default()
        }
    }

    /// `GET /partner/dashboards/data`.
    pub(crate) fn data_dashboard(&self, target: &ReportingTarget) -> DataDashboard {
        let ((current, previous), sensitive) = self.data_grades(target);
        DataDashboard {
            current_grade: current,
            previous_grade: previous,
            grading_period: Some(target.grading_period.clone()),
            sensitive_files: Some(sensitive.unwrap_or(0)),
            ..Default::default()
        }
    }

    /// `GET /partner/dashboards/baseline`.
    pub(crate) fn baseline_dashboard(&self, target: &ReportingTarget) -> BaselineDashboard {
        let (current, previous) = self.baseline_grades(target);
        let targets = match &current {
            None => Vec::new(),
            Some(base) => {
                let count = target.endpoints.clamp(1, 50) as u32;
                (0..count)
                    .map(|index| {
                        let (_, name, _) = self.asset_identity(target, Pool::Internal, index);
                        let mut prng = Prng::derive(self.seed, &[80, u64::from(target.number), u64::from(index)]);
                        let shift = prng.below(5) as i64 - 2;
                        BaselineTarget {
                            name: Some(name),
                            grade: Some(grade((grade_index(base) as i64 + shift).clamp(0, 11) as usize)),
                            ..Default::default()
                        }
                    })
                    .collect()
            }
        };
        BaselineDashboard {
            current_grade: current,
            previous_grade: previous,
            grading_period: Some(target.grading_period.clone()),
            targets,
            ..Default::default()
        }
    }

    /// The latest scan of each IP-based type.
    fn latest_ip_scans(&self, target: &ReportingTarget) -> Vec<ScanPlan> {
        let mut latest: BTreeMap<u8, ScanPlan> = BTreeMap::new();
        for plan in self.vulnerability_plans(target) {
            if pool(plan.code) != Pool::Web {
                latest.insert(plan.code, plan);
            }
        }
        latest.into_values().collect()
    }

    /// `GET /partner/dashboards/vulnerability/cve`: CVEs of the latest scan of each IP-based type,
    /// with how many assets each affects and when it was first seen.
    pub(crate) fn cves(&self, target: &ReportingTarget, cve_id: Option<&str>) -> Cves {
        let mut by_id: BTreeMap<String, (Cve, std::collections::BTreeSet<String>)> = BTreeMap::new();
        for plan in self.latest_ip_scans(target) {
            for asset in self.scan_assets(target, &plan) {
                let asset_key = asset.asset_id.clone().unwrap_or_default();
                for vulnerability in &asset.vulnerabilities {
                    let Some(id) = &vulnerability.cve else { continue };
                    if cve_id.is_some_and(|wanted| !wanted.trim().eq_ignore_ascii_case(id)) {
                        continue;
                    }
                    let entry = by_id.entry(id.clone()).or_insert_with(|| {
                        (
                            Cve {
                                cve: id.clone(),
                                title: vulnerability.title.clone(),
                                score: vulnerability.score,
                                risk_level: vulnerability.risk_level.clone(),
                                first_seen: vulnerability.first_seen.clone(),
                                ..Default::default()
                            },
                            std::collections::BTreeSet::new(),
                        )
                    });
                    entry.1.insert(asset_key.clone());
                    if vulnerability.first_seen < entry.0.first_seen {
                        entry.0.first_seen = vulnerability.first_seen.clone();
                    }
                }
            }
        }
        let cves = by_id
            .into_values()
            .map(|(mut cve, assets)| {
                cve.affected_assets = Some(assets.len() as u64);
                cve
            })
            .collect();
        Cves { cves, ..Default::default() }
    }

    fn latest_of(&self, target: &ReportingTarget, codes: &[u8]) -> Option<ScanPlan> {
        self.vulnerability_plans(target).into_iter().rev().find(|plan| codes.contains(&plan.code))
    }

    /// `GET /partner/vulnerability/assets?assetType=`: a bare array of `{assetId, name, assetIp,
    /// scanType}` \[OBS\].
    pub(crate) fn asset_list(&self, target: &ReportingTarget, external: bool) -> Value {
        let codes: &[u8] = if external { &[9] } else { &[5, 10] };
        let Some(plan) = self.latest_of(target, codes) else { return Value::Array(Vec::new()) };
        let label = scan_type(plan.code).label().to_owned();
        let pool = pool(plan.code);
        let items = (0..self.assets_per_scan)
            .map(|index| {
                let (asset_id, name, address) = self.asset_identity(target, pool, index);
                let asset = Asset {
                    asset_id: Some(asset_id),
                    name: Some(name),
                    ip_address: Some(address),
                    scan_type: Some(label.clone()),
                    ..Default::default()
                };
                let mut value = to_value(&asset);
                if let Value::Object(object) = &mut value {
                    rename(object, "ipAddress", "assetIp");
                    for key in ["vulnerabilities", "openPorts", "flaws"] {
                        object.remove(key);
                    }
                }
                value
            })
            .collect();
        Value::Array(items)
    }

    fn find_asset(&self, target: &ReportingTarget, codes: &[u8], matches: impl Fn(&Asset) -> bool) -> Option<Asset> {
        let plan = self.latest_of(target, codes)?;
        let pool = pool(plan.code);
        (0..self.assets_per_scan)
            .find(|index| {
                let (asset_id, name, address) = self.asset_identity(target, pool, *index);
                matches(&Asset {
                    asset_id: Some(asset_id),
                    name: Some(name),
                    ip_address: Some(address),
                    ..Default::default()
                })
            })
            .and_then(|index| self.covered_asset(target, &plan, index))
    }

    /// `GET /partner/vulnerability/assets/authenticated?assetId=`: an array with the asset of
    /// the latest internal authenticated scan; open ports as `{port, portName, severity}` \[OBS\].
    pub(crate) fn authenticated_asset(&self, target: &ReportingTarget, asset_id: &str) -> Value {
        let wanted = asset_id.trim();
        let Some(asset) = self.find_asset(target, &[5], |asset| asset.asset_id.as_deref() == Some(wanted)) else {
            return Value::Array(Vec::new());
        };
        let mut value = to_value(&asset);
        if let Value::Object(object) = &mut value {
            object.remove("flaws");
            if let Some(Value::Array(ports)) = object.get_mut("openPorts") {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    rename(port, "portNumber", "port");
                    rename(port, "portDescription", "portName");
                    rename(port, "riskLevel", "severity");
                }
            }
        }
        Value::Array(vec![value])
    }

    /// `GET /partner/vulnerability/assets/ip?assetIp=`: an array with the asset of the latest
    /// external IP scan, keys in PascalCase (`OpenPorts`, `PortNumber`) \[OBS\].
    pub(crate) fn ip_asset(&self, target: &ReportingTarget, asset_ip: &str) -> Value {
        let wanted = asset_ip.trim();
        let Some(asset) = self.find_asset(target, &[9], |asset| asset.ip_address.as_deref() == Some(wanted)) else {
            return Value::Array(Vec::new());
        };
        let mut value = to_value(&asset);
        if let Value::Object(object) = &mut value {
            object.remove("flaws");
            if let Some(Value::Array(mut ports)) = object.remove("openPorts") {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    for key in ["portNumber", "portDescription", "riskLevel", "targetName", "targetIp"] {
                        rename(port, key, &pascal(key));
                    }
                }
                object.insert("OpenPorts".to_owned(), Value::Array(ports));
            }
        }
        Value::Array(vec![value])
    }
}

/// A vulnerability found on an asset of a scan that finished at `finished`.
fn vulnerability(
    prng: &mut Prng,
    finding: &catalog::Finding,
    seen: Seen,
    finished: i64,
) -> cyrisma_core::types::Vulnerability {
    let first_seen = finished - prng.range(0, 180) as i64 * DAY;
    cyrisma_core::types::Vulnerability {
        cve: finding.cve.map(str::to_owned),
        title: Some(finding.title.to_owned()),
        score: Some(finding.score),
        risk_level: Some(RiskLevel::from_wire(catalog::risk_for_score(finding.score))),
        first_seen: Some(clock::date(first_seen)),
        affected_urls: (seen == Seen::External).then(|| CountOrList::Count(prng.range(1, 3))),
        ..Default::default()
    }
}

fn open_port(port: &catalog::Port, name: &str, address: &str) -> OpenPort {
    OpenPort {
        port_number: Some(port.number.to_string()),
        port_description: Some(port.description.to_owned()),
        risk_level: Some(RiskLevel::from_wire(port.risk)),
        target_name: Some(name.to_owned()),
        target_ip: Some(address.to_owned()),
        ..Default::default()
    }
}

/// A web application flaw at `url`.
fn flaw(prng: &mut Prng, alert: &catalog::Alert, url: &str, alert_id: String) -> Flaw {
    let occurrences = prng.range(1, 4);
    let paths = ["", "login", "search", "account/profile", "cart", "api/v1/items"];
    let instances = (0..occurrences)
        .map(|_| FlawInstance {
            uri: Some(format!("{url}{}", prng.pick(&paths))),
            method: Some(if prng.chance(0.7) { "GET" } else { "POST" }.to_owned()),
            param: Some(alert.param.to_owned()),
            attack: Some(alert.attack.to_owned()),
            evidence: Some(alert.evidence.to_owned()),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    Flaw {
        alert_id: Some(alert_id),
        alert_ref: Some(alert.reference.to_owned()),
        alert_name: Some(alert.name.to_owned()),
        risk_level: Some(RiskLevel::from_wire(alert.risk)),
        target: Some(url.to_owned()),
        alert_count: Some(instances.len() as u64),
        alert_desc: Some(alert.description.to_owned()),
        alert_solution: Some(alert.solution.to_owned()),
        references: vec![alert.reference_url.to_owned()],
        instances,
        ..Default::default()
    }
}

/// Rotates a period's list by a varying amount: the order of findings is not part of them.
fn rotate<T>(items: &mut [T], prng: &mut Prng) {
    if !items.is_empty() {
        let by = prng.below(items.len() as u64) as usize;
        items.rotate_left(by);
    }
}

fn scan_id(number: u32, index: u32) -> String {
    format!("{number}{index:03}")
}

fn dated_grades<'a>(items: impl Iterator<Item = (Option<&'a str>, Option<&'a Grade>)>) -> Vec<(i64, Grade)> {
    items.filter_map(|(finished, grade)| Some((parse_scan_time(finished?)?, grade?.clone()))).collect()
}

/// Reads `YYYY-MM-DD HH:MM:SS` back into Unix seconds.
fn parse_scan_time(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let mut date = date.split('-').map(str::parse::<i64>);
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let mut time = time.split(':').map(str::parse::<i64>);
    let (hour, minute, second) = (time.next()?.ok()?, time.next()?.ok()?, time.next()?.ok()?);
    Some(clock::days_from_civil(year, month as u32, day as u32) * DAY + hour * 3600 + minute * 60 + second)
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn rename(object: &mut serde_json::Map<String, Value>, from: &str, to: &str) {
    if let Some(value) = object.remove(from) {
        object.insert(to.to_owned(), value);
    }
}

fn pascal(key: &str) -> String {
    let mut chars = key.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cyrisma_core::types::GradingPeriod;

    fn target(scans: u32) -> ReportingTarget {
        ReportingTarget {
            id: "cc100004".into(),
            number: 100_004,
            seeded_scans: scans,
            extra_scans: Vec::new(),
            grading_period: GradingPeriod::Monthly,
            endpoints: 40,
            periods: Vec::new(),
            days_advanced: 0,
        }
    }

    fn generator() -> Generator {
        Generator::new(3, 20, 1_750_032_000)
    }

    #[test]
    fn summaries_agree_with_details() {
        let generator = generator();
        let target = target(8);
        let scans = generator.vulnerability_scans(&target).vulnerability_scans;
        assert_eq!(scans.len(), 8);
        let codes: std::collections::BTreeSet<_> =
            scans.iter().map(|scan| scan.scan_type.clone().unwrap().to_string()).collect();
        assert_eq!(codes.len(), 4);
        for scan in &scans {
            let plan = generator.find_plan(&target, &scan.scan_id).unwrap();
            let detail = generator.scan_detail(&target, &plan);
            assert_eq!(detail.assets.len(), 20);
            let counts = Generator::counts(&detail.assets);
            assert_eq!(scan.critical_vulnerabilities, Some(counts.critical));
            assert_eq!(scan.vulnerabilities, Some(counts.total()));
            if scan.is_web_application() {
                assert!(detail.assets.iter().all(|asset| asset.vulnerabilities.is_empty() && !asset.flaws.is_empty()));
            } else {
                assert!(detail.assets.iter().all(|asset| asset.flaws.is_empty()));
            }
            for (_, vulnerability) in detail.vulnerabilities() {
                let score = vulnerability.score.unwrap();
                assert_eq!(vulnerability.risk_level.as_ref().unwrap().as_str(), catalog::risk_for_score(score));
            }
        }
        let again = generator.vulnerability_scans(&target);
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", VulnerabilityScans { vulnerability_scans: scans, ..Default::default() })
        );
    }

    /// What a generator answers, as text: its scan list and its dashboards.
    fn answers(generator: &Generator, target: &ReportingTarget) -> String {
        format!(
            "{:?}\n{:?}\n{:?}",
            generator.vulnerability_scans(target),
            generator.overall_dashboard(target),
            generator.vulnerability_dashboard(target)
        )
    }

    #[test]
    fn cached_counts_follow_changes_of_the_state() {
        let cached = generator();
        let mut target = target(8);
        let before = answers(&cached, &target);
        assert_eq!(answers(&cached, &target), before);
        // An advance of the clock with churn, then a rescan without, then an added scan: the
        // generator that cached the earlier answers agrees with a fresh one at every step.
        target.days_advanced = 30;
        target.periods.push(Period { number: 1, presence: 1, day: 30 });
        let advanced = answers(&cached, &target);
        assert_ne!(advanced, before);
        assert_eq!(advanced, answers(&generator(), &target));
        target.days_advanced = 60;
        target.periods.push(Period { number: 2, presence: 1, day: 60 });
        assert_eq!(answers(&cached, &target), answers(&generator(), &target));
        target.extra_scans.push((5, 1_750_032_000 + 61 * DAY));
        assert_eq!(answers(&cached, &target), answers(&generator(), &target));
        assert!(cached.counts.lock().unwrap().len() > 8);
    }

    #[test]
    fn dashboards_have_all_five_areas() {
        let generator = generator();
        let dashboard = generator.overall_dashboard(&target(8));
        for area in dashboard.areas() {
            assert!(area.current.is_some() && area.previous.is_some(), "{area:?}");
        }
        let empty = generator.overall_dashboard(&target(0));
        assert!(empty.areas().iter().all(|area| area.current.is_none()));
    }

    #[test]
    fn cves_match_the_scans() {
        let generator = generator();
        let target = target(8);
        let cves = generator.cves(&target, None).cves;
        assert!(!cves.is_empty());
        let first = &cves[0];
        let one = generator.cves(&target, Some(&first.cve.to_lowercase())).cves;
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].affected_assets, first.affected_assets);
        assert!(generator.cves(&target, Some("CVE-1999-0001")).cves.is_empty());
    }

    #[test]
    fn times_round_trip_and_periods_are_right() {
        assert_eq!(parse_scan_time(&clock::scan_time(1_750_032_123)), Some(1_750_032_123));
        // 2025-06-16: monthly period starts 2025-06-01, previous 2025-05-01.
        let (start, previous) = period_bounds(&GradingPeriod::Monthly, 1_750_032_000);
        assert_eq!(clock::date(start), "2025-06-01");
        assert_eq!(clock::date(previous), "2025-05-01");
        let (start, previous) = period_bounds(&GradingPeriod::Quarterly, 1_738_000_000);
        assert_eq!(clock::date(start), "2025-01-01");
        assert_eq!(clock::date(previous), "2024-10-01");
    }
}
