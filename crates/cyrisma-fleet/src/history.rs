//! Reading the history back: the runs, what changed between two runs, each finding's lifecycle
//! and the time to fix per instance, as the rows every front end renders (`cyrisma diff`,
//! `cyrisma history`, Python's `cyrisma.History`).
//!
//! The rules are the core's (`cyrisma_core::history`); this module loads their inputs from the
//! dataset and shapes the output rows.

use std::collections::{BTreeMap, HashMap};

use cyrisma_core::history::{ChangeKind, Fingerprint, FingerprintSet, Lifecycle, diff, grade_changes};
use cyrisma_core::types::Grade;
use cyrisma_dataset::decode::{Decode, DecodeValue};
use cyrisma_dataset::schema::{Column, FindingRow, GradeRow, OutcomeRow, RunRow};
use cyrisma_dataset::{Dataset, RecordBatch, RunData};
use serde::Serialize;

use crate::Error;

/// One complete run with its counts (`cyrisma history runs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it was committed (RFC 3339, UTC).
    pub finished_at: String,
    /// Instances pulled.
    pub instances_pulled: i64,
    /// Instances that failed.
    pub instances_failed: i64,
    /// Instances listed but not selected.
    pub instances_skipped: i64,
    /// Findings collected.
    pub findings: u64,
    /// The instances that failed, comma-separated, in id order.
    pub failed_instances: String,
    /// The tool version that wrote it.
    pub tool_version: String,
}

impl RunSummary {
    /// The summary of `run`, with its number of findings and the ids of its failed instances.
    pub(crate) fn of(run: &RunRow, findings: u64, mut failed: Vec<&str>) -> Self {
        failed.sort_unstable();
        Self {
            run_id: run.run_id.clone(),
            started_at: timestamp(run.started_at),
            finished_at: timestamp(run.finished_at),
            instances_pulled: run.instances_pulled,
            instances_failed: run.instances_failed,
            instances_skipped: run.instances_skipped,
            findings,
            failed_instances: failed.join(","),
            tool_version: run.tool_version.clone(),
        }
    }
}

/// One finding's change between two runs (`cyrisma diff`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffRow {
    /// `new`, `reopened`, `fixed`, `not_covered` or `unchanged`.
    pub change: &'static str,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The instance.
    pub instance_id: String,
    /// The scan it was seen in (in `to` for findings present there, else in `from`).
    pub scan_id: String,
    /// The scan class.
    pub scan_class: String,
    /// The asset's identity.
    pub asset_key: String,
    /// The asset's name.
    pub asset_name: Option<String>,
    /// The asset's IP address.
    pub asset_address: Option<String>,
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: String,
    /// The rule (CVE, port, alert reference).
    pub rule: String,
    /// The risk level.
    pub risk_level: Option<String>,
    /// The score.
    pub score: Option<f64>,
    /// The title.
    pub title: Option<String>,
}

/// A [`DiffRow`] read from the `findings` columns it shows (its change and fingerprint come from
/// the diff, not from the file).
#[derive(Clone)]
struct ChangedFinding(DiffRow);

/// The `findings` columns a [`DiffRow`] shows.
const CHANGED_COLUMNS: &[&str] = &[
    "instance_id",
    "scan_id",
    "scan_class",
    "asset_key",
    "asset_name",
    "asset_address",
    "kind",
    "rule",
    "risk_level",
    "score",
    "title",
];

