//! Rows to Arrow: each table's typed rows become one [`RecordBatch`] column by column, with
//! Arrow builders sized up front (no serde, no JSON in between).
//!
//! [`Encode`] is implemented for every row type of the dataset's schema by its table
//! declaration; [`EncodeValue`] is how one field's type becomes one Arrow array of its column's
//! documented type. [`ParallelWriter`] writes typed rows to Parquet with each column built and
//! encoded on its own thread (the same bytes as `parquet`'s `ArrowWriter` fed the same batches).

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

/// The time zone of every `timestamp` column.
pub(crate) const UTC: &str = "+00:00";

/// A value type of a table's field: how a column of them becomes an Arrow array, either in one
/// go ([`EncodeValue::array`]) or value by value into a builder, so that a table's columns can
/// be built together in one pass over its rows.
pub trait EncodeValue: Sized {
    /// What collects a column of these values.
    type Builder;

    /// An empty builder for `rows` values, sized from a sample value (the column's first).
    fn builder(rows: usize, sample: Option<&Self>) -> Self::Builder;

    /// Appends one value.
    fn append(builder: &mut Self::Builder, value: &Self);

    /// The column's array; `kind` is the column's documented type (`timestamp` makes a 64-bit
    /// integer a UTC timestamp).
    fn finish(builder: Self::Builder, kind: &str) -> ArrayRef;

    /// The array of one column: `get` picks the field out of each row.
    fn array<R>(rows: &[R], get: impl Fn(&R) -> &Self, kind: &str) -> ArrayRef {
        let mut builder = Self::builder(rows.len(), rows.first().map(&get));
        for row in rows {
            Self::append(&mut builder, get(row));
        }
        Self::finish(builder, kind)
    }
}

/// The bytes to reserve for a string column: the sample's length and some slack per row (the
/// builder grows when the guess is short).
fn string_capacity(rows: usize, sample: Option<&str>) -> usize {
    rows.saturating_mul(sample.map_or(16, str::len) + 8)
}

impl EncodeValue for String {
    type Builder = StringBuilder;

    fn builder(rows: usize, sample: Option<&Self>) -> StringBuilder {
        StringBuilder::with_capacity(rows, string_capacity(rows, sample.map(String::as_str)))
    }

    fn append(builder: &mut StringBuilder, value: &Self) {
        builder.append_value(value);
    }

    fn finish(mut builder: StringBuilder, _kind: &str) -> ArrayRef {
        Arc::new(builder.finish())
    }
}

impl EncodeValue for Option<String> {
    type Builder = StringBuilder;

    fn builder(rows: usize, sample: Option<&Self>) -> StringBuilder {
        StringBuilder::with_capacity(rows, string_capacity(rows, sample.and_then(Option::as_deref)))
    }

    fn append(builder: &mut StringBuilder, value: &Self) {
        builder.append_option(value.as_deref());
    }

    fn finish(mut builder: StringBuilder, _kind: &str) -> ArrayRef {
        Arc::new(builder.finish())
    }
}

impl EncodeValue for i64 {
    type Builder = Vec<i64>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Vec<i64> {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Vec<i64>, value: &Self) {
        builder.push(*value);
    }

    fn finish(values: Vec<i64>, kind: &str) -> ArrayRef {
        if kind == "timestamp" {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone(UTC))
        } else {
            Arc::new(Int64Array::from(values))
        }
    }
}

impl EncodeValue for Option<i64> {
    type Builder = Vec<Option<i64>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Vec<Option<i64>> {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Vec<Option<i64>>, value: &Self) {
        builder.push(*value);
    }

    fn finish(values: Vec<Option<i64>>, kind: &str) -> ArrayRef {
        if kind == "timestamp" {
            Arc::new(TimestampMicrosecondArray::from(values).with_timezone(UTC))
        } else {
            Arc::new(Int64Array::from(values))
        }
    }
}

