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
const CHUNK_ROWS: usize = 16_384;

/// Below this many rows a write stays on the caller's thread: starting threads would cost more
/// than it saves.
const PARALLEL_MIN_ROWS: usize = 4_096;

/// Writes typed rows of one table to a Parquet file, encoding the columns of each row group in
/// parallel: the rows become Arrow arrays [`CHUNK_ROWS`] at a time, and then every thread takes
/// the next column not yet taken and encodes its array into that column's chunk. Row groups end
/// at the properties' `max_row_group_row_count`; the chunks are written in column order.
///
/// The file is the one `parquet`'s `ArrowWriter` writes when given the same rows as record
/// batches of [`CHUNK_ROWS`] rows (the same pages, statistics, page index and Arrow schema
/// metadata); only the work is spread over threads.
pub struct ParallelWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: usize,
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
        let max_rows = properties.max_row_group_row_count().unwrap_or(usize::MAX).max(1);
        let (file, factory) =
            ArrowWriter::try_new(writer, schema.clone(), Some(properties))?.into_serialized_writer()?;
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Ok(Self { file, factory, schema, max_rows, threads, in_progress: None, buffered: 0 })
    }

    /// Uses at most this many threads (at least one: the caller's).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Appends rows; a row group is written each time one fills up.
    pub fn write<R: Encode + Sync>(&mut self, rows: &[R]) -> Result<(), ParquetError> {
        let mut rest = rows;
        while !rest.is_empty() {
            let room = self.max_rows.saturating_sub(self.buffered).max(1);
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.encode(now)?;
            self.buffered += now.len();
            if self.buffered >= self.max_rows {
                self.flush()?;
            }
            rest = later;
        }
        Ok(())
    }

    /// Encodes rows into the row group in progress, [`CHUNK_ROWS`] at a time: the chunk's
    /// arrays are built in one pass over its rows, then its columns are encoded in parallel.
    fn encode<R: Encode + Sync>(&mut self, rows: &[R]) -> Result<(), ParquetError> {
        let writers = match &mut self.in_progress {
            Some(writers) => writers,
            empty => empty.insert(self.factory.create_column_writers(self.file.flushed_row_groups().len())?),
        };
        let fields = self.schema.fields();
        for chunk in rows.chunks(CHUNK_ROWS) {
            let arrays = R::arrays(chunk);
            if writers.len() != fields.len() || arrays.len() != fields.len() {
                return Err(ParquetError::General(format!(
                    "{} columns and {} arrays for {} fields (nested columns are not supported)",
                    writers.len(),
                    arrays.len(),
                    fields.len()
                )));
            }
            let threads = if chunk.len() < PARALLEL_MIN_ROWS { 1 } else { self.threads };
            let columns: Vec<_> = fields.iter().zip(&arrays).zip(writers.iter_mut()).collect();
            in_parallel(columns, threads, |((field, array), writer)| {
                for leaf in compute_leaves(field, array)? {
                    writer.write(&leaf)?;
                }
                Ok(())
            })?;
        }
        Ok(())
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
    let count = items.len();
    let threads = threads.min(count);
    if threads <= 1 {
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
