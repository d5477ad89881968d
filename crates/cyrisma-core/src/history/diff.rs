//! What changed between two runs: each finding `new`, `reopened`, `fixed`, `not_covered` or
//! `unchanged`, scans that look truncated, and grade changes per instance and area.
//!
//! A [`Run`] holds what one snapshot run knows: which instances it pulled, which assets each
//! completed scan class covered per instance, and the findings by fingerprint (each with a payload
//! of the caller's choosing, such as a row index). [`diff`] then applies the rules:
//!
//! | in `from` | in `to` | seen before `from` | instance pulled in `to`, asset covered, scan not truncated | change |
//! |---|---|---|---|---|
//! | no | yes | no | | `new` |
//! | no | yes | yes | | `reopened` |
//! | yes | no | | yes | `fixed` |
//! | yes | no | | no | `not_covered` |
//! | yes | yes | | | `unchanged` |
//!
//! A scan of a class looks truncated when the instance's earlier scan of that class covered at
//! least [`TRUNCATION_MIN_ASSETS`] assets and the later one covers fewer than half as many:
//! its missing findings are `not_covered` and the scan is reported in [`Diff::truncated`].

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::history::fingerprint::Fingerprint;
use crate::types::Grade;

/// The fewest assets an earlier scan must have covered for a later, much smaller one to count as
/// truncated (our choice: below this, a drop by half is ordinary churn on a small network).
pub const TRUNCATION_MIN_ASSETS: usize = 4;

/// Interned strings of one run (instance ids, scan classes, asset keys).
#[derive(Clone, Debug, Default)]
struct Symbols {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

impl Symbols {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |name| name)
    }
}

/// A finding of a run: where it is, and the caller's payload.
#[derive(Clone, Debug)]
pub struct Located<T> {
    instance: u32,
    class: u32,
    asset: u32,
    /// The caller's payload (for example the row's index in the run's findings table).
    pub payload: T,
}

/// What one run knows, built with [`Run::pulled`], [`Run::covered`] and [`Run::finding`].
#[derive(Clone, Debug)]
pub struct Run<T> {
    symbols: Symbols,
    pulled: HashSet<u32>,
    coverage: HashMap<(u32, u32), HashSet<u32>>,
    findings: HashMap<Fingerprint, Located<T>>,
}

impl<T> Default for Run<T> {
    fn default() -> Self {
        Self { symbols: Symbols::default(), pulled: HashSet::new(), coverage: HashMap::new(), findings: HashMap::new() }
    }
}

impl<T> Run<T> {
    /// An empty run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the run pulled this instance successfully.
    pub fn pulled(&mut self, instance_id: &str) {
        let instance = self.symbols.intern(instance_id);
        self.pulled.insert(instance);
    }

    /// Records that a completed scan of `scan_class` on this instance covered this asset
    /// (findings or not).
    pub fn covered(&mut self, instance_id: &str, scan_class: &str, asset_key: &str) {
        let key = (self.symbols.intern(instance_id), self.symbols.intern(scan_class));
        let asset = self.symbols.intern(asset_key);
        self.coverage.entry(key).or_default().insert(asset);
    }

    /// Records a finding (which also means its scan covered its asset). A fingerprint recorded
    /// twice keeps the first payload.
    pub fn finding(
        &mut self,
        fingerprint: Fingerprint,
        instance_id: &str,
        scan_class: &str,
        asset_key: &str,
        payload: T,
    ) {
        self.covered(instance_id, scan_class, asset_key);
        let instance = self.symbols.intern(instance_id);
        let class = self.symbols.intern(scan_class);
        let asset = self.symbols.intern(asset_key);
        self.findings.entry(fingerprint).or_insert(Located { instance, class, asset, payload });
    }