impl EncodeValue for i32 {
    type Builder = Vec<Option<i32>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(Some(*value));
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(Int32Array::from(values))
    }
}

impl EncodeValue for Option<i32> {
    type Builder = Vec<Option<i32>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(*value);
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(Int32Array::from(values))
    }
}

impl EncodeValue for f64 {
    type Builder = Vec<Option<f64>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(Some(*value));
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(Float64Array::from(values))
    }
}

impl EncodeValue for Option<f64> {
    type Builder = Vec<Option<f64>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(*value);
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(Float64Array::from(values))
    }
}

impl EncodeValue for bool {
    type Builder = Vec<Option<bool>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(Some(*value));
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(BooleanArray::from(values))
    }
}

impl EncodeValue for Option<bool> {
    type Builder = Vec<Option<bool>>;

    fn builder(rows: usize, _sample: Option<&Self>) -> Self::Builder {
        Vec::with_capacity(rows)
    }

    fn append(builder: &mut Self::Builder, value: &Self) {
        builder.push(*value);
    }

    fn finish(values: Self::Builder, _kind: &str) -> ArrayRef {
        Arc::new(BooleanArray::from(values))
    }
}

/// A table's row type: its rows as one record batch of the table's schema.
pub trait Encode: Sized {
    /// The table's Arrow schema.
    fn schema() -> SchemaRef;

    /// One array per column, in order.
    fn arrays(rows: &[Self]) -> Vec<ArrayRef>;

    /// The rows as one record batch with the table's Arrow schema.
    fn encode(rows: &[Self]) -> Result<RecordBatch, String> {
        RecordBatch::try_new(Self::schema(), Self::arrays(rows)).map_err(|error| error.to_string())
    }
}

/// The rows built into Arrow arrays and encoded at a time by [`ParallelWriter`] (the dataset
/// writer's batch size, so both write the same pages).
pub const CHUNK_ROWS: usize = 16_384;

/// Below this many rows a write stays on the caller's thread: starting threads would cost more
/// than it saves.
const PARALLEL_MIN_ROWS: usize = 4_096;

/// Writes typed rows of one table to a Parquet file, encoding the columns of each row group in
/// parallel: the rows become Arrow arrays [`CHUNK_ROWS`] at a time, and every thread takes the
/// next column not yet taken and encodes its array into that column's chunk, while one of them
/// builds the next chunk's arrays. Row groups end where `ArrowWriter` ends them: at the
/// properties' `max_row_group_row_count` rows, or when the row group's estimated encoded size
/// reaches `max_row_group_bytes` (a batch that would overshoot is split by the average row size
/// so far); the chunks are written in column order.
///
/// The file is the one `parquet`'s `ArrowWriter` writes when given the same rows as record
/// batches of [`CHUNK_ROWS`] rows (the same row groups, pages, statistics, page index and Arrow
/// schema metadata); only the work is spread over threads.
pub struct ParallelWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: Option<usize>,
    max_bytes: Option<usize>,
    threads: usize,
    in_progress: Option<Vec<ArrowColumnWriter>>,
    buffered: usize,
}

impl<W: Write + Send> std::fmt::Debug for ParallelWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelWriter").field("threads", &self.threads).field("buffered", &self.buffered).finish()
    }
}

impl<W: Write + Send> ParallelWriter<W> {
    /// A writer of `schema`'s rows to `writer` with these properties, on as many threads as the
    /// machine has cores.
    pub fn try_new(writer: W, schema: SchemaRef, properties: WriterProperties) -> Result<Self, ParquetError> {
        let max_rows = properties.max_row_group_row_count();
        let max_bytes = properties.max_row_group_bytes();
        let (file, factory) =
            ArrowWriter::try_new(writer, schema.clone(), Some(properties))?.into_serialized_writer()?;
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Ok(Self { file, factory, schema, max_rows, max_bytes, threads, in_progress: None, buffered: 0 })
    }

