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
use std::hash::BuildHasher;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::history::fingerprint::Fingerprint;
use crate::history::hash::FastBuild;
use crate::types::Grade;

/// The fewest assets an earlier scan must have covered for a later, much smaller one to count as
/// truncated (our choice: below this, a drop by half is ordinary churn on a small network).
pub const TRUNCATION_MIN_ASSETS: usize = 4;

/// Interned strings (a run's instance ids, scan classes, asset keys), numbered from 0 in the
/// order first seen.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32, FastBuild>,
}

impl Symbols {
    /// The number of `name`, given it now if it has none.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    /// The number of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name numbered `id` (empty for a number never given).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |name| name)
    }

    /// Every name, in the order of their numbers.
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }
}

/// A name interned by one run (an instance id, scan class or asset key), from [`Run::symbol`]:
/// readers that see the same name on many rows intern it once and record the rows by symbol.
/// A symbol means something only to the run that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Symbol(u32);

/// A finding of a run: where it is, and the caller's payload.
#[derive(Clone, Debug)]
pub struct Located<T> {
    instance: u32,
    class: u32,
    asset: u32,
    /// The caller's payload (for example the row's index in the run's findings table).
    pub payload: T,
}

/// A finding as recorded: its fingerprint and where it is.
type Entry<T> = (Fingerprint, Located<T>);

/// What one run knows, built with [`Run::pulled`], [`Run::covered`] and [`Run::finding`].
///
/// The findings are kept as a vector sorted by fingerprint, sorted once when first asked for:
/// recording a million findings is then a push each rather than a hash-table insert that misses
/// the cache, and [`diff`] merges two runs' sorted findings in one pass.
#[derive(Debug)]
pub struct Run<T> {
    symbols: Symbols,
    pulled: HashSet<u32, FastBuild>,
    coverage: HashMap<(u32, u32), HashSet<u32, FastBuild>, FastBuild>,
    /// Findings recorded since the last sort, in the order recorded.
    pending: Mutex<Vec<Entry<T>>>,
    /// The findings by fingerprint, one per fingerprint (the first recorded), once sorted.
    sorted: OnceLock<Vec<Entry<T>>>,
    /// The symbols of the latest place recorded: rows come grouped by instance, scan and asset,
    /// so most rows repeat it and skip interning and the coverage insert.
    last: Option<(u32, u32, u32)>,
}

impl<T> Default for Run<T> {
    fn default() -> Self {
        Self {
            symbols: Symbols::default(),
            pulled: HashSet::default(),
            coverage: HashMap::default(),
            pending: Mutex::default(),
            sorted: OnceLock::new(),
            last: None,
        }
    }
}

impl<T: Clone> Clone for Run<T> {
    fn clone(&self) -> Self {
        Self {
            symbols: self.symbols.clone(),
            pulled: self.pulled.clone(),
            coverage: self.coverage.clone(),
            pending: Mutex::new(self.pending.lock().unwrap_or_else(PoisonError::into_inner).clone()),
            sorted: self.sorted.clone(),
            last: self.last,
        }
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
        self.place(instance_id, scan_class, asset_key);
    }

    /// Interns a name for [`Run::covered_at`] and [`Run::finding_at`] (the same name, the same
    /// symbol).
    pub fn symbol(&mut self, name: &str) -> Symbol {
        Symbol(self.symbols.intern(name))
    }

    /// [`Run::covered`] by symbols of this run.
    pub fn covered_at(&mut self, instance: Symbol, class: Symbol, asset: Symbol) {
        self.place_at((instance.0, class.0, asset.0));
    }

    /// [`Run::finding`] by symbols of this run.
    pub fn finding_at(&mut self, fingerprint: Fingerprint, instance: Symbol, class: Symbol, asset: Symbol, payload: T) {
        let (instance, class, asset) = self.place_at((instance.0, class.0, asset.0));
        self.recording().push((fingerprint, Located { instance, class, asset, payload }));
    }

