//! Reading the dataset back: the complete runs, one table of a run as rows or Arrow batches,
//! and a run's findings, coverage and outcomes as a `cyrisma_core::history::Run` for diffs.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch, StringArray};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use cyrisma_core::history::{Fingerprint, Run, Symbol};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelectionPolicy,
    RowSelector,
};
use parquet::file::reader::ChunkReader;

use crate::decode::Decode;
use crate::schema::RunRow;
use crate::store::Contents;
use crate::{Dataset, Error, Result, SCHEMA_VERSION, io_error};

fn parquet_error(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> Error + '_ {
    move |error| Error::Parquet { path: path.to_owned(), message: error.to_string() }
}

/// Every committed `.parquet` file of a table (hidden temporary files excluded), in path order.
fn table_files(dataset: &Dataset, table: &str) -> Result<Vec<PathBuf>> {
    let directory = dataset.root().join(table);
    let mut files = dataset.store.list(dataset.root(), &directory)?;
    files.retain(|path| {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        let partition = path.parent().filter(|parent| parent.parent() == Some(directory.as_path()));
        let in_partition = partition
            .and_then(|partition| partition.file_name())
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("dt="));
        in_partition && !name.starts_with('.') && name.ends_with(".parquet")
    });
    Ok(files)
}

/// Reads the batches of one local Parquet file, only the named columns when `columns` is given.
pub fn read_batches(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(io_error("cannot open", path))?;
    batches_of(file, path, columns, &[])
}

/// A reader of one Parquet file whose string columns named in `dictionary` come as dictionary
/// arrays (`Dictionary(Int32, Utf8)`): pages stored dictionary-encoded are then not expanded row
/// by row, and a reader can work per distinct value rather than per row.
pub(crate) fn builder_of<T: ChunkReader + 'static>(
    contents: T,
    path: &Path,
    dictionary: &[&str],
) -> Result<ParquetRecordBatchReaderBuilder<T>> {
    let metadata =
        ArrowReaderMetadata::load(&contents, ArrowReaderOptions::new()).map_err(|error| parquet_error(path)(&error))?;
    let wanted = |field: &Field| dictionary.contains(&field.name().as_str()) && *field.data_type() == DataType::Utf8;
    if !metadata.schema().fields().iter().any(|field| wanted(field)) {
        return Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(contents, metadata));
    }
    let fields: Vec<Field> = metadata
        .schema()
        .fields()
        .iter()
        .map(|field| {
            let field = field.as_ref().clone();
            if wanted(&field) {
                let kind = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                field.with_data_type(kind)
            } else {
                field
            }
        })
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata.schema().metadata().clone()));
    let metadata =
        ArrowReaderMetadata::try_new(metadata.metadata().clone(), ArrowReaderOptions::new().with_schema(schema))
            .map_err(|error| parquet_error(path)(&error))?;
    Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(contents, metadata))
}

/// `builder` reading only the named columns (all when `None`).
pub(crate) fn projected<T: ChunkReader + 'static>(
    builder: ParquetRecordBatchReaderBuilder<T>,
    columns: Option<&[&str]>,
) -> ParquetRecordBatchReaderBuilder<T> {
    match columns {
        Some(columns) => {
            let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
            builder.with_projection(mask)
        }
        None => builder,
    }
}

fn batches_of<T: ChunkReader + 'static>(
    contents: T,
    path: &Path,
    columns: Option<&[&str]>,
    dictionary: &[&str],
) -> Result<Vec<RecordBatch>> {
    let builder = projected(builder_of(contents, path, dictionary)?, columns);
    let reader = builder.with_batch_size(65_536).build().map_err(|error| parquet_error(path)(&error))?;
    reader.map(|batch| batch.map_err(|error| parquet_error(path)(&error))).collect()
}

/// Reads only the given rows (sorted, distinct row numbers) of one Parquet file, every column or
/// the named ones: the other rows are skipped by the decoder rather than decoded. A row past the
/// end is an error.
pub fn read_rows(path: &Path, rows: &[u32], columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(io_error("cannot open", path))?;
    rows_of(file, path, rows, columns, &[])
}

