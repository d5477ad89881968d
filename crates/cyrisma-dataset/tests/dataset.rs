//! The dataset on a real file system: round trips, the Hive layout, atomic commits under crashes
//! (a child process aborted at each commit step), orphans, the schema's version pin, chosen rows,
//! and the typed Arrow encoding and decoding of rows.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use cyrisma_core::history::{ChangeKind, FingerprintSet};
use cyrisma_dataset::decode::Decode;
use cyrisma_dataset::encode::Encode;
use cyrisma_dataset::schema::{self, CoverageRow, FindingRow, OutcomeRow, RunRow, ScanRow};
use cyrisma_dataset::write::RunCounts;
use cyrisma_dataset::{Dataset, RunWriter, SCHEMA_HASHES, SCHEMA_VERSION};

const DAY: i64 = 86_400_000_000;
const START: i64 = 1_796_453_002_000_000; // 2026-12-05T06:43:22Z

fn finding(run_id: &str, instance: &str, asset: &str, rule: &str, fingerprint: &str) -> FindingRow {
    FindingRow {
        run_id: run_id.into(),
        instance_id: instance.into(),
        scan_id: "s1".into(),
        scan_class: "external_ip".into(),
        asset_key: asset.into(),
        kind: "vulnerability".into(),
        rule: rule.into(),
        title: Some(format!("title of {rule}")),
        score: Some(7.5),
        fingerprint: fingerprint.into(),
        ..FindingRow::default()
    }
}

/// Writes a run with the given findings (`(asset, rule, fingerprint)`) on instance cc1, pulled.
fn write_run(dataset: &Dataset, started_at: i64, random: u32, findings: &[(&str, &str, &str)]) -> RunRow {
    let run_id = cyrisma_dataset::run_id(started_at, random);
    let mut writer = RunWriter::begin(dataset, &run_id, started_at, "0.1.0-test").unwrap();
    writer
        .write(&[OutcomeRow {
            run_id: run_id.clone(),
            instance_id: "cc1".into(),
            outcome: "pulled".into(),
            ..OutcomeRow::default()
        }])
        .unwrap();
    let rows: Vec<_> = findings.iter().map(|(asset, rule, fp)| finding(&run_id, "cc1", asset, rule, fp)).collect();
    writer.write(&rows).unwrap();
    writer
        .write(&[CoverageRow {
            run_id: run_id.clone(),
            instance_id: "cc1".into(),
            scan_class: "external_ip".into(),
            scan_id: "s1".into(),
            asset_key: "id:a".into(),
        }])
        .unwrap();
    writer.commit(started_at + 1_000_000, RunCounts { pulled: 1, failed: 0, skipped: 2 }).unwrap()
}

const FP1: &str = "00000000000000000000000000000001";
const FP2: &str = "00000000000000000000000000000002";

