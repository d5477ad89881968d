//! The snapshot: one run pulled from every selected instance into the history dataset.
//!
//! Per instance: the overall, vulnerability and data dashboards (the five areas' grades and the
//! counts), the vulnerability, data and baseline scan lists, and the details of the latest
//! completed vulnerability scan of each type, whose findings are fingerprinted
//! (`cyrisma_core::history`) and whose assets are recorded as covered. Once every instance is
//! done, the structure, each instance's outcome and the usage rows are added and the run is
//! committed (`cyrisma_dataset::RunWriter`): it becomes visible whole, or not at all.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cyrisma_core::export::{self, scan_type_label};
use cyrisma_core::history::{AssetFingerprints, AssetIdentity, FindingKind, ScanClass};
use cyrisma_core::types::{
    Asset, BaselineScan, BaselineScans, DataDashboard, DataScan, DataScans, Grade, Instance, OverallDashboard,
    ScanDetail, VulnerabilityDashboard, VulnerabilityScan, VulnerabilityScans,
};
use cyrisma_core::usage::usage_rows;
use cyrisma_dataset::lent::{FindingColumns, FindingRef};
use cyrisma_dataset::schema::{CoverageRow, GradeRow, InstanceRow, OutcomeRow, RunRow, ScanRow, UsageRow};
use cyrisma_dataset::write::{RunCounts, TableRow};
use cyrisma_dataset::{Dataset, RunWriter};
use cyrisma_transport::InstanceClient;

use crate::{Error, Fleet, InstanceFailure, Progress, RunSummary, Selection};

/// The grade areas as the dataset names them, by the overall dashboard's keys.
const AREAS: &[(&str, &str)] =
    &[("or", "overall"), ("vn", "vulnerability"), ("ds", "data"), ("sb", "baseline"), ("cp", "compliance")];

/// What a snapshot wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The run's `runs` row (its id, times and counts).
    pub run: RunRow,
    /// The instances that failed, and explicit ids not in the structure, in id order.
    pub failures: Vec<InstanceFailure>,
    /// Findings written.
    pub findings: u64,
}

impl Snapshot {
    /// The run's line of `cyrisma history runs`, from what the snapshot wrote: the same row as
    /// [`History::runs`](crate::History::runs) reads back for it, without reading the run's
    /// files again (counting the findings there means reading their fingerprints, which made a
    /// snapshot's peak memory grow with its number of findings).
    pub fn summary(&self) -> RunSummary {
        let failed = self.failures.iter().map(|failure| failure.instance_id.as_str()).collect();
        RunSummary::of(&self.run, self.findings, failed)
    }
}

/// Everything pulled from one instance.
struct Pulled {
    overall: OverallDashboard,
    vulnerability: VulnerabilityDashboard,
    data: DataDashboard,
    vulnerability_scans: VulnerabilityScans,
    data_scans: DataScans,
    baseline_scans: BaselineScans,
    details: Vec<(VulnerabilityScan, ScanDetail)>,
}

/// Dashboard counts kept per pulled instance for its `instances` row.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    critical: Option<i64>,
    high: Option<i64>,
    medium: Option<i64>,
    low: Option<i64>,
    sensitive_files: Option<i64>,
}

impl Counts {
    /// The counts of an instance's vulnerability and data dashboards.
    pub(crate) fn of(vulnerability: &VulnerabilityDashboard, data: &DataDashboard) -> Self {
        Counts {
            critical: count(vulnerability.critical),
            high: count(vulnerability.high),
            medium: count(vulnerability.medium),
            low: count(vulnerability.low),
            sensitive_files: count(data.sensitive_files),
        }
    }
}

pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX))
}

/// A count as the dataset stores it: counts past `i64::MAX` saturate.
pub(crate) fn count(value: Option<u64>) -> Option<i64> {
    value.map(|value| i64::try_from(value).unwrap_or(i64::MAX))
}

fn grade(grade: Option<&Grade>) -> Option<String> {
    grade.map(|grade| grade.as_str().to_owned()).filter(|grade| !grade.is_empty())
}