    /// The findings recorded so far, for recording more: once sorted, they go back to being
    /// recorded (ahead of the new ones, which keeps the first payload of a repeated fingerprint).
    fn recording(&mut self) -> &mut Vec<Entry<T>> {
        let pending = self.pending.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut sorted) = self.sorted.take() {
            sorted.append(pending);
            *pending = sorted;
        }
        pending
    }

    /// The findings sorted by fingerprint, one per fingerprint (sorted on first use).
    fn sorted(&self) -> &[Entry<T>] {
        self.sorted.get_or_init(|| {
            let mut findings = std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
            // A stable sort keeps a repeated fingerprint's records in the order recorded, and
            // `dedup` keeps the first.
            findings.sort_by_key(|(fingerprint, _)| *fingerprint);
            findings.dedup_by_key(|(fingerprint, _)| *fingerprint);
            findings
        })
    }

    /// Records a place's coverage, unless it is the place recorded just before.
    fn place_at(&mut self, place: (u32, u32, u32)) -> (u32, u32, u32) {
        if self.last != Some(place) {
            let (instance, class, asset) = place;
            self.coverage.entry((instance, class)).or_default().insert(asset);
            self.last = Some(place);
        }
        place
    }

    /// Interns a place and records its coverage, unless it is the place recorded just before.
    fn place(&mut self, instance_id: &str, scan_class: &str, asset_key: &str) -> (u32, u32, u32) {
        if let Some((instance, class, asset)) = self.last
            && self.symbols.name(asset) == asset_key
            && self.symbols.name(instance) == instance_id
            && self.symbols.name(class) == scan_class
        {
            return (instance, class, asset);
        }
        let (instance, class) = (self.symbols.intern(instance_id), self.symbols.intern(scan_class));
        let asset = self.symbols.intern(asset_key);
        self.coverage.entry((instance, class)).or_default().insert(asset);
        self.last = Some((instance, class, asset));
        (instance, class, asset)
    }

    /// Makes room for `additional` more findings.
    pub fn reserve(&mut self, additional: usize) {
        self.recording().reserve(additional);
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
        let (instance, class, asset) = self.place(instance_id, scan_class, asset_key);
        self.recording().push((fingerprint, Located { instance, class, asset, payload }));
    }

    /// How many distinct findings the run has.
    pub fn len(&self) -> usize {
        self.sorted().len()
    }

    /// Whether the run has no findings.
    pub fn is_empty(&self) -> bool {
        self.sorted().is_empty()
    }

    /// Whether the run has this finding.
    pub fn contains(&self, fingerprint: &Fingerprint) -> bool {
        self.sorted().binary_search_by(|(other, _)| other.cmp(fingerprint)).is_ok()
    }

    /// The run's findings, by fingerprint.
    pub fn findings(&self) -> impl Iterator<Item = (&Fingerprint, &Located<T>)> {
        self.sorted().iter().map(|(fingerprint, located)| (fingerprint, located))
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
pub fn diff<'a, T, S: BuildHasher>(
    from: &'a Run<T>,
    to: &'a Run<T>,
    seen_before: &HashSet<Fingerprint, S>,
    include_unchanged: bool,
) -> Diff<'a, T> {
    // `from`'s symbols as `to`'s (`None`: `to` never names it), looked up once per symbol
    // rather than once per finding.
    let in_to: Vec<Option<u32>> = from.symbols.names.iter().map(|name| to.symbols.get(name)).collect();
    let translate = |symbol: u32| in_to.get(symbol as usize).copied().flatten();

    let mut truncated_keys: HashSet<(u32, u32), FastBuild> = HashSet::default();
    let mut truncated = Vec::new();
    for ((instance, class), assets) in &from.coverage {
        let (Some(to_instance), to_class) = (translate(*instance), translate(*class)) else { continue };
        if !to.pulled.contains(&to_instance) {
            continue;
        }
        let before = assets.len();
        let now = to_class.and_then(|class| to.coverage.get(&(to_instance, class))).map_or(0, HashSet::len);
        if now > 0 && before >= TRUNCATION_MIN_ASSETS && now * 2 < before {
            truncated_keys.insert((*instance, *class));
            truncated.push(TruncatedScan {
                instance_id: from.symbols.name(*instance).to_owned(),
                scan_class: from.symbols.name(*class).to_owned(),
                assets_before: before,
                assets_now: now,
            });
        }
    }
    truncated.sort_by(|a, b| (&a.instance_id, &a.scan_class).cmp(&(&b.instance_id, &b.scan_class)));

    // The order of the changes is by instance id: rank every instance symbol of both runs once.
    let mut names: Vec<&str> = from.symbols.names.iter().chain(&to.symbols.names).map(|name| &**name).collect();
    names.sort_unstable();
    names.dedup();
    let rank = |name: &str| names.binary_search(&name).map_or(u32::MAX, |index| index as u32);
    let from_rank: Vec<u32> = from.symbols.names.iter().map(|name| rank(name)).collect();
    let to_rank: Vec<u32> = to.symbols.names.iter().map(|name| rank(name)).collect();

    let mut keyed: Vec<(u32, ChangeKind, Fingerprint, Change<'a, T>)> = Vec::new();
    let appeared = |fingerprint: &Fingerprint, located: &'a Located<T>| {
        let kind = if seen_before.contains(fingerprint) { ChangeKind::Reopened } else { ChangeKind::New };
        let change =
            Change { kind, fingerprint: *fingerprint, instance_id: to.instance_of(located), payload: &located.payload };
        (to_rank[located.instance as usize], kind, *fingerprint, change)
    };
    let gone = |fingerprint: &Fingerprint, located: &'a Located<T>| {
        let place = (translate(located.instance), translate(located.class), translate(located.asset));
        let fixed = match place {
            (Some(instance), Some(class), Some(asset)) => {
                to.pulled.contains(&instance)
                    && !truncated_keys.contains(&(located.instance, located.class))
                    && to.coverage.get(&(instance, class)).is_some_and(|assets| assets.contains(&asset))
            }
            _ => false,
        };
        let kind = if fixed { ChangeKind::Fixed } else { ChangeKind::NotCovered };
        let change = Change {
            kind,
            fingerprint: *fingerprint,
            instance_id: from.instance_of(located),
            payload: &located.payload,
        };
        (from_rank[located.instance as usize], kind, *fingerprint, change)
    };
    // Both runs' findings are sorted by fingerprint: one merge pass finds what is in one, the
    // other or both.
    let (mut before, mut after) = (from.sorted().iter().peekable(), to.sorted().iter().peekable());
    loop {
        let order = match (before.peek(), after.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((old, _)), Some((new, _))) => old.cmp(new),
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some((fingerprint, located)) = before.next() {
                    keyed.push(gone(fingerprint, located));
                }
            }
            std::cmp::Ordering::Greater => {
                if let Some((fingerprint, located)) = after.next() {
                    keyed.push(appeared(fingerprint, located));
                }
            }
            std::cmp::Ordering::Equal => {
                before.next();
                if let Some((fingerprint, located)) = after.next()
                    && include_unchanged
                {
                    let change = Change {
                        kind: ChangeKind::Unchanged,
                        fingerprint: *fingerprint,
                        instance_id: to.instance_of(located),
                        payload: &located.payload,
                    };
                    keyed.push((to_rank[located.instance as usize], ChangeKind::Unchanged, *fingerprint, change));
                }
            }
        }
    }
    // Keys are unique (a fingerprint is in `to`, or only in `from`), so an unstable sort is exact.
    keyed.sort_unstable_by_key(|a| (a.0, a.1, a.2));
    Diff { changes: keyed.into_iter().map(|(_, _, _, change)| change).collect(), truncated }
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
