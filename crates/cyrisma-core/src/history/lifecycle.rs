//! Each finding's life over a sequence of runs: first seen, last seen, fixed at, times reopened
//! and days open, and the mean time to fix per instance.
//!
//! Feed the complete runs in order with [`Lifecycle::observe`]; the same rules as
//! [`diff`](crate::history::diff::diff) decide when an open finding becomes fixed (its instance
//! pulled, its asset covered by a scan of the same class that does not look truncated), so the
//! history never calls a finding fixed that `cyrisma diff` would call not covered.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::history::diff::{ChangeKind, Run, diff};
use crate::history::fingerprint::Fingerprint;

/// One finding's life so far. Times are Unix seconds of the runs' starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingLifecycle {
    /// The instance.
    pub instance_id: String,
    /// The first run that had it.
    pub first_seen: i64,
    /// The last run that had it.
    pub last_seen: i64,
    /// The run that found it fixed, while it is still fixed.
    pub fixed_at: Option<i64>,
    /// How many times it came back after being fixed or missing.
    pub times_reopened: u32,
    /// Seconds it has been open in all: from each appearance to its fix, or to the latest run for
    /// the current episode.
    pub open_seconds: i64,
    episode_start: i64,
    seen_now: bool,
}

impl FindingLifecycle {
    /// Whole days open ([`FindingLifecycle::open_seconds`] / 86,400).
    pub fn days_open(&self) -> i64 {
        self.open_seconds / 86_400
    }

    /// Whether it is open (not fixed) as of the latest run.
    pub fn is_open(&self) -> bool {
        self.fixed_at.is_none()
    }
}

/// The fixes of one instance's findings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeToFix {
    /// How many fixes (a finding fixed twice counts twice).
    pub fixes: u64,
    /// Seconds from appearance to fix, summed.
    pub total_seconds: i64,
}

impl TimeToFix {
    /// The mean time to fix in days, when something was fixed.
    pub fn mean_days(&self) -> Option<f64> {
        (self.fixes > 0).then(|| self.total_seconds as f64 / self.fixes as f64 / 86_400.0)
    }
}

/// The lifecycle of every finding over the runs observed so far.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    findings: HashMap<Fingerprint, FindingLifecycle>,
    seen: HashSet<Fingerprint>,
    time_to_fix: BTreeMap<String, TimeToFix>,
    latest: Option<i64>,
}

impl Lifecycle {
    /// No runs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in the next complete run, which started at `at`, and the run before it (`None` for
    /// the first). Runs must come in order of time.
    pub fn observe<T>(&mut self, previous: Option<&Run<T>>, run: &Run<T>, at: i64) {
        if let Some(latest) = self.latest {
            // Open episodes grow by the time since the latest run.
            let elapsed = (at - latest).max(0);
            for finding in self.findings.values_mut().filter(|finding| finding.is_open()) {
                finding.open_seconds += elapsed;
            }
        }
        self.latest = Some(at);
        for finding in self.findings.values_mut() {
            finding.seen_now = false;
        }
        for (fingerprint, located) in run.findings() {
            let entry = self.findings.entry(*fingerprint).or_insert_with(|| FindingLifecycle {
                instance_id: run.instance_of(located).to_owned(),
                first_seen: at,
                last_seen: at,
                fixed_at: None,
                times_reopened: 0,
                open_seconds: 0,
                episode_start: at,
                seen_now: true,
            });
            if entry.fixed_at.take().is_some() {
                entry.times_reopened += 1;
                entry.episode_start = at;
            } else if entry.last_seen != at && previous.is_some_and(|previous| !previous.contains(fingerprint)) {
                // Missing (not covered) from the previous run but never fixed: back again.
                entry.times_reopened += 1;
            }
            entry.last_seen = at;
            entry.seen_now = true;
        }
        if let Some(previous) = previous {
            for change in diff(previous, run, &self.seen, false).changes {
                if change.kind != ChangeKind::Fixed {
                    continue;
                }
                let Some(finding) = self.findings.get_mut(&change.fingerprint) else { continue };
                if finding.seen_now || finding.fixed_at.is_some() {
                    continue;
                }
                finding.fixed_at = Some(at);
                let fix = self.time_to_fix.entry(finding.instance_id.clone()).or_default();
                fix.fixes += 1;
                fix.total_seconds += (at - finding.episode_start).max(0);
            }
        }
        self.seen.extend(run.findings().map(|(fingerprint, _)| *fingerprint));
    }

    /// Every finding seen so far.
    pub fn findings(&self) -> impl Iterator<Item = (&Fingerprint, &FindingLifecycle)> {
        self.findings.iter()
    }

    /// One finding's life.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<&FindingLifecycle> {
        self.findings.get(fingerprint)
    }

    /// Every fingerprint seen in the runs observed so far (what [`diff`] needs as `seen_before`).
    pub fn seen(&self) -> &HashSet<Fingerprint> {
        &self.seen
    }

    /// The fixes per instance, ordered by instance id.
    pub fn time_to_fix(&self) -> &BTreeMap<String, TimeToFix> {
        &self.time_to_fix
    }
}