pub(crate) fn completed(scan: &VulnerabilityScan) -> bool {
    scan.scan_finished.as_deref().is_some_and(|finished| !finished.trim().is_empty())
}

async fn pull(instance: InstanceClient) -> Result<Pulled, cyrisma_transport::Error> {
    use futures_util::future::{try_join, try_join3};
    // The findings' calls are the long chain (the scan list, then the details): they go first,
    // and each detail is asked for as soon as the list is in, while the dashboards and the other
    // scan lists are still on their way (not after them).
    let findings = async {
        let vulnerability_scans = instance.vulnerability_scans().await?;
        let latest = export::latest_per_type(
            vulnerability_scans.vulnerability_scans.iter().filter(|scan| completed(scan)).cloned().collect(),
        );
        let details =
            futures_util::future::try_join_all(latest.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
                .await?;
        Ok((vulnerability_scans, latest.into_iter().zip(details).collect()))
    };
    let ((vulnerability_scans, details), (overall, vulnerability, data), (data_scans, baseline_scans)) = try_join3(
        findings,
        try_join3(instance.dashboard_overall(), instance.dashboard_vulnerability(), instance.dashboard_data()),
        try_join(instance.data_scans(), instance.baseline_scans()),
    )
    .await?;
    Ok(Pulled { overall, vulnerability, data, vulnerability_scans, data_scans, baseline_scans, details })
}

/// The identity of an asset of a scan detail (web application flaws fall back to their target).
fn asset_identity(asset: &Asset) -> AssetIdentity {
    let url = asset.flaws.iter().find_map(|flaw| flaw.target.as_deref());
    AssetIdentity::of(asset.identifier(), asset.ip_address.as_deref(), url.or(asset.name.as_deref()))
}

/// Pulled instances that may wait for the writer thread.
const QUEUED: usize = 8;

/// The writer thread stopped (on an error it returns itself).
struct WriterStopped;

impl From<WriterStopped> for Error {
    fn from(_: WriterStopped) -> Self {
        Error::Target("the snapshot's writer stopped".into())
    }
}

/// Rows of a small table held back before they go to the run's file: one write per table and
/// instance (a handful of grades and scans) costs per column and per call, so the grades, scans
/// and coverage rows of several instances are written together, at most this many at a time,
/// each batch as a row group of its own: an unfinished row group of these tables (its
/// dictionaries of ever more distinct asset keys and scan ids) would grow with the number of
/// instances, and so would the snapshot's peak memory. An instance's findings (hundreds of rows)
/// are written as it comes, lent from its scan details: held back, they would only add to the
/// peak memory.
const WRITE_ROWS: usize = 4096;

/// The rows of pulled instances not written yet, table by table (each in the order the
/// instances completed).
#[derive(Default)]
struct Pending {
    grades: Vec<GradeRow>,
    scans: Vec<ScanRow>,
    coverage: Vec<CoverageRow>,
}

/// Writes `rows` as a row group when there are [`WRITE_ROWS`] of them, or any at all when `all`.
fn write_pending<R: TableRow>(writer: &mut RunWriter, rows: &mut Vec<R>, all: bool) -> Result<(), Error> {
    if rows.len() >= WRITE_ROWS || (all && !rows.is_empty()) {
        writer.write_row_group(rows)?;
        rows.clear();
    }
    Ok(())
}

impl Pending {
    /// Adds the rows of one pulled instance and writes its findings; returns how many.
    fn add(&mut self, writer: &mut RunWriter, run_id: &str, instance_id: &str, pulled: &Pulled) -> Result<u64, Error> {
        self.grades.extend(grade_rows(run_id, instance_id, &pulled.overall));

        for scan in &pulled.vulnerability_scans.vulnerability_scans {
            let detail =
                pulled.details.iter().find(|(chosen, _)| chosen.scan_id == scan.scan_id).map(|(_, detail)| detail);
            self.scans.push(vulnerability_scan_row(run_id, instance_id, scan, detail.is_some(), detail));
        }
        self.scans.extend(pulled.data_scans.data_scans.iter().map(|scan| data_scan_row(run_id, instance_id, scan)));
        self.scans.extend(
            pulled.baseline_scans.baseline_scans.iter().map(|scan| baseline_scan_row(run_id, instance_id, scan)),
        );

        // The findings go straight into the table's columns as they are fingerprinted: no row
        // is kept (nor copied) in between.
        let count = pulled.details.iter().flat_map(|(_, detail)| &detail.assets).map(export::asset_finding_count).sum();
        let mut columns: Option<FindingColumns> = None;
        let mut covered = Vec::with_capacity(pulled.details.len());
        for (scan, detail) in &pulled.details {
            let (class, keys) = scan_findings(run_id, instance_id, scan, detail, |row| {
                columns.get_or_insert_with(|| FindingColumns::with_capacity(count, Some(row))).push(row);
            });
            covered.push((&scan.scan_id, class, keys));
        }
        let written = columns.as_ref().map_or(0, FindingColumns::len) as u64;
        if let Some(columns) = columns {
            writer.write_columns::<FindingRef<'_>>(columns.finish())?;
        }
        // The assets' keys move into the coverage rows (rather than a copy of each).
        for (scan_id, class, keys) in covered {
            self.coverage.extend(keys.into_iter().map(|asset_key| CoverageRow {
                run_id: run_id.to_owned(),
                instance_id: instance_id.to_owned(),
                scan_class: class.as_str().to_owned(),
                scan_id: scan_id.clone(),
                asset_key,
            }));
        }
        Ok(written)
    }

    /// Writes the tables that have [`WRITE_ROWS`] rows waiting (every waiting row when `all`).
    fn write(&mut self, writer: &mut RunWriter, all: bool) -> Result<(), Error> {
        write_pending(writer, &mut self.grades, all)?;
        write_pending(writer, &mut self.scans, all)?;
        write_pending(writer, &mut self.coverage, all)
    }
}

/// The `grades` rows of an instance's overall dashboard: one per area it reports.
pub(crate) fn grade_rows(run_id: &str, instance_id: &str, overall: &OverallDashboard) -> Vec<GradeRow> {
    let grading_period = overall.grading_period.as_ref().map(|period| period.as_str().to_owned());
    AREAS
        .iter()
        .filter_map(|(key, area)| {
            let grades = overall.area(key)?;
            Some(GradeRow {
                run_id: run_id.to_owned(),
                instance_id: instance_id.to_owned(),
                area: (*area).to_owned(),
                current_grade: grade(grades.current),
                previous_grade: grade(grades.previous),
                grading_period: grading_period.clone(),
            })
        })
        .collect()
}

/// The `scans` row of a vulnerability scan; `detail` when its findings were collected.
pub(crate) fn vulnerability_scan_row(
    run_id: &str,
    instance_id: &str,
    scan: &VulnerabilityScan,
    collected: bool,
    detail: Option<&ScanDetail>,
) -> ScanRow {
    ScanRow {
        run_id: run_id.to_owned(),
        instance_id: instance_id.to_owned(),
        scan_kind: "vulnerability".into(),
        scan_id: scan.scan_id.clone(),
        scan_class: Some(ScanClass::of(scan.scan_type.as_ref()).as_str().to_owned()),
        scan_name: scan.scan_name.clone().or_else(|| scan_type_label(scan).map(str::to_owned)),
        scan_started: scan.scan_started.clone(),
        scan_finished: scan.scan_finished.clone(),
        grade: grade(scan.grade_alpha.as_ref()),
        critical: count(scan.critical_vulnerabilities),
        high: count(scan.high_vulnerabilities),
        medium: count(scan.medium_vulnerabilities),
        low: count(scan.low_vulnerabilities),
        collected,
        assets: detail.map(|detail| i64::try_from(detail.assets.len()).unwrap_or(i64::MAX)),
        ..ScanRow::default()
    }
}

/// The `scans` row of a data scan.
pub(crate) fn data_scan_row(run_id: &str, instance_id: &str, scan: &DataScan) -> ScanRow {
    ScanRow {
        run_id: run_id.to_owned(),
        instance_id: instance_id.to_owned(),
        scan_kind: "data".into(),
        scan_id: scan.scan_id.clone(),
        scan_name: scan.scan_name.clone(),
        scan_started: scan.scan_started.clone(),
        scan_finished: scan.scan_finished.clone(),
        grade: grade(scan.grade_alpha.as_ref()),
        files_scanned: count(scan.files_scanned),
        sensitive_files: count(scan.sensitive_files),
        ..ScanRow::default()
    }
}

/// The `scans` row of a baseline scan.
pub(crate) fn baseline_scan_row(run_id: &str, instance_id: &str, scan: &BaselineScan) -> ScanRow {
    ScanRow {
        run_id: run_id.to_owned(),
        instance_id: instance_id.to_owned(),
        scan_kind: "baseline".into(),
        scan_id: scan.scan_id.clone(),
        scan_name: scan.scan_name.clone(),
        scan_started: scan.scan_started.clone(),
        scan_finished: scan.scan_finished.clone(),
        grade: grade(scan.grade_alpha.as_ref()),
        passed_checks: count(scan.passed_checks),
        failed_checks: count(scan.failed_checks),
        ..ScanRow::default()
    }
}

/// Fingerprints the findings of `detail`, the detail of `scan` on `instance_id`, and lends each
/// one's `findings` row to `each`, in the detail's order (asset by asset, as
/// `export::asset_findings` lists them), with no owned string per field per finding. Returns the
/// scan's class and the keys of its assets, findings or not (what its `coverage` rows record).
pub(crate) fn scan_findings(
    run_id: &str,
    instance_id: &str,
    scan: &VulnerabilityScan,
    detail: &ScanDetail,
    mut each: impl FnMut(&FindingRef<'_>),
) -> (ScanClass, Vec<String>) {
    let class = ScanClass::of(scan.scan_type.as_ref());
    let mut keys = Vec::with_capacity(detail.assets.len());
    for asset in &detail.assets {
        let key = asset_identity(asset).key();
        let prints = AssetFingerprints::new(instance_id, &key, &class);
        for finding in export::asset_findings(asset) {
            let kind = FindingKind::from_name(finding.kind).unwrap_or(FindingKind::Vulnerability);
            let rule = kind.rule_of(finding.finding);
            each(&FindingRef {
                run_id,
                instance_id,
                scan_id: &scan.scan_id,
                scan_class: class.as_str(),
                asset_key: &key,
                asset_id: asset.identifier(),
                asset_name: asset.name.as_deref(),
                asset_address: asset.ip_address.as_deref(),
                kind: kind.as_str(),
                rule: &rule,
                risk_level: finding.risk_level,
                score: finding.score,
                title: finding.title,
                first_seen: finding.first_seen,
                fingerprint: prints.of(kind, &rule),
            });
        }
        keys.push(key);
    }
    (class, keys)
}

pub(crate) fn instance_row(run_id: &str, instance: &Instance, selected: bool, counts: Option<Counts>) -> InstanceRow {
    let counts = counts.unwrap_or_default();
    InstanceRow {
        run_id: run_id.to_owned(),
        instance_id: instance.instance_id.clone(),
        name: instance.name.clone(),
        short_name: instance.short_name.clone(),
        parent_id: instance.parent_id.clone(),
        instance_type: instance.instance_type.as_ref().map(|kind| kind.as_str().to_owned()),
        status: instance.status.as_ref().map(|status| status.as_str().to_owned()),
        is_consulting: instance.is_consulting,
        url: instance.url.clone(),
        number_of_endpoints: count(instance.number_of_endpoints),
        selected,
        critical: counts.critical,
        high: counts.high,
        medium: counts.medium,
        low: counts.low,
        sensitive_files: counts.sensitive_files,
    }
}

impl Fleet {
    /// Pulls one run from the selected instances into `dataset` and commits it. Instances that
    /// fail are recorded in the run's `outcomes` (what succeeded is still written); an error is
    /// returned only when nothing could be written at all (the structure could not be listed, or
    /// the dataset could not be written), and then no run becomes visible.
    pub async fn snapshot(
        &self,
        selection: &Selection,
        dataset: &Dataset,
        tool_version: &str,
        progress: impl FnMut(Progress),
    ) -> Result<Snapshot, Error> {
        self.snapshot_with_clock(selection, dataset, tool_version, now_micros, progress).await
    }

    /// [`Fleet::snapshot`] with the run's clock as a parameter: `clock` gives "now" in
    /// microseconds since the Unix epoch for the run's start (its id and date partition) and
    /// finish, and the age past which files of crashed runs are removed. Against an emulator
    /// whose clock moves (`EmulatorHandle::now_micros`), runs are dated in the emulator's time.
    pub async fn snapshot_with_clock(
        &self,
        selection: &Selection,
        dataset: &Dataset,
        tool_version: &str,
        clock: impl Fn() -> i64,
        progress: impl FnMut(Progress),
    ) -> Result<Snapshot, Error> {
        let started_at = clock();
        let run_id = cyrisma_dataset::run_id(started_at, fastrand::u32(..));
        // Files of crashed runs older than a day are no longer being written by anyone.
        dataset.remove_orphans(started_at - 86_400_000_000)?;
        // And the local spool files of crashed runs on object stores (any dataset's).
        cyrisma_dataset::remove_stale_spools();
        let writer = RunWriter::begin(dataset, &run_id, started_at, tool_version)?;
        // The instances' rows are built, encoded and written on a thread of their own, fed through
        // a bounded queue: the fan-out keeps its requests going meanwhile (on the other core), and
        // at most `QUEUED` pulled instances wait in memory.
        let (queue, rows) = std::sync::mpsc::sync_channel::<(String, Pulled)>(QUEUED);
        // Each instance's parsed data goes back to be freed on the thread that allocated it: freed
        // on the writer thread, every block went through the allocator's cross-thread free list
        // (about 8% of the CLI's CPU in a 1,000-instance snapshot, `perf`; 0.09 s less CPU).
        // (Behind a mutex, only ever taken by the fan-out, so that the future stays `Send`.)
        let (give_back, returned) = std::sync::mpsc::channel::<Pulled>();
        let returned = std::sync::Mutex::new(returned);
        let thread_run_id = run_id.clone();
        let rows_thread = std::thread::Builder::new()
            .name("cyrisma-snapshot-rows".into())
            .spawn(move || -> Result<(RunWriter, u64), Error> {
                let mut writer = writer;
                let mut pending = Pending::default();
                let mut findings = 0u64;
                for (instance_id, pulled) in rows {
                    findings += pending.add(&mut writer, &thread_run_id, &instance_id, &pulled)?;
                    // The fan-out frees it; if it has stopped listening, it is freed here.
                    let _ = give_back.send(pulled);
                    pending.write(&mut writer, false)?;
                }
                pending.write(&mut writer, true)?;
                Ok((writer, findings))
            })
            .map_err(|source| Error::Io { context: "cannot start the snapshot's writer thread".into(), source })?;
        // The users (for the `usage` rows, written last) are listed while the fan-out runs rather
        // than before it: they are not needed until the end. The structure (for the `instances`
        // and `usage` rows) is the one the fan-out listed.
        let user_resource = self.client().users();
        let listing = user_resource.list();
        let fan_out = async {
            let outcome = self
                .run(selection, pull, progress, |instance_id, _, pulled| {
                    let counts = Counts::of(&pulled.vulnerability, &pulled.data);
                    // Fails only when the thread stopped on an error, which is returned below.
                    queue.send((instance_id.to_owned(), pulled)).map_err(|_| WriterStopped)?;
                    if let Ok(returned) = returned.lock() {
                        returned.try_iter().for_each(drop);
                    }
                    Ok(counts)
                })
                .await;
            drop(queue);
            outcome
        };
        let (listed, outcome) = futures_util::future::join(listing, fan_out).await;
        let written = match rows_thread.join() {
            Ok(written) => written,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // An error of the writer comes first: it is why the fan-out stopped, if it did.
        let (mut writer, findings) = written?;
        let outcome = outcome?;
        let users = listed?;
        let structure = Arc::clone(&outcome.structure);

        let mut outcomes: Vec<OutcomeRow> = outcome
            .succeeded
            .iter()
            .map(|done| OutcomeRow {
                run_id: run_id.clone(),
                instance_id: done.instance_id.clone(),
                instance_name: done.name.clone(),
                outcome: "pulled".into(),
                ..OutcomeRow::default()
            })
            .collect();
        outcomes.extend(outcome.failures.iter().map(|failure| OutcomeRow {
            run_id: run_id.clone(),
            instance_id: failure.instance_id.clone(),
            instance_name: failure.name.clone(),
            outcome: "failed".into(),
            status: failure.status.map(i64::from),
            error_code: failure.code.clone(),
            request_id: failure.request_id.clone(),
            message: Some(failure.error.clone()),
        }));
        writer.write(&outcomes)?;

        // Looked up by id in the outcome's sorted lists: a scan of them per instance made this
        // quadratic in the number of instances.
        let instances: Vec<InstanceRow> = structure
            .iter()
            .map(|instance| {
                let id = instance.instance_id.as_str();
                let counts = outcome.success(id).map(|done| done.value);
                instance_row(&run_id, instance, outcome.covers(id), counts)
            })
            .collect();
        writer.write(&instances)?;
        let skipped = instances.iter().filter(|row| !row.selected).count();

        let usage: Vec<UsageRow> = usage_rows(&structure, &users, None)
            .into_iter()
            .map(|row| UsageRow {
                run_id: run_id.clone(),
                scope: row.scope.to_owned(),
                id: row.id,
                name: row.name,
                endpoints: count(Some(row.endpoints)).unwrap_or_default(),
                instances: count(Some(row.instances)).unwrap_or_default(),
                standard: count(Some(row.standard)).unwrap_or_default(),
                consulting: count(Some(row.consulting)).unwrap_or_default(),
                suspended: count(Some(row.suspended)).unwrap_or_default(),
                users: count(row.users),
            })
            .collect();
        writer.write(&usage)?;

        let counts = RunCounts {
            pulled: outcome.succeeded.len() as i64,
            failed: outcome.failures.len() as i64,
            skipped: skipped as i64,
        };
        let run = writer.commit(clock().max(started_at), counts)?;
        Ok(Snapshot { run, failures: outcome.failures, findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cyrisma_core::history::{Fingerprint, FingerprintInput};

    #[test]
    fn lent_rows_carry_the_fingerprints_hex_and_their_assets_keys() {
        let scan: VulnerabilityScan =
            serde_json::from_value(serde_json::json!({"scanId": "s1", "scanType": "3"})).unwrap();
        let detail: ScanDetail = serde_json::from_value(serde_json::json!({"assets": [
            {"assetId": "a1", "ipAddress": "10.0.0.1", "vulnerabilities": [{"cve": "cve-2024-1"}, {"cve": "CVE-2024-2"}]},
            {"ipAddress": "10.0.0.2", "openPorts": [{"port": "443/tcp"}]},
            {"name": "no findings"}
        ]}))
        .unwrap();
        let mut rows = Vec::new();
        let (class, keys) = scan_findings("r1", "cc1", &scan, &detail, |row| rows.push(row.to_row()));
        assert_eq!(class.as_str(), "type_3", "the class of scan type 3");
        assert_eq!(rows.len(), 3);
        for row in &rows {
            let asset = match row.asset_key.as_str() {
                "id:a1" => AssetIdentity::of(Some("a1"), Some("10.0.0.1"), None),
                other => AssetIdentity::of(None, other.strip_prefix("ip:"), None),
            };
            let kind = FindingKind::from_name(&row.kind).unwrap();
            let expected = Fingerprint::of(&FingerprintInput {
                instance_id: "cc1",
                asset,
                scan_class: ScanClass::from_name(&row.scan_class),
                kind,
                rule: &row.rule,
            });
            assert_eq!(row.fingerprint, expected.to_hex(), "{row:?}");
        }
        assert_eq!(rows[0].rule, "CVE-2024-1");
        assert_eq!(keys.len(), 3, "every asset is covered, findings or not: {keys:?}");
        assert_eq!(&keys[..2], ["id:a1", "ip:10.0.0.2"]);
    }
}
