//! The change counts of each pair of consecutive runs, kept beside a local dataset so that the
//! next report reads only what is new: `DIR/.cache/report-html/`, safe to delete at any time.
//!
//! Runs never change once written, so the counts from run k-1 to run k (new, fixed, reopened,
//! not covered, per instance, and the fingerprints new or reopened in run k) depend only on the
//! runs up to k: a step is filed under a hash of the ids of every run up to it (its *chain*),
//! so a run added, removed or replaced before it gives another chain and the step is counted
//! again. The keys of every run up to the one before the latest are kept too (one file, the
//! latest only): the next run's `reopened` needs them, and reading them back is much cheaper than
//! reading every earlier run's fingerprints. So is the latest run itself, compacted (its findings'
//! keys and places, its coverage): the pair a new snapshot makes is counted without reading the
//! run before it again.
//!
//! A report that finds a step here reads neither run of the pair for it; after a new snapshot it
//! reads the new run and the one before (the pages read the new one anyway). A cache file is
//! written to a temporary name and renamed; one that is missing, short, from another format or
//! for another chain is ignored and the step counted from the runs. Nothing is cached for a
//! dataset on an object store, or when the directory cannot be written (the report then counts
//! every step, as it would without a cache).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cyrisma_core::history::ChangeKind;
use cyrisma_dataset::Dataset;
use cyrisma_dataset::schema::RunRow;
use sha2::{Digest, Sha256};

use crate::changes::{Key, Stored};

/// The format of the files, and of the rules the counts follow: a change to either needs a new
/// tag (the files of another tag are never read).
const TAG: &[u8; 8] = b"CYRRHC01";

/// A run's chain: a hash of the ids of every run up to it, in order.
pub(crate) type Chain = [u8; 16];

/// The chain of each run.
pub(crate) fn chains(runs: &[RunRow]) -> Vec<Chain> {
    let mut hasher = Sha256::new();
    hasher.update(TAG);
    runs.iter()
        .map(|run| {
            hasher.update((run.run_id.len() as u64).to_le_bytes());
            hasher.update(run.run_id.as_bytes());
            let mut chain = [0; 16];
            chain.copy_from_slice(&hasher.clone().finalize()[..16]);
            chain
        })
        .collect()
}

/// One instance's changes from one run to the next: new, fixed, reopened and not covered.
pub(crate) type Counts = [u64; 4];

/// The counts from one run to the next.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Step {
    /// Per instance id (each once): its changes.
    pub(crate) counts: Vec<(String, Counts)>,
    /// The fingerprints new or reopened in the later run, sorted.
    pub(crate) marked: Vec<(Key, ChangeKind)>,
}

impl Step {
    /// The counts by instance id.
    pub(crate) fn by_instance(&self) -> HashMap<&str, &Counts> {
        self.counts.iter().map(|(id, changes)| (id.as_str(), changes)).collect()
    }
}