impl Decode for ChangedFinding {
    fn decode_rows(batch: &RecordBatch, indices: &[usize]) -> Result<Vec<Self>, String> {
        fn reader<'a, V: DecodeValue>(batch: &'a RecordBatch, name: &str) -> Result<V::Reader<'a>, String> {
            V::reader(batch.column_by_name(name).map(|column| column.as_ref()), name)
        }
        if let Some(index) = indices.iter().find(|index| **index >= batch.num_rows()) {
            return Err(format!("row {index} is past the batch's {} rows", batch.num_rows()));
        }
        let instance_id = reader::<String>(batch, "instance_id")?;
        let scan_id = reader::<String>(batch, "scan_id")?;
        let scan_class = reader::<String>(batch, "scan_class")?;
        let asset_key = reader::<String>(batch, "asset_key")?;
        let asset_name = reader::<Option<String>>(batch, "asset_name")?;
        let asset_address = reader::<Option<String>>(batch, "asset_address")?;
        let kind = reader::<String>(batch, "kind")?;
        let rule = reader::<String>(batch, "rule")?;
        let risk_level = reader::<Option<String>>(batch, "risk_level")?;
        let score = reader::<Option<f64>>(batch, "score")?;
        let title = reader::<Option<String>>(batch, "title")?;
        Ok(indices
            .iter()
            .map(|index| {
                let index = *index;
                ChangedFinding(DiffRow {
                    change: "",
                    fingerprint: String::new(),
                    instance_id: String::read(&instance_id, index),
                    scan_id: String::read(&scan_id, index),
                    scan_class: String::read(&scan_class, index),
                    asset_key: String::read(&asset_key, index),
                    asset_name: Option::<String>::read(&asset_name, index),
                    asset_address: Option::<String>::read(&asset_address, index),
                    kind: String::read(&kind, index),
                    rule: String::read(&rule, index),
                    risk_level: Option::<String>::read(&risk_level, index),
                    score: Option::<f64>::read(&score, index),
                    title: Option::<String>::read(&title, index),
                })
            })
            .collect())
    }
}

/// One area's grade change on one instance (`cyrisma diff`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GradeChangeRow {
    /// The instance.
    pub instance_id: String,
    /// `overall`, `vulnerability`, `data`, `baseline` or `compliance`.
    pub area: String,
    /// The current grade in `from`.
    pub from_grade: Option<String>,
    /// The current grade in `to`.
    pub to_grade: Option<String>,
    /// `up`, `down` or `changed`.
    pub direction: &'static str,
}

/// What changed between two runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffReport {
    /// The earlier run.
    pub from: String,
    /// The later run.
    pub to: String,
    /// The findings that changed (and the unchanged ones when asked), by instance, change and
    /// fingerprint.
    pub findings: Vec<DiffRow>,
    /// The grades that changed, by instance and area.
    pub grades: Vec<GradeChangeRow>,
    /// Why some missing findings are not called fixed (truncated scans), for people.
    pub warnings: Vec<String>,
}

impl DiffReport {
    /// How many findings had this change (`new`, `fixed`, ...).
    pub fn count(&self, change: &str) -> usize {
        self.findings.iter().filter(|row| row.change == change).count()
    }
}

/// One finding's life over every run (`cyrisma history findings`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingHistoryRow {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The instance.
    pub instance_id: String,
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: String,
    /// The rule.
    pub rule: String,
    /// The asset's identity.
    pub asset_key: String,
    /// The title when last seen.
    pub title: Option<String>,
    /// The risk level when last seen.
    pub risk_level: Option<String>,
    /// `open` or `fixed`.
    pub status: &'static str,
    /// The start of the first run that had it (RFC 3339).
    pub first_seen: String,
    /// The start of the last run that had it.
    pub last_seen: String,
    /// The start of the run that found it fixed, while it stays fixed.
    pub fixed_at: Option<String>,
    /// How many times it came back.
    pub times_reopened: u32,
    /// Whole days open, over all its open periods.
    pub days_open: i64,
}

/// One instance's fixes (`cyrisma history findings --per-instance`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceHistoryRow {
    /// The instance.
    pub instance_id: String,
    /// Findings open as of the latest run.
    pub open: u64,
    /// Findings fixed as of the latest run.
    pub fixed: u64,
    /// Fixes over the whole history (a finding fixed twice counts twice).
    pub fixes: u64,
    /// The mean days from appearance to fix, when something was fixed.
    pub mean_days_to_fix: Option<f64>,
}