#[test]
fn a_run_round_trips_in_the_hive_layout() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(directory.path());
    let run = write_run(&dataset, START, 1, &[("id:a", "CVE-1", FP1), ("id:a", "CVE-2", FP2)]);
    for (table, _) in schema::TABLES {
        let file = directory.path().join(table).join("dt=2026-12-05").join(format!("{}.parquet", run.run_id));
        assert!(file.is_file(), "{} is missing", file.display());
    }
    let runs = dataset.runs().unwrap();
    assert_eq!(runs, vec![run.clone()]);
    assert_eq!((run.instances_pulled, run.instances_skipped, run.schema_version), (1, 2, SCHEMA_VERSION));
    let findings: Vec<FindingRow> = dataset.rows("findings", &run).unwrap();
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[1], finding(&run.run_id, "cc1", "id:a", "CVE-2", FP2));
    // No temporary file is left.
    let leftovers = walk(directory.path()).into_iter().filter(|path| path.contains(".tmp")).collect::<Vec<_>>();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn chosen_rows_come_back_in_the_order_asked() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(directory.path());
    let fingerprints: Vec<String> = (0..40).map(|index| format!("{index:032x}")).collect();
    let rules: Vec<String> = (0..40).map(|index| format!("CVE-{index}")).collect();
    let findings: Vec<(&str, &str, &str)> =
        rules.iter().zip(&fingerprints).map(|(rule, fp)| ("id:a", rule.as_str(), fp.as_str())).collect();
    let run = write_run(&dataset, START, 1, &findings);
    let all: Vec<FindingRow> = dataset.rows("findings", &run).unwrap();
    assert_eq!(all.len(), 40);
    // Out of order, runs of neighbours, the first and last rows, and a row asked twice.
    let asked = [39, 3, 4, 5, 0, 17, 3];
    let chosen: Vec<FindingRow> = dataset.rows_at("findings", &run, &asked, None).unwrap();
    assert_eq!(chosen, asked.iter().map(|row| all[*row as usize].clone()).collect::<Vec<_>>());
    assert!(dataset.rows_at::<FindingRow>("findings", &run, &[], None).unwrap().is_empty());
    let error = dataset.rows_at::<FindingRow>("findings", &run, &[2, 40], None).unwrap_err().to_string();
    assert!(error.ends_with("row 40 is past the file's 40 rows"), "{error}");
    // Some columns only, decoded as another table's row that has just these.
    let columns = ["run_id", "instance_id", "scan_class", "scan_id", "asset_key"];
    let places: Vec<CoverageRow> = dataset.rows_at("findings", &run, &[7, 1], Some(&columns)).unwrap();
    let place = |row: &FindingRow| CoverageRow {
        run_id: row.run_id.clone(),
        instance_id: row.instance_id.clone(),
        scan_class: row.scan_class.clone(),
        scan_id: row.scan_id.clone(),
        asset_key: row.asset_key.clone(),
    };
    assert_eq!(places, vec![place(&all[7]), place(&all[1])]);
    let error = dataset.rows_at::<FindingRow>("findings", &run, &[1], Some(&["run_id"])).unwrap_err().to_string();
    assert!(error.ends_with("column instance_id is missing"), "{error}");
    // The fingerprints, from their one column, in row order.
    let read: Vec<String> = dataset.fingerprints(&run).unwrap().iter().map(|fp| fp.to_hex()).collect();
    assert_eq!(read, fingerprints);
    // Place columns as dictionaries, and their symbols: the same names as the rows'.
    let batches = dataset.batches_as("findings", &run, Some(&["asset_key", "rule"]), &["asset_key"]).unwrap();
    let mut data = cyrisma_dataset::RunData::new();
    let (mut names, mut symbols) = (Vec::new(), Vec::new());
    for batch in &batches {
        assert!(matches!(batch.column_by_name("asset_key").unwrap().data_type(), DataType::Dictionary(..)));
        assert_eq!(batch.column_by_name("rule").unwrap().data_type(), &DataType::Utf8);
        cyrisma_dataset::read::symbols(&mut data, batch, "asset_key", Path::new("findings"), &mut symbols).unwrap();
        let rule = data.symbol("CVE-0");
        let asset = data.symbol("id:a");
        names.extend(symbols.iter().map(|symbol| (*symbol == asset, *symbol == rule)));
    }
    assert_eq!(names, vec![(true, false); 40]);
}

#[test]
fn two_runs_diff_through_the_core_rules() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(directory.path());
    let first = write_run(&dataset, START, 1, &[("id:a", "CVE-1", FP1)]);
    let second = write_run(&dataset, START + 31 * DAY, 2, &[("id:a", "CVE-2", FP2)]);
    assert_eq!(
        dataset.runs().unwrap().iter().map(|run| run.run_id.clone()).collect::<Vec<_>>(),
        [first.run_id.clone(), second.run_id.clone()]
    );
    let (from, to) = (dataset.load_run(&first).unwrap(), dataset.load_run(&second).unwrap());
    let result = cyrisma_core::history::diff(&from, &to, &FingerprintSet::default(), false);
    let kinds: Vec<_> = result.changes.iter().map(|change| (change.kind, change.fingerprint.to_hex())).collect();
    assert_eq!(kinds, vec![(ChangeKind::New, FP2.to_owned()), (ChangeKind::Fixed, FP1.to_owned())]);
    // January's files live in their own partition.
    assert!(directory.path().join("findings/dt=2027-01-05").is_dir());
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The child side of the crash test: writes one run into `CRASH_DIR` and lets the commit abort
/// at `CYRISMA_DATASET_FAILPOINT`.
#[test]
fn crash_child() {
    let Some(directory) = std::env::var_os("CRASH_DIR") else { return };
    let dataset = Dataset::new(directory);
    write_run(&dataset, START + DAY, 9, &[("id:a", "CVE-9", FP2)]);
}

