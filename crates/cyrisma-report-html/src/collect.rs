//! Reading the history into the view models the pages are rendered from: the portfolio, and per
//! customer the grades over the runs, the changes between runs, and the open findings that
//! matter most. This is the only module that reads files.
//!
//! New, fixed and reopened counts follow the history's rules (`cyrisma_core::history::diff`):
//! each pair of consecutive runs of the period is compared, with every earlier run (also those
//! before the period) counting as seen for `reopened`. "Since the previous run" is the last pair,
//! "over the period" the sum of all pairs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use arrow_array::{Array, Float64Array, RecordBatch, StringArray};
use cyrisma_core::history::{ChangeKind, FastBuild, grade_rank};
use cyrisma_core::types::Grade;
use cyrisma_dataset::scan::Scan;
use cyrisma_dataset::schema::{InstanceRow, OutcomeRow, RunRow, UsageRow};
use cyrisma_fleet::History;

use crate::cache::{self, Cache, Step};
use crate::changes::{self, Compact, Instances, Key, NONE, Names, Places, Seen};
use crate::{Branding, Error, Options};

/// The five areas, in page order: key (as in the dataset) and label.
pub const AREAS: [(&str, &str); 5] = [
    ("overall", "Overall"),
    ("vulnerability", "Vulnerability"),
    ("data", "Data sensitivity"),
    ("baseline", "Secure baseline"),
    ("compliance", "Compliance"),
];

/// How many CVEs, ports, flaws and "fix these first" items a customer page lists.
pub const TOP: usize = 10;
/// How many items "fix these first" lists.
pub const FIX_FIRST: usize = 5;
/// How many movers each way the portfolio lists.
pub const MOVERS: usize = 5;

/// One run of the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// The run's id.
    pub run_id: String,
    /// When it started (microseconds since the epoch, UTC).
    pub started_at: i64,
    /// Its UTC date, `YYYY-MM-DD`.
    pub date: String,
}

/// Which way a grade moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Better than before.
    Up,
    /// Worse than before.
    Down,
    /// The same.
    Same,
    /// No earlier grade to compare with.
    Unknown,
}

impl Direction {
    fn of(before: Option<&str>, after: Option<&str>) -> Self {
        match (before.and_then(rank), after.and_then(rank)) {
            (Some(before), Some(after)) if after > before => Self::Up,
            (Some(before), Some(after)) if after < before => Self::Down,
            (Some(_), Some(_)) => Self::Same,
            _ => Self::Unknown,
        }
    }

    /// `up`, `down`, `same` or `unknown` (a CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Same => "same",
            Self::Unknown => "unknown",
        }
    }

    /// Words for people (and screen readers).
    pub fn words(self) -> &'static str {
        match self {
            Self::Up => "▲ up",
            Self::Down => "▼ down",
            Self::Same => "= same",
            Self::Unknown => "–",
        }
    }
}

/// The rank of a grade letter: 0 for F up to 11 for A (None for anything else).
pub fn rank(grade: &str) -> Option<u8> {
    grade_rank(&Grade::from_wire(grade))
}

/// One area's grades on one customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaGrades {
    /// `overall`, `vulnerability`, ...
    pub area: &'static str,
    /// Its label.
    pub label: &'static str,
    /// The grade at each run of the period (None: not pulled, or no grade yet).
    pub grades: Vec<Option<String>>,
    /// The grade at the latest run that pulled the customer.
    pub current: Option<String>,
    /// The grade at the run before that one.
    pub previous: Option<String>,
    /// The previous grading period's grade as CYRISMA reported it at the latest run.
    pub previous_period: Option<String>,
    /// From `previous` to `current`.
    pub direction: Direction,
}

/// Findings that changed between runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Findings never seen before.
    pub new: u64,
    /// Findings gone from a scan that covered their asset.
    pub fixed: u64,
    /// Findings back after being gone.
    pub reopened: u64,
    /// Findings gone where no complete scan covered their asset (not called fixed).
    pub not_covered: u64,
}

impl Changes {
    /// From the cache's counts.
    fn of([new, fixed, reopened, not_covered]: cache::Counts) -> Self {
        Self { new, fixed, reopened, not_covered }
    }

    fn add(&mut self, kind: ChangeKind) {
        match kind {
            ChangeKind::New => self.new += 1,
            ChangeKind::Fixed => self.fixed += 1,
            ChangeKind::Reopened => self.reopened += 1,
            ChangeKind::NotCovered => self.not_covered += 1,
            _ => {}
        }
    }

    fn plus(&mut self, other: &Changes) {
        self.new += other.new;
        self.fixed += other.fixed;
        self.reopened += other.reopened;
        self.not_covered += other.not_covered;
    }
}

/// Vulnerabilities by severity, as the vulnerability dashboard counted them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Severity {
    /// Critical.
    pub critical: Option<i64>,
    /// High.
    pub high: Option<i64>,
    /// Medium.
    pub medium: Option<i64>,
    /// Low.
    pub low: Option<i64>,
}

impl Severity {
    /// The four levels with their counts, most severe first.
    pub fn levels(&self) -> [(&'static str, Option<i64>); 4] {
        [("Critical", self.critical), ("High", self.high), ("Medium", self.medium), ("Low", self.low)]
    }
}

/// Open findings of one rule (a CVE, a port, a web flaw) on a customer, with the assets they are on.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: String,
    /// The CVE, port or alert reference (may be empty).
    pub rule: String,
    /// A title, when the server sent one.
    pub title: Option<String>,
    /// The worst risk level on any asset.
    pub risk: Option<String>,
    /// The highest score on any asset.
    pub score: Option<f64>,
    /// The assets (names, else addresses, else keys), sorted.
    pub assets: Vec<String>,
    /// `new` or `reopened` when any of them is, since the previous run.
    pub change: Option<&'static str>,
}

