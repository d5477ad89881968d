//! `ParallelWriter` against `ArrowWriter`: the same bytes, row groups split alike, rows read back.

use super::*;
use crate::schema::FindingRow;
use crate::write::writer_properties;

/// Findings with repeated and unique strings, nulls and numbers (dictionary and plain pages).
fn findings(count: usize) -> Vec<FindingRow> {
    (0..count)
        .map(|index| FindingRow {
            run_id: "r20261205T000000.000000Z-00000001".into(),
            instance_id: format!("instance-{}", index / 1_000),
            scan_id: format!("scan-{}", index / 300),
            scan_class: ["external_ip", "internal_authenticated"][index % 2].into(),
            asset_key: format!("ip:10.0.{}.{}", index / 250 % 250, index % 250),
            asset_id: (index % 5 == 0).then(|| format!("asset-{index}")),
            asset_name: Some(format!("host-{}.corp.example", index / 20)),
            asset_address: (index % 7 != 0).then(|| format!("10.0.{}.{}", index / 250 % 250, index % 250)),
            kind: "vulnerability".into(),
            rule: format!("CVE-2024-{}", index * 7919 % 40_000),
            risk_level: (index % 11 != 0).then(|| ["Critical", "High", "Low"][index % 3].into()),
            score: (index % 3 != 0).then(|| index as f64 / 7.0),
            title: Some(format!("CVE-2024-{} affects the exposed service", index * 7919 % 40_000)),
            first_seen: None,
            fingerprint: format!("{:032x}", (index as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)),
        })
        .collect()
}

/// The file `ArrowWriter` writes from the rows in record batches of `CHUNK_ROWS`.
fn sequential(rows: &[FindingRow], properties: WriterProperties) -> Vec<u8> {
    sequential_in(rows, properties, 1)
}

/// The file `ArrowWriter` writes from the rows given in `writes` parts (as [`parallel`] splits
/// them), each part in record batches of `CHUNK_ROWS`.
fn sequential_in(rows: &[FindingRow], properties: WriterProperties, writes: usize) -> Vec<u8> {
    let mut writer = ArrowWriter::try_new(Vec::new(), FindingRow::schema(), Some(properties)).unwrap();
    for part in rows.chunks(rows.len().div_ceil(writes).max(1)) {
        for chunk in part.chunks(CHUNK_ROWS) {
            writer.write(&FindingRow::encode(chunk).unwrap()).unwrap();
        }
    }
    writer.into_inner().unwrap()
}

fn parallel(rows: &[FindingRow], properties: WriterProperties, threads: usize, writes: usize) -> Vec<u8> {
    let mut writer =
        ParallelWriter::try_new(Vec::new(), FindingRow::schema(), properties).unwrap().with_threads(threads);
    for part in rows.chunks(rows.len().div_ceil(writes).max(1)) {
        writer.write(part).unwrap();
    }
    writer.into_inner().unwrap()
}

/// Row groups ended by their row count only.
fn with_row_groups(rows: usize) -> WriterProperties {
    writer_properties().into_builder().set_max_row_group_row_count(Some(rows)).set_max_row_group_bytes(None).build()
}

fn with_row_group_bytes(bytes: usize) -> WriterProperties {
    writer_properties().into_builder().set_max_row_group_bytes(Some(bytes)).build()
}

fn row_groups(bytes: Vec<u8>) -> Vec<i64> {
    let reader = parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
    parquet::file::reader::FileReader::metadata(&reader).row_groups().iter().map(|group| group.num_rows()).collect()
}

#[test]
fn the_parallel_writer_writes_the_same_bytes_as_arrow_writer() {
    // Row groups that are whole multiples of the batch size, so both see the same batches.
    for (count, properties) in [
        (0, writer_properties()),
        (1, writer_properties()),
        (3_000, writer_properties()),
        (70_000, writer_properties()),
        (70_000, with_row_groups(2 * CHUNK_ROWS)),
        // Row groups ended by their estimated encoded size, mid-batch.
        (70_000, with_row_group_bytes(300_000)),
        (70_000, with_row_groups(20_000).into_builder().set_max_row_group_bytes(Some(900_000)).build()),
    ] {
        let rows = findings(count);
        let expected = sequential(&rows, properties.clone());
        for threads in [1, 2, 3] {
            assert!(
                parallel(&rows, properties.clone(), threads, 1) == expected,
                "{count} rows on {threads} threads differ from ArrowWriter's file"
            );
        }
    }
}

#[test]
fn the_parallel_writer_splits_row_groups_and_reads_back() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let rows = findings(50_000);
    let bytes = parallel(&rows, with_row_groups(20_000), 2, 7);
    assert!(bytes == parallel(&rows, with_row_groups(20_000), 1, 7), "the number of threads changes the file");
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
    let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|group| group.num_rows()).collect();
    assert_eq!(groups, [20_000, 20_000, 10_000]);
    let batches: Vec<RecordBatch> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
    let read: Vec<FindingRow> = batches
        .iter()
        .flat_map(|batch| {
            let indices: Vec<usize> = (0..batch.num_rows()).collect();
            <FindingRow as crate::decode::Decode>::decode_rows(batch, &indices).unwrap()
        })
        .collect();
    assert!(read == rows, "the rows read back differ from the rows written");
}

#[test]
fn row_groups_end_at_the_byte_cap_as_arrow_writer_ends_them() {
    let rows = findings(60_000);
    let properties = with_row_group_bytes(400_000);
    // In small writes (a snapshot writes an instance at a time) and in one.
    for writes in [1, 7, 61] {
        let expected = sequential_in(&rows, properties.clone(), writes);
        let groups = row_groups(expected.clone());
        assert!(groups.len() > 2, "the byte cap did not end row groups: {groups:?}");
        assert!(groups.iter().sum::<i64>() == 60_000, "rows lost: {groups:?}");
        for threads in [1, 2] {
            assert!(
                parallel(&rows, properties.clone(), threads, writes) == expected,
                "{writes} writes on {threads} threads differ from ArrowWriter's file"
            );
        }
    }
}

#[test]
fn the_byte_cap_bounds_the_row_group_in_progress() {
    let rows = findings(60_000);
    let cap = 400_000;
    let mut writer = ParallelWriter::try_new(Vec::new(), FindingRow::schema(), with_row_group_bytes(cap)).unwrap();
    let mut largest = 0;
    for part in rows.chunks(1_000) {
        writer.write(part).unwrap();
        largest = largest.max(writer.in_progress_size());
        assert!(writer.in_progress_rows() < 60_000);
    }
    assert!(largest > cap / 2, "the row group in progress never came near the cap: {largest} bytes");
    assert!(largest < cap + cap / 2, "the row group in progress grew to {largest} bytes, the cap is {cap}");
    assert!(writer.memory_size() >= writer.in_progress_size());
}