fn rows_of<T: ChunkReader + 'static>(
    contents: T,
    path: &Path,
    rows: &[u32],
    columns: Option<&[&str]>,
    dictionary: &[&str],
) -> Result<Vec<RecordBatch>> {
    let builder = projected(builder_of(contents, path, dictionary)?, columns);
    let total = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or_default();
    if let Some(last) = rows.last().filter(|last| **last as usize >= total) {
        return Err(Error::Parquet {
            path: path.to_owned(),
            message: format!("row {last} is past the file's {total} rows"),
        });
    }
    let mut selectors = Vec::new();
    let (mut at, mut index) = (0usize, 0usize);
    while index < rows.len() {
        let start = rows[index] as usize;
        let mut end = start + 1;
        index += 1;
        while index < rows.len() && rows[index] as usize == end {
            end += 1;
            index += 1;
        }
        if start > at {
            selectors.push(RowSelector::skip(start - at));
        }
        selectors.push(RowSelector::select(end - start));
        at = end;
    }
    if total > at {
        selectors.push(RowSelector::skip(total - at));
    }
    // Skip the rows not asked for rather than decode every row and filter them out afterwards
    // (what the reader picks by default for selections as scattered as a diff's changed rows,
    // which makes it copy every string of every row: about twice the time for 1 row in 10).
    let reader = builder
        .with_row_selection_policy(RowSelectionPolicy::Selectors)
        .with_row_selection(RowSelection::from(selectors))
        .with_batch_size(65_536)
        .build()
        .map_err(|error| parquet_error(path)(&error))?;
    reader.map(|batch| batch.map_err(|error| parquet_error(path)(&error))).collect()
}

impl Dataset {
    /// Reads the batches of one of the dataset's files, wherever it is stored.
    fn read_file(&self, path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
        self.read_file_as(path, columns, &[])
    }

    /// [`Dataset::read_file`] with the string columns named in `dictionary` as dictionary arrays.
    fn read_file_as(&self, path: &Path, columns: Option<&[&str]>, dictionary: &[&str]) -> Result<Vec<RecordBatch>> {
        match self.store.open(self.root(), path)? {
            Contents::File(file) => batches_of(file, path, columns, dictionary),
            Contents::Bytes(bytes) => batches_of(bytes, path, columns, dictionary),
        }
    }

    /// Reads chosen rows of one of the dataset's files, wherever it is stored (see [`read_rows`]).
    fn read_file_rows(
        &self,
        path: &Path,
        rows: &[u32],
        columns: Option<&[&str]>,
        dictionary: &[&str],
    ) -> Result<Vec<RecordBatch>> {
        match self.store.open(self.root(), path)? {
            Contents::File(file) => rows_of(file, path, rows, columns, dictionary),
            Contents::Bytes(bytes) => rows_of(bytes, path, rows, columns, dictionary),
        }
    }
}

fn column<'a>(batch: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a dyn Array> {
    batch
        .column_by_name(name)
        .map(|column| column.as_ref())
        .ok_or_else(|| Error::Parquet { path: path.to_owned(), message: format!("column {name} is missing") })
}

fn strings<'a>(batch: &'a RecordBatch, name: &str, path: &Path) -> Result<&'a StringArray> {
    column(batch, name, path)?.as_string_opt::<i32>().ok_or_else(|| Error::Parquet {
        path: path.to_owned(),
        message: format!("column {name} is not a string column"),
    })
}

impl Dataset {
    /// Every complete run (one with a `runs` row), oldest first. A run written by a newer schema
    /// version is an error rather than a silent misreading.
    pub fn runs(&self) -> Result<Vec<RunRow>> {
        let mut runs = Vec::new();
        for path in table_files(self, "runs")? {
            for batch in self.read_file(&path, None)? {
                let ids = strings(&batch, "run_id", &path)?;
                let versions = column(&batch, "tool_version", &path)?.as_string::<i32>();
                let started = column(&batch, "started_at", &path)?.as_primitive::<TimestampMicrosecondType>();
                let finished = column(&batch, "finished_at", &path)?.as_primitive::<TimestampMicrosecondType>();
                let schema = column(&batch, "schema_version", &path)?.as_primitive::<Int32Type>();
                let pulled = column(&batch, "instances_pulled", &path)?.as_primitive::<Int64Type>();
                let failed = column(&batch, "instances_failed", &path)?.as_primitive::<Int64Type>();
                let skipped = column(&batch, "instances_skipped", &path)?.as_primitive::<Int64Type>();
                for index in 0..batch.num_rows() {
                    let row = RunRow {
                        run_id: ids.value(index).to_owned(),
                        started_at: started.value(index),
                        finished_at: finished.value(index),
                        tool_version: versions.value(index).to_owned(),
                        schema_version: schema.value(index),
                        instances_pulled: pulled.value(index),
                        instances_failed: failed.value(index),
                        instances_skipped: skipped.value(index),
                    };
                    if row.schema_version > SCHEMA_VERSION {
                        return Err(Error::NewerSchema {
                            run_id: row.run_id,
                            found: row.schema_version,
                            supported: SCHEMA_VERSION,
                        });
                    }
                    runs.push(row);
                }
            }
        }
        runs.sort_by(|a, b| (a.started_at, &a.run_id).cmp(&(b.started_at, &b.run_id)));
        Ok(runs)
    }

