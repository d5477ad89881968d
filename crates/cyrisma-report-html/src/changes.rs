//! New, fixed and reopened counts between consecutive runs, by the history's rules
//! (`cyrisma_core::history::diff`) but built for counting every customer at once: each run is
//! compacted once (on the reading threads) into its findings sorted by fingerprint as 128-bit
//! integers, with places as small integers numbered by one [`Names`] shared by every run (so two
//! runs' places compare as integers, with no name looked up per pair), and a pair of runs is then
//! one merge pass that only counts: the caller keeps what it needs of each change (counts per customer, and the
//! fingerprints new or reopened in the latest run, which the pages mark).
//!
//! The rules are the core's: a finding only in the later run is `reopened` when any run before the
//! earlier one had it, else `new`; a finding only in the earlier run is `fixed` when the later run
//! pulled its instance, a complete scan of the same class covered its asset and that scan does not
//! look truncated (fewer than half the assets of the earlier scan of that class, which covered at
//! least [`TRUNCATION_MIN_ASSETS`]), else `not_covered`. A fingerprint recorded twice in a run
//! counts once, at its first row. A test compares the counts with the core's diff.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use cyrisma_core::history::diff::TRUNCATION_MIN_ASSETS;
use cyrisma_core::history::{ChangeKind, FastBuild, Fingerprint, Symbols};

use crate::Error;

/// A fingerprint as an integer: its 16 bytes big-endian, so integers sort as the bytes do.
pub(crate) type Key = u128;

/// The key of a fingerprint.
pub(crate) fn key(fingerprint: &Fingerprint) -> Key {
    u128::from_be_bytes(*fingerprint.as_bytes())
}

/// The key of a fingerprint's 32 hex digits (either case), straight from the text: the same as
/// [`key`] of `Fingerprint::from_hex`.
pub(crate) fn parse_key(text: &[u8]) -> Option<Key> {
    Fingerprint::from_hex_bytes(text).as_ref().map(key)
}

/// The instance index of a name no outcome row has (its changes are counted for no customer).
pub(crate) const NONE: u32 = u32::MAX;

/// Every instance named by an outcome of the period, numbered, shared by the reading threads.
pub(crate) type Instances<'a> = HashMap<&'a str, u32, FastBuild>;

/// One finding of a run: its key, its row (the first of a repeated key wins) and its place.
#[derive(Clone, Copy)]
struct Entry {
    key: Key,
    row: u32,
    instance: u32,
    class: u32,
    asset: u32,
}

/// One run, compacted for counting changes.
#[derive(Default)]
pub(crate) struct Compact {
    /// By instance index: whether the run pulled it.
    pulled: Vec<bool>,
    /// Every place a complete scan covered (coverage rows and findings' places).
    coverage: HashSet<(u32, u32, u32), FastBuild>,
    /// Distinct assets per instance and class.
    counts: HashMap<(u32, u32), usize, FastBuild>,
    /// Findings sorted by key, one per key.
    findings: Vec<Entry>,
    /// A buffer [`Compact::finish`] sorts into, when [`Compact::reuse`] gave one.
    spare: Vec<Entry>,
    /// The place of the latest row recorded (rows come grouped by place).
    last: Option<(u32, u32, u32)>,
}

/// The scan classes and asset keys of every run read, numbered once for all of them: the reading
/// threads share it, and look a batch's names up under one lock (a read lock, once the first run
/// has given the names their numbers).
#[derive(Default)]
pub(crate) struct Names {
    classes: RwLock<Symbols>,
    assets: RwLock<Symbols>,
}

/// Where a place column's names get their numbers.
#[derive(Clone, Copy)]
enum Lookup<'a> {
    /// Instance ids: numbered by the outcomes ([`NONE`] when unknown).
    Instances(&'a Instances<'a>),
    /// Classes or assets: interned.
    Interned(&'a RwLock<Symbols>),
}