impl Group {
    /// How the finding is named in a list: the rule with the kind's word.
    pub fn label(&self) -> String {
        match (self.kind.as_str(), self.rule.is_empty()) {
            ("open_port", false) => format!("Open port {}", self.rule),
            ("open_port", true) => "Open port".to_owned(),
            ("web_flaw", false) => format!("Web flaw {}", self.rule),
            ("web_flaw", true) => "Web flaw".to_owned(),
            (_, false) => self.rule.clone(),
            (_, true) => "Vulnerability without a CVE".to_owned(),
        }
    }

    /// A vulnerability's score with one decimal, or empty.
    pub fn score_text(&self) -> String {
        match self.score {
            Some(score) if self.kind == "vulnerability" => format!("{score:.1}"),
            _ => String::new(),
        }
    }

    /// The first assets, for a list cell.
    pub fn shown_assets(&self) -> &[String] {
        &self.assets[..self.assets.len().min(5)]
    }

    /// How many assets are not shown.
    pub fn more_assets(&self) -> usize {
        self.assets.len().saturating_sub(5)
    }
}

/// Why the latest pull of a customer failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The instance.
    pub instance_id: String,
    /// Its name, when known.
    pub name: Option<String>,
    /// Its page.
    pub file: String,
    /// What went wrong.
    pub message: String,
    /// The HTTP status, when there was an answer.
    pub status: Option<i64>,
    /// The API's error code.
    pub error_code: Option<String>,
    /// The request id of the failed call.
    pub request_id: Option<String>,
}

/// One customer's page.
#[derive(Clone, Debug, PartialEq)]
pub struct Customer {
    /// The instance id.
    pub instance_id: String,
    /// Its name.
    pub name: Option<String>,
    /// The file name of its page (`<instance_id>.html`, made safe).
    pub file: String,
    /// The five areas' grades.
    pub areas: Vec<AreaGrades>,
    /// The vulnerability dashboard's counts.
    pub severity: Severity,
    /// Its endpoint count.
    pub endpoints: Option<i64>,
    /// Changes since the previous run (None with one run).
    pub since_previous: Option<Changes>,
    /// Changes over the period (None with one run).
    pub over_period: Option<Changes>,
    /// The worst CVEs, with their assets.
    pub top_cves: Vec<Group>,
    /// How many distinct CVEs are open.
    pub cve_count: usize,
    /// Open ports of concern (critical or high).
    pub ports: Vec<Group>,
    /// How many open ports in all.
    pub ports_total: usize,
    /// Web flaws of concern (critical or high).
    pub flaws: Vec<Group>,
    /// How many web flaws in all.
    pub flaws_total: usize,
    /// The worst open findings.
    pub fix_first: Vec<Group>,
    /// Open findings in all.
    pub open_findings: usize,
    /// The run the findings are from (the latest that pulled it), when any did.
    pub data_from: Option<RunInfo>,
    /// Why the latest run could not pull it.
    pub failure: Option<Failure>,
}

impl Customer {
    /// Its name, else its id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().filter(|name| !name.trim().is_empty()).unwrap_or(&self.instance_id)
    }

    /// Its overall area.
    pub fn overall(&self) -> &AreaGrades {
        &self.areas[0]
    }
}

/// A customer whose overall grade moved over the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mover {
    /// The instance.
    pub instance_id: String,
    /// Its name, else its id.
    pub name: String,
    /// Its page.
    pub file: String,
    /// The overall grade at the first run of the period that had one.
    pub from: String,
    /// The overall grade now.
    pub to: String,
    /// Grade steps moved (A to B+ is 2).
    pub steps: i32,
}

/// Usage at the latest run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Endpoints.
    pub endpoints: i64,
    /// Instances.
    pub instances: i64,
    /// Standard instances.
    pub standard: i64,
    /// Consulting instances.
    pub consulting: i64,
    /// Suspended instances.
    pub suspended: i64,
    /// Users, when listed.
    pub users: Option<i64>,
}

/// Everything the pages show.
#[derive(Clone, Debug, PartialEq)]
pub struct Portfolio {
    /// Title, MSP name and logo.
    pub branding: Branding,
    /// The runs of the period, oldest first.
    pub runs: Vec<RunInfo>,
    /// Complete runs before the period.
    pub earlier_runs: usize,
    /// The customers, by name.
    pub customers: Vec<Customer>,
    /// The customers whose pull failed in the latest run.
    pub failed: Vec<Failure>,
    /// Usage at the latest run (the `total` row).
    pub usage: Option<Usage>,
    /// Overall grades up most over the period.
    pub movers_up: Vec<Mover>,
    /// Overall grades down most over the period.
    pub movers_down: Vec<Mover>,
    /// All customers' changes since the previous run.
    pub since_previous: Option<Changes>,
    /// All customers' changes over the period.
    pub over_period: Option<Changes>,
}

impl Portfolio {
    /// The latest run.
    pub fn latest(&self) -> &RunInfo {
        // `collect` refuses a period without runs, so there is always a last one.
        &self.runs[self.runs.len() - 1]
    }

    /// The first run of the period.
    pub fn first(&self) -> &RunInfo {
        &self.runs[0]
    }

    /// The customer with this id.
    pub fn customer(&self, instance_id: &str) -> Option<&Customer> {
        self.customers.iter().find(|customer| customer.instance_id == instance_id)
    }
}

/// The file name of an instance's page: the id when it is made of letters, digits, `-` and `_`
/// (as CYRISMA's ids are), else the id with every other byte written as `_xx` in hex, so that a
/// hostile id can never name another directory or a hidden file.
pub fn page_file(instance_id: &str) -> String {
    let mut name = String::with_capacity(instance_id.len() + 5);
    for byte in instance_id.bytes().take(120) {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            name.push(byte as char);
        } else {
            name.push_str(&format!("_{byte:02x}"));
        }
    }
    if name.is_empty() || name.eq_ignore_ascii_case("index") {
        name.insert_str(0, "instance-");
    }
    name.push_str(".html");
    name
}

