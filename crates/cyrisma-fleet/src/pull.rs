//! The incremental pull behind the Singer tap (`cyrisma tap`) and the dlt source
//! (`cyrisma.dlt`): the rows of the history dataset's `instances`, `grades`, `scans` and
//! `findings` tables for what is new since the bookmarks, streamed one instance at a time.
//!
//! **Bookmarks.** One per instance: for each scan type of the instance (`vulnerability/<class>`
//! with the class findings are fingerprinted in, `data`, `baseline`), the latest *completed* scan
//! pulled, as its finish time and id ([`ScanMark`]). A scan is new when its `(scan_finished,
//! scan_id)` is greater than its type's mark (the order [`cyrisma_core::export::latest_per_type`]
//! uses). Ids and finish times are the server's text, compared as text.
//!
//! **What a pull emits per instance.** `instances` (one row, with the dashboards' counts) and
//! `grades` (one row per area) every time: they describe the present. `scans`: every completed
//! scan newer than its type's mark (on the first pull, every completed scan listed). `findings`:
//! for a scan type without a mark, the findings of its latest completed scan only (the present
//! state, as `cyrisma snapshot` collects it); for a type with a mark, those of every newer
//! completed scan, oldest first. Findings are keyed by the history's fingerprint; when one pull
//! sees the same fingerprint in two scans, only the newer scan's row is emitted, so a loader
//! merging on the key never gets two rows for one key in a batch.
//!
//! **Advancing.** An instance's bookmark advances only when it was pulled completely and both
//! `scans` and `findings` were asked for; a failed instance, an instance not selected, or a pull
//! of other streams only keeps the bookmark it had (and bookmarks of instances no longer listed
//! are kept too). So a bookmark never moves past data that was not emitted.
//!
//! Memory is bounded by one instance's scan details at a time per concurrent instance: each
//! instance's rows go to the caller's sink as the instance completes.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cyrisma_core::export::{self, AssetFinding, json_number, json_optional, json_string};
use cyrisma_core::history::{AssetFingerprints, AssetIdentity, FindingKind, Fingerprint, FingerprintMap, ScanClass};
use cyrisma_core::types::{
    Asset, BaselineScans, DataDashboard, DataScans, Instance, OverallDashboard, ScanDetail, VulnerabilityDashboard,
    VulnerabilityScan,
};
use cyrisma_dataset::schema::{Column, FINDINGS, FindingRow, GRADES, GradeRow, INSTANCES, InstanceRow, SCANS, ScanRow};
use cyrisma_transport::InstanceClient;
use serde::{Deserialize, Serialize};

use crate::snapshot::{self, Counts};
use crate::{Error, Fleet, InstanceFailure, Progress, Selection};

/// The streams of a pull, in the order it emits them: name, the history dataset's columns of its
/// rows, and its key (what a loader merges on: the findings' fingerprint for findings).
pub const STREAM_TABLES: [(&str, &[Column], &[&str]); 4] = [
    ("instances", INSTANCES, &["instance_id"]),
    ("grades", GRADES, &["instance_id", "area"]),
    ("scans", SCANS, &["instance_id", "scan_kind", "scan_id"]),
    ("findings", FINDINGS, &["fingerprint"]),
];

/// The latest completed scan pulled of one scan type of an instance.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScanMark {
    /// When it finished, as the server sent it.
    pub scan_finished: String,
    /// Its id.
    pub scan_id: String,
}

/// One instance's bookmark: the latest completed scan pulled per scan type
/// (`vulnerability/<class>`, `data`, `baseline`).
pub type InstanceBookmark = BTreeMap<String, ScanMark>;

/// Every instance's bookmark, by instance id. Serialized as a JSON object
/// `{"<instance id>": {"<scan type>": {"scan_finished": "...", "scan_id": "..."}}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bookmarks(pub BTreeMap<String, InstanceBookmark>);

impl Bookmarks {
    /// No bookmark: the first pull.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bookmark of one instance.
    pub fn get(&self, instance_id: &str) -> Option<&InstanceBookmark> {
        self.0.get(instance_id)
    }

