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
    /// Only one of a few parts of the file: `(part, parts)` reads the part-th of `parts` runs of
    /// consecutive row groups of about equal size (by row groups), so that a few threads can
    /// share one file in row order (all of it when None).
    pub part: Option<(usize, usize)>,
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
    first_row: usize,
    path: PathBuf,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches").field("path", &self.path).field("rows", &self.rows).finish_non_exhaustive()
    }
}

impl Batches {
    /// How many rows they have (the part's, when a part was asked for).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number in the file of their first row (0 but for a later part).
    pub fn first_row(&self) -> usize {
        self.first_row
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
    let sizes: Vec<usize> =
        builder.metadata().row_groups().iter().map(|group| usize::try_from(group.num_rows()).unwrap_or(0)).collect();
    let groups = match how.part {
        Some((part, parts)) if parts > 0 => {
            (sizes.len() * part / parts)..(sizes.len() * (part + 1) / parts).min(sizes.len())
        }
        _ => 0..sizes.len(),
    };
    let first_row = sizes[..groups.start].iter().sum();
    let rows = sizes[groups.clone()].iter().sum();
    let batch = sizes[groups.clone()].iter().copied().max().unwrap_or(1).max(1);
    let builder = if how.part.is_some() { builder.with_row_groups(groups.collect()) } else { builder };
    let reader = builder
        .with_batch_size(batch)
        .build()
        .map_err(|error| Error::Parquet { path: path.clone(), message: error.to_string() })?;
    Ok(Batches { reader, rows, first_row, path })
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
        let how = Scan { columns: Some(&["instance_id", "asset_key"]), dictionary: &["instance_id"], part: None };
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

        // In parts: consecutive row groups, every row once, in order.
        let mut keys = Vec::new();
        for part in 0..3 {
            let batches = dataset.scan_batches("coverage", &run, &Scan { part: Some((part, 3)), ..how }).unwrap();
            assert_eq!(batches.first_row(), keys.len(), "part {part}");
            let expected = batches.rows();
            let before = keys.len();
            for batch in batches {
                let batch = batch.unwrap();
                let column = batch.column_by_name("asset_key").unwrap().as_string::<i32>();
                keys.extend(column.iter().map(|key| key.unwrap().to_owned()));
            }
            assert_eq!(keys.len() - before, expected);
        }
        let all: Vec<String> = rows.iter().map(|row| row.asset_key.clone()).collect();
        assert_eq!(keys, all);
    }
}
