//! Fleet operations against an emulator over loopback: selection with unknown ids, failure
//! records, progress events, the report, the findings export to a file, and usage.

use std::collections::BTreeSet;

use cyrisma_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Fault};
use cyrisma_fleet::{
    Error, ExportFormat, FailureKind, FindingWriter, Fleet, Progress, ScanChoice, Selection, UNKNOWN_INSTANCE,
};
use cyrisma_transport::{ClientBuilder, ClientConfig};

async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig::default().with_size(3, 9, 3, 4)).await.expect("the emulator starts")
}

/// A fleet over the emulator, configured as a front end would from its variables, no retries.
fn fleet(emulator: &EmulatorHandle) -> Fleet {
    let env = emulator.env();
    let mut config = ClientConfig::default();
    config
        .apply_vars(|name| env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()))
        .expect("the emulator's variables are valid");
    let client = ClientBuilder::from_config(config).native_roots(false).max_retries(0).build().expect("a client");
    Fleet::new(client).with_concurrency(3)
}

fn reportable(emulator: &EmulatorHandle) -> Vec<String> {
    let mut ids: Vec<String> = emulator
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| instance.instance_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_covers_the_reportable_set_and_records_each_failure_once() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let ids = reportable(&emulator);
    assert!(ids.len() >= 3, "{ids:?}");
    let victim = ids[1].clone();
    emulator.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").at_host(victim.clone()));

    let mut events = Vec::new();
    let report = fleet.report(&Selection::reportable(), |event| events.push(event)).await.expect("a report");
    let reported: Vec<&str> = report.instances.iter().map(|row| row.instance_id.as_str()).collect();
    let expected: Vec<&str> = ids.iter().map(String::as_str).filter(|id| *id != victim).collect();
    assert_eq!(reported, expected, "every healthy instance, in id order");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let failure = &report.errors[0];
    assert_eq!(failure.instance_id, victim);
    assert_eq!(failure.status, Some(500));
    assert!(failure.request_id.is_some(), "{failure:?}");
    assert!(failure.name.is_some(), "the listing's name: {failure:?}");
    assert!(!failure.error.is_empty());

    assert_eq!(events.first(), Some(&Progress::Selected { total: ids.len() }));
    let finished: Vec<(String, bool)> = events
        .iter()
        .filter_map(|event| match event {
            Progress::Finished { instance_id, ok } => Some((instance_id.clone(), *ok)),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), ids.len(), "one event per instance");
    let failed: Vec<&str> = finished.iter().filter(|(_, ok)| !ok).map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed, [victim.as_str()]);

    let json = serde_json::to_value(failure).expect("serializes");
    let keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
    let keys: BTreeSet<&str> = keys.into_iter().collect();
    assert_eq!(keys, BTreeSet::from(["instance_id", "name", "error", "status", "code", "request_id"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_ids_report_the_unknown_ones_as_404_failures() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let ids = reportable(&emulator);
    let selection = Selection::ids([ids[0].as_str(), " cc424242 ", ""]);
    let report = fleet.report(&selection, |_| {}).await.expect("a report");
    assert_eq!(report.instances.len(), 1);
    assert_eq!(report.instances[0].instance_id, ids[0]);
    assert_eq!(report.errors.len(), 1);
    let unknown = &report.errors[0];
    assert_eq!(
        (unknown.instance_id.as_str(), unknown.status, unknown.kind, unknown.error.as_str()),
        ("cc424242", Some(404), FailureKind::UnknownInstance, UNKNOWN_INSTANCE)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_to_a_file_is_written_whole_or_not_at_all() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let ids = reportable(&emulator);
    let dir = tempfile::tempdir().expect("a directory");

    // Every instance: the file has one line per finding, and the summary says so.
    let path = dir.path().join("all.jsonl");
    let summary = fleet
        .export_findings_to_file(
            &Selection::reportable(),
            ScanChoice::LatestPerType,
            &path,
            ExportFormat::Jsonl,
            false,
            |_| {},
        )
        .await
        .expect("an export");
    let text = std::fs::read_to_string(&path).expect("the file");
    assert_eq!(text.lines().count() as u64, summary.findings);
    assert!(summary.findings > 0);
    assert_eq!(summary.instances as usize, ids.len());
    let exported: BTreeSet<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).expect("json")["instance_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(exported.iter().all(|id| ids.contains(id)), "{exported:?}");

    // The same export into memory holds the same rows.
    let mut writer = FindingWriter::new(Vec::new(), ExportFormat::Jsonl).expect("a writer");
    let outcome = fleet
        .export_findings(&Selection::reportable(), ScanChoice::LatestPerType, &mut writer, |_| {})
        .await
        .expect("an export");
    assert_eq!(outcome.succeeded.iter().map(|done| done.value).sum::<u64>(), summary.findings);
    let memory = String::from_utf8(writer.finish().expect("finished")).expect("utf-8");
    let mut sorted_file: Vec<&str> = text.lines().collect();
    let mut sorted_memory: Vec<&str> = memory.lines().collect();
    sorted_file.sort_unstable();
    sorted_memory.sort_unstable();
    assert_eq!(sorted_file, sorted_memory);

    // One instance fails: no file, and the error lists it; with `allow_partial`, the rest.
    let victim = ids[0].clone();
    emulator.add_fault(Fault::status(500).on("scans.list_vulnerability_scans").at_host(victim.clone()));
    let partial = dir.path().join("partial.csv");
    let error = fleet
        .export_findings_to_file(&Selection::reportable(), ScanChoice::All, &partial, ExportFormat::Csv, false, |_| {})
        .await
        .expect_err("a partial failure");
    let Error::Partial { failures, total, .. } = &error else { panic!("{error:?}") };
    assert_eq!((failures.len(), *total), (1, ids.len()));
    assert_eq!(failures[0].instance_id, victim);
    assert!(error.to_string().contains("was not written"), "{error}");
    assert!(!partial.exists());
    let summary = fleet
        .export_findings_to_file(&Selection::reportable(), ScanChoice::All, &partial, ExportFormat::Csv, true, |_| {})
        .await
        .expect("a partial export");
    assert_eq!(summary.errors.len(), 1);
    assert_eq!(summary.instances as usize, ids.len() - 1);
    let csv_text = std::fs::read_to_string(&partial).expect("the file");
    assert_eq!(csv_text.lines().count() as u64, summary.findings + 1, "a header and one line per finding");
    assert!(!csv_text.contains(&format!("\n{victim},")), "nothing from the failed instance");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("a listing")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|name| !name.ends_with(".partial")), "no temporary file left: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_adds_up_to_the_structure() {
    let emulator = emulator().await;
    let fleet = fleet(&emulator);
    let rows = fleet.usage(None).await.expect("usage");
    let total = rows.last().expect("a total");
    assert_eq!(total.scope, "total");
    let instances = emulator.instances().into_iter().filter(|instance| !instance.is_organization()).count();
    assert_eq!(total.instances as usize, instances);
    let org =
        rows.iter().find(|row| row.scope == "organization").and_then(|row| row.id.clone()).expect("an organization");
    let only = fleet.usage(Some(&format!(" {org} "))).await.expect("usage of one organization");
    assert!(only.iter().all(|row| row.scope != "total"));
    assert_eq!(only.last().and_then(|row| row.id.as_deref()), Some(org.as_str()));
}