#[test]
fn a_crash_at_any_commit_step_leaves_earlier_runs_and_no_complete_looking_run() {
    for point in ["after-tables-closed", "after-first-rename", "before-runs-row"] {
        let directory = tempfile::tempdir().unwrap();
        let dataset = Dataset::new(directory.path());
        let earlier = write_run(&dataset, START, 1, &[("id:a", "CVE-1", FP1)]);
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--test-threads=1", "--nocapture"])
            .env("CRASH_DIR", directory.path())
            .env("CYRISMA_DATASET_FAILPOINT", point)
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "{point}: the child should have aborted");
        // The earlier run is intact and is the only complete one.
        assert_eq!(dataset.runs().unwrap(), vec![earlier.clone()], "{point}");
        let findings: Vec<FindingRow> = dataset.rows("findings", &earlier).unwrap();
        assert_eq!(findings.len(), 1, "{point}");
        // What the crash left is removed once it is old enough, and nothing of the earlier run.
        assert_eq!(dataset.remove_orphans(START).unwrap(), 0, "{point}: too young to remove");
        let removed = dataset.remove_orphans(START + 3 * DAY).unwrap();
        assert!(removed > 0, "{point}: nothing to clean up");
        let left = walk(directory.path());
        assert_eq!(left.len(), schema::TABLES.len(), "{point}: {left:?}");
        assert!(left.iter().all(|path| path.contains(&earlier.run_id)), "{point}: {left:?}");
    }
    // Without a failpoint the child commits.
    let directory = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--test-threads=1"])
        .env("CRASH_DIR", directory.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(Dataset::new(directory.path()).runs().unwrap().len(), 1);
}

#[test]
fn an_abandoned_writer_leaves_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(directory.path());
    let mut writer = RunWriter::begin(&dataset, "r20261205T000000Z-00000000", START, "t").unwrap();
    writer.write(&[finding("x", "cc1", "id:a", "CVE-1", FP1)]).unwrap();
    drop(writer);
    assert!(walk(directory.path()).is_empty());
    assert!(dataset.runs().unwrap().is_empty());
}

