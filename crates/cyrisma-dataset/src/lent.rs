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
        let first = rows.first();
        // A string column's builder, sized from the column's first value (as the owned rows' are).
        let text = |sample: Option<&str>| {
            StringBuilder::with_capacity(rows.len(), rows.len().saturating_mul(sample.map_or(16, str::len) + 8))
        };
        let mut run_id = text(first.map(|row| row.run_id));
        let mut instance_id = text(first.map(|row| row.instance_id));
        let mut scan_id = text(first.map(|row| row.scan_id));
        let mut scan_class = text(first.map(|row| row.scan_class));
        let mut asset_key = text(first.map(|row| row.asset_key));
        let mut asset_id = text(first.and_then(|row| row.asset_id));
        let mut asset_name = text(first.and_then(|row| row.asset_name));
        let mut asset_address = text(first.and_then(|row| row.asset_address));
        let mut kind = text(first.map(|row| row.kind));
        let mut rule = text(first.map(|row| row.rule));
        let mut risk_level = text(first.and_then(|row| row.risk_level));
        let mut score = Vec::with_capacity(rows.len());
        let mut title = text(first.and_then(|row| row.title));
        let mut first_seen = text(first.and_then(|row| row.first_seen));
        let mut fingerprint = StringBuilder::with_capacity(rows.len(), rows.len() * 32);
        // All columns in one pass over the rows, as the owned rows' encoder does.
        for row in rows {
            run_id.append_value(row.run_id);
            instance_id.append_value(row.instance_id);
            scan_id.append_value(row.scan_id);
            scan_class.append_value(row.scan_class);
            asset_key.append_value(row.asset_key);
            asset_id.append_option(row.asset_id);
            asset_name.append_option(row.asset_name);
            asset_address.append_option(row.asset_address);
            kind.append_value(row.kind);
            rule.append_value(row.rule);
            risk_level.append_option(row.risk_level);
            score.push(row.score);
            title.append_option(row.title);
            first_seen.append_option(row.first_seen);
            // Hex digits are ASCII, so always UTF-8.
            fingerprint.append_value(std::str::from_utf8(&row.fingerprint.hex_digits()).unwrap_or_default());
        }
        // In the order of `schema::FINDINGS` (a test compares with `FindingRow`'s batch).
        vec![
            Arc::new(run_id.finish()),
            Arc::new(instance_id.finish()),
            Arc::new(scan_id.finish()),
            Arc::new(scan_class.finish()),
            Arc::new(asset_key.finish()),
            Arc::new(asset_id.finish()),
            Arc::new(asset_name.finish()),
            Arc::new(asset_address.finish()),
            Arc::new(kind.finish()),
            Arc::new(rule.finish()),
            Arc::new(risk_level.finish()),
            Arc::new(Float64Array::from(score)),
            Arc::new(title.finish()),
            Arc::new(first_seen.finish()),
            Arc::new(fingerprint.finish()),
        ]
    }
}

impl WriteRow for FindingRef<'_> {
    const TABLE: &'static str = "findings";
}

#[cfg(test)]
mod tests {
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
}
