//! Writing one run: every table streamed into a hidden temporary file, then committed together,
//! `runs` last.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::PathBuf;

use arrow_array::ArrayRef;
use parquet::basic::{Compression, Encoding};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::Serialize;

use crate::decode::Decode;
use crate::encode::{Encode, ParallelWriter};
use crate::schema::{self, Column, RunRow};
use crate::{Dataset, Error, Result, SCHEMA_VERSION, SCHEMA_VERSION_KEY, io_error};

/// The most rows encoded into one record batch (the [`ParallelWriter`]'s chunk).
pub const BATCH_ROWS: usize = crate::encode::CHUNK_ROWS;

/// The most rows of one row group. A table's file gets its rows group by group: a row group is
/// written out as soon as it is full, so a writer holds at most one (encoded) row group per table
/// in memory, however many rows the run has.
pub const ROW_GROUP_ROWS: usize = 8 * BATCH_ROWS;

/// The most estimated encoded bytes of one row group (what `max_row_group_bytes` bounds). With
/// [`ROW_GROUP_ROWS`] this bounds what a table's writer holds in memory, whatever its rows'
/// width: a row group in progress holds its encoded pages plus dictionaries and unencoded
/// dictionary keys, about 2-3 times its encoded size.
pub const ROW_GROUP_BYTES: usize = 2 << 20;

/// A row of one of the dataset's tables.
pub trait TableRow: Serialize + Encode + Decode + Sync {
    /// The table's name.
    const TABLE: &'static str;
}

macro_rules! table_rows {
    ($($row:ident => $table:literal),+ $(,)?) => {
        $(impl TableRow for schema::$row { const TABLE: &'static str = $table; })+
    };
}

/// What a run's tables take: rows that encode as one table's record batches, owned
/// ([`TableRow`]) or lent ([`crate::lent::FindingRef`]).
pub trait WriteRow: Encode + Sync {
    /// The table's name.
    const TABLE: &'static str;
}

impl<R: TableRow> WriteRow for R {
    const TABLE: &'static str = <R as TableRow>::TABLE;
}

table_rows! {
    OutcomeRow => "outcomes",
    InstanceRow => "instances",
    GradeRow => "grades",
    ScanRow => "scans",
    FindingRow => "findings",
    CoverageRow => "coverage",
    UsageRow => "usage",
    RunRow => "runs",
}

struct TableWriter {
    temporary: PathBuf,
    path: PathBuf,
    writer: ParallelWriter<File>,
    rows: u64,
}

impl TableWriter {
    fn open(dataset: &Dataset, table: &str, columns: &[Column], run_id: &str, started_at: i64) -> Result<Self> {
        let path = dataset.file(table, run_id, started_at);
        // In the partition under a hidden name, or a local spool file for an object store.
        let temporary = dataset.store.staging(&path, table)?;
        let file = File::create(&temporary).map_err(io_error("cannot create", &temporary))?;
        let writer = table_writer(file, columns)
            .map_err(|error| Error::Parquet { path: temporary.clone(), message: error.to_string() })?;
        Ok(Self { temporary, path, writer, rows: 0 })
    }

    fn error(&self, error: &dyn std::fmt::Display) -> Error {
        Error::Parquet { path: self.temporary.clone(), message: error.to_string() }
    }

    fn push<R: Encode + Sync>(&mut self, rows: &[R]) -> Result<()> {
        self.writer.write(rows).map_err(|error| self.error(&error))?;
        self.rows += rows.len() as u64;
        Ok(())
    }

    fn push_arrays<R: Encode + Sync>(&mut self, arrays: Vec<ArrayRef>) -> Result<()> {
        let rows = arrays.first().map_or(0, |array| array.len());
        self.writer.write_arrays::<R>(arrays).map_err(|error| self.error(&error))?;
        self.rows += rows as u64;
        Ok(())
    }

    /// Ends the row group in progress: its rows go to the file now.
    fn end_row_group(&mut self) -> Result<()> {
        self.writer.flush().map_err(|error| self.error(&error))
    }

    /// Finishes the file and syncs it; it stays under its temporary name.
    fn close(self) -> Result<(PathBuf, PathBuf)> {
        let (temporary, path) = (self.temporary.clone(), self.path.clone());
        let file = self
            .writer
            .into_inner()
            .map_err(|error| Error::Parquet { path: temporary.clone(), message: error.to_string() })?;
        file.sync_all().map_err(io_error("cannot sync", &temporary))?;
        Ok((temporary, path))
    }
}

/// The column whose values never repeat in a table (the findings' `fingerprint`): written without
/// a dictionary and without compression, its values one after another with their lengths apart
/// (`DELTA_LENGTH_BYTE_ARRAY`).
pub const UNIQUE_COLUMN: &str = "fingerprint";

/// The columns readers filter on (a run, an instance, a kind of finding, a risk level, a scan
/// class): the only ones written with statistics (per page, with the column index), which let an
/// engine skip the pages and row groups a filter on them rules out.
pub const PRUNED_COLUMNS: &[&str] = &["run_id", "instance_id", "scan_class", "kind", "risk_level"];

/// The Parquet settings of every file of the dataset: Snappy compression, the writer's default
/// dictionary and plain encodings but for [`UNIQUE_COLUMN`], statistics for [`PRUNED_COLUMNS`]
/// only, row groups of at most [`ROW_GROUP_ROWS`] rows and [`ROW_GROUP_BYTES`] estimated encoded
/// bytes, and the schema version in the key-value metadata.
pub fn writer_properties() -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        // Minimum and maximum of every page of every column cost about a fifth of writing the
        // findings (byte comparisons of every value, `perf`); only the filtered columns keep them.
        .set_statistics_enabled(EnabledStatistics::None)
        // Every finding's fingerprint is its own value: a dictionary would be built, found too
        // big and dropped for plain encoding in every row group (about a tenth of a snapshot's
        // writing time, `perf`), and a reader gains nothing from it. Snappy found little to
        // take out of 32 random hex digits but their repeated 4-byte length prefixes, which this
        // encoding keeps apart (bit-packed to almost nothing): about as small, with no
        // compression to run on either side.
        .set_column_dictionary_enabled(ColumnPath::from(UNIQUE_COLUMN), false)
        .set_column_encoding(ColumnPath::from(UNIQUE_COLUMN), Encoding::DELTA_LENGTH_BYTE_ARRAY)
        .set_column_compression(ColumnPath::from(UNIQUE_COLUMN), Compression::UNCOMPRESSED)
        .set_key_value_metadata(Some(vec![KeyValue::new(SCHEMA_VERSION_KEY.to_owned(), SCHEMA_VERSION.to_string())]));
    for column in PRUNED_COLUMNS {
        builder = builder.set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::Page);
    }
    builder.build()
}