/// How bad a risk level is (Critical 4 down to Info and unknown 0).
pub fn risk_rank(risk: Option<&str>) -> u8 {
    match risk.map(|risk| risk.trim().to_ascii_lowercase()).as_deref() {
        Some("critical") => 4,
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

fn run_info(run: &RunRow) -> RunInfo {
    RunInfo {
        run_id: run.run_id.clone(),
        started_at: run.started_at,
        date: cyrisma_core::civil::date(run.started_at.div_euclid(1_000_000)),
    }
}

/// Reads what the pages need from the history.
pub fn collect(history: &History, options: &Options) -> Result<Portfolio, Error> {
    let dataset = history.dataset();
    let all_runs = dataset.runs()?;
    let Some(latest) = all_runs.last() else {
        return Err(Error::NoRuns(format!(
            "the history at `{}` has no complete run: take one with `cyrisma snapshot`",
            dataset.root().display()
        )));
    };
    let first_in = all_runs.iter().position(|run| options.period.contains(run.started_at, latest.started_at));
    let Some(first_in) = first_in else {
        return Err(Error::NoRuns(format!(
            "no run of the history at `{}` is in that period (the latest started on {})",
            dataset.root().display(),
            run_info(latest).date
        )));
    };
    let window = &all_runs[first_in..];
    let runs: Vec<RunInfo> = window.iter().map(run_info).collect();

    // Who was selected in each run, and how it went.
    // The instances each run pulled start what the diff rules need of it.
    let mut outcomes: Vec<HashMap<String, OutcomeRow>> = Vec::with_capacity(window.len());
    for run in window {
        let rows: Vec<OutcomeRow> = dataset.rows("outcomes", run)?;
        outcomes.push(rows.into_iter().map(|row| (row.instance_id.clone(), row)).collect());
    }
    let mut ids: BTreeSet<String> = outcomes.iter().flat_map(|runs| runs.keys().cloned()).collect();
    // Every instance of the period by number (also those not selected: the rules need them).
    let all_ids: Vec<String> = ids.iter().cloned().collect();
    let numbers: Instances<'_> =
        all_ids.iter().enumerate().map(|(at, id)| (id.as_str(), u32::try_from(at).unwrap_or(NONE))).collect();
    if !options.instances.is_empty() {
        let unknown: Vec<String> = options.instances.iter().filter(|id| !ids.contains(*id)).cloned().collect();
        if !unknown.is_empty() {
            return Err(Error::UnknownInstances(unknown));
        }
        let wanted: HashSet<&String> = options.instances.iter().collect();
        ids.retain(|id| wanted.contains(id));
    }

    // Per customer: the latest run that pulled it.
    let last_pulled: BTreeMap<&String, usize> = ids
        .iter()
        .filter_map(|id| {
            (0..window.len())
                .rev()
                .find(|&index| outcomes[index].get(id).is_some_and(|row| row.outcome == "pulled"))
                .map(|index| (id, index))
        })
        .collect();
    let latest_index = window.len() - 1;
    // The runs whose instances and findings the pages show: each customer's latest pull, and the
    // latest run (names and counts of customers it could not pull).
    let needed: BTreeSet<usize> = last_pulled.values().copied().chain([latest_index]).collect();
    let with_findings: BTreeSet<usize> = last_pulled.values().copied().collect();
    // Each instance's customer: its place in `ids` (the changes per run pair are kept by it), by
    // instance number.
    let position: HashMap<&str, usize, FastBuild> = ids.iter().enumerate().map(|(at, id)| (id.as_str(), at)).collect();
    let selected: Vec<Option<usize>> = all_ids.iter().map(|id| position.get(id.as_str()).copied()).collect();
    let names = Names::default();
    let cache = Cache::of(dataset);
    let wanted = Wanted {
        ids: &all_ids,
        numbers: &numbers,
        selected: &selected,
        names: &names,
        cache: &cache,
        instances: false,
        findings: false,
    };

    // The counts of each pair of consecutive runs come from the cache where it has them. From the
    // first pair it lacks on, the runs are compacted and compared, with every run before that
    // pair's earlier one counting as seen for `reopened` (the cache's keys of those runs, else
    // their fingerprints read).
    let chains = cache::chains(&all_runs);
    // Only the latest pair's marked fingerprints are used (the pages mark what is new now).
    let mut cached: Vec<Option<Step>> = (0..window.len())
        .map(|index| match index {
            0 => None,
            _ => cache.step(&chains[first_in + index], index + 1 == window.len()),
        })
        .collect();
    let first_missing = (1..window.len()).find(|index| cached[*index].is_none());
    // The keys of the runs before the first pair to count's earlier one (global index
    // `first_in + missing - 1`), read on a thread of their own while the runs are.
    let seen_before = |earlier: usize| -> Result<Seen, Error> {
        if earlier == 0 {
            return Ok(Seen::default());
        }
        if let Some(keys) = cache.seen(&chains[earlier - 1]) {
            return Ok(Seen::new(keys));
        }
        let mut before = Vec::new();
        for run in &all_runs[..earlier] {
            before.extend(dataset.fingerprints(run)?.iter().map(changes::key));
        }
        Ok(Seen::new(before))
    };
    // The runs to compact, with the chain of the one the cache may hold compacted (the first
    // pair's earlier run, kept by the report that had it as the latest).
    let mut compacts: Vec<Option<(Compact, Option<cache::Chain>)>> = (0..window.len()).map(|_| None).collect();
    if let Some(missing) = first_missing {
        for (index, rows) in outcomes.iter().enumerate().skip(missing - 1) {
            let pulled = rows
                .values()
                .filter(|row| row.outcome == "pulled")
                .filter_map(|row| numbers.get(row.instance_id.as_str()).copied());
            let compact = Compact::new(all_ids.len(), pulled);
            compacts[index] = Some((compact, (index + 1 == missing).then(|| chains[first_in + index])));
        }
    }

    // Each run of the period is read once (its grades, and the coverage and findings the pairs to
    // count need, with the columns the pages show only where they are shown), on a few threads;
    // the consecutive runs are compared in order on this one as they arrive. At most `ahead` runs
    // are loaded but not yet compared, which bounds the memory.
    let mut grades: Vec<HashMap<String, [Cell; 5]>> = Vec::with_capacity(window.len());
    let mut instances: HashMap<usize, HashMap<String, InstanceRow>> = HashMap::new();
    let mut findings: HashMap<usize, HashMap<String, Grouping>> = HashMap::new();
    let mut steps: Vec<Vec<Changes>> = Vec::new();
    let mut new_now: HashMap<Key, &'static str, FastBuild> = HashMap::default();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 4);
    let ahead = workers + 1;
    let (work, jobs) = std::sync::mpsc::channel::<Job>();
    let jobs = std::sync::Mutex::new(jobs);
    let (seen, latest) = std::thread::scope(|scope| -> Result<(Option<Seen>, Option<Compact>), Error> {
        // Owned here, so that the workers stop when this returns, early or not.
        let work = work;
        let mut seen_thread = first_missing.map(|missing| scope.spawn(move || seen_before(first_in + missing - 1)));
        let mut seen: Option<Seen> = None;
        let (sender, results) = std::sync::mpsc::sync_channel::<(usize, Result<Loaded, Error>)>(ahead);
        for _ in 0..workers.min(window.len()) {
            let (jobs, sender, wanted, needed, with_findings) =
                (&jobs, sender.clone(), &wanted, &needed, &with_findings);
            scope.spawn(move || {
                loop {
                    let job = jobs.lock().ok().and_then(|jobs| jobs.recv().ok());
                    let Some((index, data)) = job else { break };
                    let what = Wanted {
                        instances: needed.contains(&index),
                        findings: with_findings.contains(&index),
                        ..*wanted
                    };
                    let loaded = load(dataset, &window[index], data, &what);
                    let failed = loaded.is_err();
                    if sender.send((index, loaded)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut queued = 0;
        // A run compared with both its neighbours lends its buffers to a run not yet read: the
        // same memory is used again rather than fresh pages faulted in for every run.
        let mut spare: Option<Compact> = None;
        let mut queue = |work: &std::sync::mpsc::Sender<Job>, queued: &mut usize, spare: &mut Option<Compact>| {
            if *queued < compacts.len() {
                let mut data = compacts[*queued].take();
                if let (Some((data, None)), Some(used)) = (data.as_mut(), spare.take()) {
                    data.reuse(used);
                }
                // A send fails only when every worker stopped, which the receiving end reports.
                let _ = work.send((*queued, data));
                *queued += 1;
            }
        };
        for _ in 0..ahead {
            queue(&work, &mut queued, &mut spare);
        }
        let mut arrived: BTreeMap<usize, Loaded> = BTreeMap::new();
        let mut previous: Option<Compact> = None;
        for index in 0..window.len() {
            while !arrived.contains_key(&index) {
                let (at, loaded) =
                    results.recv().map_err(|_| Error::NoRuns("a run of the history could not be read".to_owned()))?;
                arrived.insert(at, loaded?);
            }
            let Some(loaded) = arrived.remove(&index) else { continue };
            queue(&work, &mut queued, &mut spare);
            grades.push(loaded.grades);
            if let Some(rows) = loaded.instances {
                instances.insert(index, rows);
            }
            if let Some(rows) = loaded.findings {
                findings.insert(index, rows);
            }
            let data = loaded.data;
            if index > 0 {
                let step = match (cached[index].take(), previous.as_ref(), data.as_ref()) {
                    (Some(step), _, _) => step,
                    (None, Some(before), Some(after)) => {
                        if seen.is_none() {
                            let thread = seen_thread.take().ok_or_else(|| {
                                Error::NoRuns("the earlier runs' fingerprints were not read".to_owned())
                            })?;
                            seen = Some(thread.join().map_err(|_| {
                                Error::NoRuns("the thread reading the earlier runs' fingerprints panicked".to_owned())
                            })??);
                        }
                        let seen = seen.as_ref().ok_or_else(|| Error::NoRuns("no earlier runs".to_owned()))?;
                        let step = count_step(before, after, seen, &all_ids);
                        cache.put_step(&chains[first_in + index], &step);
                        step
                    }
                    // Every run from the first pair not cached on is compacted.
                    (None, _, _) => return Err(Error::NoRuns("a run of the history could not be compared".to_owned())),
                };
                let by_instance = step.by_instance();
                steps.push(
                    ids.iter()
                        .map(|id| by_instance.get(id.as_str()).map_or_else(Changes::default, |c| Changes::of(**c)))
                        .collect(),
                );
                if index + 1 == window.len() {
                    new_now = step.marked.iter().map(|(key, kind)| (*key, kind.as_str())).collect();
                }
            }
            if let (Some(before), Some(_)) = (previous.take(), data.as_ref()) {
                if let Some(seen) = seen.as_mut() {
                    seen.add(before.keys());
                }
                spare = Some(before);
            }
            previous = data;
        }
        Ok((seen, previous))
    })?;
    // The keys of every run but the latest, for the next report's `reopened` after a new run.
    if let Some(seen) = seen {
        cache.put_seen(&chains[first_in + window.len() - 2], seen.keys());
        // And the latest run, for the pair the next snapshot makes.
        if let Some(latest) = latest {
            cache.put_run(&chains[first_in + window.len() - 1], &latest.store(&all_ids, &names));
        }
    }

    // Each customer's open findings grouped (as read) are finished on a few threads: marked new or
    // reopened, their assets named and sorted, worst first.
    let pending: Vec<Option<Grouping>> =
        ids.iter().map(|id| last_pulled.get(id).and_then(|index| findings.get_mut(index)?.remove(id))).collect();
    let open_counts: Vec<usize> =
        pending.iter().map(|grouping| grouping.as_ref().map_or(0, |grouping| grouping.rows.len())).collect();
    let grouped: Vec<Vec<Group>> = on_threads(pending, "grouping its findings", |grouping| {
        grouping.map_or_else(Vec::new, |grouping| grouping.finish(&new_now))
    })?;
    drop(findings);

    // Each customer's view model, on a few threads (customers are independent).
    let customer = |at: usize, id: &String| -> Customer {
        let pulled_at = last_pulled.get(id).copied();
        let instance_row = pulled_at
            .and_then(|index| instances.get(&index)?.get(id))
            .or_else(|| instances.get(&latest_index)?.get(id));
        let name = instance_row
            .and_then(|row| row.name.clone())
            .or_else(|| outcomes.iter().rev().find_map(|runs| runs.get(id)?.instance_name.clone()));
        let file = page_file(id);
        let failure = outcomes[latest_index].get(id).filter(|row| row.outcome == "failed").map(|row| Failure {
            instance_id: id.clone(),
            name: name.clone(),
            file: file.clone(),
            message: row.message.clone().unwrap_or_else(|| "the pull failed".to_owned()),
            status: row.status,
            error_code: row.error_code.clone(),
            request_id: row.request_id.clone(),
        });
        let areas = AREAS
            .iter()
            .enumerate()
            .map(|(position, (area, label))| {
                let series: Vec<Option<String>> =
                    grades.iter().map(|run| run.get(id).and_then(|cells| cells[position].0.clone())).collect();
                let (current, previous) = match pulled_at {
                    Some(index) => (
                        series[index].clone(),
                        (0..index)
                            .rev()
                            .find_map(|earlier| {
                                outcomes[earlier]
                                    .get(id)
                                    .filter(|row| row.outcome == "pulled")
                                    .map(|_| series[earlier].clone())
                            })
                            .flatten(),
                    ),
                    None => (None, None),
                };
                let previous_period =
                    pulled_at.and_then(|index| grades[index].get(id)).and_then(|cells| cells[position].1.clone());
                AreaGrades {
                    area,
                    label,
                    direction: Direction::of(previous.as_deref(), current.as_deref()),
                    grades: series,
                    current,
                    previous,
                    previous_period,
                }
            })
            .collect();
        let (since_previous, over_period) = if steps.is_empty() {
            (None, None)
        } else {
            let since = steps.last().map(|step| step[at]).unwrap_or_default();
            let mut over = Changes::default();
            for step in &steps {
                over.plus(&step[at]);
            }
            (Some(since), Some(over))
        };
        let open_findings = open_counts[at];
        let groups = &grouped[at];
        let cves = || groups.iter().filter(|group| group.kind == "vulnerability" && !group.rule.is_empty());
        let cve_count = cves().count();
        let top_cves: Vec<Group> = cves().take(TOP).cloned().collect();
        let of_concern = |kind: &str| -> (Vec<Group>, usize) {
            let all: Vec<&Group> = groups.iter().filter(|group| group.kind == kind).collect();
            let total = all.len();
            let concern =
                all.into_iter().filter(|group| risk_rank(group.risk.as_deref()) >= 3).take(TOP).cloned().collect();
            (concern, total)
        };
        let (ports, ports_total) = of_concern("open_port");
        let (flaws, flaws_total) = of_concern("web_flaw");
        let fix_first =
            groups.iter().filter(|group| risk_rank(group.risk.as_deref()) >= 2).take(FIX_FIRST).cloned().collect();
        Customer {
            instance_id: id.clone(),
            name,
            file,
            areas,
            severity: instance_row
                .map(|row| Severity { critical: row.critical, high: row.high, medium: row.medium, low: row.low })
                .unwrap_or_default(),
            endpoints: instance_row.and_then(|row| row.number_of_endpoints),
            since_previous,
            over_period,
            top_cves,
            cve_count,
            ports,
            ports_total,
            flaws,
            flaws_total,
            fix_first,
            open_findings,
            data_from: pulled_at.map(|index| runs[index].clone()),
            failure,
        }
    };
    let numbered: Vec<(usize, &String)> = ids.iter().enumerate().collect();
    let mut customers = on_threads(numbered, "collecting its figures", |(at, id)| customer(at, id))?;
    // In the order of their instance ids, as the customers were.
    let failed: Vec<Failure> = customers.iter().filter_map(|customer| customer.failure.clone()).collect();
    customers.sort_by(|a, b| {
        (a.display_name().to_lowercase(), &a.instance_id).cmp(&(b.display_name().to_lowercase(), &b.instance_id))
    });

    let (movers_up, movers_down) = movers(&customers);
    let total = |pick: fn(&Customer) -> Option<Changes>| -> Option<Changes> {
        if steps.is_empty() {
            return None;
        }
        let mut sum = Changes::default();
        for customer in &customers {
            if let Some(changes) = pick(customer) {
                sum.plus(&changes);
            }
        }
        Some(sum)
    };
    let since_previous = total(|customer| customer.since_previous);
    let over_period = total(|customer| customer.over_period);
    let usage_rows: Vec<UsageRow> = dataset.rows("usage", &window[latest_index])?;
    let usage = usage_rows.iter().find(|row| row.scope == "total").map(|row| Usage {
        endpoints: row.endpoints,
        instances: row.instances,
        standard: row.standard,
        consulting: row.consulting,
        suspended: row.suspended,
        users: row.users,
    });
    Ok(Portfolio {
        branding: options.branding.clone(),
        runs,
        earlier_runs: first_in,
        customers,
        failed,
        usage,
        movers_up,
        movers_down,
        since_previous,
        over_period,
    })
}

/// One area's grades in one run: the current and the previous period's (blank is none).
type Cell = (Option<String>, Option<String>);

/// One open finding of a customer as read, with what the pages show of it.
struct Open<'a> {
    kind: &'a str,
    rule: &'a str,
    risk: Option<&'a str>,
    score: Option<f64>,
    title: Option<&'a str>,
    /// The asset's name, else its address, else its key.
    asset: &'a str,
    fingerprint: Key,
}

/// A customer's open findings grouped by kind and rule as they are read: a row adds to its
/// group, and its asset is numbered (each customer has a few hundred), so a row owns no string;
/// the rows (group, asset, fingerprint) are kept in one list per customer.
#[derive(Default)]
struct Grouping {
    /// The assets' names by number, and their numbers.
    assets: Vec<String>,
    numbers: HashMap<String, u32, FastBuild>,
    /// Per kind, its groups by rule.
    kinds: Vec<(String, HashMap<String, usize, FastBuild>)>,
    groups: Vec<Group>,
    /// Every row: its group, its asset and its fingerprint.
    rows: Vec<(u32, u32, Key)>,
}

/// A group of a kind and rule with no finding yet.
fn new_group(kind: &str, rule: &str) -> Group {
    Group {
        kind: kind.to_owned(),
        rule: rule.to_owned(),
        title: None,
        risk: None,
        score: None,
        assets: Vec::new(),
        change: None,
    }
}

/// Takes into a group what a later row (or the group of later rows) says: the first title, the
/// worst risk (the first of the worst), the highest score.
fn take(group: &mut Group, title: Option<&str>, risk: Option<&str>, score: Option<f64>) {
    if group.title.is_none() {
        group.title = title.map(str::to_owned);
    }
    if risk.is_some() && (group.risk.is_none() || risk_rank(risk) > risk_rank(group.risk.as_deref())) {
        group.risk = risk.map(str::to_owned);
    }
    if let Some(score) = score {
        group.score = Some(group.score.map_or(score, |best: f64| best.max(score)));
    }
}

impl Grouping {
    /// The number of an asset's name.
    fn number(&mut self, asset: &str) -> u32 {
        if let Some(number) = self.numbers.get(asset) {
            return *number;
        }
        let number = u32::try_from(self.assets.len()).unwrap_or(u32::MAX);
        self.assets.push(asset.to_owned());
        self.numbers.insert(asset.to_owned(), number);
        number
    }

    /// The group of a kind and rule, made with `make` when it has none yet.
    fn group(&mut self, kind: &str, rule: &str, make: impl FnOnce() -> Group) -> u32 {
        let at = match self.kinds.iter().position(|(known, _)| known == kind) {
            Some(at) => at,
            None => {
                self.kinds.push((kind.to_owned(), HashMap::default()));
                self.kinds.len() - 1
            }
        };
        let rules = &mut self.kinds[at].1;
        if let Some(at) = rules.get(rule) {
            return u32::try_from(*at).unwrap_or(u32::MAX);
        }
        let at = self.groups.len();
        rules.insert(rule.to_owned(), at);
        self.groups.push(make());
        u32::try_from(at).unwrap_or(u32::MAX)
    }

    fn add(&mut self, row: Open<'_>) {
        let asset = self.number(row.asset);
        let at = self.group(row.kind, row.rule, || new_group(row.kind, row.rule));
        take(&mut self.groups[at as usize], row.title, row.risk, row.score);
        self.rows.push((at, asset, row.fingerprint));
    }

    /// Adds the rows of the same customer read after these (the later part of a file).
    fn absorb(&mut self, later: Grouping) {
        let assets: Vec<u32> = later.assets.iter().map(|asset| self.number(asset)).collect();
        let mut groups = Vec::with_capacity(later.groups.len());
        for group in later.groups {
            let (kind, rule) = (group.kind.clone(), group.rule.clone());
            let mut later = Some(group);
            let at = self.group(&kind, &rule, || later.take().unwrap_or_else(|| new_group(&kind, &rule)));
            if let Some(later) = later {
                take(&mut self.groups[at as usize], later.title.as_deref(), later.risk.as_deref(), later.score);
            }
            groups.push(at);
        }
        self.rows.extend(
            later.rows.into_iter().map(|(group, asset, key)| (groups[group as usize], assets[asset as usize], key)),
        );
    }

    /// The groups, worst first (risk, then score, then how many assets, then kind and rule), each
    /// with its assets sorted and marked `new` or `reopened` as `changed` has any of its findings
    /// (`new` wins over `reopened` when a rule has both on different assets).
    fn finish(self, changed: &HashMap<Key, &'static str, FastBuild>) -> Vec<Group> {
        let Self { assets: names, mut groups, mut rows, .. } = self;
        // The assets' places in name order: the rows sorted by group and that place give each
        // group's assets sorted, each once.
        let mut order: Vec<u32> = (0..u32::try_from(names.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
        let mut place = vec![0u32; names.len()];
        for (at, number) in order.iter().enumerate() {
            place[*number as usize] = u32::try_from(at).unwrap_or(u32::MAX);
        }
        rows.sort_unstable_by_key(|(group, asset, _)| (*group, place[*asset as usize]));
        let mut last: Option<(u32, u32)> = None;
        for (at, asset, key) in &rows {
            let group = &mut groups[*at as usize];
            if let Some(kind) = changed.get(key)
                && group.change != Some("new")
            {
                group.change = Some(kind);
            }
            if last != Some((*at, *asset)) {
                group.assets.push(names[*asset as usize].clone());
                last = Some((*at, *asset));
            }
        }
        groups.sort_by(|a, b| {
            risk_rank(b.risk.as_deref())
                .cmp(&risk_rank(a.risk.as_deref()))
                .then(b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)))
                .then(b.assets.len().cmp(&a.assets.len()))
                .then_with(|| (&a.kind, &a.rule).cmp(&(&b.kind, &b.rule)))
        });
        groups
    }
}

/// `each` of every item, on a few threads (a run of consecutive items each), the results in the
/// items' order: for the per-customer work, whose customers are independent.
pub(crate) fn on_threads<T: Send, R: Send>(
    items: Vec<T>,
    what: &str,
    each: impl Fn(T) -> R + Sync,
) -> Result<Vec<R>, Error> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 8);
    let chunk = items.len().div_ceil(workers).max(1);
    let count = items.len();
    let mut items = items.into_iter().peekable();
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(workers);
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let each = &each;
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(each).collect::<Vec<R>>()))
            .collect();
        let mut results = Vec::with_capacity(count);
        for handle in handles {
            results.extend(handle.join().map_err(|_| Error::Render {
                page: "a customer page".to_owned(),
                message: format!("the thread {what} panicked"),
            })?);
        }
        Ok(results)
    })
}

