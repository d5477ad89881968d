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
//! This crate does file I/O but no networking; the snapshot operation that fills a run lives in
//! the cross-instance layer, and the pure rules (fingerprints, diffs, lifecycles) in
//! `cyrisma_core::history`.

pub mod decode;
pub mod encode;
pub mod read;
pub mod schema;
pub mod write;

use std::path::{Path, PathBuf};

/// The Arrow record batch type the dataset reads and writes.
pub use arrow_array::RecordBatch;
pub use read::RunData;
pub use write::RunWriter;

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

/// A dataset directory (created on the first run).
#[derive(Clone, Debug)]
pub struct Dataset {
    root: PathBuf,
}

impl Dataset {
    /// The dataset at `root`; nothing is read or created yet.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its directory.
    pub fn root(&self) -> &Path {
        &self.root
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