impl Lookup<'_> {
    /// The numbers of `names` into `out` (cleared first). A name equal to the one before it is
    /// not looked up again (rows come grouped by place).
    fn all<'s>(self, names: impl Iterator<Item = &'s str> + Clone, out: &mut Vec<u32>) {
        out.clear();
        const MISSING: u32 = u32::MAX - 1;
        let resolve = |get: &mut dyn FnMut(&str) -> u32, out: &mut Vec<u32>, only_missing: bool| {
            let mut previous: Option<(&str, u32)> = None;
            for (at, name) in names.clone().enumerate() {
                if only_missing && out[at] != MISSING {
                    continue;
                }
                let number = match previous {
                    Some((seen, number)) if seen == name => number,
                    _ => get(name),
                };
                previous = Some((name, number));
                if only_missing {
                    out[at] = number;
                } else {
                    out.push(number);
                }
            }
        };
        match self {
            Self::Instances(instances) => {
                resolve(&mut |name| instances.get(name).copied().unwrap_or(NONE), out, false);
            }
            Self::Interned(symbols) => {
                let missing = {
                    let known = symbols.read().unwrap_or_else(PoisonError::into_inner);
                    resolve(&mut |name| known.get(name).unwrap_or(MISSING), out, false);
                    out.contains(&MISSING)
                };
                if missing {
                    let mut known = symbols.write().unwrap_or_else(PoisonError::into_inner);
                    resolve(&mut |name| known.intern(name), out, true);
                }
            }
        }
    }
}

/// A dictionary seen in an earlier batch and its values' symbols (after the empty name's): the
/// batches of one row group share their dictionary, which is then looked up once. Holding the
/// values keeps their address from being reused by another dictionary.
#[derive(Default)]
struct Cached {
    values: Option<ArrayRef>,
    mapped: Vec<u32>,
}

/// The symbols of one batch's place column, one per row, into `out`: a dictionary column's values
/// are looked up once each (once per row group), a plain one's each row (a null reads as "").
fn place_column(
    batch: &RecordBatch,
    table: &'static str,
    name: &str,
    out: &mut Vec<u32>,
    cached: &mut Cached,
    lookup: Lookup<'_>,
) -> Result<(), Error> {
    out.clear();
    let array =
        batch.column_by_name(name).ok_or_else(|| Error::Table { table, message: format!("no column `{name}`") })?;
    if let Some(dictionary) = array.as_dictionary_opt::<Int32Type>() {
        let values = dictionary
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| Error::Table { table, message: format!("column `{name}` is not text") })?;
        if !cached.values.as_ref().is_some_and(|seen| Arc::ptr_eq(seen, dictionary.values())) {
            cached.values = Some(Arc::clone(dictionary.values()));
            lookup.all(std::iter::once("").chain(values.iter().map(Option::unwrap_or_default)), &mut cached.mapped);
        }
        let mapped = &cached.mapped;
        let empty = mapped[0];
        out.reserve(dictionary.len());
        for (index, key) in dictionary.keys().values().iter().enumerate() {
            let key = usize::try_from(*key).map_or(usize::MAX, |key| key.saturating_add(1));
            let symbol = match mapped.get(key) {
                _ if dictionary.is_null(index) => empty,
                Some(symbol) => *symbol,
                None => empty,
            };
            out.push(symbol);
        }
        return Ok(());
    }
    let values = array
        .as_string_opt::<i32>()
        .ok_or_else(|| Error::Table { table, message: format!("column `{name}` is not text") })?;
    lookup.all(values.iter().map(Option::unwrap_or_default), out);
    Ok(())
}

/// The `fingerprint` column of a batch.
pub(crate) fn fingerprints(batch: &RecordBatch) -> Result<&StringArray, Error> {
    batch
        .column_by_name("fingerprint")
        .and_then(|column| column.as_string_opt::<i32>())
        .ok_or_else(|| Error::Table { table: "findings", message: "no text column `fingerprint`".to_owned() })
}

/// One batch's place columns (buffers and dictionaries reused across batches); one per table read.
#[derive(Default)]
pub(crate) struct Places {
    instances: Vec<u32>,
    classes: Vec<u32>,
    assets: Vec<u32>,
    cached: [Cached; 3],
}

impl Places {
    /// The rows' instance numbers ([`NONE`] for an instance no outcome names).
    pub(crate) fn instances(&self) -> &[u32] {
        &self.instances
    }

    /// Reads only the instance numbers of a batch of `table` (its `instance_id` column).
    pub(crate) fn read_instances(
        &mut self,
        batch: &RecordBatch,
        table: &'static str,
        instances: &Instances<'_>,
    ) -> Result<(), Error> {
        let [instance_ids, ..] = &mut self.cached;
        place_column(batch, table, "instance_id", &mut self.instances, instance_ids, Lookup::Instances(instances))
    }