/// The changes from one run to the next for every instance (numbered as in `ids`), and the
/// fingerprints new or reopened in the later run.
fn count_step(before: &Compact, after: &Compact, seen: &Seen, ids: &[String]) -> Step {
    let mut counts = vec![Changes::default(); ids.len()];
    let mut marked = Vec::new();
    changes::count_pair(before, after, seen, |instance, kind, key| {
        if let Some(changes) = counts.get_mut(instance as usize) {
            changes.add(kind);
        }
        if matches!(kind, ChangeKind::New | ChangeKind::Reopened) {
            marked.push((key, kind));
        }
    });
    marked.sort_unstable_by_key(|(key, _)| *key);
    let counts = ids
        .iter()
        .zip(counts)
        .filter(|(_, changes)| *changes != Changes::default())
        .map(|(id, changes)| (id.clone(), [changes.new, changes.fixed, changes.reopened, changes.not_covered]))
        .collect();
    Step { counts, marked }
}

fn table_error(table: &'static str, message: impl Into<String>) -> Error {
    Error::Table { table, message: message.into() }
}

/// A string column of a batch.
fn strings<'a>(batch: &'a RecordBatch, table: &'static str, name: &str) -> Result<&'a StringArray, Error> {
    batch
        .column_by_name(name)
        .and_then(|column| column.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| table_error(table, format!("no text column `{name}`")))
}