/// One area's grades on one instance in one run (`History::grade_history`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GradeHistoryRow {
    /// The run.
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The instance.
    pub instance_id: String,
    /// `overall`, `vulnerability`, `data`, `baseline` or `compliance`.
    pub area: String,
    /// The current period's grade at that run.
    pub current_grade: Option<String>,
    /// The previous period's grade at that run.
    pub previous_grade: Option<String>,
}

/// Declares the Arrow columns of a row type of this module (the names are its fields).
macro_rules! columns {
    ($name:ident: $($field:ident = $kind:literal $nullable:literal),+ $(,)?) => {
        #[doc = concat!("The Arrow columns of [`", stringify!($name), "`]'s rows, in order.")]
        pub const $name: &[Column] = &[
            $(Column { name: stringify!($field), kind: $kind, nullable: $nullable, doc: "" },)+
        ];
    };
}

columns!(RUN_SUMMARY_COLUMNS: run_id = "string" false, started_at = "string" false, finished_at = "string" false,
    instances_pulled = "int64" false, instances_failed = "int64" false, instances_skipped = "int64" false,
    findings = "int64" false, failed_instances = "string" false, tool_version = "string" false);
columns!(DIFF_COLUMNS: change = "string" false, fingerprint = "string" false, instance_id = "string" false,
    scan_id = "string" false, scan_class = "string" false, asset_key = "string" false, asset_name = "string" true,
    asset_address = "string" true, kind = "string" false, rule = "string" false, risk_level = "string" true,
    score = "float64" true, title = "string" true);
columns!(GRADE_CHANGE_COLUMNS: instance_id = "string" false, area = "string" false, from_grade = "string" true,
    to_grade = "string" true, direction = "string" false);
columns!(FINDING_HISTORY_COLUMNS: fingerprint = "string" false, instance_id = "string" false, kind = "string" false,
    rule = "string" false, asset_key = "string" false, title = "string" true, risk_level = "string" true,
    status = "string" false, first_seen = "string" false, last_seen = "string" false, fixed_at = "string" true,
    times_reopened = "int64" false, days_open = "int64" false);
columns!(INSTANCE_HISTORY_COLUMNS: instance_id = "string" false, open = "int64" false, fixed = "int64" false,
    fixes = "int64" false, mean_days_to_fix = "float64" true);
columns!(GRADE_HISTORY_COLUMNS: run_id = "string" false, started_at = "string" false, instance_id = "string" false,
    area = "string" false, current_grade = "string" true, previous_grade = "string" true);

/// Of `earlier`'s fingerprints (sorted), the ones in `to` and not in `from`: all the diff asks
/// about (whether a finding that appeared was seen before), found by merging the three sorted
/// lists rather than hashing every earlier fingerprint.
fn seen_before(from: &RunData, to: &RunData, earlier: &[Fingerprint]) -> FingerprintSet {
    let mut before = from.findings().map(|(fingerprint, _)| fingerprint).peekable();
    let mut at = 0;
    let mut seen = FingerprintSet::default();
    for (fingerprint, _) in to.findings() {
        while before.next_if(|other| *other < fingerprint).is_some() {}
        if before.peek() == Some(&fingerprint) {
            continue;
        }
        at += earlier.get(at..).map_or(0, |rest| rest.partition_point(|other| other < fingerprint));
        if earlier.get(at) == Some(fingerprint) {
            seen.insert(*fingerprint);
        }
    }
    seen
}

/// The history dataset, read.
#[derive(Clone, Debug)]
pub struct History {
    dataset: Dataset,
}

/// RFC 3339 text of a time in microseconds (UTC, whole seconds).
pub fn timestamp(micros: i64) -> String {
    cyrisma_core::civil::rfc3339(micros.div_euclid(1_000_000))
}

impl History {
    /// The history in `dataset`.
    pub fn new(dataset: Dataset) -> Self {
        Self { dataset }
    }