/// The cache of one dataset (or none).
pub(crate) struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    /// The cache of a local dataset; an object store's has none.
    pub(crate) fn of(dataset: &Dataset) -> Self {
        Self { dir: (!dataset.is_remote()).then(|| dataset.root().join(".cache").join("report-html")) }
    }

    /// No cache: every step is counted from the runs.
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        Self { dir: None }
    }

    fn file(&self, kind: &str, chain: &Chain) -> Option<PathBuf> {
        let name: String = chain.iter().map(|byte| format!("{byte:02x}")).collect();
        Some(self.dir.as_ref()?.join(format!("{kind}-{name}.bin")))
    }

    /// The step up to the run of this chain, when cached; with its marked fingerprints only when
    /// `marked` (they are what most of the file holds, and only the latest step's are shown).
    pub(crate) fn step(&self, chain: &Chain, marked: bool) -> Option<Step> {
        let bytes = std::fs::read(self.file("step", chain)?).ok()?;
        decode_step(&bytes, chain, marked)
    }

    /// Caches the step up to the run of this chain (a failure only costs counting it again).
    pub(crate) fn put_step(&self, chain: &Chain, step: &Step) {
        if let Some(path) = self.file("step", chain) {
            put(&path, &encode_step(step, chain));
        }
    }

    /// The keys of every run up to the one of this chain, sorted, when cached.
    pub(crate) fn seen(&self, chain: &Chain) -> Option<Vec<Key>> {
        let bytes = std::fs::read(self.file("seen", chain)?).ok()?;
        let mut reader = Reader::new(&bytes, chain)?;
        let count = usize::try_from(reader.u64()?).ok()?;
        let keys = reader.take(count.checked_mul(16)?)?;
        reader.end()?;
        Some(keys.chunks_exact(16).map(|key| u128::from_be_bytes(key.try_into().unwrap_or_default())).collect())
    }

    /// Caches the keys of every run up to the one of this chain (sorted), in place of any kept
    /// before: only the latest is ever needed.
    pub(crate) fn put_seen(&self, chain: &Chain, keys: &[Key]) {
        let Some(path) = self.file("seen", chain) else { return };
        let mut bytes = Vec::with_capacity(TAG.len() + 24 + keys.len() * 16);
        header(&mut bytes, chain);
        bytes.extend_from_slice(&(keys.len() as u64).to_le_bytes());
        for key in keys {
            bytes.extend_from_slice(&key.to_be_bytes());
        }
        if put(&path, &bytes) {
            self.remove_others("seen-", &path);
        }
    }
}

impl Cache {
    /// The latest run of this chain, as a report that compared it stored it.
    pub(crate) fn run(&self, chain: &Chain) -> Option<Stored> {
        let bytes = std::fs::read(self.file("run", chain)?).ok()?;
        let mut reader = Reader::new(&bytes, chain)?;
        let mut names = || -> Option<Vec<String>> {
            let count = usize::try_from(reader.u64()?).ok()?;
            let mut names = Vec::with_capacity(count.min(bytes.len()));
            for _ in 0..count {
                let length = usize::try_from(reader.u64()?).ok()?;
                names.push(std::str::from_utf8(reader.take(length)?).ok()?.to_owned());
            }
            Some(names)
        };
        let (instances, classes, assets) = (names()?, names()?, names()?);
        let place = |bytes: &[u8]| -> [u32; 3] {
            let number = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            [number(0), number(4), number(8)]
        };
        let count = usize::try_from(reader.u64()?).ok()?;
        let coverage = reader.take(count.checked_mul(12)?)?.chunks_exact(12).map(place).collect();
        let count = usize::try_from(reader.u64()?).ok()?;
        let findings = reader
            .take(count.checked_mul(28)?)?
            .chunks_exact(28)
            .map(|row| (u128::from_be_bytes(row[..16].try_into().unwrap_or_default()), place(&row[16..])))
            .collect();
        reader.end()?;
        Some(Stored { instances, classes, assets, coverage, findings })
    }

    /// Keeps the latest run of this chain, in place of any kept before.
    pub(crate) fn put_run(&self, chain: &Chain, run: &Stored) {
        let Some(path) = self.file("run", chain) else { return };
        let strings: usize = [&run.instances, &run.classes, &run.assets]
            .iter()
            .flat_map(|list| list.iter())
            .map(|name| name.len() + 8)
            .sum();
        let mut bytes = Vec::with_capacity(64 + strings + run.coverage.len() * 12 + run.findings.len() * 28);
        header(&mut bytes, chain);
        for list in [&run.instances, &run.classes, &run.assets] {
            bytes.extend_from_slice(&(list.len() as u64).to_le_bytes());
            for name in list {
                bytes.extend_from_slice(&(name.len() as u64).to_le_bytes());
                bytes.extend_from_slice(name.as_bytes());
            }
        }
        bytes.extend_from_slice(&(run.coverage.len() as u64).to_le_bytes());
        for place in &run.coverage {
            for number in place {
                bytes.extend_from_slice(&number.to_le_bytes());
            }
        }
        bytes.extend_from_slice(&(run.findings.len() as u64).to_le_bytes());
        for (key, place) in &run.findings {
            bytes.extend_from_slice(&key.to_be_bytes());
            for number in place {
                bytes.extend_from_slice(&number.to_le_bytes());
            }
        }
        if put(&path, &bytes) {
            self.remove_others("run-", &path);
        }
    }