    /// How many distinct findings the run has.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Whether the run has no findings.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Whether the run has this finding.
    pub fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.findings.contains_key(fingerprint)
    }

    /// The run's findings.
    pub fn findings(&self) -> impl Iterator<Item = (&Fingerprint, &Located<T>)> {
        self.findings.iter()
    }

    /// The instance id of a finding of this run.
    pub fn instance_of(&self, located: &Located<T>) -> &str {
        self.symbols.name(located.instance)
    }

    /// The scan class of a finding of this run.
    pub fn class_of(&self, located: &Located<T>) -> &str {
        self.symbols.name(located.class)
    }

    /// The asset key of a finding of this run.
    pub fn asset_of(&self, located: &Located<T>) -> &str {
        self.symbols.name(located.asset)
    }

    /// Whether the run pulled this instance.
    pub fn was_pulled(&self, instance_id: &str) -> bool {
        self.symbols.get(instance_id).is_some_and(|instance| self.pulled.contains(&instance))
    }

    fn covered_assets(&self, instance_id: &str, scan_class: &str) -> usize {
        match (self.symbols.get(instance_id), self.symbols.get(scan_class)) {
            (Some(instance), Some(class)) => self.coverage.get(&(instance, class)).map_or(0, HashSet::len),
            _ => 0,
        }
    }

    fn covers(&self, instance_id: &str, scan_class: &str, asset_key: &str) -> bool {
        let (Some(instance), Some(class), Some(asset)) =
            (self.symbols.get(instance_id), self.symbols.get(scan_class), self.symbols.get(asset_key))
        else {
            return false;
        };
        self.coverage.get(&(instance, class)).is_some_and(|assets| assets.contains(&asset))
    }
}

/// How a finding changed between two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Present in `to`, never seen before.
    New,
    /// Present in `to`, absent from `from`, seen in an earlier run.
    Reopened,
    /// Absent from `to` although the instance was pulled and a complete scan of the same class
    /// covered its asset.
    Fixed,
    /// Absent from `to` without proof that it is gone (instance not pulled, asset not scanned,
    /// or the scan looks truncated).
    NotCovered,
    /// Present in both.
    Unchanged,
}

impl ChangeKind {
    /// The name used in rows: `new`, `reopened`, `fixed`, `not_covered`, `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Reopened => "reopened",
            Self::Fixed => "fixed",
            Self::NotCovered => "not_covered",
            Self::Unchanged => "unchanged",
        }
    }
}

/// One finding's change. The payload comes from `to` for `new`, `reopened` and `unchanged`, and
/// from `from` for `fixed` and `not_covered`.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a, T> {
    /// How it changed.
    pub kind: ChangeKind,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Its instance.
    pub instance_id: &'a str,
    /// The payload the caller recorded with it.
    pub payload: &'a T,
}

/// A scan that covered far fewer assets than the same instance's scan of that class in `from`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TruncatedScan {
    /// The instance.
    pub instance_id: String,
    /// The scan class.
    pub scan_class: String,
    /// Assets covered in `from`.
    pub assets_before: usize,
    /// Assets covered in `to`.
    pub assets_now: usize,
}

/// The result of [`diff`].
#[derive(Clone, Debug)]
pub struct Diff<'a, T> {
    /// The changes, ordered by instance, kind and fingerprint.
    pub changes: Vec<Change<'a, T>>,
    /// Scans that look truncated (their missing findings are `not_covered`).
    pub truncated: Vec<TruncatedScan>,
}

impl<T> Diff<'_, T> {
    /// How many changes of this kind.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|change| change.kind == kind).count()
    }
}