    /// Uses at most this many threads (at least one: the caller's).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The rows of the row group in progress (not yet in the file).
    pub fn in_progress_rows(&self) -> usize {
        self.buffered
    }

    /// The estimated encoded size of the row group in progress (what `max_row_group_bytes`
    /// bounds; `ArrowWriter::in_progress_size`).
    pub fn in_progress_size(&self) -> usize {
        self.in_progress.iter().flatten().map(ArrowColumnWriter::get_estimated_total_bytes).sum()
    }

    /// The memory the row group in progress holds (`ArrowWriter::memory_size`).
    pub fn memory_size(&self) -> usize {
        self.in_progress.iter().flatten().map(ArrowColumnWriter::memory_size).sum()
    }

    /// Appends rows; a row group is written each time one fills up.
    pub fn write<R: Encode + Sync>(&mut self, rows: &[R]) -> Result<(), ParquetError> {
        let mut chunks = rows.chunks(CHUNK_ROWS);
        let mut next = chunks.next().map(R::arrays);
        while let Some(arrays) = next.take() {
            let rows = arrays.first().map_or(0, |array| array.len());
            next = self.write_chunk(arrays, rows, chunks.next())?;
        }
        Ok(())
    }

    /// Appends rows already built into arrays (`R::arrays` of them: the schema's columns, in
    /// order), as `ArrowWriter::write` appends them as one record batch; a row group is written
    /// each time one fills up.
    pub fn write_arrays<R: Encode + Sync>(&mut self, arrays: Vec<ArrayRef>) -> Result<(), ParquetError> {
        // The batch checks the arrays against the schema: as many, of its types, of one length.
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|error| ParquetError::General(format!("columns that do not fit the table: {error}")))?;
        let rows = batch.num_rows();
        if rows == 0 {
            return Ok(());
        }
        self.write_chunk::<R>(batch.columns().to_vec(), rows, None)?;
        Ok(())
    }

    /// Writes one chunk's arrays as `ArrowWriter::write` writes a record batch: split where a
    /// row group ends, each piece encoded into the row group in progress. `upcoming` (the next
    /// chunk's rows) is built into arrays alongside the first piece's encoding and returned.
    fn write_chunk<R: Encode + Sync>(
        &mut self,
        mut arrays: Vec<ArrayRef>,
        mut rows: usize,
        mut upcoming: Option<&[R]>,
    ) -> Result<Option<Vec<ArrayRef>>, ParquetError> {
        let mut built = None;
        loop {
            if self.in_progress.is_none() {
                self.in_progress = Some(self.factory.create_column_writers(self.file.flushed_row_groups().len())?);
            }
            let buffered = self.buffered;
            let mut split_at = match self.max_rows {
                Some(max_rows) if buffered + rows > max_rows => Some(max_rows - buffered),
                _ => None,
            };
            let candidate_rows = split_at.unwrap_or(rows);
            if let Some(max_bytes) = self.max_bytes
                && buffered > 0
            {
                let current_bytes = self.in_progress_size();
                if current_bytes >= max_bytes {
                    self.flush()?;
                    continue;
                }
                let average_row_bytes = current_bytes / buffered;
                if let Some(rows_that_fit) = (max_bytes - current_bytes).checked_div(average_row_bytes)
                    && candidate_rows > rows_that_fit
                {
                    if rows_that_fit == 0 {
                        self.flush()?;
                        continue;
                    }
                    split_at = Some(rows_that_fit);
                }
            }
            let rest = split_at.map(|now| {
                let rest = arrays.iter().map(|array| array.slice(now, rows - now)).collect::<Vec<_>>();
                arrays = arrays.iter().map(|array| array.slice(0, now)).collect();
                (rest, rows - now)
            });
            let piece = split_at.unwrap_or(rows);
            if let Some(next) = self.encode(&arrays, upcoming.take())? {
                built = Some(next);
            }
            self.buffered += piece;
            let full = self.max_rows.is_some_and(|max_rows| self.buffered >= max_rows)
                || self.max_bytes.is_some_and(|max_bytes| self.in_progress_size() >= max_bytes);
            if full {
                self.flush()?;
            }
            match rest {
                Some((rest, rest_rows)) => (arrays, rows) = (rest, rest_rows),
                None => return Ok(built),
            }
        }
    }

    /// Encodes one piece's arrays into the row group in progress, the columns in parallel, and
    /// builds `upcoming`'s arrays on one of the threads meanwhile.
    fn encode<R: Encode + Sync>(
        &mut self,
        arrays: &[ArrayRef],
        upcoming: Option<&[R]>,
    ) -> Result<Option<Vec<ArrayRef>>, ParquetError> {
        let fields = self.schema.fields();
        let Some(writers) = &mut self.in_progress else {
            return Err(ParquetError::General("no row group in progress".into()));
        };
        if writers.len() != fields.len() || arrays.len() != fields.len() {
            return Err(ParquetError::General(format!(
                "{} columns and {} arrays for {} fields (nested columns are not supported)",
                writers.len(),
                arrays.len(),
                fields.len()
            )));
        }
        let rows = arrays.first().map_or(0, |array| array.len()) + upcoming.map_or(0, <[R]>::len);
        let threads = if rows < PARALLEL_MIN_ROWS { 1 } else { self.threads };
        let jobs: Vec<_> = fields.iter().zip(arrays).zip(writers.iter_mut()).collect();
        let encode = |((field, array), writer): ((&arrow_schema::FieldRef, &ArrayRef), &mut ArrowColumnWriter)| {
            for leaf in compute_leaves(field, array)? {
                writer.write(&leaf)?;
            }
            Ok(())
        };
        // The caller builds the next chunk's arrays (the longest job) before it takes columns
        // too: on a busy machine it then waits at most for the helpers' last column.
        let mut built = None;
        in_parallel_after(jobs, threads, encode, || built = upcoming.map(R::arrays))?;
        Ok(built)
    }

    /// Writes the rows buffered so far as a row group (nothing when there are none).
    pub fn flush(&mut self) -> Result<(), ParquetError> {
        let Some(writers) = self.in_progress.take() else { return Ok(()) };
        self.buffered = 0;
        // Closing a column compresses its last page and builds its statistics: in parallel too.
        let chunks = in_parallel(writers, self.threads, ArrowColumnWriter::close)?;
        let mut group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut group)?;
        }
        group.close()?;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the file's metadata.
    pub fn close(mut self) -> Result<ParquetMetaData, ParquetError> {
        self.flush()?;
        self.file.close()
    }

    /// Writes the last row group and the footer; returns the underlying writer.
    pub fn into_inner(mut self) -> Result<W, ParquetError> {
        self.flush()?;
        self.file.into_inner()
    }
}

/// Applies `work` to every item on up to `threads` threads (the caller's one of them), each
/// taking the next item not yet taken; returns the results in the items' order, or the first
/// error in that order.
fn in_parallel<T: Send, U: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> Result<U, ParquetError> + Sync,
) -> Result<Vec<U>, ParquetError> {
    in_parallel_after(items, threads, work, || {})
}

/// [`in_parallel`], the caller's thread running `first` before it takes items.
fn in_parallel_after<T: Send, U: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> Result<U, ParquetError> + Sync,
    first: impl FnOnce(),
) -> Result<Vec<U>, ParquetError> {
    let count = items.len();
    let threads = threads.min(count);
    if threads <= 1 {
        first();
        return items.into_iter().map(work).collect();
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let results: Mutex<Vec<Option<Result<U, ParquetError>>>> = Mutex::new((0..count).map(|_| None).collect());
    let run = || {
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((index, item)) = next else { return };
            let result = work(item);
            results.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
        }
    };
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        first();
        run();
        for helper in helpers {
            if let Err(panic) = helper.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(ParquetError::General("a column was not encoded".into()))))
        .collect()
}

#[cfg(test)]
mod tests;