    /// How many instances have a bookmark.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no instance has a bookmark.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The streams (tables) a pull produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Streams {
    /// `instances`: one row per pulled instance.
    pub instances: bool,
    /// `grades`: the areas' grades per pulled instance.
    pub grades: bool,
    /// `scans`: the new completed scans.
    pub scans: bool,
    /// `findings`: the new scans' findings.
    pub findings: bool,
}

impl Streams {
    /// Every stream.
    pub const ALL: Streams = Streams { instances: true, grades: true, scans: true, findings: true };
    /// No stream.
    pub const NONE: Streams = Streams { instances: false, grades: false, scans: false, findings: false };

    /// The stream names, in the order a pull emits them.
    pub const NAMES: [&'static str; 4] = ["instances", "grades", "scans", "findings"];

    /// Adds a stream by name; `false` for a name that is not a stream.
    pub fn select(&mut self, name: &str) -> bool {
        match name {
            "instances" => self.instances = true,
            "grades" => self.grades = true,
            "scans" => self.scans = true,
            "findings" => self.findings = true,
            _ => return false,
        }
        true
    }

    /// Whether the named stream is selected.
    pub fn has(&self, name: &str) -> bool {
        match name {
            "instances" => self.instances,
            "grades" => self.grades,
            "scans" => self.scans,
            "findings" => self.findings,
            _ => false,
        }
    }

    /// Whether bookmarks advance: only when both `scans` and `findings` are pulled.
    pub fn advances(&self) -> bool {
        self.scans && self.findings
    }
}

/// The rows of one instance, handed to the sink as the instance completes.
#[derive(Clone, Debug, PartialEq)]
pub struct PullBatch {
    /// The instance id.
    pub instance_id: String,
    /// Its `instances` row (when that stream is selected).
    pub instance: Option<InstanceRow>,
    /// Its `grades` rows.
    pub grades: Vec<GradeRow>,
    /// Its new completed scans, oldest first.
    pub scans: Vec<ScanRow>,
    /// The findings of its new scans, one row per fingerprint.
    pub findings: Vec<FindingRow>,
    /// Its bookmark after this batch (the one it had when bookmarks do not advance).
    pub bookmark: InstanceBookmark,
}

/// What a pull did.
#[derive(Clone, Debug, PartialEq)]
pub struct Pull {
    /// The pull's id, in every row's `run_id` (the form of the dataset's run ids).
    pub pull_id: String,
    /// The bookmarks to give the next pull: the old ones, advanced for the instances pulled.
    pub bookmarks: Bookmarks,
    /// Instances pulled completely.
    pub pulled: usize,
    /// The instances that failed (their bookmarks did not move), and explicit ids not listed.
    pub failures: Vec<InstanceFailure>,
    /// Finding rows emitted.
    pub findings: u64,
}

/// What was fetched from one instance.
struct Fetched {
    overall: Option<OverallDashboard>,
    counts: Option<(VulnerabilityDashboard, DataDashboard)>,
    /// Completed vulnerability scans newer than their mark, oldest first, each with its key and
    /// its detail when its findings are collected.
    vulnerability: Vec<(String, VulnerabilityScan, Option<ScanDetail>)>,
    data: Option<DataScans>,
    baseline: Option<BaselineScans>,
}

/// The bookmark key of a vulnerability scan.
fn vulnerability_key(scan: &VulnerabilityScan) -> String {
    format!("vulnerability/{}", ScanClass::of(scan.scan_type.as_ref()).as_str())
}

/// A completed scan's mark (`None`: not completed).
fn mark_of(scan_id: &str, finished: Option<&str>) -> Option<ScanMark> {
    let finished = finished.map(str::trim).filter(|finished| !finished.is_empty())?;
    Some(ScanMark { scan_finished: finished.to_owned(), scan_id: scan_id.to_owned() })
}

fn is_new(mark: &ScanMark, old: Option<&InstanceBookmark>, key: &str) -> bool {
    old.and_then(|old| old.get(key)).is_none_or(|seen| mark > seen)
}

async fn fetch(
    instance: InstanceClient,
    old: Option<InstanceBookmark>,
    streams: Streams,
) -> Result<Fetched, cyrisma_transport::Error> {
    use futures_util::future::{OptionFuture, try_join5};
    let want_counts = streams.instances;
    let overall: OptionFuture<_> = streams.grades.then(|| instance.dashboard_overall()).into();
    let vulnerability_dashboard: OptionFuture<_> = want_counts.then(|| instance.dashboard_vulnerability()).into();
    let data_dashboard: OptionFuture<_> = want_counts.then(|| instance.dashboard_data()).into();
    let scans: OptionFuture<_> = (streams.scans || streams.findings).then(|| instance.vulnerability_scans()).into();
    let others: OptionFuture<_> =
        streams.scans.then(|| futures_util::future::try_join(instance.data_scans(), instance.baseline_scans())).into();
    let (overall, vulnerability_dashboard, data_dashboard, scans, others) = try_join5(
        async { overall.await.transpose() },
        async { vulnerability_dashboard.await.transpose() },
        async { data_dashboard.await.transpose() },
        async { scans.await.transpose() },
        async { others.await.transpose() },
    )
    .await?;

    // The new completed vulnerability scans, oldest first, and which of them to collect.
    let mut new: Vec<(String, ScanMark, VulnerabilityScan)> = Vec::new();
    for scan in scans.map(|scans| scans.vulnerability_scans).unwrap_or_default() {
        let key = vulnerability_key(&scan);
        let Some(mark) = mark_of(&scan.scan_id, scan.scan_finished.as_deref()) else { continue };
        if is_new(&mark, old.as_ref(), &key) {
            new.push((key, mark, scan));
        }
    }
    new.sort_by(|a, b| a.1.cmp(&b.1));
    // A type without a mark: only its latest completed scan's findings (the last one in order).
    let mut latest: BTreeMap<&str, &ScanMark> = BTreeMap::new();
    for (key, mark, _) in &new {
        if old.as_ref().and_then(|old| old.get(key)).is_none() {
            latest.insert(key, mark);
        }
    }
    let collect = |key: &str, mark: &ScanMark| streams.findings && latest.get(key).is_none_or(|latest| *latest == mark);
    let chosen: Vec<bool> = new.iter().map(|(key, mark, _)| collect(key, mark)).collect();
    drop(latest);
    let details = futures_util::future::try_join_all(
        new.iter()
            .zip(&chosen)
            .filter(|(_, chosen)| **chosen)
            .map(|((_, _, scan), _)| instance.vulnerability_scan(&scan.scan_id)),
    )
    .await?;
    let mut details = details.into_iter();
    let vulnerability = new
        .into_iter()
        .zip(chosen)
        .map(|((key, _, scan), chosen)| (key, scan, if chosen { details.next() } else { None }))
        .collect();
    let (data, baseline) = others.map_or((None, None), |(data, baseline)| (Some(data), Some(baseline)));
    Ok(Fetched { overall, counts: vulnerability_dashboard.zip(data_dashboard), vulnerability, data, baseline })
}

/// The rows and the advanced bookmark of one fetched instance.
fn rows(
    pull_id: &str,
    instance_id: &str,
    listed: Option<&Instance>,
    old: Option<&InstanceBookmark>,
    streams: Streams,
    fetched: &Fetched,
) -> PullBatch {
    let mut bookmark = old.cloned().unwrap_or_default();
    let mut advance = |key: &str, mark: ScanMark| {
        if bookmark.get(key).is_none_or(|seen| &mark > seen) {
            bookmark.insert(key.to_owned(), mark);
        }
    };
    let instance = streams.instances.then(|| {
        let counts = fetched.counts.as_ref().map(|(vulnerability, data)| Counts::of(vulnerability, data));
        let fallback = Instance { instance_id: instance_id.to_owned(), ..Instance::default() };
        snapshot::instance_row(pull_id, listed.unwrap_or(&fallback), true, counts)
    });
    let grades = match (&fetched.overall, streams.grades) {
        (Some(overall), true) => snapshot::grade_rows(pull_id, instance_id, overall),
        _ => Vec::new(),
    };

    let mut scans = Vec::new();
    for (key, scan, detail) in &fetched.vulnerability {
        if let Some(mark) = mark_of(&scan.scan_id, scan.scan_finished.as_deref()) {
            advance(key, mark);
        }
        if streams.scans {
            scans.push(snapshot::vulnerability_scan_row(pull_id, instance_id, scan, detail.is_some(), detail.as_ref()));
        }
    }
    let mut others: Vec<(ScanMark, ScanRow)> = Vec::new();
    for scan in fetched.data.iter().flat_map(|scans| &scans.data_scans) {
        if let Some(mark) =
            mark_of(&scan.scan_id, scan.scan_finished.as_deref()).filter(|mark| is_new(mark, old, "data"))
        {
            advance("data", mark.clone());
            others.push((mark, snapshot::data_scan_row(pull_id, instance_id, scan)));
        }
    }
    for scan in fetched.baseline.iter().flat_map(|scans| &scans.baseline_scans) {
        if let Some(mark) =
            mark_of(&scan.scan_id, scan.scan_finished.as_deref()).filter(|mark| is_new(mark, old, "baseline"))
        {
            advance("baseline", mark.clone());
            others.push((mark, snapshot::baseline_scan_row(pull_id, instance_id, scan)));
        }
    }
    others.sort_by(|a, b| a.0.cmp(&b.0));
    scans.extend(others.into_iter().map(|(_, row)| row));

    if !streams.advances() {
        bookmark = old.cloned().unwrap_or_default();
    }
    PullBatch { instance_id: instance_id.to_owned(), instance, grades, scans, findings: Vec::new(), bookmark }
}

/// The asset identity findings are fingerprinted with (as `cyrisma snapshot` takes it).
fn asset_identity(asset: &Asset) -> AssetIdentity {
    let url = asset.flaws.iter().find_map(|flaw| flaw.target.as_deref());
    AssetIdentity::of(asset.identifier(), asset.ip_address.as_deref(), url.or(asset.name.as_deref()))
}

/// One scan whose findings a pull collects, and its class.
struct PulledScan<'a> {
    scan: &'a VulnerabilityScan,
    class: ScanClass,
}