/// A stable text of every table's columns, hashed (FNV-1a, 64 bits) for [`SCHEMA_HASHES`].
fn schema_hash() -> String {
    let mut text = String::new();
    for (table, columns) in schema::TABLES {
        for column in *columns {
            text.push_str(&format!("{table}.{}:{}:{}\n", column.name, column.kind, column.nullable));
        }
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[test]
fn the_written_schema_is_versioned() {
    let current = schema_hash();
    let (version, pinned) = SCHEMA_HASHES.last().unwrap();
    assert_eq!(
        (*version, pinned.to_string()),
        (SCHEMA_VERSION, current.clone()),
        "the dataset's columns changed: bump SCHEMA_VERSION, add ({}, \"{current}\") to SCHEMA_HASHES, and document the columns in docs/history.md",
        SCHEMA_VERSION + 1
    );
}

#[test]
fn the_docs_describe_every_column() {
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/history.md")).unwrap();
    assert!(
        docs.contains(&format!("Schema version: {SCHEMA_VERSION}.")),
        "docs/history.md must state `Schema version: {SCHEMA_VERSION}.`"
    );
    for (table, columns) in schema::TABLES {
        let heading = format!("### `{table}`");
        let start = docs.find(&heading).unwrap_or_else(|| panic!("docs/history.md has no {heading} section"));
        let section = &docs[start + heading.len()..];
        let section = &section[..section.find("\n### ").or_else(|| section.find("\n## ")).unwrap_or(section.len())];
        let documented: Vec<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|line| line.split('`').next())
            .collect();
        let expected: Vec<&str> = columns.iter().map(|column| column.name).collect();
        assert_eq!(documented, expected, "docs/history.md: the columns of `{table}`");
        for column in *columns {
            let row = section.lines().find(|line| line.starts_with(&format!("| `{}`", column.name))).unwrap();
            let nullable = if column.nullable { "yes" } else { "no" };
            assert!(
                row.contains(&format!("| {} | {nullable} |", column.kind)),
                "docs/history.md: `{table}.{}` must say `| {} | {nullable} |`",
                column.name,
                column.kind
            );
        }
    }
}

// Typed encoding and decoding (`cyrisma_dataset::encode`, `cyrisma_dataset::decode`).

fn findings() -> Vec<FindingRow> {
    (0..5)
        .map(|index| FindingRow {
            run_id: "r1".into(),
            instance_id: format!("cc{}", index % 2),
            scan_id: format!("s{index}"),
            scan_class: "external_ip".into(),
            asset_key: format!("ip:10.0.0.{index}"),
            asset_id: (index % 2 == 0).then(|| format!("a{index}")),
            asset_name: Some(format!("host \"{index}\" — ünïcode\n")),
            asset_address: None,
            kind: "vulnerability".into(),
            rule: format!("CVE-2024-{index}"),
            risk_level: (index != 3).then(|| "High".into()),
            score: (index != 1).then(|| f64::from(index) + 0.5),
            title: Some(String::new()),
            first_seen: None,
            fingerprint: format!("{index:032x}"),
        })
        .collect()
}

#[test]
fn typed_encoding_matches_the_serde_path_and_round_trips() {
    let rows = findings();
    let typed = FindingRow::encode(&rows).unwrap();
    let through_json = schema::record_batch(&rows, schema::FINDINGS).unwrap();
    assert_eq!(typed, through_json, "the builders and the JSON path give the same batch");
    assert_eq!(FindingRow::decode(&typed).unwrap(), rows);

    let runs = vec![RunRow {
        run_id: "r1".into(),
        started_at: 1_796_453_002_000_007,
        finished_at: -5,
        tool_version: "0.1.0".into(),
        schema_version: 1,
        instances_pulled: 3,
        instances_failed: 0,
        instances_skipped: i64::MAX,
    }];
    let batch = RunRow::encode(&runs).unwrap();
    assert_eq!(batch, schema::record_batch(&runs, schema::RUNS).unwrap());
    assert_eq!(RunRow::decode(&batch).unwrap(), runs);

    let scans = vec![
        ScanRow { collected: true, assets: Some(4), critical: Some(0), ..ScanRow::default() },
        ScanRow { grade: Some("B+".into()), ..ScanRow::default() },
    ];
    let batch = ScanRow::encode(&scans).unwrap();
    assert_eq!(batch, schema::record_batch(&scans, schema::SCANS).unwrap());
    assert_eq!(ScanRow::decode(&batch).unwrap(), scans);
    assert_eq!(ScanRow::encode(&[]).unwrap().num_rows(), 0);
}

#[test]
fn chosen_rows_decode_in_the_order_asked_and_a_row_past_the_end_is_an_error() {
    let rows = findings();
    let batch = FindingRow::encode(&rows).unwrap();
    let picked = FindingRow::decode_rows(&batch, &[4, 0, 4]).unwrap();
    assert_eq!(picked, vec![rows[4].clone(), rows[0].clone(), rows[4].clone()]);
    let error = FindingRow::decode_rows(&batch, &[1, 5]).unwrap_err();
    assert_eq!(error, "row 5 is past the batch's 5 rows");
}

#[test]
fn dictionary_strings_and_missing_columns() {
    let keys = arrow_array::Int32Array::from(vec![Some(1), None, Some(0)]);
    let values = Arc::new(StringArray::from(vec!["pulled", "failed"]));
    let outcome: ArrayRef = Arc::new(DictionaryArray::try_new(keys, values).unwrap());
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["r", "r", "r"]));
    let instance: ArrayRef = Arc::new(StringArray::from(vec!["cc1", "cc2", "cc3"]));
    let schema = Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("instance_id", DataType::Utf8, false),
        Field::new("outcome", outcome.data_type().clone(), true),
    ]);
    let batch = RecordBatch::try_new(Arc::new(schema), vec![ids, instance, outcome]).unwrap();
    let rows = OutcomeRow::decode(&batch).unwrap();
    assert_eq!(
        rows.iter().map(|row| row.outcome.as_str()).collect::<Vec<_>>(),
        ["failed", "", "pulled"],
        "a null in a required column reads as its default"
    );
    assert!(rows.iter().all(|row| row.instance_name.is_none() && row.status.is_none()), "missing nullable");
    // Without `outcome`, a required column, decoding fails and names it.
    let batch = batch.project(&[0, 1]).unwrap();
    assert_eq!(OutcomeRow::decode(&batch).unwrap_err(), "column outcome is missing");
    // A column of the wrong type is named with both types.
    let wrong: ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![1, 2, 3]));
    let schema = Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("instance_id", DataType::Utf8, false),
        Field::new("outcome", DataType::Int64, false),
    ]);
    let batch =
        RecordBatch::try_new(Arc::new(schema), vec![batch.column(0).clone(), batch.column(1).clone(), wrong]).unwrap();
    assert_eq!(OutcomeRow::decode(&batch).unwrap_err(), "column outcome is Int64, not string");
}
