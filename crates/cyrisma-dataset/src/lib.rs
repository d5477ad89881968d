//! The findings history dataset: each snapshot run as one Parquet file per table, in a
//! Hive-partitioned layout that DuckDB, Polars, pyarrow, Spark, Trino and BigQuery read as it is.
//!
//! ```text
//! DIR/<table>/dt=YYYY-MM-DD/<run_id>.parquet
//! ```
//!
//! The tables ([`schema::TABLES`]) are `runs`, `outcomes`, `instances`, `grades`, `scans`,
//! `findings`, `coverage` and `usage`; every row carries its `run_id`, and `dt` is the UTC date the
//! run started. Partitions are by date, never by instance, so a run of 10,000 instances is still
//! one file per table.
//!
//! **Atomic runs.** A [`RunWriter`] streams each table into a hidden temporary file
//! (`.<run_id>.parquet.tmp`, which no reader's `*.parquet` glob matches), and
//! [`RunWriter::commit`] syncs and renames them into place, `runs` last. A run exists only once
//! its `runs` row does: a crash at any point leaves the earlier runs as they were, and at worst
//! files of a run that has no `runs` row, which every reader of this crate ignores (readers of the
//! raw files join on `runs`, as the history guide shows) and which [`Dataset::remove_orphans`]
//! deletes later.
//!
//! **Where.** [`Dataset::open`] takes a local directory or an object store location
//! (`s3://bucket/prefix`, `az://container/prefix`, `abfs://…`, `gs://bucket/prefix`) with each
//! cloud's standard credentials; on an object store each file is uploaded under its final name
//! only once complete, `runs` last, so the same rule holds there (see the `store` module).
//!
//! This crate does file and object storage I/O but no API networking; the snapshot operation that fills a run lives in
//! the cross-instance layer, and the pure rules (fingerprints, diffs, lifecycles) in
//! `cyrisma_core::history`.

pub mod decode;
pub mod encode;
pub mod lent;
pub mod read;
pub mod scan;
pub mod schema;
mod store;
pub mod write;

use std::path::{Path, PathBuf};

/// The `object_store` crate this one uses, for [`Dataset::with_object_store`].
pub use object_store;

/// The Arrow record batch type the dataset reads and writes.
pub use arrow_array::RecordBatch;
pub use read::RunData;
pub use write::RunWriter;

/// Deletes the local spool files that killed snapshots of object-store datasets left in the
/// temporary directory (`$TMPDIR/.cyrisma-<pid>-<serial>-<table>-<run_id>.parquet.tmp`) and
/// that nothing has written to for a day; returns how many went. A run on an object store is
/// written to such files and uploaded at commit, which removes them, so only a crash leaves them
/// (each up to the size of its table). `cyrisma snapshot` calls this before each run, as it
/// calls [`Dataset::remove_orphans`].
pub fn remove_stale_spools() -> usize {
    store::remove_stale_spools(&std::env::temp_dir(), std::time::Duration::from_secs(86_400))
}

/// The schema version this crate writes: part of every `runs` row and of every file's metadata.
pub const SCHEMA_VERSION: i32 = 1;

/// A hash of every table's columns (names, types, nullability) per schema version, oldest first.
/// A test computes the current hash: changing a column without a new version and its hash here
/// fails, as does a new version without the docs updated.
pub const SCHEMA_HASHES: &[(i32, &str)] = &[(1, "86bde9ae5d2a2e37")];

/// The key of the Parquet key-value metadata entry holding the schema version.
pub const SCHEMA_VERSION_KEY: &str = "cyrisma.schema_version";

/// What went wrong reading or writing the dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An object in an object store could not be listed, read, written or deleted.
    #[error("{action} {path}: {message}")]
    Store {
        /// What was being done.
        action: &'static str,
        /// The object, as a location (`s3://bucket/prefix/…`).
        path: PathBuf,
        /// The cause, with a hint about credentials where they are the likely cause (never a
        /// credential).
        message: String,
    },
    /// A dataset location that cannot be used (only as much of it as is safe to show).
    #[error("dataset location {location}: {message}")]
    Location {
        /// The location, without anything that could be a credential.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A Parquet file could not be written or read.
    #[error("parquet file {path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause, as text (the Parquet and Arrow errors are not `Sync` across versions).
        message: String,
    },
    /// A run that does not exist.
    #[error("no complete run {0} in the dataset")]
    NoSuchRun(String),
    /// A file written by a newer version of the tool.
    #[error("run {run_id} has schema version {found}, newer than this tool's {supported}: upgrade cyrisma")]
    NewerSchema {
        /// The run.
        run_id: String,
        /// Its version.
        found: i32,
        /// What this tool reads.
        supported: i32,
    },
}

