//! Reading one table of a run for a single pass over many rows: one batch per row group (the
//! batches of a row group then carry its dictionaries whole, so a reader that works per distinct
//! value looks each up once per row group), with string columns chosen by the caller read as
//! dictionaries.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;
use parquet::file::reader::ChunkReader;

use crate::read::{builder_of, projected};
use crate::schema::RunRow;
use crate::store::Contents;
use crate::{Dataset, Error, Result};

/// What a [`Dataset::scan`] reads.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scan<'a> {
    /// The columns to read (all when None).
    pub columns: Option<&'a [&'a str]>,
    /// String columns read as `Dictionary(Int32, Utf8)`.
    pub dictionary: &'a [&'a str],
}

impl Dataset {
    /// One table of a run as batches, one per row group, read as `how` says.
    pub fn scan(&self, table: &str, run: &RunRow, how: &Scan<'_>) -> Result<Vec<RecordBatch>> {
        self.scan_batches(table, run, how)?.collect()
    }

    /// One table of a run read batch by batch, one per row group, as `how` says: a reader that
    /// is done with a batch before the next is read holds one row group's columns at a time.
    pub fn scan_batches(&self, table: &str, run: &RunRow, how: &Scan<'_>) -> Result<Batches> {
        let path = self.file(table, &run.run_id, run.started_at);
        match self.store.open(self.root(), &path)? {
            Contents::File(file) => batches_of(file, path, how),
            Contents::Bytes(bytes) => batches_of(bytes, path, how),
        }
    }
}

/// The batches of one table of a run, one per row group ([`Dataset::scan_batches`]).
pub struct Batches {
    reader: ParquetRecordBatchReader,
    rows: usize,
    path: PathBuf,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches").field("path", &self.path).field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl Batches {
    /// How many rows the file has.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.reader.next()?;
        Some(batch.map_err(|error| Error::Parquet { path: self.path.clone(), message: error.to_string() }))
    }
}

fn batches_of<T: ChunkReader + 'static>(contents: T, path: PathBuf, how: &Scan<'_>) -> Result<Batches> {
    let builder = projected(builder_of(contents, &path, how.dictionary)?, how.columns);
    let groups = builder.metadata().row_groups();
    let largest = groups.iter().map(|group| group.num_rows()).max().unwrap_or(1);
    let rows = usize::try_from(groups.iter().map(|group| group.num_rows()).sum::<i64>()).unwrap_or(0);
    let batch = usize::try_from(largest).unwrap_or(1).max(1);
    let reader = builder
        .with_batch_size(batch)
        .build()
        .map_err(|error| Error::Parquet { path: path.clone(), message: error.to_string() })?;
    Ok(Batches { reader, rows, path })
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;

    use super::*;
    use crate::schema::CoverageRow;
    use crate::write::{ROW_GROUP_ROWS, RunCounts};
    use crate::{RunWriter, run_id};

    #[test]
    fn a_scan_reads_one_batch_per_row_group_with_dictionaries() {
        let directory = tempfile::tempdir().unwrap();
        let dataset = Dataset::new(directory.path());
        let started_at = 1_796_453_002_000_000;
        let id = run_id(started_at, 2);
        let mut writer = RunWriter::begin(&dataset, &id, started_at, "test").unwrap();
        let total = ROW_GROUP_ROWS + 1_000;
        let rows: Vec<CoverageRow> = (0..total)
            .map(|index| CoverageRow {
                run_id: id.clone(),
                instance_id: format!("cc{}", index % 7),
                scan_class: "internal".into(),
                scan_id: format!("s{}", index % 3),
                asset_key: format!("id:{index}"),
            })
            .collect();
        writer.write(&rows).unwrap();
        let run = writer.commit(started_at + 1, RunCounts::default()).unwrap();
        let how = Scan { columns: Some(&["instance_id", "asset_key"]), dictionary: &["instance_id"] };
        let batches = dataset.scan("coverage", &run, &how).unwrap();
        let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, vec![ROW_GROUP_ROWS, 1_000]);
        let mut at = 0;
        for batch in &batches {
            assert_eq!(batch.num_columns(), 2);
            let instances = batch.column_by_name("instance_id").unwrap().as_dictionary::<Int32Type>();
            let names = instances.values().as_string::<i32>();
            let keys = batch.column_by_name("asset_key").unwrap().as_string::<i32>();
            for index in 0..batch.num_rows() {
                let name = names.value(instances.keys().value(index) as usize);
                assert_eq!(name, rows[at].instance_id);
                assert_eq!(keys.value(index), rows[at].asset_key);
                at += 1;
            }
        }
        assert_eq!(at, total);
    }
}