    /// The dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Every complete run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, Error> {
        let mut summaries = Vec::new();
        for run in self.dataset.runs()? {
            let outcomes: Vec<OutcomeRow> = self.dataset.rows("outcomes", &run)?;
            let failed =
                outcomes.iter().filter(|row| row.outcome == "failed").map(|row| row.instance_id.as_str()).collect();
            // No column: the batches carry only their row counts (decoding the fingerprints just
            // to count them read 35 MiB per 1,000-instance run).
            let findings =
                self.dataset.batches("findings", &run, Some(&[]))?.iter().map(|batch| batch.num_rows() as u64).sum();
            summaries.push(RunSummary::of(&run, findings, failed));
        }
        Ok(summaries)
    }

    /// The two runs a diff compares: the named ones, else the last two complete runs (`to`
    /// alone: the run before it; `from` alone: the latest run).
    fn pair(&self, runs: &[RunRow], from: Option<&str>, to: Option<&str>) -> Result<(usize, usize), Error> {
        let position =
            |id: &str| runs.iter().position(|run| run.run_id == id).ok_or_else(|| Error::NoSuchRun(id.to_owned()));
        let to_index = match to {
            Some(id) => position(id)?,
            None => runs.len().checked_sub(1).ok_or(Error::TooFewRuns { found: runs.len() })?,
        };
        let from_index = match from {
            Some(id) => position(id)?,
            None => to_index.checked_sub(1).ok_or(Error::TooFewRuns { found: runs.len() })?,
        };
        if from_index >= to_index {
            return Err(Error::RunOrder { from: runs[from_index].run_id.clone(), to: runs[to_index].run_id.clone() });
        }
        Ok((from_index, to_index))
    }

    fn grades(&self, run: &RunRow) -> Result<BTreeMap<(String, String), Option<Grade>>, Error> {
        let rows: Vec<GradeRow> = self.dataset.rows("grades", run)?;
        Ok(rows
            .into_iter()
            .map(|row| ((row.instance_id, row.area), row.current_grade.map(|grade| Grade::from_wire(&grade))))
            .collect())
    }

    /// Loads `from` and `to` for the diff rules, and of the fingerprints of the runs before `from`
    /// those the diff asks about (in `to`, not in `from`), on two threads taking the next file to
    /// read as they finish one (the machine this runs on may have only two cores; the two big
    /// runs go first).
    fn load_pair(
        &self,
        from: &RunRow,
        to: &RunRow,
        earlier: &[RunRow],
    ) -> Result<(RunData, RunData, FingerprintSet), Error> {
        enum Loaded {
            Run(RunData),
            Fingerprints(Vec<Fingerprint>),
        }
        let jobs: Vec<(bool, &RunRow)> =
            [(true, to), (true, from)].into_iter().chain(earlier.iter().map(|run| (false, run))).collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || -> Result<Vec<(usize, Loaded)>, Error> {
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((whole, run)) = jobs.get(index) else { return Ok(done) };
                let loaded = if *whole {
                    Loaded::Run(self.dataset.load_run(run)?)
                } else {
                    let mut fingerprints = self.dataset.fingerprints(run)?;
                    fingerprints.sort_unstable();
                    Loaded::Fingerprints(fingerprints)
                };
                done.push((index, loaded));
            }
        };
        let loaded = std::thread::scope(|scope| {
            let other = scope.spawn(work);
            let mut mine = work()?;
            mine.extend(other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
            Ok::<_, Error>(mine)
        })?;
        let mut earlier: Vec<Vec<Fingerprint>> = Vec::new();
        let (mut from_data, mut to_data) = (RunData::new(), RunData::new());
        for (index, loaded) in loaded {
            match (index, loaded) {
                (0, Loaded::Run(data)) => to_data = data,
                (_, Loaded::Run(data)) => from_data = data,
                (_, Loaded::Fingerprints(fingerprints)) => earlier.push(fingerprints),
            }
        }
        let earlier = if earlier.len() == 1 {
            earlier.pop().unwrap_or_default()
        } else {
            let mut all = earlier.concat();
            all.sort_unstable();
            all
        };
        let seen = seen_before(&from_data, &to_data, &earlier);
        Ok((from_data, to_data, seen))
    }

    /// What changed from one run to another; `all` lists unchanged findings too.
    pub fn diff(&self, from: Option<&str>, to: Option<&str>, all: bool) -> Result<DiffReport, Error> {
        let runs = self.dataset.runs()?;
        let (from_index, to_index) = self.pair(&runs, from, to)?;
        let (from_run, to_run) = (&runs[from_index], &runs[to_index]);
        let (from_data, to_data, seen) = self.load_pair(from_run, to_run, &runs[..from_index])?;
        let result = diff(&from_data, &to_data, &seen, all);
        drop(seen);
        // Only the changed findings become rows: `from`'s for the ones gone, `to`'s for the rest.
        let gone = |kind: ChangeKind| matches!(kind, ChangeKind::Fixed | ChangeKind::NotCovered);
        let from_wanted: Vec<u32> =
            result.changes.iter().filter(|change| gone(change.kind)).map(|change| *change.payload).collect();
        let to_wanted: Vec<u32> =
            result.changes.iter().filter(|change| !gone(change.kind)).map(|change| *change.payload).collect();
        let columns = Some(CHANGED_COLUMNS);
        let (from_rows, to_rows) = std::thread::scope(|scope| {
            let to_rows =
                scope.spawn(|| self.dataset.rows_at::<ChangedFinding>("findings", to_run, &to_wanted, columns));
            let from_rows = self.dataset.rows_at::<ChangedFinding>("findings", from_run, &from_wanted, columns)?;
            Ok::<_, Error>((from_rows, to_rows.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?))
        })?;
        let (mut from_rows, mut to_rows) = (from_rows.into_iter(), to_rows.into_iter());
        let mut findings = Vec::with_capacity(result.changes.len());
        for change in &result.changes {
            let row = if gone(change.kind) { from_rows.next() } else { to_rows.next() };
            if let Some(ChangedFinding(mut row)) = row {
                row.change = change.kind.as_str();
                row.fingerprint = change.fingerprint.to_hex();
                findings.push(row);
            }
        }
        let warnings = result
            .truncated
            .iter()
            .map(|scan| {
                format!(
                    "{}: the {} scan covered {} assets against {} before; it looks truncated, so its missing findings are not_covered, not fixed",
                    scan.instance_id, scan.scan_class, scan.assets_now, scan.assets_before
                )
            })
            .collect();
        let pulled_in_both = |instance: &str| from_data.was_pulled(instance) && to_data.was_pulled(instance);
        let mut before = self.grades(from_run)?;
        let mut after = self.grades(to_run)?;
        before.retain(|(instance, _), _| pulled_in_both(instance));
        after.retain(|(instance, _), _| pulled_in_both(instance));
        let grades = grade_changes(&before, &after)
            .into_iter()
            .map(|change| GradeChangeRow {
                direction: change.direction(),
                from_grade: change.from.as_ref().map(|grade| grade.as_str().to_owned()),
                to_grade: change.to.as_ref().map(|grade| grade.as_str().to_owned()),
                instance_id: change.instance_id,
                area: change.area,
            })
            .collect();
        Ok(DiffReport { from: from_run.run_id.clone(), to: to_run.run_id.clone(), findings, grades, warnings })
    }

    /// Every area's grades on every pulled instance in every run, oldest run first: the trend.
    pub fn grade_history(&self) -> Result<Vec<GradeHistoryRow>, Error> {
        let mut rows = Vec::new();
        for run in self.dataset.runs()? {
            let started_at = timestamp(run.started_at);
            let grades: Vec<GradeRow> = self.dataset.rows("grades", &run)?;
            rows.extend(grades.into_iter().map(|row| GradeHistoryRow {
                run_id: run.run_id.clone(),
                started_at: started_at.clone(),
                instance_id: row.instance_id,
                area: row.area,
                current_grade: row.current_grade,
                previous_grade: row.previous_grade,
            }));
        }
        Ok(rows)
    }

    /// Every finding's life over all runs, and each instance's fixes.
    pub fn lifecycles(&self) -> Result<(Vec<FindingHistoryRow>, Vec<InstanceHistoryRow>), Error> {
        let runs = self.dataset.runs()?;
        let mut lifecycle = Lifecycle::new();
        let mut latest_rows: HashMap<Fingerprint, FindingRow> = HashMap::new();
        let mut previous: Option<RunData> = None;
        for run in &runs {
            let data = self.dataset.load_run(run)?;
            let rows: Vec<FindingRow> = self.dataset.rows("findings", run)?;
            let mut rows: Vec<Option<FindingRow>> = rows.into_iter().map(Some).collect();
            for (fingerprint, located) in data.findings() {
                if let Some(row) = rows.get_mut(located.payload as usize).and_then(Option::take) {
                    latest_rows.insert(*fingerprint, row);
                }
            }
            // The lifecycle's times are Unix seconds; the runs' are microseconds.
            lifecycle.observe(previous.as_ref(), &data, run.started_at.div_euclid(1_000_000));
            previous = Some(data);
        }
        let mut findings: Vec<FindingHistoryRow> = lifecycle
            .findings()
            .filter_map(|(fingerprint, life)| {
                let row = latest_rows.get(fingerprint)?;
                Some(FindingHistoryRow {
                    fingerprint: fingerprint.to_hex(),
                    instance_id: life.instance_id.clone(),
                    kind: row.kind.clone(),
                    rule: row.rule.clone(),
                    asset_key: row.asset_key.clone(),
                    title: row.title.clone(),
                    risk_level: row.risk_level.clone(),
                    status: if life.is_open() { "open" } else { "fixed" },
                    first_seen: cyrisma_core::civil::rfc3339(life.first_seen),
                    last_seen: cyrisma_core::civil::rfc3339(life.last_seen),
                    fixed_at: life.fixed_at.map(cyrisma_core::civil::rfc3339),
                    times_reopened: life.times_reopened,
                    days_open: life.days_open(),
                })
            })
            .collect();
        findings.sort_by(|a, b| {
            (&a.instance_id, &a.first_seen, &a.fingerprint).cmp(&(&b.instance_id, &b.first_seen, &b.fingerprint))
        });
        let mut per_instance: BTreeMap<String, InstanceHistoryRow> = BTreeMap::new();
        for finding in &findings {
            let row = per_instance.entry(finding.instance_id.clone()).or_insert_with(|| InstanceHistoryRow {
                instance_id: finding.instance_id.clone(),
                open: 0,
                fixed: 0,
                fixes: 0,
                mean_days_to_fix: None,
            });
            if finding.status == "open" { row.open += 1 } else { row.fixed += 1 }
        }
        for (instance, fixes) in lifecycle.time_to_fix() {
            if let Some(row) = per_instance.get_mut(instance) {
                row.fixes = fixes.fixes;
                row.mean_days_to_fix = fixes.mean_days();
            }
        }
        Ok((findings, per_instance.into_values().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(n: u32) -> Fingerprint {
        Fingerprint::from_hex(&format!("{:032x}", u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15))).expect("hex")
    }

    fn run(numbers: impl IntoIterator<Item = u32>) -> RunData {
        let mut run = RunData::new();
        for (row, n) in numbers.into_iter().enumerate() {
            run.finding(fingerprint(n), "instance", "external_ip", "id:asset", row as u32);
        }
        run
    }

    #[test]
    fn seen_before_keeps_the_earlier_fingerprints_that_appeared_in_to() {
        let (from, to) = (run((0..300).filter(|n| n % 3 != 0)), run((0..300).filter(|n| n % 2 == 0)));
        let mut earlier: Vec<Fingerprint> = (0..300).filter(|n| n % 5 == 0).chain(400..410).map(fingerprint).collect();
        earlier.sort_unstable();
        let ours = seen_before(&from, &to, &earlier);
        // Written out: in `to`, not in `from`, in an earlier run.
        let expected: FingerprintSet =
            (0..300).filter(|n| n % 2 == 0 && n % 3 == 0 && n % 5 == 0).map(fingerprint).collect();
        assert_eq!(ours, expected);
        assert!(!expected.is_empty());
        assert!(seen_before(&from, &to, &[]).is_empty());
    }
}