/// A result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io { action, path: path.to_owned(), source }
}

/// A dataset: a local directory (created on the first run) or an object store prefix.
#[derive(Clone)]
pub struct Dataset {
    root: PathBuf,
    store: store::Store,
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The location only: an object store client holds credentials.
        f.debug_struct("Dataset").field("root", &self.root).finish_non_exhaustive()
    }
}

impl Dataset {
    /// The dataset in the local directory `root`; nothing is read or created yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), store: store::Store::Local }
    }

    /// The dataset at a location: a local directory, or `s3://bucket/prefix`,
    /// `az://container/prefix` (also `azure://`, `abfs[s]://container@account.dfs.core.windows.net/prefix`)
    /// or `gs://bucket/prefix`, with the cloud's standard credential sources (environment
    /// variables, AWS profiles, instance metadata). Nothing is read yet; a location with an
    /// unknown scheme, or with credentials or a query string in it, is an error.
    pub fn open(location: impl AsRef<Path>) -> Result<Self> {
        let (root, store) = store::parse(location.as_ref())?;
        Ok(Self { root, store })
    }

    /// The dataset on an object store the caller configured (any `object_store` implementation:
    /// its own credentials, retries, a wrapper, an in-memory store). `location`
    /// (`scheme://bucket/prefix`) names it in errors and its path part is the key prefix, as with
    /// [`Dataset::open`].
    pub fn with_object_store(location: &str, store: std::sync::Arc<dyn object_store::ObjectStore>) -> Result<Self> {
        let (root, store) = store::with_store(location, store)?;
        Ok(Self { root, store })
    }

    /// Its directory, or its location (`s3://bucket/prefix`) on an object store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether it is on an object store rather than a local file system.
    pub fn is_remote(&self) -> bool {
        self.store.is_remote()
    }

    /// Makes sure a new run can be written: creates the local directory (an object store needs
    /// nothing: its objects are created with their keys).
    pub fn prepare(&self) -> Result<()> {
        if self.is_remote() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.root).map_err(io_error("cannot create the directory", &self.root))
    }

    /// The directory of one table's partition for a date (`YYYY-MM-DD`).
    pub fn partition(&self, table: &str, date: &str) -> PathBuf {
        self.root.join(table).join(format!("dt={date}"))
    }

    /// The file of one table of one run.
    pub fn file(&self, table: &str, run_id: &str, started_at: i64) -> PathBuf {
        self.partition(table, &date_of(started_at)).join(format!("{run_id}.parquet"))
    }
}

/// The UTC date (`YYYY-MM-DD`) of a time in microseconds since the Unix epoch.
pub fn date_of(micros: i64) -> String {
    cyrisma_core::civil::date(micros.div_euclid(1_000_000))
}

/// A run id for a run that starts at `started_at` (microseconds), with 32 random bits from the
/// caller: `r20261205T064322.123456Z-1a2b3c4d`. Ids sort by start time (to the microsecond).
pub fn run_id(started_at: i64, random: u32) -> String {
    let micros = started_at.rem_euclid(1_000_000);
    let c = cyrisma_core::civil::civil(started_at.div_euclid(1_000_000));
    format!(
        "r{:04}{:02}{:02}T{:02}{:02}{:02}.{micros:06}Z-{random:08x}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_run_ids() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(-1), "1969-12-31");
        // 2026-12-05T06:43:22Z
        let micros = 1_796_453_002_000_000;
        assert_eq!(date_of(micros), "2026-12-05");
        assert_eq!(run_id(micros, 0x1a2b3c4d), "r20261205T064322.000000Z-1a2b3c4d");
        assert_eq!(run_id(micros + 7, 0), "r20261205T064322.000007Z-00000000");
        assert!(run_id(micros + 1, 0xffff_ffff) < run_id(micros + 2, 0), "ids sort by time first");
        assert_eq!(date_of(951_782_400_000_000), "2000-02-29");
    }
}