    /// Reads the place columns of a batch of `table` (`instance_id`, `scan_class`, `asset_key`).
    pub(crate) fn read(
        &mut self,
        batch: &RecordBatch,
        table: &'static str,
        instances: &Instances<'_>,
        names: &Names,
    ) -> Result<(), Error> {
        let out = self;
        let [instance_ids, classes, assets] = &mut out.cached;
        place_column(batch, table, "instance_id", &mut out.instances, instance_ids, Lookup::Instances(instances))?;
        place_column(batch, table, "scan_class", &mut out.classes, classes, Lookup::Interned(&names.classes))?;
        place_column(batch, table, "asset_key", &mut out.assets, assets, Lookup::Interned(&names.assets))?;
        Ok(())
    }
}

impl Compact {
    /// An empty run that pulled the instances at these indices, of `count` instances in all.
    pub(crate) fn new(count: usize, pulled: impl IntoIterator<Item = u32>) -> Self {
        let mut run = Self { pulled: vec![false; count], ..Self::default() };
        for index in pulled {
            if let Some(slot) = run.pulled.get_mut(index as usize) {
                *slot = true;
            }
        }
        run
    }

    /// Takes over the buffers of a run no longer needed (emptied, their memory kept).
    pub(crate) fn reuse(&mut self, mut used: Compact) {
        used.coverage.clear();
        used.counts.clear();
        used.findings.clear();
        self.coverage = used.coverage;
        self.counts = used.counts;
        // Its sorted findings' memory is what this run's are sorted into; the rows are gathered in a
        // buffer of their own, freed once sorted, so a finished run holds one buffer, not two.
        self.spare = used.findings;
    }

    /// Records a place a complete scan covered.
    fn cover(&mut self, place: (u32, u32, u32)) {
        if self.last != Some(place) {
            if self.coverage.insert(place) {
                *self.counts.entry((place.0, place.1)).or_default() += 1;
            }
            self.last = Some(place);
        }
    }

    /// Adds what a later part of the same run's file recorded (before [`Compact::finish`]).
    pub(crate) fn absorb(&mut self, later: Compact) {
        for place in later.coverage {
            if self.coverage.insert(place) {
                *self.counts.entry((place.0, place.1)).or_default() += 1;
            }
        }
        self.findings.extend(later.findings);
    }

    /// Makes room for `rows` more findings.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.findings.reserve_exact(rows);
    }

    /// Records the coverage rows of a batch whose places `places` read.
    pub(crate) fn covered(&mut self, places: &Places) {
        for ((instance, class), asset) in places.instances.iter().zip(&places.classes).zip(&places.assets) {
            self.cover((*instance, *class, *asset));
        }
    }

    /// Records the findings of a batch whose places `places` read, from its `fingerprint`
    /// column, the first at row `row` of the file.
    pub(crate) fn found(&mut self, batch: &RecordBatch, places: &Places, row: u32) -> Result<(), Error> {
        let fingerprints = fingerprints(batch)?;
        self.findings.reserve(batch.num_rows());
        let located = places.instances.iter().zip(&places.classes).zip(&places.assets);
        for (index, ((instance, class), asset)) in located.enumerate() {
            let at = row + index as u32;
            let text = fingerprints.value(index);
            let key = parse_key(text.as_bytes()).ok_or_else(|| Error::Table {
                table: "findings",
                message: format!("row {at}: fingerprint {text:?} is not 32 hex digits"),
            })?;
            self.cover((*instance, *class, *asset));
            self.findings.push(Entry { key, row: at, instance: *instance, class: *class, asset: *asset });
        }
        Ok(())
    }

    /// The keys of its findings, sorted (once [`Compact::finish`]ed).
    pub(crate) fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        self.findings.iter().map(|entry| entry.key)
    }

    /// Sorts the findings by key, keeping the first row of a repeated key: done once, after the
    /// last batch.
    pub(crate) fn finish(&mut self) {
        // Keys are uniform hash bits: spread into buckets by their top bits (a few rows each),
        // then each bucket sorted, which is a few times faster than one sort of the whole run.
        // About 4 to 8 rows a bucket.
        let bits = usize::BITS - self.findings.len().max(1).leading_zeros();
        let shift = 128 - bits.saturating_sub(3).clamp(1, 20);
        let bucket = |entry: &Entry| (entry.key >> shift) as usize;
        let mut starts = vec![0usize; (1 << (128 - shift)) + 1];
        for entry in &self.findings {
            starts[bucket(entry) + 1] += 1;
        }
        for index in 1..starts.len() {
            starts[index] += starts[index - 1];
        }
        let mut sorted = std::mem::take(&mut self.spare);
        sorted.clear();
        sorted.resize(self.findings.len(), Entry { key: 0, row: 0, instance: 0, class: 0, asset: 0 });
        let mut next = starts.clone();
        for entry in &self.findings {
            let slot = &mut next[bucket(entry)];
            sorted[*slot] = *entry;
            *slot += 1;
        }
        for range in starts.windows(2) {
            sorted[range[0]..range[1]].sort_unstable_by_key(|entry| (entry.key, entry.row));
        }
        sorted.dedup_by_key(|entry| entry.key);
        self.findings = sorted;
    }
}