/// Classifies every finding of two runs. `seen_before` holds the fingerprints of the runs before
/// `from` (for `reopened`); `unchanged` findings are listed only when `include_unchanged`.
pub fn diff<'a, T>(
    from: &'a Run<T>,
    to: &'a Run<T>,
    seen_before: &HashSet<Fingerprint>,
    include_unchanged: bool,
) -> Diff<'a, T> {
    let mut truncated_keys: HashSet<(&str, &str)> = HashSet::new();
    let mut truncated = Vec::new();
    for (instance, class) in from.coverage.keys() {
        let instance_id = from.symbols.name(*instance);
        let scan_class = from.symbols.name(*class);
        if !to.was_pulled(instance_id) {
            continue;
        }
        let before = from.covered_assets(instance_id, scan_class);
        let now = to.covered_assets(instance_id, scan_class);
        if now > 0 && before >= TRUNCATION_MIN_ASSETS && now * 2 < before {
            truncated_keys.insert((instance_id, scan_class));
            truncated.push(TruncatedScan {
                instance_id: instance_id.to_owned(),
                scan_class: scan_class.to_owned(),
                assets_before: before,
                assets_now: now,
            });
        }
    }
    truncated.sort_by(|a, b| (&a.instance_id, &a.scan_class).cmp(&(&b.instance_id, &b.scan_class)));

    let mut changes = Vec::new();
    for (fingerprint, located) in &to.findings {
        let kind = if from.contains(fingerprint) {
            if !include_unchanged {
                continue;
            }
            ChangeKind::Unchanged
        } else if seen_before.contains(fingerprint) {
            ChangeKind::Reopened
        } else {
            ChangeKind::New
        };
        changes.push(Change {
            kind,
            fingerprint: *fingerprint,
            instance_id: to.instance_of(located),
            payload: &located.payload,
        });
    }
    for (fingerprint, located) in &from.findings {
        if to.contains(fingerprint) {
            continue;
        }
        let instance_id = from.instance_of(located);
        let scan_class = from.class_of(located);
        let fixed = to.was_pulled(instance_id)
            && !truncated_keys.contains(&(instance_id, scan_class))
            && to.covers(instance_id, scan_class, from.asset_of(located));
        let kind = if fixed { ChangeKind::Fixed } else { ChangeKind::NotCovered };
        changes.push(Change { kind, fingerprint: *fingerprint, instance_id, payload: &located.payload });
    }
    changes.sort_by(|a, b| (a.instance_id, a.kind, a.fingerprint).cmp(&(b.instance_id, b.kind, b.fingerprint)));
    Diff { changes, truncated }
}

/// The rank of a grade: 0 for F up to 11 for A.
pub fn grade_rank(grade: &Grade) -> Option<u8> {
    Some(match grade {
        Grade::A => 11,
        Grade::AMinus => 10,
        Grade::BPlus => 9,
        Grade::B => 8,
        Grade::BMinus => 7,
        Grade::CPlus => 6,
        Grade::C => 5,
        Grade::CMinus => 4,
        Grade::DPlus => 3,
        Grade::D => 2,
        Grade::DMinus => 1,
        Grade::F => 0,
        Grade::Unknown(_) => return None,
    })
}

/// One area's grade change on one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GradeChange {
    /// The instance.
    pub instance_id: String,
    /// The area (`overall`, `vulnerability`, `data`, `baseline`, `compliance`).
    pub area: String,
    /// The grade in `from` (`None`: no grade).
    pub from: Option<Grade>,
    /// The grade in `to`.
    pub to: Option<Grade>,
}

impl GradeChange {
    /// `up`, `down`, `changed` (no order between the two, such as a grade appearing or an
    /// unknown letter).
    pub fn direction(&self) -> &'static str {
        match (self.from.as_ref().and_then(grade_rank), self.to.as_ref().and_then(grade_rank)) {
            (Some(before), Some(now)) if now > before => "up",
            (Some(before), Some(now)) if now < before => "down",
            _ => "changed",
        }
    }
}

/// The grades that differ between two runs, per `(instance id, area)`. Only pairs present in
/// both maps are compared (an instance not pulled in one of the runs has no grade change).
pub fn grade_changes(
    from: &BTreeMap<(String, String), Option<Grade>>,
    to: &BTreeMap<(String, String), Option<Grade>>,
) -> Vec<GradeChange> {
    to.iter()
        .filter_map(|(key, now)| {
            let before = from.get(key)?;
            (before != now).then(|| GradeChange {
                instance_id: key.0.clone(),
                area: key.1.clone(),
                from: before.clone(),
                to: now.clone(),
            })
        })
        .collect()
}