/// A cell of a nullable string column, blank as none.
fn text(array: &StringArray, index: usize) -> Option<&str> {
    (!array.is_null(index)).then(|| array.value(index)).filter(|value| !value.trim().is_empty())
}

/// The grades of a run's selected instances, read as Arrow columns (no row objects).
fn read_grades(
    dataset: &cyrisma_dataset::Dataset,
    run: &RunRow,
    ids: &Instances<'_>,
    selected: &[Option<usize>],
) -> Result<HashMap<String, [Cell; 5]>, Error> {
    const TABLE: &str = "grades";
    let mut grades: HashMap<String, [Cell; 5]> = HashMap::new();
    for batch in dataset.batches(TABLE, run, Some(&["instance_id", "area", "current_grade", "previous_grade"]))? {
        let instances = strings(&batch, TABLE, "instance_id")?;
        let areas = strings(&batch, TABLE, "area")?;
        let current = strings(&batch, TABLE, "current_grade")?;
        let previous = strings(&batch, TABLE, "previous_grade")?;
        for index in 0..batch.num_rows() {
            let instance = instances.value(index);
            let Some(position) = AREAS.iter().position(|(area, _)| *area == areas.value(index)) else { continue };
            if ids.get(instance).and_then(|number| selected.get(*number as usize)?.as_ref()).is_none() {
                continue;
            }
            let cells = grades.entry(instance.to_owned()).or_default();
            cells[position] = (text(current, index).map(str::to_owned), text(previous, index).map(str::to_owned));
        }
    }
    Ok(grades)
}