/// A finished run with its places named rather than numbered: what the cache keeps of the latest
/// run, so that the next report (after one more snapshot) compares the new run with it without
/// reading it again. Places index the three name lists; [`u32::MAX`] is an instance no outcome
/// named.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Stored {
    pub(crate) instances: Vec<String>,
    pub(crate) classes: Vec<String>,
    pub(crate) assets: Vec<String>,
    /// Every place covered.
    pub(crate) coverage: Vec<[u32; 3]>,
    /// The findings, sorted by key, one per key.
    pub(crate) findings: Vec<(Key, [u32; 3])>,
}

/// Numbers given in order of first use, for [`Compact::store`].
#[derive(Default)]
struct Dense {
    of: HashMap<u32, u32, FastBuild>,
    used: Vec<u32>,
}

impl Dense {
    fn get(&mut self, number: u32) -> u32 {
        if number == NONE {
            return NONE;
        }
        *self.of.entry(number).or_insert_with(|| {
            self.used.push(number);
            u32::try_from(self.used.len() - 1).unwrap_or(NONE)
        })
    }
}

impl Compact {
    /// This finished run with its places named: `ids` names the instance numbers.
    pub(crate) fn store(&self, ids: &[String], names: &Names) -> Stored {
        let (mut instances, mut classes, mut assets) = (Dense::default(), Dense::default(), Dense::default());
        let mut place = |(instance, class, asset): (u32, u32, u32)| {
            [instances.get(instance), classes.get(class), assets.get(asset)]
        };
        let coverage: Vec<[u32; 3]> = self.coverage.iter().map(|covered| place(*covered)).collect();
        let findings: Vec<(Key, [u32; 3])> =
            self.findings.iter().map(|entry| (entry.key, place((entry.instance, entry.class, entry.asset)))).collect();
        let class_names = names.classes.read().unwrap_or_else(PoisonError::into_inner);
        let asset_names = names.assets.read().unwrap_or_else(PoisonError::into_inner);
        Stored {
            instances: instances
                .used
                .iter()
                .map(|number| ids.get(*number as usize).cloned().unwrap_or_default())
                .collect(),
            classes: classes.used.iter().map(|symbol| class_names.name(*symbol).to_owned()).collect(),
            assets: assets.used.iter().map(|symbol| asset_names.name(*symbol).to_owned()).collect(),
            coverage,
            findings,
        }
    }

    /// Takes a stored run's places and findings into this one (which holds the instances the run
    /// pulled), numbered as this report numbers them; it is then finished.
    pub(crate) fn restore(&mut self, stored: &Stored, numbers: &Instances<'_>, names: &Names) {
        let instances: Vec<u32> =
            stored.instances.iter().map(|id| numbers.get(id.as_str()).copied().unwrap_or(NONE)).collect();
        let intern = |symbols: &RwLock<Symbols>, list: &[String]| -> Vec<u32> {
            let mut symbols = symbols.write().unwrap_or_else(PoisonError::into_inner);
            list.iter().map(|name| symbols.intern(name)).collect()
        };
        let (classes, assets) = (intern(&names.classes, &stored.classes), intern(&names.assets, &stored.assets));
        let place = |[instance, class, asset]: [u32; 3]| -> Option<(u32, u32, u32)> {
            let instance = if instance == NONE { NONE } else { *instances.get(instance as usize)? };
            Some((instance, *classes.get(class as usize)?, *assets.get(asset as usize)?))
        };
        for covered in &stored.coverage {
            if let Some(covered) = place(*covered) {
                self.cover(covered);
            }
        }
        self.findings.clear();
        self.findings.extend(stored.findings.iter().enumerate().filter_map(|(row, (key, at))| {
            let (instance, class, asset) = place(*at)?;
            Some(Entry { key: *key, row: u32::try_from(row).unwrap_or(u32::MAX), instance, class, asset })
        }));
    }
}