    /// Removes the files of a kind but `kept`.
    fn remove_others(&self, prefix: &str, kept: &Path) {
        let Some(Ok(entries)) = self.dir.as_ref().map(std::fs::read_dir) else { return };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(prefix) && entry.path() != kept {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Writes a file through a temporary name; false when it could not be written.
fn put(path: &Path, bytes: &[u8]) -> bool {
    let Some(dir) = path.parent() else { return false };
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let Ok(mut file) = tempfile::NamedTempFile::new_in(dir) else { return false };
    use std::io::Write as _;
    file.write_all(bytes).is_ok() && file.persist(path).is_ok()
}

fn header(bytes: &mut Vec<u8>, chain: &Chain) {
    bytes.extend_from_slice(TAG);
    bytes.extend_from_slice(chain);
}

fn kind_code(kind: ChangeKind) -> u8 {
    match kind {
        ChangeKind::Reopened => 1,
        _ => 0,
    }
}

fn encode_step(step: &Step, chain: &Chain) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64 + step.counts.len() * 48 + step.marked.len() * 17);
    header(&mut bytes, chain);
    bytes.extend_from_slice(&(step.counts.len() as u64).to_le_bytes());
    for (id, changes) in &step.counts {
        bytes.extend_from_slice(&(id.len() as u64).to_le_bytes());
        bytes.extend_from_slice(id.as_bytes());
        for count in changes {
            bytes.extend_from_slice(&count.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&(step.marked.len() as u64).to_le_bytes());
    for (key, kind) in &step.marked {
        bytes.extend_from_slice(&key.to_be_bytes());
        bytes.push(kind_code(*kind));
    }
    bytes
}

fn decode_step(bytes: &[u8], chain: &Chain, with_marked: bool) -> Option<Step> {
    let mut reader = Reader::new(bytes, chain)?;
    let count = usize::try_from(reader.u64()?).ok()?;
    let mut counts = Vec::with_capacity(count.min(bytes.len() / 40));
    for _ in 0..count {
        let length = usize::try_from(reader.u64()?).ok()?;
        let id = std::str::from_utf8(reader.take(length)?).ok()?.to_owned();
        let changes = [reader.u64()?, reader.u64()?, reader.u64()?, reader.u64()?];
        counts.push((id, changes));
    }
    let marked_count = usize::try_from(reader.u64()?).ok()?;
    if !with_marked {
        reader.take(marked_count.checked_mul(17)?)?;
        reader.end()?;
        return Some(Step { counts, marked: Vec::new() });
    }
    let mut marked = Vec::with_capacity(marked_count.min(bytes.len() / 17));
    for _ in 0..marked_count {
        let key = u128::from_be_bytes(reader.take(16)?.try_into().ok()?);
        let kind = match reader.take(1)?[0] {
            0 => ChangeKind::New,
            1 => ChangeKind::Reopened,
            _ => return None,
        };
        marked.push((key, kind));
    }
    reader.end()?;
    Some(Step { counts, marked })
}

/// Bounds-checked reading of a cache file: its tag and chain first.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], chain: &Chain) -> Option<Self> {
        let mut reader = Self { rest: bytes };
        (reader.take(TAG.len())? == TAG && reader.take(16)? == chain).then_some(reader)
    }

    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.rest.len() < count {
            return None;
        }
        let (taken, rest) = self.rest.split_at(count);
        self.rest = rest;
        Some(taken)
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn end(&self) -> Option<()> {
        self.rest.is_empty().then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str) -> RunRow {
        RunRow { run_id: id.to_owned(), ..RunRow::default() }
    }

    #[test]
    fn a_chain_names_every_run_up_to_it() {
        let one = chains(&[run("r1"), run("r2"), run("r3")]);
        let other = chains(&[run("r1"), run("r2b"), run("r3")]);
        assert_eq!(one[0], other[0]);
        assert_ne!(one[1], other[1]);
        assert_ne!(one[2], other[2], "a run replaced before it changes the chain");
        let removed = chains(&[run("r1"), run("r3")]);
        assert_ne!(removed[1], one[2], "a run removed before it changes the chain");
        // Field boundaries are part of the hash.
        assert_ne!(chains(&[run("r1"), run("r23")])[1], chains(&[run("r12"), run("r3")])[1]);
    }

    #[test]
    fn steps_and_keys_read_back_only_for_their_chain_and_whole() {
        let directory = tempfile::tempdir().unwrap();
        let cache = Cache::of(&Dataset::new(directory.path()));
        let chain = chains(&[run("r1"), run("r2")])[1];
        let other = chains(&[run("r1"), run("r9")])[1];
        let step = Step {
            counts: vec![("cc1".into(), [1, 2, 3, 4]), ("ccé".into(), [0; 4])],
            marked: vec![(7, ChangeKind::New), (u128::MAX, ChangeKind::Reopened)],
        };
        assert_eq!(cache.step(&chain, true), None);
        cache.put_step(&chain, &step);
        assert_eq!(cache.step(&chain, true), Some(step.clone()));
        let counts_only = Step { marked: Vec::new(), ..step.clone() };
        assert_eq!(cache.step(&chain, false), Some(counts_only));
        assert_eq!(cache.step(&other, true), None);

        // A file cut short, or with another chain inside, is not read.
        let path = cache.file("step", &chain).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 8, 24, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert_eq!(cache.step(&chain, true), None, "cut at {cut}");
            assert_eq!(cache.step(&chain, false), None, "cut at {cut}");
        }
        std::fs::write(cache.file("step", &other).unwrap(), &bytes).unwrap();
        assert_eq!(cache.step(&other, true), None, "a file renamed to another chain");

        cache.put_seen(&chain, &[1, 2, 3]);
        assert_eq!(cache.seen(&chain), Some(vec![1, 2, 3]));
        cache.put_seen(&other, &[4]);
        assert_eq!(cache.seen(&other), Some(vec![4]));
        assert_eq!(cache.seen(&chain), None, "only the latest keys are kept");
    }

