//! Snapshots into a real dataset directory against the emulator: what a run holds, failures
//! recorded as outcomes, and identical runs that diff to no change.

use std::collections::HashSet;

use cyrisma_core::history::{ChangeKind, diff};
use cyrisma_dataset::Dataset;
use cyrisma_dataset::schema::{FindingRow, GradeRow, InstanceRow, OutcomeRow, ScanRow};
use cyrisma_emulator::Fault;
use cyrisma_fleet::{ScanChoice, Selection, collect_findings};

use super::{emulator, fleet, reportable};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_writes_one_complete_run_and_records_failures() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let ids = reportable(&emulator);
    let victim = ids[0].clone();
    emulator.add_fault(Fault::status(503).on("scans.list_data_scans").at_host(victim.clone()));
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dataset = Dataset::new(directory.path());

    let snapshot = fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a snapshot");
    assert_eq!(snapshot.failures.len(), 1, "{:?}", snapshot.failures);
    assert_eq!(snapshot.failures[0].instance_id, victim);
    let runs = dataset.runs().expect("runs");
    assert_eq!(runs, vec![snapshot.run.clone()]);
    // The summary the CLI prints, built from what was written, is the row `history runs` reads back.
    let read_back = cyrisma_fleet::History::new(dataset.clone()).runs().expect("the runs' summaries");
    assert_eq!(read_back, vec![snapshot.summary()]);
    assert_eq!(read_back[0].failed_instances, victim);
    let run = &runs[0];
    assert_eq!((run.instances_pulled, run.instances_failed), (ids.len() as i64 - 1, 1));
    let structure = emulator.instances();
    assert_eq!(run.instances_skipped, (structure.len() - ids.len()) as i64);

    let outcomes: Vec<OutcomeRow> = dataset.rows("outcomes", run).expect("outcomes");
    let failed: Vec<&OutcomeRow> = outcomes.iter().filter(|row| row.outcome == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].instance_id.as_str(), failed[0].status), (victim.as_str(), Some(503)));
    assert!(failed[0].request_id.is_some());

    // Five areas per pulled instance; every listed instance in `instances`.
    let grades: Vec<GradeRow> = dataset.rows("grades", run).expect("grades");
    assert_eq!(grades.len(), 5 * (ids.len() - 1));
    assert!(grades.iter().all(|row| row.instance_id != victim));
    let instances: Vec<InstanceRow> = dataset.rows("instances", run).expect("instances");
    assert_eq!(instances.len(), structure.len());
    assert_eq!(instances.iter().filter(|row| row.selected).count(), ids.len());
    // The dashboards' counts are those of the pulled instances only; the structure was listed
    // once, by the fan-out, for the instances' rows too.
    for row in &instances {
        let pulled = row.selected && row.instance_id != victim;
        assert_eq!(row.critical.is_some() && row.sensitive_files.is_some(), pulled, "{row:?}");
    }
    assert_eq!(emulator.count("instances.list_instances"), 1, "{:?}", emulator.counters());

    // The findings are those of the latest completed scan of each type, as the export reads them.
    let findings: Vec<FindingRow> = dataset.rows("findings", run).expect("findings");
    assert_eq!(findings.len() as u64, snapshot.findings);
    let healthy = &ids[1];
    let instance = fleet.client().instance(healthy.clone());
    let collected = collect_findings(instance, ScanChoice::LatestPerType).await.expect("the scans");
    let exported: usize = collected
        .iter()
        .filter(|(scan, _)| scan.scan_finished.as_deref().is_some_and(|finished| !finished.is_empty()))
        .map(|(scan, detail)| cyrisma_core::export::finding_rows(healthy, None, scan, detail).count())
        .sum();
    assert!(exported > 0, "the emulator's instance has findings");
    assert_eq!(findings.iter().filter(|row| &row.instance_id == healthy).count(), exported);
    assert!(findings.iter().all(|row| row.fingerprint.len() == 32 && !row.asset_key.is_empty()));
    let scans: Vec<ScanRow> = dataset.rows("scans", run).expect("scans");
    assert!(scans.iter().any(|row| row.scan_kind == "data") && scans.iter().any(|row| row.scan_kind == "baseline"));
    assert!(scans.iter().filter(|row| row.collected).all(|row| row.assets.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_runs_show_no_change_and_a_failed_instance_no_fix() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dataset = Dataset::new(directory.path());
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a first snapshot");
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a second snapshot");
    let victim = reportable(&emulator)[1].clone();
    emulator.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").at_host(victim.clone()));
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a third snapshot");
    let runs = dataset.runs().expect("runs");
    assert_eq!(runs.len(), 3);
    let loaded: Vec<_> = runs.iter().map(|run| dataset.load_run(run).expect("a run")).collect();
    assert!(!loaded[0].is_empty());
    let unchanged = diff(&loaded[0], &loaded[1], &HashSet::new(), false);
    assert!(unchanged.changes.is_empty(), "{:?}", unchanged.changes.len());
    let failed = diff(&loaded[1], &loaded[2], &HashSet::new(), false);
    assert_eq!(failed.count(ChangeKind::Fixed), 0);
    assert!(failed.count(ChangeKind::NotCovered) > 0);
    assert!(failed.changes.iter().all(|change| change.instance_id == victim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rescan_keeps_every_fingerprint_and_churn_gives_real_fixes() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dataset = Dataset::new(directory.path());
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a first snapshot");
    // A rescan changes scan ids, scores, titles and order only: the same findings, no change.
    emulator.rescan(1).expect("a rescan");
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a snapshot after the rescan");
    // A month of churn: fixes, new findings, assets not scanned this time.
    emulator.advance(30).expect("a month passes");
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a snapshot after a month");
    emulator.advance(30).expect("another month passes");
    fleet.snapshot(&Selection::reportable(), &dataset, "test", |_| {}).await.expect("a snapshot after two months");

    let runs = dataset.runs().expect("runs");
    let loaded: Vec<_> = runs.iter().map(|run| dataset.load_run(run).expect("a run")).collect();
    let scans: Vec<ScanRow> = dataset.rows("scans", &runs[1]).expect("scans");
    let first_scans: Vec<ScanRow> = dataset.rows("scans", &runs[0]).expect("scans");
    let collected = |rows: &[ScanRow]| -> Vec<String> {
        rows.iter().filter(|row| row.collected).map(|row| row.scan_id.clone()).collect()
    };
    assert_ne!(collected(&scans), collected(&first_scans), "the rescan's scans are new scans");
    let rescan = diff(&loaded[0], &loaded[1], &HashSet::new(), false);
    assert!(rescan.changes.is_empty(), "a rescan changed {} fingerprints", rescan.changes.len());

    let month = diff(&loaded[1], &loaded[2], &HashSet::new(), false);
    assert!(month.count(ChangeKind::New) > 0, "new findings after a month");
    assert!(month.count(ChangeKind::Fixed) > 0, "fixed findings after a month");
    let seen: HashSet<_> = [&loaded[0], &loaded[1], &loaded[2]]
        .iter()
        .flat_map(|run| run.findings().map(|(fingerprint, _)| *fingerprint))
        .collect();
    let two = diff(&loaded[2], &loaded[3], &seen, false);
    assert!(two.count(ChangeKind::Reopened) + two.count(ChangeKind::Fixed) + two.count(ChangeKind::New) > 0);
    // A fixed finding is absent from `to` while its asset was covered there.
    for change in month.changes.iter().filter(|change| change.kind == ChangeKind::Fixed) {
        assert!(!loaded[2].contains(&change.fingerprint));
    }
    // The history's lifecycles agree: something was fixed, with a time to fix.
    let history = cyrisma_fleet::History::new(dataset.clone());
    let (findings, instances) = history.lifecycles().expect("lifecycles");
    assert!(findings.iter().any(|row| row.status == "fixed" && row.fixed_at.is_some()));
    assert!(instances.iter().any(|row| row.fixes > 0 && row.mean_days_to_fix.is_some()));
    // Days are days: no finding was open, and no fix took, longer than the history spans (the
    // runs are seconds apart here, dated by the real clock; lifecycles count whole seconds, so
    // one second more).
    let span_days = ((runs[runs.len() - 1].started_at - runs[0].started_at) as f64 / 1e6 + 1.0) / 86_400.0;
    for row in &findings {
        assert!(row.days_open as f64 <= span_days, "{} days open in a history of {span_days} days", row.days_open);
    }
    for row in &instances {
        let mean = row.mean_days_to_fix.unwrap_or(0.0);
        assert!(mean <= span_days, "a mean of {mean} days to fix in a history of {span_days} days");
    }
}