/// A run's findings into `data` when given (every row, with the place columns as dictionaries),
/// and, when the pages show this run's findings, the selected customers' findings with the
/// columns the pages show, read in the same pass.
fn read_findings(
    dataset: &cyrisma_dataset::Dataset,
    run: &RunRow,
    mut data: Option<&mut Compact>,
    what: &Wanted<'_>,
    part: Option<(usize, usize)>,
) -> Result<Option<HashMap<String, Grouping>>, Error> {
    const TABLE: &str = "findings";
    const DIFF: [&str; 4] = ["instance_id", "scan_class", "asset_key", "fingerprint"];
    const SHOWN: [&str; 11] = [
        "instance_id",
        "scan_class",
        "asset_key",
        "fingerprint",
        "kind",
        "rule",
        "risk_level",
        "score",
        "title",
        "asset_name",
        "asset_address",
    ];
    if data.is_none() && !what.findings {
        return Ok(None);
    }
    let columns: &[&str] = if what.findings { &SHOWN } else { &DIFF };
    // One batch per row group, instance ids and classes as dictionaries.
    let how = Scan { columns: Some(columns), dictionary: &DICTIONARY, part };
    // Batch by batch: one row group's columns are held at a time.
    let batches = dataset.scan_batches(TABLE, run, &how)?;
    if let Some(data) = data.as_deref_mut() {
        data.reserve(batches.rows());
    }
    let mut places = Places::default();
    let mut row = u32::try_from(batches.first_row()).unwrap_or(u32::MAX);
    let mut findings: HashMap<String, Grouping> = HashMap::new();
    for batch in batches {
        let batch = &batch?;
        match data.as_deref_mut() {
            Some(data) => {
                places.read(batch, TABLE, what.numbers, what.names)?;
                data.found(batch, &places, row)?;
            }
            None => places.read_instances(batch, TABLE, what.numbers)?,
        }
        row += u32::try_from(batch.num_rows()).unwrap_or(u32::MAX);
        if !what.findings {
            continue;
        }
        let fingerprints = changes::fingerprints(batch)?;
        let kinds = strings(batch, TABLE, "kind")?;
        let rules = strings(batch, TABLE, "rule")?;
        let risks = strings(batch, TABLE, "risk_level")?;
        let titles = strings(batch, TABLE, "title")?;
        let names = strings(batch, TABLE, "asset_name")?;
        let addresses = strings(batch, TABLE, "asset_address")?;
        let asset_keys = strings(batch, TABLE, "asset_key")?;
        let scores = batch
            .column_by_name("score")
            .and_then(|column| column.as_any().downcast_ref::<Float64Array>())
            .ok_or_else(|| table_error(TABLE, "no number column `score`"))?;
        for (index, number) in places.instances().iter().enumerate() {
            if what.selected.get(*number as usize).copied().flatten().is_none() {
                continue;
            }
            let Some(instance) = what.ids.get(*number as usize) else { continue };
            let asset =
                text(names, index).or_else(|| text(addresses, index)).unwrap_or_else(|| asset_keys.value(index));
            let text_of = fingerprints.value(index);
            let fingerprint = changes::parse_key(text_of.as_bytes()).ok_or_else(|| {
                table_error(TABLE, format!("row {index}: fingerprint {text_of:?} is not 32 hex digits"))
            })?;
            let grouping = match findings.get_mut(instance.as_str()) {
                Some(grouping) => grouping,
                None => findings.entry(instance.clone()).or_default(),
            };
            grouping.add(Open {
                kind: kinds.value(index),
                rule: rules.value(index),
                risk: text(risks, index),
                score: (!scores.is_null(index)).then(|| scores.value(index)).filter(|score| score.is_finite()),
                title: text(titles, index),
                asset,
                fingerprint,
            });
        }
    }
    Ok(what.findings.then_some(findings))
}