/// One asset of a collected scan, and its identity as stored (`asset_key`).
struct PulledAsset<'a> {
    scan: usize,
    asset: &'a Asset,
    key: String,
}

/// One finding of an asset, with what the row adds: its rule and fingerprint.
struct PulledFinding<'a> {
    asset: usize,
    finding: AssetFinding<'a>,
    kind: FindingKind,
    rule: Cow<'a, str>,
    fingerprint: Fingerprint,
}

/// The `findings` rows of one pulled instance, borrowed from its parsed scan details: one per
/// fingerprint (when two scans share one, the newer scan's row, in the place of the first).
/// [`to_rows`](Self::to_rows) makes the owned rows; [`encode_json`](Self::encode_json) encodes
/// them as JSON without making them.
pub struct PulledFindings<'a> {
    pull_id: &'a str,
    instance_id: &'a str,
    scans: Vec<PulledScan<'a>>,
    assets: Vec<PulledAsset<'a>>,
    rows: Vec<PulledFinding<'a>>,
}

impl<'a> PulledFindings<'a> {
    /// The findings of the collected scans (those with a detail), in order.
    fn of(
        pull_id: &'a str,
        instance_id: &'a str,
        vulnerability: &'a [(String, VulnerabilityScan, Option<ScanDetail>)],
    ) -> Self {
        let mut findings = Self { pull_id, instance_id, scans: Vec::new(), assets: Vec::new(), rows: Vec::new() };
        let details = vulnerability.iter().filter_map(|(_, _, detail)| detail.as_ref());
        let (assets, rows) = details.fold((0, 0), |(assets, rows), detail| {
            let found = detail.assets.iter().map(export::asset_finding_count).sum::<usize>();
            (assets + detail.assets.len(), rows + found)
        });
        findings.assets.reserve_exact(assets);
        findings.rows.reserve_exact(rows);
        let mut at: FingerprintMap<usize> = FingerprintMap::default();
        at.reserve(rows);
        for (_, scan, detail) in vulnerability {
            let Some(detail) = detail else { continue };
            let scan_index = findings.scans.len();
            let class = ScanClass::of(scan.scan_type.as_ref());
            for asset in &detail.assets {
                let key = asset_identity(asset).key();
                let prints = AssetFingerprints::new(instance_id, &key, &class);
                let asset_index = findings.assets.len();
                findings.assets.push(PulledAsset { scan: scan_index, asset, key });
                for finding in export::asset_findings(asset) {
                    let kind = FindingKind::from_name(finding.kind).unwrap_or(FindingKind::Vulnerability);
                    let rule = kind.rule_of(finding.finding);
                    let fingerprint = prints.of(kind, &rule);
                    let row = PulledFinding { asset: asset_index, finding, kind, rule, fingerprint };
                    match at.entry(fingerprint) {
                        Entry::Occupied(entry) => findings.rows[*entry.get()] = row,
                        Entry::Vacant(entry) => {
                            entry.insert(findings.rows.len());
                            findings.rows.push(row);
                        }
                    }
                }
            }
            findings.scans.push(PulledScan { scan, class });
        }
        findings
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The owned rows.
    pub fn to_rows(&self) -> Vec<FindingRow> {
        self.rows
            .iter()
            .map(|row| {
                let asset = &self.assets[row.asset];
                let scan = &self.scans[asset.scan];
                FindingRow {
                    run_id: self.pull_id.to_owned(),
                    instance_id: self.instance_id.to_owned(),
                    scan_id: scan.scan.scan_id.clone(),
                    scan_class: scan.class.as_str().to_owned(),
                    asset_key: asset.key.clone(),
                    asset_id: asset.asset.identifier().map(str::to_owned),
                    asset_name: asset.asset.name.clone(),
                    asset_address: asset.asset.ip_address.clone(),
                    kind: row.kind.as_str().to_owned(),
                    rule: row.rule.clone().into_owned(),
                    risk_level: row.finding.risk_level.map(str::to_owned),
                    score: row.finding.score,
                    title: row.finding.title.map(str::to_owned),
                    first_seen: row.finding.first_seen.map(str::to_owned),
                    fingerprint: row.fingerprint.to_hex(),
                }
            })
            .collect()
    }

    /// Encodes every row at the end of `out` as `before`, the row as compact JSON (the bytes
    /// `serde_json` writes for its [`FindingRow`]), then `after`. The columns an asset's rows
    /// share are encoded once per asset.
    pub fn encode_json(&self, before: &[u8], after: &[u8], out: &mut Vec<u8>) {
        // Each asset's leading columns, back to back; `ends[i]` is where asset i's end.
        let mut heads = Vec::with_capacity(self.assets.len() * 160);
        let mut ends = Vec::with_capacity(self.assets.len());
        for asset in &self.assets {
            let scan = &self.scans[asset.scan];
            heads.extend_from_slice(b"{\"run_id\":");
            json_string(self.pull_id, &mut heads);
            heads.extend_from_slice(b",\"instance_id\":");
            json_string(self.instance_id, &mut heads);
            heads.extend_from_slice(b",\"scan_id\":");
            json_string(&scan.scan.scan_id, &mut heads);
            heads.extend_from_slice(b",\"scan_class\":");
            json_string(scan.class.as_str(), &mut heads);
            heads.extend_from_slice(b",\"asset_key\":");
            json_string(&asset.key, &mut heads);
            heads.extend_from_slice(b",\"asset_id\":");
            json_optional(asset.asset.identifier(), &mut heads);
            heads.extend_from_slice(b",\"asset_name\":");
            json_optional(asset.asset.name.as_deref(), &mut heads);
            heads.extend_from_slice(b",\"asset_address\":");
            json_optional(asset.asset.ip_address.as_deref(), &mut heads);
            heads.extend_from_slice(b",\"kind\":");
            ends.push(heads.len());
        }
        for row in &self.rows {
            let start = if row.asset == 0 { 0 } else { ends[row.asset - 1] };
            out.extend_from_slice(before);
            out.extend_from_slice(&heads[start..ends[row.asset]]);
            json_string(row.kind.as_str(), out);
            out.extend_from_slice(b",\"rule\":");
            json_string(&row.rule, out);
            out.extend_from_slice(b",\"risk_level\":");
            json_optional(row.finding.risk_level, out);
            out.extend_from_slice(b",\"score\":");
            json_number(row.finding.score, out);
            out.extend_from_slice(b",\"title\":");
            json_optional(row.finding.title, out);
            out.extend_from_slice(b",\"first_seen\":");
            json_optional(row.finding.first_seen, out);
            out.extend_from_slice(b",\"fingerprint\":\"");
            out.extend_from_slice(&row.fingerprint.hex_digits());
            out.extend_from_slice(b"\"}");
            out.extend_from_slice(after);
        }
    }
}

/// One pulled instance as [`Fleet::pull_borrowed`] hands it to its sink: the batch
/// without its findings, and the findings borrowed from the scan details.
pub struct PulledInstance<'a> {
    /// The instance's rows but findings (`batch.findings` is empty), and its bookmark.
    pub batch: PullBatch,
    /// Its findings.
    pub findings: PulledFindings<'a>,
}

