//! The dataset on an object store (`object_store`'s in-memory store, a real implementation of
//! the trait; the S3 server tests are in the Python suite): runs round-trip, files go under the
//! URL's prefix with no temporary objects, a run whose `runs` object is missing is invisible and
//! is removed as an orphan once old enough, and errors name the location.

use std::sync::Arc;

use cyrisma_dataset::object_store::memory::InMemory;
use cyrisma_dataset::object_store::path::Path as Key;
use cyrisma_dataset::object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use cyrisma_dataset::schema::{FindingRow, OutcomeRow};
use cyrisma_dataset::write::RunCounts;
use cyrisma_dataset::{Dataset, Error, RunWriter};

const DAY: i64 = 86_400_000_000;
const START: i64 = 1_796_453_002_000_000; // 2026-12-05T06:43:22Z

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
}

fn keys(store: &InMemory) -> Vec<String> {
    use futures_util::TryStreamExt as _;
    let mut keys: Vec<String> =
        block_on(store.list(None).map_ok(|meta| meta.location.to_string()).try_collect::<Vec<_>>()).unwrap();
    keys.sort();
    keys
}

fn write_run(dataset: &Dataset, started_at: i64, findings: usize) -> String {
    let run_id = cyrisma_dataset::run_id(started_at, 7);
    let mut writer = RunWriter::begin(dataset, &run_id, started_at, "test").unwrap();
    let outcome = OutcomeRow {
        run_id: run_id.clone(),
        instance_id: "cc1".into(),
        outcome: "pulled".into(),
        ..OutcomeRow::default()
    };
    writer.write(&[outcome]).unwrap();
    let rows: Vec<FindingRow> = (0..findings)
        .map(|index| FindingRow {
            run_id: run_id.clone(),
            instance_id: "cc1".into(),
            scan_class: "external_ip".into(),
            asset_key: format!("id:{index}"),
            kind: "vulnerability".into(),
            rule: format!("CVE-{index}"),
            fingerprint: format!("{index:032x}"),
            ..FindingRow::default()
        })
        .collect();
    writer.write(&rows).unwrap();
    writer.commit(started_at + 1_000_000, RunCounts { pulled: 1, failed: 0, skipped: 0 }).unwrap();
    run_id
}

#[test]
fn runs_round_trip_under_the_prefix() {
    let memory = Arc::new(InMemory::new());
    let dataset = Dataset::with_object_store("s3://bucket/some/prefix/", memory.clone()).unwrap();
    assert!(dataset.is_remote());
    assert_eq!(dataset.root().to_str(), Some("s3://bucket/some/prefix"));
    assert!(dataset.runs().unwrap().is_empty(), "an empty prefix has no runs");
    let first = write_run(&dataset, START, 3);
    let second = write_run(&dataset, START + DAY, 5);
    let runs = dataset.runs().unwrap();
    assert_eq!(runs.iter().map(|run| run.run_id.as_str()).collect::<Vec<_>>(), [first.as_str(), second.as_str()]);
    let findings: Vec<FindingRow> = dataset.rows("findings", &runs[1]).unwrap();
    assert_eq!(findings.len(), 5);
    assert_eq!(dataset.load_run(&runs[0]).unwrap().findings().count(), 3);
    let keys = keys(&memory);
    assert!(keys.contains(&format!("some/prefix/findings/dt=2026-12-05/{first}.parquet")), "{keys:?}");
    assert!(keys.contains(&format!("some/prefix/runs/dt=2026-12-06/{second}.parquet")), "{keys:?}");
    assert!(keys.iter().all(|key| key.starts_with("some/prefix/") && key.ends_with(".parquet")), "{keys:?}");
    assert_eq!(keys.len(), 2 * cyrisma_dataset::schema::TABLES.len(), "one object per table and run: {keys:?}");
}

#[test]
fn a_run_without_its_runs_object_is_invisible_and_removed_later() {
    let memory = Arc::new(InMemory::new());
    let dataset = Dataset::with_object_store("gs://bucket", memory.clone()).unwrap();
    let kept = write_run(&dataset, START, 2);
    // What a snapshot killed before its `runs` upload leaves: the other tables' objects.
    let crashed = write_run(&dataset, START + 1_000, 4);
    let runs_key = Key::from(format!("runs/dt=2026-12-05/{crashed}.parquet"));
    block_on(memory.delete(&runs_key)).unwrap();
    let runs = dataset.runs().unwrap();
    assert_eq!(runs.iter().map(|run| run.run_id.as_str()).collect::<Vec<_>>(), [kept.as_str()]);
    // Stray objects that are not a run's files are left alone.
    block_on(memory.put(&Key::from("findings/notes.txt"), PutPayload::from_static(b"x"))).unwrap();
    assert_eq!(dataset.remove_orphans(START).unwrap(), 0, "too young to remove");
    let removed = dataset.remove_orphans(START + 2 * DAY).unwrap();
    assert_eq!(removed, cyrisma_dataset::schema::TABLES.len() - 1);
    let keys = keys(&memory);
    assert!(!keys.iter().any(|key| key.contains(&crashed)), "{keys:?}");
    assert!(keys.contains(&"findings/notes.txt".to_owned()));
    assert_eq!(dataset.runs().unwrap().len(), 1);
}

#[test]
fn a_missing_file_names_its_location() {
    let memory = Arc::new(InMemory::new());
    let dataset = Dataset::with_object_store("az://container/h", memory.clone()).unwrap();
    write_run(&dataset, START, 1);
    let run = dataset.runs().unwrap().remove(0);
    block_on(memory.delete(&Key::from(format!("h/findings/dt=2026-12-05/{}.parquet", run.run_id)))).unwrap();
    let error = dataset.rows::<FindingRow>("findings", &run).unwrap_err();
    assert!(matches!(error, Error::Store { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("cannot read az://container/h/findings/dt=2026-12-05/{}.parquet: not found", run.run_id)
    );
    let debug = format!("{dataset:?}");
    assert!(debug.contains("az://container/h") && !debug.contains("InMemory"), "{debug}");
}

#[test]
fn locations_that_are_not_urls_or_carry_secrets_are_refused() {
    let memory: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    for (location, expected) in [
        ("bucket/prefix", "scheme://bucket/prefix"),
        ("s3://KEYCANARY:SECRETCANARY@bucket/x", "cannot carry credentials"),
        ("az://container/x?sv=1&sig=SECRETCANARY", "query string"),
    ] {
        let error = Dataset::with_object_store(location, memory.clone()).unwrap_err().to_string();
        assert!(error.contains(expected), "{location}: {error}");
        assert!(!error.contains("CANARY"), "{location}: {error}");
    }
    let error = Dataset::open("ftp://host/x").unwrap_err().to_string();
    assert!(error.contains("unsupported scheme"), "{error}");
}