/// The columns that place a finding or a coverage row.
const PLACES: [&str; 3] = ["instance_id", "scan_class", "asset_key"];

/// The place columns read as dictionaries: instance ids and classes (a few distinct values per row
/// group). Asset keys are read as plain text: they have nearly as many distinct values as rows,
/// so the writer's dictionary overflows into plain pages, which a dictionary read would hash
/// back into a dictionary row by row; rows come grouped by place, so a key equal to the row
/// before it is not looked up again (about 4% less CPU for the pages at 1,000 × 12).
const DICTIONARY: [&str; 2] = ["instance_id", "scan_class"];

/// What to read of a run besides what the diff needs.
#[derive(Clone, Copy)]
struct Wanted<'a> {
    /// Every instance of the period, by number.
    ids: &'a [String],
    /// The numbers of the instances.
    numbers: &'a Instances<'a>,
    /// By instance number: its customer's place, when selected.
    selected: &'a [Option<usize>],
    /// The classes and assets of every run, numbered once.
    names: &'a Names,
    /// The report's cache.
    cache: &'a Cache,
    /// Its `instances` table (names, counts).
    instances: bool,
    /// The findings' details (the pages list them).
    findings: bool,
}

/// A run for a reading thread: its place in the period, and when it is part of a pair to count,
/// its compact run to fill (with the chain under which the cache may hold it done).
type Job = (usize, Option<(Compact, Option<cache::Chain>)>);