/// The keys of every run before a pair's earlier run, for `reopened`, sorted: looked up by a
/// cursor that moves forward through a pair's merge, and grown by one merge per run.
#[derive(Default)]
pub(crate) struct Seen {
    keys: Vec<Key>,
    /// The buffer the next [`Seen::add`] merges into (the keys before the last one), so that
    /// growing the keys reuses memory rather than faulting fresh pages in every run.
    spare: Vec<Key>,
}

impl Seen {
    /// Starts with the fingerprints of the runs before the period.
    pub(crate) fn new(mut before: Vec<Key>) -> Self {
        before.sort_unstable();
        before.dedup();
        Self { keys: before, spare: Vec::new() }
    }

    /// Every key, sorted.
    pub(crate) fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Adds sorted keys (a run's, or what appeared in it).
    pub(crate) fn add(&mut self, added: impl IntoIterator<Item = Key>) {
        let mut added = added.into_iter().peekable();
        let mut keys = std::mem::take(&mut self.spare);
        keys.clear();
        keys.reserve(self.keys.len() + added.size_hint().0);
        let mut old = self.keys.iter().copied().peekable();
        loop {
            let next = match (old.peek(), added.peek()) {
                (None, None) => break,
                (Some(_), None) => old.next(),
                (None, Some(_)) => added.next(),
                (Some(a), Some(b)) if a < b => old.next(),
                (Some(a), Some(b)) if a > b => added.next(),
                _ => {
                    added.next();
                    old.next()
                }
            };
            if let Some(key) = next
                && keys.last() != Some(&key)
            {
                keys.push(key);
            }
        }
        self.spare = std::mem::replace(&mut self.keys, keys);
    }
}

/// Counts one pair of consecutive runs: `count(instance, kind, key)` is called once per change
/// (not for `unchanged`) of a known instance. `seen` holds the keys of every run before `from`
/// (the caller adds `from`'s once this pair is counted).
pub(crate) fn count_pair(from: &Compact, to: &Compact, seen: &Seen, mut count: impl FnMut(u32, ChangeKind, Key)) {
    // Both runs number classes and assets by the same `Names`: a class or an asset `to` never
    // saw is in none of its coverage or counts.
    let pulled = |instance: u32| to.pulled.get(instance as usize).copied().unwrap_or(false);
    let mut truncated: HashSet<(u32, u32), FastBuild> = HashSet::default();
    for (&(instance, class), &before) in &from.counts {
        if instance == NONE || !pulled(instance) {
            continue;
        }
        let now = to.counts.get(&(instance, class)).copied().unwrap_or(0);
        if now > 0 && before >= TRUNCATION_MIN_ASSETS && now * 2 < before {
            truncated.insert((instance, class));
        }
    }
    let fixed = |entry: &Entry| -> bool {
        pulled(entry.instance)
            && !truncated.contains(&(entry.instance, entry.class))
            && to.coverage.contains(&(entry.instance, entry.class, entry.asset))
    };
    let (old, new, seen) = (&from.findings, &to.findings, &seen.keys);
    let (mut at_old, mut at_new, mut at_seen) = (0, 0, 0);
    while at_old < old.len() || at_new < new.len() {
        let order = match (old.get(at_old), new.get(at_new)) {
            (Some(a), Some(b)) => a.key.cmp(&b.key),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let entry = &old[at_old];
                at_old += 1;
                if entry.instance != NONE {
                    let kind = if fixed(entry) { ChangeKind::Fixed } else { ChangeKind::NotCovered };
                    count(entry.instance, kind, entry.key);
                }
            }
            std::cmp::Ordering::Greater => {
                let entry = &new[at_new];
                at_new += 1;
                // Keys arrive in order: the cursor into `seen` only moves forward.
                while seen.get(at_seen).is_some_and(|key| *key < entry.key) {
                    at_seen += 1;
                }
                let reopened = seen.get(at_seen) == Some(&entry.key);
                if entry.instance != NONE {
                    count(entry.instance, if reopened { ChangeKind::Reopened } else { ChangeKind::New }, entry.key);
                }
            }
            std::cmp::Ordering::Equal => {
                at_old += 1;
                at_new += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