    /// The complete run with this id.
    pub fn run(&self, run_id: &str) -> Result<RunRow> {
        self.runs()?.into_iter().find(|run| run.run_id == run_id).ok_or_else(|| Error::NoSuchRun(run_id.to_owned()))
    }

    /// One table of a run as Arrow batches (all columns, or the named ones).
    pub fn batches(&self, table: &str, run: &RunRow, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
        let path = self.file(table, &run.run_id, run.started_at);
        self.read_file(&path, columns)
    }

    /// [`Dataset::batches`] with the string columns named in `dictionary` read as
    /// `Dictionary(Int32, Utf8)` arrays (a column stored dictionary-encoded is then not expanded
    /// row by row; see [`symbols`]).
    pub fn batches_as(
        &self,
        table: &str,
        run: &RunRow,
        columns: Option<&[&str]>,
        dictionary: &[&str],
    ) -> Result<Vec<RecordBatch>> {
        let path = self.file(table, &run.run_id, run.started_at);
        self.read_file_as(&path, columns, dictionary)
    }

    /// One table of a run as rows (any table but `runs`, whose times are read by [`Dataset::runs`]).
    pub fn rows<R: Decode>(&self, table: &str, run: &RunRow) -> Result<Vec<R>> {
        let path = self.file(table, &run.run_id, run.started_at);
        let mut rows = Vec::new();
        for batch in self.read_file(&path, None)? {
            rows.extend(R::decode(&batch).map_err(|error| parquet_error(&path)(&error))?);
        }
        Ok(rows)
    }

