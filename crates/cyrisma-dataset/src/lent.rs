//! Findings rows lent from the data they were pulled from: a snapshot writes its findings from
//! the parsed scan details without an owned string per field per finding ([`FindingRef`], the
//! `findings` table's columns as borrowed values, encoded as [`FindingRow`] is).

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::Float64Array;
use arrow_array::builder::StringBuilder;
use arrow_schema::SchemaRef;
use cyrisma_core::history::Fingerprint;

use crate::encode::Encode;
use crate::schema::{self, FindingRow};
use crate::write::WriteRow;

/// One `findings` row with every text borrowed: the columns of [`FindingRow`], in its order,
/// with the fingerprint itself (written as the column's 32 lower-case hex digits).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FindingRef<'a> {
    /// The run.
    pub run_id: &'a str,
    /// The instance.
    pub instance_id: &'a str,
    /// The scan it came from.
    pub scan_id: &'a str,
    /// The scan's class.
    pub scan_class: &'a str,
    /// The asset's identity as fingerprinted.
    pub asset_key: &'a str,
    /// The asset's id, as sent.
    pub asset_id: Option<&'a str>,
    /// The asset's name.
    pub asset_name: Option<&'a str>,
    /// The asset's IP address, as sent.
    pub asset_address: Option<&'a str>,
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: &'a str,
    /// The normalised rule.
    pub rule: &'a str,
    /// The risk level, as sent.
    pub risk_level: Option<&'a str>,
    /// The vulnerability's score.
    pub score: Option<f64>,
    /// The title.
    pub title: Option<&'a str>,
    /// When the server first saw the vulnerability, as sent.
    pub first_seen: Option<&'a str>,
    /// The fingerprint.
    pub fingerprint: Fingerprint,
}

impl<'a> FindingRef<'a> {
    /// The owned row (what reading the row back gives).
    pub fn to_row(&self) -> FindingRow {
        let owned = |value: Option<&str>| value.map(str::to_owned);
        FindingRow {
            run_id: self.run_id.to_owned(),
            instance_id: self.instance_id.to_owned(),
            scan_id: self.scan_id.to_owned(),
            scan_class: self.scan_class.to_owned(),
            asset_key: self.asset_key.to_owned(),
            asset_id: owned(self.asset_id),
            asset_name: owned(self.asset_name),
            asset_address: owned(self.asset_address),
            kind: self.kind.to_owned(),
            rule: self.rule.to_owned(),
            risk_level: owned(self.risk_level),
            score: self.score,
            title: owned(self.title),
            first_seen: owned(self.first_seen),
            fingerprint: self.fingerprint.to_hex(),
        }
    }
}

impl Encode for FindingRef<'_> {
    fn schema() -> SchemaRef {
        schema::arrow_schema(schema::FINDINGS)
    }

    fn arrays(rows: &[Self]) -> Vec<ArrayRef> {
        let mut columns = FindingColumns::with_capacity(rows.len(), rows.first());
        for row in rows {
            columns.push(row);
        }
        columns.finish()
    }
}

/// The `findings` table's columns being built from lent rows, one row at a time: what
/// [`FindingRef`]'s [`Encode::arrays`] builds from a slice of rows, for a writer that makes its
/// rows one by one and has no use for them afterwards (no slice of rows in between). Written with
/// [`RunWriter::write_columns`](crate::RunWriter::write_columns).
#[derive(Debug)]
pub struct FindingColumns {
    run_id: StringBuilder,
    instance_id: StringBuilder,
    scan_id: StringBuilder,
    scan_class: StringBuilder,
    asset_key: StringBuilder,
    asset_id: StringBuilder,
    asset_name: StringBuilder,
    asset_address: StringBuilder,
    kind: StringBuilder,
    rule: StringBuilder,
    risk_level: StringBuilder,
    score: Vec<Option<f64>>,
    title: StringBuilder,
    first_seen: StringBuilder,
    fingerprint: StringBuilder,
}

impl FindingColumns {
    /// Empty columns for about `rows` rows, each string column sized from `sample`'s value (the
    /// first row's, when known).
    pub fn with_capacity(rows: usize, sample: Option<&FindingRef<'_>>) -> Self {
        // A string column's builder, sized from the sample's value (as the owned rows' are).
        let text = |value: Option<&str>| {
            StringBuilder::with_capacity(rows, rows.saturating_mul(value.map_or(16, str::len) + 8))
        };
        Self {
            run_id: text(sample.map(|row| row.run_id)),
            instance_id: text(sample.map(|row| row.instance_id)),
            scan_id: text(sample.map(|row| row.scan_id)),
            scan_class: text(sample.map(|row| row.scan_class)),
            asset_key: text(sample.map(|row| row.asset_key)),
            asset_id: text(sample.and_then(|row| row.asset_id)),
            asset_name: text(sample.and_then(|row| row.asset_name)),
            asset_address: text(sample.and_then(|row| row.asset_address)),
            kind: text(sample.map(|row| row.kind)),
            rule: text(sample.map(|row| row.rule)),
            risk_level: text(sample.and_then(|row| row.risk_level)),
            score: Vec::with_capacity(rows),
            title: text(sample.and_then(|row| row.title)),
            first_seen: text(sample.and_then(|row| row.first_seen)),
            fingerprint: StringBuilder::with_capacity(rows, rows * 32),
        }
    }