/// The writer of one table's Parquet file, as a run writes each of its tables: the table's
/// Arrow schema, [`writer_properties`], columns encoded on every core. The file is the one
/// `ArrowWriter` writes from the same rows in record batches of [`BATCH_ROWS`].
pub fn table_writer<W: Write + Send>(
    out: W,
    columns: &[Column],
) -> std::result::Result<ParallelWriter<W>, ParquetError> {
    ParallelWriter::try_new(out, schema::arrow_schema(columns), writer_properties())
}

/// The counts of a run's `runs` row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Instances pulled completely.
    pub pulled: i64,
    /// Instances that failed.
    pub failed: i64,
    /// Instances listed but not selected.
    pub skipped: i64,
}

/// One run being written. Rows go to hidden temporary files; [`RunWriter::commit`] makes the
/// run visible. Dropping it without committing removes its temporary files.
pub struct RunWriter {
    dataset: Dataset,
    run_id: String,
    started_at: i64,
    tool_version: String,
    tables: HashMap<&'static str, TableWriter>,
    committed: bool,
}

impl std::fmt::Debug for RunWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunWriter").field("root", &self.dataset.root()).field("run_id", &self.run_id).finish()
    }
}

impl RunWriter {
    /// Starts a run: creates the partitions of its date and opens a temporary file per table.
    pub fn begin(dataset: &Dataset, run_id: &str, started_at: i64, tool_version: &str) -> Result<Self> {
        let mut writer = Self {
            dataset: dataset.clone(),
            run_id: run_id.to_owned(),
            started_at,
            tool_version: tool_version.to_owned(),
            tables: HashMap::new(),
            committed: false,
        };
        for (table, columns) in schema::TABLES {
            let opened = TableWriter::open(dataset, table, columns, run_id, started_at)?;
            writer.tables.insert(table, opened);
        }
        Ok(writer)
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Appends rows to their table (rows carry their own `run_id`; pass this run's).
    pub fn write<R: WriteRow>(&mut self, rows: &[R]) -> Result<()> {
        self.append::<R>(!rows.is_empty(), |table| table.push(rows))
    }

    /// Appends rows already built into their table's columns ([`Encode::arrays`] of `R` rows,
    /// such as [`crate::lent::FindingColumns`]), as [`RunWriter::write`] appends the rows.
    pub fn write_columns<R: WriteRow>(&mut self, arrays: Vec<ArrayRef>) -> Result<()> {
        let any = arrays.first().is_some_and(|array| !array.is_empty());
        self.append::<R>(any, |table| table.push_arrays::<R>(arrays))
    }

    /// Appends to `R`'s table with `push` (`any`: whether it adds rows, for the test hook).
    fn append<R: WriteRow>(&mut self, any: bool, push: impl FnOnce(&mut TableWriter) -> Result<()>) -> Result<()> {
        let Some(table) = self.tables.get_mut(<R as WriteRow>::TABLE) else {
            return Err(Error::Parquet {
                path: self.dataset.root().join(<R as WriteRow>::TABLE),
                message: "table already closed".into(),
            });
        };
        push(table)?;
        if any && armed_fail_point().is_some() {
            fail_point(&format!("after-write:{}", <R as WriteRow>::TABLE));
        }
        Ok(())
    }

    /// Appends rows to their table as [`RunWriter::write`] does, then ends the table's row group
    /// there: the rows are in the file at once, and the writer holds nothing of them (no
    /// unfinished row group and its dictionaries). For a small table written a batch at a time
    /// while other tables grow, so that what its writer holds does not grow with the run.
    pub fn write_row_group<R: WriteRow>(&mut self, rows: &[R]) -> Result<()> {
        self.write(rows)?;
        match self.tables.get_mut(<R as WriteRow>::TABLE) {
            Some(table) => table.end_row_group(),
            None => Ok(()),
        }
    }

    /// How many rows were written to a table so far.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.get(table).map_or(0, |table| table.rows)
    }

    /// Makes the run visible: finishes every table's file, syncs and renames them into place (or
    /// uploads them, on an object store), then writes the `runs` row the same way. Until the `runs` file is renamed, no reader
    /// counts the run; after, every file of the run is in place.
    pub fn commit(mut self, finished_at: i64, counts: RunCounts) -> Result<RunRow> {
        let row = RunRow {
            run_id: self.run_id.clone(),
            started_at: self.started_at,
            finished_at,
            tool_version: self.tool_version.clone(),
            schema_version: SCHEMA_VERSION,
            instances_pulled: counts.pulled,
            instances_failed: counts.failed,
            instances_skipped: counts.skipped,
        };
        let mut runs = self.tables.remove("runs");
        let closing: Vec<TableWriter> = schema::TABLES
            .iter()
            .filter(|(table, _)| *table != "runs")
            .filter_map(|(table, _)| self.tables.remove(table))
            .collect();
        let pending = close_together(closing)?;
        fail_point("after-tables-closed");
        self.dataset.store.publish(self.dataset.root(), &pending, || fail_point("after-first-rename"))?;
        fail_point("before-runs-row");
        let Some(mut runs_writer) = runs.take() else {
            return Err(Error::Parquet {
                path: self.dataset.root().join("runs"),
                message: "runs table missing".into(),
            });
        };
        runs_writer.push(std::slice::from_ref(&row))?;
        let published = runs_writer.close()?;
        fail_point("before-runs-rename");
        self.dataset.store.publish(self.dataset.root(), &[published], || {})?;
        self.committed = true;
        Ok(row)
    }
}

/// Closes tables (see [`TableWriter::close`]) on a thread each, and returns their files in the
/// tables' order, or the first error in that order (then no file of them is left behind). Each
/// close ends with a sync that waits for the disk: one after the other, a run's syncs added up
/// to about 30 ms at the end of a 1,000-instance snapshot; together, they overlap.
fn close_together(tables: Vec<TableWriter>) -> Result<Vec<(PathBuf, PathBuf)>> {
    let temporaries: Vec<PathBuf> = tables.iter().map(|table| table.temporary.clone()).collect();
    let closed: Vec<Result<(PathBuf, PathBuf)>> = std::thread::scope(|scope| {
        let closing: Vec<_> = tables.into_iter().map(|table| scope.spawn(move || table.close())).collect();
        closing
            .into_iter()
            .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    let closed: Result<Vec<_>> = closed.into_iter().collect();
    if closed.is_err() {
        for temporary in &temporaries {
            let _ = fs::remove_file(temporary);
        }
    }
    closed
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for table in self.tables.values() {
            let _ = fs::remove_file(&table.temporary);
        }
    }
}

/// Test hook, never set otherwise: `CYRISMA_DATASET_FAILPOINT=<point>` aborts the process at that
/// point of a run, and `CYRISMA_DATASET_FAILPOINT=pause:<point>@<marker file>` creates the marker
/// file there and then waits (up to ten minutes, then aborts), so that a test can kill the process
/// at that point. The points are `after-write:<table>` (rows were appended to a table's temporary
/// file, for example while instances are still being pulled), `after-tables-closed`,
/// `after-first-rename`, `before-runs-row` and `before-runs-rename` (the `runs` file is complete
/// under its temporary name).
fn fail_point(name: &str) {
    let Some(armed) = armed_fail_point() else { return };
    if armed == name {
        std::process::abort();
    }
    let Some((point, marker)) = armed.strip_prefix("pause:").and_then(|rest| rest.split_once('@')) else { return };
    if point == name {
        let _ = fs::write(marker, name);
        for _ in 0..6_000 {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        std::process::abort();
    }
}

/// The value of `CYRISMA_DATASET_FAILPOINT`, read once.
fn armed_fail_point() -> Option<&'static str> {
    static ARMED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ARMED.get_or_init(|| std::env::var("CYRISMA_DATASET_FAILPOINT").ok()).as_deref()
}

#[cfg(test)]
mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    use super::*;
    use crate::schema::{CoverageRow, FindingRow};

    /// 2026-12-05T06:43:22Z, the start of every run written here.
    const STARTED_AT: i64 = 1_796_453_002_000_000;

    /// A run begun in a new temporary directory (kept alive by the first value).
    fn new_run(random: u32) -> (tempfile::TempDir, Dataset, RunWriter) {
        let directory = tempfile::tempdir().unwrap();
        let dataset = Dataset::new(directory.path());
        let writer = RunWriter::begin(&dataset, &crate::run_id(STARTED_AT, random), STARTED_AT, "test").unwrap();
        (directory, dataset, writer)
    }

    fn coverage(run_id: &str, index: usize) -> CoverageRow {
        CoverageRow {
            run_id: run_id.to_owned(),
            instance_id: format!("cc{}", index % 7),
            scan_class: "internal".into(),
            scan_id: format!("s{}", index % 3),
            asset_key: format!("id:{index}"),
        }
    }

    #[test]
    fn full_row_groups_go_to_the_file_before_the_commit() {
        let (_directory, dataset, mut writer) = new_run(1);
        let (run_id, started_at) = (writer.run_id().to_owned(), STARTED_AT);
        let total = ROW_GROUP_ROWS + 1_000;
        let rows: Vec<CoverageRow> = (0..total).map(|index| coverage(&run_id, index)).collect();
        // In the small writes of a snapshot (one instance at a time).
        for chunk in rows.chunks(997) {
            writer.write(chunk).unwrap();
        }
        assert_eq!(writer.rows("coverage"), total as u64);
        let temporary = writer.tables["coverage"].temporary.clone();
        let streamed = fs::metadata(&temporary).unwrap().len();
        assert!(streamed > 64 * 1024, "only {streamed} bytes of the first row group are in the file");
        let run = writer.commit(started_at + 1, RunCounts::default()).unwrap();

        let path = dataset.file("coverage", &run.run_id, started_at);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
        assert_eq!(groups, vec![ROW_GROUP_ROWS as i64, 1_000]);
        // The very file `ArrowWriter` writes from the same writes with the same properties.
        let mut arrow = parquet::arrow::ArrowWriter::try_new(
            Vec::new(),
            schema::arrow_schema(schema::COVERAGE),
            Some(writer_properties()),
        )
        .unwrap();
        for chunk in rows.chunks(997) {
            arrow.write(&CoverageRow::encode(chunk).unwrap()).unwrap();
        }
        assert!(arrow.into_inner().unwrap() == fs::read(&path).unwrap(), "the file differs from ArrowWriter's");
        let read: Vec<CoverageRow> = dataset.rows("coverage", &run).unwrap();
        assert_eq!(read, rows);
    }

    #[test]
    fn a_row_group_ends_with_each_write_row_group() {
        let (_directory, dataset, mut writer) = new_run(3);
        let (run_id, started_at) = (writer.run_id().to_owned(), STARTED_AT);
        let rows: Vec<CoverageRow> = (0..7_000).map(|index| coverage(&run_id, index)).collect();
        writer.write_row_group(&rows[..3_000]).unwrap();
        assert_eq!(writer.tables["coverage"].writer.memory_size(), 0, "the writer still holds the rows");
        writer.write(&rows[3_000..4_000]).unwrap();
        assert!(writer.tables["coverage"].writer.memory_size() > 0);
        writer.write_row_group(&rows[4_000..]).unwrap();
        assert_eq!(writer.tables["coverage"].writer.memory_size(), 0);
        let run = writer.commit(started_at + 1, RunCounts::default()).unwrap();
        let path = dataset.file("coverage", &run.run_id, started_at);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
        assert_eq!(groups, vec![3_000, 4_000]);
        let read: Vec<CoverageRow> = dataset.rows("coverage", &run).unwrap();
        assert_eq!(read, rows);
    }

    /// Findings with long unique titles: wide rows, so the byte cap ends row groups long before
    /// the row cap does.
    fn wide_finding(run_id: &str, index: usize) -> FindingRow {
        FindingRow {
            run_id: run_id.to_owned(),
            instance_id: format!("instance-{}", index / 500),
            scan_id: format!("scan-{}", index / 100),
            scan_class: "internal_authenticated".into(),
            asset_key: format!("ip:10.1.{}.{}", index / 250 % 250, index % 250),
            asset_id: None,
            asset_name: None,
            asset_address: Some(format!("10.1.{}.{}", index / 250 % 250, index % 250)),
            kind: "vulnerability".into(),
            rule: format!("CVE-2025-{index}"),
            risk_level: Some("High".into()),
            score: Some(7.5),
            title: Some(format!("{index:08}: {}", "a long description of the finding ".repeat(6))),
            first_seen: None,
            fingerprint: format!("{:032x}", (index as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)),
        }
    }

    #[test]
    fn a_table_writer_holds_a_bounded_row_group_however_wide_its_rows() {
        let (_directory, dataset, mut writer) = new_run(2);
        let (run_id, started_at) = (writer.run_id().to_owned(), STARTED_AT);
        let total = 60_000;
        let rows: Vec<FindingRow> = (0..total).map(|index| wide_finding(&run_id, index)).collect();
        let mut largest = 0;
        for chunk in rows.chunks(700) {
            writer.write(chunk).unwrap();
            largest = largest.max(writer.tables["findings"].writer.memory_size());
        }
        // Pages, dictionaries and unencoded dictionary keys: a few times the encoded cap at most.
        assert!(largest < 4 * ROW_GROUP_BYTES, "a findings row group held {largest} bytes");
        let run = writer.commit(started_at + 1, RunCounts::default()).unwrap();
        let path = dataset.file("findings", &run.run_id, started_at);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
        assert!(groups.len() > 1, "the byte cap did not end a row group: {groups:?}");
        assert_eq!(groups.iter().sum::<i64>(), total as i64);
        let read: Vec<FindingRow> = dataset.rows("findings", &run).unwrap();
        assert!(read == rows, "the findings read back differ");
    }

    #[test]
    fn only_the_filtered_columns_have_statistics_and_the_fingerprints_are_stored_as_they_are() {
        let (_directory, dataset, mut writer) = new_run(4);
        let (run_id, started_at) = (writer.run_id().to_owned(), STARTED_AT);
        let rows: Vec<FindingRow> = (0..3_000).map(|index| wide_finding(&run_id, index)).collect();
        writer.write(&rows).unwrap();
        let run = writer.commit(started_at + 1, RunCounts::default()).unwrap();
        let path = dataset.file("findings", &run.run_id, started_at);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let group = reader.metadata().row_group(0);
        let mut with_statistics = vec![];
        for column in group.columns() {
            let name = column.column_path().string();
            if column.statistics().is_some() {
                with_statistics.push(name.clone());
            }
            let fingerprint = name == UNIQUE_COLUMN;
            let compression = if fingerprint { Compression::UNCOMPRESSED } else { Compression::SNAPPY };
            assert_eq!(column.compression(), compression, "{name}");
            let delta = column.encodings().any(|encoding| encoding == Encoding::DELTA_LENGTH_BYTE_ARRAY);
            assert_eq!(delta, fingerprint, "{name}: {:?}", column.encodings().collect::<Vec<_>>());
        }
        let mut pruned: Vec<String> = PRUNED_COLUMNS.iter().map(|column| (*column).to_owned()).collect();
        pruned.sort();
        with_statistics.sort();
        assert_eq!(with_statistics, pruned);
        // Per-page minimum and maximum (the column index) for them only; page offsets for every column.
        let indexed: Vec<String> = group
            .columns()
            .iter()
            .filter(|column| column.column_index_range().is_some())
            .map(|column| column.column_path().string())
            .collect();
        assert_eq!(indexed.len(), PRUNED_COLUMNS.len(), "{indexed:?}");
        assert!(group.columns().iter().all(|column| column.offset_index_range().is_some()));
        let read: Vec<FindingRow> = dataset.rows("findings", &run).unwrap();
        assert!(read == rows, "the findings read back differ");
    }
}