    /// Some rows of one table of a run, by row number in its file, in the order asked (a row asked
    /// twice comes twice). Only these rows are decoded, from every column or the named ones.
    pub fn rows_at<R: Decode + Clone>(
        &self,
        table: &str,
        run: &RunRow,
        rows: &[u32],
        columns: Option<&[&str]>,
    ) -> Result<Vec<R>> {
        let path = self.file(table, &run.run_id, run.started_at);
        let mut wanted = rows.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut decoded: Vec<Option<R>> = Vec::with_capacity(wanted.len());
        for batch in self.read_file_rows(&path, &wanted, columns, &[])? {
            decoded.extend(R::decode(&batch).map_err(|error| parquet_error(&path)(&error))?.into_iter().map(Some));
        }
        if decoded.len() != wanted.len() {
            return Err(Error::Parquet {
                path,
                message: format!("{} of {} rows asked for were read", decoded.len(), wanted.len()),
            });
        }
        // Each row moves out once when no row was asked twice; otherwise rows are copied.
        let repeated = wanted.len() != rows.len();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let slot = wanted.binary_search(row).ok().and_then(|position| decoded.get_mut(position));
            out.extend(slot.and_then(|slot| if repeated { slot.clone() } else { slot.take() }));
        }
        Ok(out)
    }

    /// The fingerprints of a run's findings, read from that one column.
    pub fn fingerprints(&self, run: &RunRow) -> Result<Vec<Fingerprint>> {
        let path = self.file("findings", &run.run_id, run.started_at);
        let mut fingerprints = Vec::new();
        for batch in self.read_file(&path, Some(&["fingerprint"]))? {
            let column = strings(&batch, "fingerprint", &path)?;
            fingerprints.reserve(batch.num_rows());
            for index in 0..batch.num_rows() {
                fingerprints.push(fingerprint(column.value(index), fingerprints.len(), &path)?);
            }
        }
        Ok(fingerprints)
    }

    /// What the diff rules need of a run: the instances it pulled, the assets each collected scan
    /// covered, and its findings by fingerprint, each with its row number in the run's
    /// `findings` file as payload.
    pub fn load_run(&self, run: &RunRow) -> Result<RunData> {
        let mut data = Run::new();
        let path = self.file("outcomes", &run.run_id, run.started_at);
        for batch in self.read_file(&path, Some(&["instance_id", "outcome"]))? {
            let (instances, outcomes) = (strings(&batch, "instance_id", &path)?, strings(&batch, "outcome", &path)?);
            for index in 0..batch.num_rows() {
                if outcomes.value(index) == "pulled" {
                    data.pulled(instances.value(index));
                }
            }
        }
        // The place columns come as dictionaries: each distinct value of a batch is interned once,
        // and the rows are recorded by symbol.
        let places = ["instance_id", "scan_class", "asset_key"];
        let (mut instances, mut classes, mut assets) = (Vec::new(), Vec::new(), Vec::new());
        let path = self.file("coverage", &run.run_id, run.started_at);
        for batch in self.read_file_as(&path, Some(&places), &places)? {
            symbols(&mut data, &batch, "instance_id", &path, &mut instances)?;
            symbols(&mut data, &batch, "scan_class", &path, &mut classes)?;
            symbols(&mut data, &batch, "asset_key", &path, &mut assets)?;
            for ((instance, class), asset) in instances.iter().zip(&classes).zip(&assets) {
                data.covered_at(*instance, *class, *asset);
            }
        }
        let path = self.file("findings", &run.run_id, run.started_at);
        let mut row = 0u32;
        let batches =
            self.read_file_as(&path, Some(&["instance_id", "scan_class", "asset_key", "fingerprint"]), &places)?;
        data.reserve(batches.iter().map(RecordBatch::num_rows).sum());
        for batch in batches {
            symbols(&mut data, &batch, "instance_id", &path, &mut instances)?;
            symbols(&mut data, &batch, "scan_class", &path, &mut classes)?;
            symbols(&mut data, &batch, "asset_key", &path, &mut assets)?;
            let fingerprints = strings(&batch, "fingerprint", &path)?;
            for (index, ((instance, class), asset)) in instances.iter().zip(&classes).zip(&assets).enumerate() {
                let fingerprint = fingerprint(fingerprints.value(index), row as usize, &path)?;
                data.finding_at(fingerprint, *instance, *class, *asset, row);
                row += 1;
            }
        }
        Ok(data)
    }

    /// Deletes what crashed runs left behind: hidden temporary files, and files of runs that have
    /// no `runs` row, when their run started before `older_than` (microseconds; a run still
    /// being written by another process is younger than that). Returns how many files went.
    pub fn remove_orphans(&self, older_than: i64) -> Result<usize> {
        let complete: std::collections::HashSet<String> = self.runs()?.into_iter().map(|run| run.run_id).collect();
        let mut removed = 0;
        let mut files = Vec::new();
        for (table, _) in crate::schema::TABLES {
            files.extend(self.store.list(self.root(), &self.root().join(table))?);
        }
        for file in files {
            let in_partition = file
                .parent()
                .and_then(|partition| partition.file_name())
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("dt="));
            let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let run_id = name.trim_start_matches('.').split(".parquet").next().unwrap_or_default();
            if !in_partition
                || !name.contains(".parquet")
                || complete.contains(run_id)
                || !run_started_before(run_id, older_than)
            {
                continue;
            }
            if self.store.delete(self.root(), &file) {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The symbols in `run` of the string column `name` of a batch (read from the file `path`), one
/// per row, into `out`: a dictionary column (see [`Dataset::batches_as`]) interns each of its
/// values once, a plain one each row (a null reads as ""). With [`Run::finding_at`], this
/// records a run's findings without interning a name per row.
pub fn symbols<T>(run: &mut Run<T>, batch: &RecordBatch, name: &str, path: &Path, out: &mut Vec<Symbol>) -> Result<()> {
    out.clear();
    let array = column(batch, name, path)?;
    if let Some(dictionary) = array.as_dictionary_opt::<Int32Type>() {
        let values = dictionary.values().as_string_opt::<i32>().ok_or_else(|| Error::Parquet {
            path: path.to_owned(),
            message: format!("column {name} is not a string column"),
        })?;
        let mut interned: Vec<Option<Symbol>> = vec![None; values.len()];
        let empty = run.symbol("");
        out.reserve(dictionary.len());
        for (index, key) in dictionary.keys().values().iter().enumerate() {
            let key = usize::try_from(*key).unwrap_or(usize::MAX);
            let symbol = match interned.get_mut(key) {
                _ if dictionary.is_null(index) => empty,
                Some(Some(symbol)) => *symbol,
                Some(slot) => *slot.insert(run.symbol(values.value(key))),
                None => empty,
            };
            out.push(symbol);
        }
        return Ok(());
    }
    let values = strings(batch, name, path)?;
    out.extend((0..values.len()).map(|index| run.symbol(if values.is_null(index) { "" } else { values.value(index) })));
    Ok(())
}

/// A fingerprint read from row `row` of a `findings` file.
fn fingerprint(text: &str, row: usize, path: &Path) -> Result<Fingerprint> {
    Fingerprint::from_hex(text).ok_or_else(|| Error::Parquet {
        path: path.to_owned(),
        message: format!("row {row}: fingerprint {text:?} is not 32 hex digits"),
    })
}

/// Whether a run id (`rYYYYMMDDTHHMMSS.ffffffZ-…`) names a start before `micros`.
fn run_started_before(run_id: &str, micros: i64) -> bool {
    let Some(stamp) = run_id.strip_prefix('r').and_then(|rest| rest.get(..23)) else { return false };
    crate::run_id(micros, 0).get(1..24).is_some_and(|limit| stamp < limit)
}

/// What the diff rules need of one run (row numbers of its `findings` file as payload).
pub type RunData = Run<u32>;