impl Fleet {
    /// Pulls what is new since `bookmarks` from the selected instances: each instance's rows go
    /// to `sink` as it completes (an error from the sink stops the pull). Returns the advanced
    /// bookmarks and the failure records; see the [module docs](self) for the rules.
    pub async fn pull(
        &self,
        selection: &Selection,
        bookmarks: &Bookmarks,
        streams: Streams,
        progress: impl FnMut(Progress),
        mut sink: impl FnMut(PullBatch) -> Result<(), Error>,
    ) -> Result<Pull, Error> {
        self.pull_borrowed(selection, bookmarks, streams, progress, |pulled| {
            let PulledInstance { mut batch, findings } = pulled;
            batch.findings = findings.to_rows();
            sink(batch)
        })
        .await
    }

    /// [`pull`](Self::pull), with each instance's findings borrowed from its scan details rather
    /// than made into owned rows: for a sink that encodes them straight away (the Singer tap).
    pub async fn pull_borrowed(
        &self,
        selection: &Selection,
        bookmarks: &Bookmarks,
        streams: Streams,
        progress: impl FnMut(Progress),
        mut sink: impl FnMut(PulledInstance<'_>) -> Result<(), Error>,
    ) -> Result<Pull, Error> {
        let pull_id = cyrisma_dataset::run_id(snapshot::now_micros(), fastrand::u32(..));
        let structure: HashMap<String, Instance> = if streams.instances {
            self.client()
                .instances()
                .list()
                .await?
                .into_iter()
                .map(|instance| (instance.instance_id.clone(), instance))
                .collect()
        } else {
            HashMap::new()
        };
        let shared = Arc::new(bookmarks.clone());
        let mut next = bookmarks.clone();
        let mut findings = 0u64;
        let outcome = self
            .run(
                selection,
                move |instance: InstanceClient| {
                    let old = shared.get(instance.id()).cloned();
                    fetch(instance, old, streams)
                },
                progress,
                |instance_id, _, fetched| {
                    let old = bookmarks.get(instance_id);
                    let batch = rows(&pull_id, instance_id, structure.get(instance_id), old, streams, &fetched);
                    let found = PulledFindings::of(&pull_id, instance_id, &fetched.vulnerability);
                    findings += found.len() as u64;
                    if streams.advances() {
                        next.0.insert(instance_id.to_owned(), batch.bookmark.clone());
                    }
                    sink(PulledInstance { batch, findings: found })
                },
            )
            .await?;
        Ok(Pull { pull_id, bookmarks: next, pulled: outcome.succeeded.len(), failures: outcome.failures, findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(id: &str, kind: &str, finished: &str) -> VulnerabilityScan {
        serde_json::from_value(serde_json::json!({"scanId": id, "scanType": kind, "scanFinished": finished})).unwrap()
    }

    /// Two scans of one class sharing findings (a CVE in other case, a port with leading zeros),
    /// a web scan whose assets are known by URL or by nothing, a scan without a detail, and text
    /// that needs escaping.
    fn fetched() -> Vec<(String, VulnerabilityScan, Option<ScanDetail>)> {
        let older: ScanDetail = serde_json::from_value(serde_json::json!({"assets": [
            {"assetId": "a1", "name": "pc \"one\"", "ipAddress": "10.0.0.1", "vulnerabilities": [
                {"cve": "cve-2024-1", "title": "old title", "score": 5.5, "riskLevel": "High", "firstSeen": "2026-01-01"},
                {"cve": "CVE-2024-2", "title": "tab\there\u{1b}", "score": 7.0}
            ], "openPorts": [{"portNumber": "0443", "portDescription": "https"}]},
            {"ipAddress": "::ffff:10.0.0.9", "vulnerabilities": [{"cve": "CVE-2024-3"}]}
        ]}))
        .unwrap();
        let newer: ScanDetail = serde_json::from_value(serde_json::json!({"assets": [
            {"assetId": "a1", "name": "pc \"one\"", "ipAddress": "10.0.0.1", "vulnerabilities": [
                {"cve": "CVE-2024-1", "title": "new title é", "score": 6.0}
            ], "openPorts": [{"portNumber": "443", "portDescription": "https", "riskLevel": "Low"}]},
            {"id": "a2", "vulnerabilities": [{"cve": "CVE-2024-4", "score": 1e-7}]}
        ]}))
        .unwrap();
        let web: ScanDetail = serde_json::from_value(serde_json::json!({"assets": [
            {"name": "site", "flaws": [{"alertRef": "10020-1", "alertName": "header", "target": "HTTPS://Example.COM:443/a?b"}]},
            {"flaws": [{"alertId": "7"}]}
        ]}))
        .unwrap();
        vec![
            ("vulnerability/external_ip".into(), scan("s1", "3", "2026-01-01T00:00:00Z"), Some(older)),
            ("vulnerability/external_ip".into(), scan("s2", "3", "2026-02-01T00:00:00Z"), Some(newer)),
            ("vulnerability/internal_authenticated".into(), scan("s3", "1", "2026-02-02T00:00:00Z"), None),
            ("vulnerability/external_web_application".into(), scan("s4", "4", "2026-02-03T00:00:00Z"), Some(web)),
        ]
    }

    /// The rows as `cyrisma snapshot` makes them, one per fingerprint: the newer scan's row in
    /// the place of the first one seen.
    fn snapshot_rows(
        run_id: &str,
        instance_id: &str,
        fetched: &[(String, VulnerabilityScan, Option<ScanDetail>)],
    ) -> Vec<FindingRow> {
        let mut rows: Vec<FindingRow> = Vec::new();
        for (_, scan, detail) in fetched {
            let Some(detail) = detail else { continue };
            let mut found = Vec::new();
            snapshot::scan_findings(run_id, instance_id, scan, detail, |row| found.push(row.to_row()));
            for row in found {
                match rows.iter().position(|seen| seen.fingerprint == row.fingerprint) {
                    Some(at) => rows[at] = row,
                    None => rows.push(row),
                }
            }
        }
        rows
    }

    #[test]
    fn the_findings_are_the_snapshot_rows_one_per_fingerprint_the_newest_in_the_first_place() {
        let fetched = fetched();
        let found = PulledFindings::of("r1", "cc1", &fetched);
        let expected = snapshot_rows("r1", "cc1", &fetched);
        assert_eq!(found.to_rows(), expected);
        assert_eq!(found.len(), expected.len());
        // 9 findings in the details, two of them seen again in the newer scan.
        assert_eq!(found.len(), 7);
        let cve1 = expected.iter().find(|row| row.rule == "CVE-2024-1").unwrap();
        assert_eq!((cve1.scan_id.as_str(), cve1.title.as_deref()), ("s2", Some("new title é")));
        assert_eq!(expected[0].rule, "CVE-2024-1", "in the place of the first one seen");
    }

    #[test]
    fn the_encoded_findings_are_what_serde_json_writes_for_the_rows() {
        let fetched = fetched();
        let found = PulledFindings::of("r\"1", "cc1", &fetched);
        let mut encoded = b"start\n".to_vec();
        found.encode_json(b"{\"record\":", b"}\n", &mut encoded);
        let mut expected = b"start\n".to_vec();
        for row in found.to_rows() {
            expected.extend_from_slice(b"{\"record\":");
            expected.extend_from_slice(&serde_json::to_vec(&row).unwrap());
            expected.extend_from_slice(b"}\n");
        }
        assert_eq!(String::from_utf8(encoded).unwrap(), String::from_utf8(expected).unwrap());
    }

    #[test]
    fn no_details_no_findings() {
        let mut fetched = fetched();
        for (_, _, detail) in &mut fetched {
            *detail = None;
        }
        let found = PulledFindings::of("r1", "cc1", &fetched);
        assert!(found.is_empty());
        let mut encoded = Vec::new();
        found.encode_json(b"[", b"]", &mut encoded);
        assert!(encoded.is_empty());
    }
}