    /// Appends one row.
    pub fn push(&mut self, row: &FindingRef<'_>) {
        self.run_id.append_value(row.run_id);
        self.instance_id.append_value(row.instance_id);
        self.scan_id.append_value(row.scan_id);
        self.scan_class.append_value(row.scan_class);
        self.asset_key.append_value(row.asset_key);
        self.asset_id.append_option(row.asset_id);
        self.asset_name.append_option(row.asset_name);
        self.asset_address.append_option(row.asset_address);
        self.kind.append_value(row.kind);
        self.rule.append_value(row.rule);
        self.risk_level.append_option(row.risk_level);
        self.score.push(row.score);
        self.title.append_option(row.title);
        self.first_seen.append_option(row.first_seen);
        // Hex digits are ASCII, so always UTF-8.
        self.fingerprint.append_value(std::str::from_utf8(&row.fingerprint.hex_digits()).unwrap_or_default());
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.score.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.score.is_empty()
    }

    /// The columns' arrays, in the order of `schema::FINDINGS`.
    pub fn finish(mut self) -> Vec<ArrayRef> {
        // In the order of `schema::FINDINGS` (a test compares with `FindingRow`'s batch).
        vec![
            Arc::new(self.run_id.finish()),
            Arc::new(self.instance_id.finish()),
            Arc::new(self.scan_id.finish()),
            Arc::new(self.scan_class.finish()),
            Arc::new(self.asset_key.finish()),
            Arc::new(self.asset_id.finish()),
            Arc::new(self.asset_name.finish()),
            Arc::new(self.asset_address.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.rule.finish()),
            Arc::new(self.risk_level.finish()),
            Arc::new(Float64Array::from(self.score)),
            Arc::new(self.title.finish()),
            Arc::new(self.first_seen.finish()),
            Arc::new(self.fingerprint.finish()),
        ]
    }
}

impl WriteRow for FindingRef<'_> {
    const TABLE: &'static str = "findings";
}

#[cfg(test)]
mod tests {
    use arrow_array::RecordBatch;

    use super::*;

    /// `text` but on every third row.
    fn some(index: usize, text: &str) -> Option<&str> {
        (!index.is_multiple_of(3)).then_some(text)
    }

    fn lent(index: usize, texts: &[String]) -> FindingRef<'_> {
        let fingerprint = Fingerprint::from(std::array::from_fn(|place| (index * 31 + place * 7) as u8));
        FindingRef {
            run_id: &texts[0],
            instance_id: &texts[1 + index % 2],
            scan_id: &texts[3],
            scan_class: "external_ip",
            asset_key: &texts[4 + index % 3],
            asset_id: some(index, &texts[4]),
            asset_name: some(index, "host"),
            asset_address: index.is_multiple_of(2).then_some("10.0.0.1"),
            kind: "vulnerability",
            rule: &texts[7 + index % 4],
            risk_level: some(index, "High"),
            score: (!index.is_multiple_of(5)).then_some(index as f64 / 3.0),
            title: (!index.is_multiple_of(7)).then_some("a title"),
            first_seen: some(index, "2026-01-02"),
            fingerprint,
        }
    }

    #[test]
    fn lent_rows_encode_as_their_owned_rows_do() {
        let texts: Vec<String> = (0..11).map(|index| format!("text-{index}-{}", "x".repeat(index))).collect();
        let rows: Vec<FindingRef<'_>> = (0..200).map(|index| lent(index, &texts)).collect();
        let owned: Vec<FindingRow> = rows.iter().map(FindingRef::to_row).collect();
        let lent = FindingRef::encode(&rows).unwrap();
        let expected = FindingRow::encode(&owned).unwrap();
        assert_eq!(lent, expected);
        assert_eq!(FindingRef::encode(&[]).unwrap(), FindingRow::encode(&[]).unwrap());
    }

    #[test]
    fn columns_built_row_by_row_are_the_rows_arrays_and_write_the_same_file() {
        let texts: Vec<String> = (0..11).map(|index| format!("text-{index}-{}", "x".repeat(index))).collect();
        let rows: Vec<FindingRef<'_>> = (0..300).map(|index| lent(index, &texts)).collect();
        // Sized from another row than the first, and for fewer rows than pushed: the builders grow.
        let mut columns = FindingColumns::with_capacity(10, rows.get(5));
        assert!(columns.is_empty());
        for row in &rows {
            columns.push(row);
        }
        assert_eq!(columns.len(), rows.len());
        let built = columns.finish();
        let expected = FindingRef::encode(&rows).unwrap();
        assert_eq!(RecordBatch::try_new(FindingRef::schema(), built.clone()).unwrap(), expected);

        // The same file, written as rows or as columns (in two pieces each).
        let file = |as_columns: bool| {
            let mut writer = crate::write::table_writer(Vec::new(), schema::FINDINGS).unwrap();
            for piece in rows.chunks(170) {
                if as_columns {
                    let mut columns = FindingColumns::with_capacity(piece.len(), piece.first());
                    piece.iter().for_each(|row| columns.push(row));
                    writer.write_arrays::<FindingRef<'_>>(columns.finish()).unwrap();
                } else {
                    writer.write(piece).unwrap();
                }
            }
            writer.into_inner().unwrap()
        };
        assert_eq!(file(true), file(false));
    }
}