/// One run of the period, read once.
struct Loaded {
    /// The selected customers' grades.
    grades: HashMap<String, [Cell; 5]>,
    /// What the change counts need, when the run is part of a pair to count.
    data: Option<Compact>,
    /// Its `instances` table by instance, when wanted.
    instances: Option<HashMap<String, InstanceRow>>,
    /// The selected customers' open findings, when wanted.
    findings: Option<HashMap<String, Grouping>>,
}

/// Reads a run's grades (and instances when wanted), and its coverage and findings into `data`
/// when given and not already done (the run is part of a pair to count), with the findings' shown
/// columns read in the same pass when the pages show this run's findings.
fn load(
    dataset: &cyrisma_dataset::Dataset,
    run: &RunRow,
    data: Option<(Compact, Option<cache::Chain>)>,
    what: &Wanted<'_>,
) -> Result<Loaded, Error> {
    // A run the cache holds compacted is taken from there; another is compacted as it is read.
    let (ready, mut data) = match data {
        Some((mut compact, Some(chain))) => match what.cache.run(&chain) {
            Some(stored) => {
                compact.restore(&stored, what.numbers, what.names);
                (Some(compact), None)
            }
            None => (None, Some(compact)),
        },
        Some((compact, None)) => (None, Some(compact)),
        None => (None, None),
    };
    let grades = read_grades(dataset, run, what.numbers, what.selected)?;
    let instances = if what.instances {
        let rows: Vec<InstanceRow> = dataset.rows("instances", run)?;
        Some(rows.into_iter().map(|row| (row.instance_id.clone(), row)).collect())
    } else {
        None
    };
    if let Some(data) = data.as_mut() {
        // Instance ids and classes come as dictionaries: each distinct value of a batch is looked up once.
        let mut places = Places::default();
        let how = Scan { columns: Some(&PLACES), dictionary: &DICTIONARY, part: None };
        for batch in dataset.scan_batches("coverage", run, &how)? {
            places.read(&batch?, "coverage", what.numbers, what.names)?;
            data.covered(&places);
        }
    }
    let findings = if data.is_none() && !what.findings {
        None
    } else {
        // The findings in two halves of the file, the later on a thread of its own, then put
        // together in row order: the run the pages show is the largest piece of work of a report
        // whose other runs come from the cache.
        let mut later_data = data.as_ref().map(|_| Compact::default());
        let (first, later) = std::thread::scope(|scope| {
            let later = scope.spawn(|| read_findings(dataset, run, later_data.as_mut(), what, Some((1, 2))));
            let first = read_findings(dataset, run, data.as_mut(), what, Some((0, 2)));
            (first, later.join())
        });
        let later = later.map_err(|_| Error::NoRuns("the thread reading a run's findings panicked".to_owned()))??;
        let first = first?;
        if let (Some(data), Some(later_data)) = (data.as_mut(), later_data) {
            data.absorb(later_data);
        }
        match (first, later) {
            (Some(mut first), Some(later)) => {
                for (id, grouping) in later {
                    match first.get_mut(&id) {
                        Some(earlier) => earlier.absorb(grouping),
                        None => {
                            first.insert(id, grouping);
                        }
                    }
                }
                Some(first)
            }
            (first, _) => first,
        }
    };
    if let Some(data) = data.as_mut() {
        data.finish();
    }
    Ok(Loaded { grades, data: ready.or(data), instances, findings })
}

/// The customers whose overall grade rose and fell most over the period.
fn movers(customers: &[Customer]) -> (Vec<Mover>, Vec<Mover>) {
    let mut moved: Vec<Mover> = customers
        .iter()
        .filter_map(|customer| {
            let overall = customer.overall();
            let to = overall.current.clone()?;
            let from = overall.grades.iter().flatten().find(|grade| rank(grade).is_some())?.clone();
            let steps = i32::from(rank(&to)?) - i32::from(rank(&from)?);
            (steps != 0).then(|| Mover {
                instance_id: customer.instance_id.clone(),
                name: customer.display_name().to_owned(),
                file: customer.file.clone(),
                from,
                to,
                steps,
            })
        })
        .collect();
    moved.sort_by(|a, b| b.steps.cmp(&a.steps).then_with(|| a.name.cmp(&b.name)));
    let up: Vec<Mover> = moved.iter().filter(|mover| mover.steps > 0).take(MOVERS).cloned().collect();
    let down: Vec<Mover> = moved.iter().rev().filter(|mover| mover.steps < 0).take(MOVERS).cloned().collect();
    (up, down)
}