    #[test]
    fn a_stored_run_reads_back_only_for_its_chain_and_whole() {
        let directory = tempfile::tempdir().unwrap();
        let cache = Cache::of(&Dataset::new(directory.path()));
        let chains = chains(&[run("r1"), run("r2")]);
        let stored = Stored {
            instances: vec!["cc1".into(), "ccé".into()],
            classes: vec!["internal".into()],
            assets: vec!["id:1".into(), "ip:10.0.0.1".into()],
            coverage: vec![[0, 0, 0], [1, 0, 1]],
            findings: vec![(3, [0, 0, 0]), (u128::MAX, [u32::MAX, 0, 1])],
        };
        assert_eq!(cache.run(&chains[1]), None);
        cache.put_run(&chains[1], &stored);
        assert_eq!(cache.run(&chains[1]), Some(stored.clone()));
        assert_eq!(cache.run(&chains[0]), None);
        let path = cache.file("run", &chains[1]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 30, bytes.len() - 28, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert_eq!(cache.run(&chains[1]), None, "cut at {cut}");
        }
        cache.put_run(&chains[0], &Stored::default());
        cache.put_run(&chains[1], &stored);
        assert_eq!(cache.run(&chains[0]), None, "only the latest run is kept");
        assert_eq!(cache.run(&chains[1]), Some(stored));
    }

    #[test]
    fn an_object_store_dataset_has_no_cache() {
        let dataset = Dataset::open("s3://bucket/history").unwrap();
        let cache = Cache::of(&dataset);
        let chain = chains(&[run("r1")])[0];
        cache.put_step(&chain, &Step::default());
        assert_eq!(cache.step(&chain, true), None);
        assert!(Cache::none().file("step", &chain).is_none());
    }
}
