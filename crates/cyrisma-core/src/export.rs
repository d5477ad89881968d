//! Findings export rows, sans-IO: one row per vulnerability, open port and web flaw of a scan
//! detail, and their JSONL encoding into any [`std::io::Write`].
//!
//! These are the rows that `cyrisma-fleet`'s export writers put in every format, for the CLI's
//! `cyrisma export findings` and Python's `export_findings` alike: the column names in
//! [`COLUMNS`] are a stable output schema that scripts and BI tools read by name, so they are
//! declared here field by field and never derived from the wire models. The rows borrow from the parsed scan detail: nothing is copied per row.
//!
//! [`JsonlWriter`] encodes rows straight into one reused buffer without building a
//! `serde_json::Value` or any owned row: the columns that repeat for every finding of a scan
//! (instance and scan) or of an asset are encoded once per scan or asset and copied. The output
//! is byte for byte what `serde_json::to_writer` gives for a [`FindingRow`] (tested), one row per
//! line.
//!
//! ```
//! use cyrisma_core::export::JsonlWriter;
//! use cyrisma_core::types::{ScanDetail, VulnerabilityScan};
//!
//! let scan: VulnerabilityScan = serde_json::from_str(r#"{"scanId": "42", "scanType": "9"}"#).unwrap();
//! let detail: ScanDetail = serde_json::from_str(
//!     r#"{"assets": [{"assetId": "a1", "vulnerabilities": [{"cve": "CVE-2024-1", "score": 7.5}]}]}"#,
//! )
//! .unwrap();
//! let mut writer = JsonlWriter::new(Vec::new());
//! assert_eq!(writer.write_scan("cc100001", Some("Acme"), &scan, &detail).unwrap(), 1);
//! let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
//! assert!(text.starts_with(r#"{"instance_id":"cc100001","instance_name":"Acme","scan_id":"42""#));
//! assert!(text.ends_with("\"score\":7.5,\"first_seen\":null}\n"));
//! ```

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::types::{Asset, Flaw, OpenPort, ScanDetail, Vulnerability, VulnerabilityScan};

/// The columns of a findings row, in order.
pub const COLUMNS: &[&str] = &[
    "instance_id",
    "instance_name",
    "scan_id",
    "scan_type",
    "scan_finished",
    "asset_id",
    "asset_name",
    "asset_address",
    "kind",
    "finding",
    "title",
    "risk_level",
    "score",
    "first_seen",
];

/// One finding of a scan of an instance, borrowed from the parsed scan detail.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FindingRow<'a> {
    /// The instance id.
    pub instance_id: &'a str,
    /// The instance's name.
    pub instance_name: Option<&'a str>,
    /// The scan id.
    pub scan_id: &'a str,
    /// The scan type's label (see [`scan_type_label`]).
    pub scan_type: Option<&'a str>,
    /// When the scan finished.
    pub scan_finished: Option<&'a str>,
    /// The asset's identifier (`assetId`, else `id`).
    pub asset_id: Option<&'a str>,
    /// The asset's name.
    pub asset_name: Option<&'a str>,
    /// The asset's IP address.
    pub asset_address: Option<&'a str>,
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: &'static str,
    /// The CVE, the port number, or the flaw's alert reference (else its alert id).
    pub finding: Option<&'a str>,
    /// The vulnerability's title, the port's description or the flaw's alert name.
    pub title: Option<&'a str>,
    /// The risk level, when sent and not empty.
    pub risk_level: Option<&'a str>,
    /// The vulnerability's score (vulnerabilities only).
    pub score: Option<f64>,
    /// When the vulnerability was first seen (vulnerabilities only).
    pub first_seen: Option<&'a str>,
}

/// The name of a scan's type: the code's label when the type is sent, else the server's name.
pub fn scan_type_label(scan: &VulnerabilityScan) -> Option<&str> {
    scan.scan_type.as_ref().map(|kind| kind.label()).or(scan.scan_type_name.as_deref())
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// One finding of an asset: the columns of a finding row that depend on the finding alone. The
/// CLI's per-asset tables (`scans get`, `assets findings`) and the exports share these rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AssetFinding<'a> {
    /// `vulnerability`, `open_port` or `web_flaw`.
    pub kind: &'static str,
    /// The CVE, the port number, or the flaw's alert reference (else its alert id).
    pub finding: Option<&'a str>,
    /// The vulnerability's title, the port's description or the flaw's alert name.
    pub title: Option<&'a str>,
    /// The risk level, when sent and not empty.
    pub risk_level: Option<&'a str>,
    /// The vulnerability's score (vulnerabilities only).
    pub score: Option<f64>,
    /// When the vulnerability was first seen (vulnerabilities only).
    pub first_seen: Option<&'a str>,
}

impl<'a> AssetFinding<'a> {
    fn vulnerability(vulnerability: &'a Vulnerability) -> Self {
        Self {
            kind: "vulnerability",
            finding: vulnerability.cve.as_deref(),
            title: vulnerability.title.as_deref(),
            risk_level: vulnerability.risk_level.as_ref().and_then(|level| non_empty(level.as_str())),
            score: vulnerability.score,
            first_seen: vulnerability.first_seen.as_deref(),
        }
    }

    fn open_port(port: &'a OpenPort) -> Self {
        Self {
            kind: "open_port",
            finding: port.port_number.as_deref(),
            title: port.port_description.as_deref(),
            risk_level: port.risk_level.as_ref().and_then(|level| non_empty(level.as_str())),
            score: None,
            first_seen: None,
        }
    }

    fn flaw(flaw: &'a Flaw) -> Self {
        Self {
            kind: "web_flaw",
            finding: flaw.alert_ref.as_deref().or(flaw.alert_id.as_deref()),
            title: flaw.alert_name.as_deref(),
            risk_level: flaw.risk_level.as_ref().and_then(|level| non_empty(level.as_str())),
            score: None,
            first_seen: None,
        }
    }
}

/// How many findings [`asset_findings`] yields for `asset`, without walking them.
pub fn asset_finding_count(asset: &Asset) -> usize {
    asset.vulnerabilities.len() + asset.open_ports.len() + asset.flaws.len()
}

/// Every finding of an asset, vulnerabilities first, then open ports, then flaws.
pub fn asset_findings(asset: &Asset) -> impl Iterator<Item = AssetFinding<'_>> + '_ {
    let vulnerabilities = asset.vulnerabilities.iter().map(AssetFinding::vulnerability);
    let ports = asset.open_ports.iter().map(AssetFinding::open_port);
    let flaws = asset.flaws.iter().map(AssetFinding::flaw);
    vulnerabilities.chain(ports).chain(flaws)
}

/// The most recent scan of each scan type (by finish, then start time, then id), in scan-id
/// order: what an export reads when it is not asked for every scan.
pub fn latest_per_type(scans: Vec<VulnerabilityScan>) -> Vec<VulnerabilityScan> {
    let mut latest: BTreeMap<String, VulnerabilityScan> = BTreeMap::new();
    for scan in scans {
        let key = scan.scan_type.as_ref().map(|kind| kind.as_str().to_owned()).unwrap_or_default();
        let newer = latest.get(&key).is_none_or(|current| {
            (&scan.scan_finished, &scan.scan_started, &scan.scan_id)
                > (&current.scan_finished, &current.scan_started, &current.scan_id)
        });
        if newer {
            latest.insert(key, scan);
        }
    }
    let mut chosen: Vec<VulnerabilityScan> = latest.into_values().collect();
    chosen.sort_by(|a, b| a.scan_id.cmp(&b.scan_id));
    chosen
}

/// Every finding row of a scan detail: asset by asset in the order the server sent them, and for
/// each asset its vulnerabilities, then its open ports, then its flaws.
pub fn finding_rows<'a>(
    instance_id: &'a str,
    instance_name: Option<&'a str>,
    scan: &'a VulnerabilityScan,
    detail: &'a ScanDetail,
) -> impl Iterator<Item = FindingRow<'a>> + 'a {
    let scan_type = scan_type_label(scan);
    detail.assets.iter().flat_map(move |asset| {
        asset_findings(asset).map(move |tail| FindingRow {
            instance_id,
            instance_name,
            scan_id: &scan.scan_id,
            scan_type,
            scan_finished: scan.scan_finished.as_deref(),
            asset_id: asset.identifier(),
            asset_name: asset.name.as_deref(),
            asset_address: asset.ip_address.as_deref(),
            kind: tail.kind,
            finding: tail.finding,
            title: tail.title,
            risk_level: tail.risk_level,
            score: tail.score,
            first_seen: tail.first_seen,
        })
    })
}

/// Encodes one row as compact JSON (no new line) at the end of `out`: the same bytes as
/// `serde_json::to_writer(out, row)`.
pub fn encode_row(row: &FindingRow<'_>, out: &mut Vec<u8>) {
    encode_scan_prefix(row.instance_id, row.instance_name, row.scan_id, row.scan_type, row.scan_finished, out);
    encode_asset_part(row.asset_id, row.asset_name, row.asset_address, out);
    encode_tail(
        &AssetFinding {
            kind: row.kind,
            finding: row.finding,
            title: row.title,
            risk_level: row.risk_level,
            score: row.score,
            first_seen: row.first_seen,
        },
        out,
    );
}

fn encode_scan_prefix(
    instance_id: &str,
    instance_name: Option<&str>,
    scan_id: &str,
    scan_type: Option<&str>,
    scan_finished: Option<&str>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"instance_id\":");
    json_string(instance_id, out);
    out.extend_from_slice(b",\"instance_name\":");
    json_optional(instance_name, out);
    out.extend_from_slice(b",\"scan_id\":");
    json_string(scan_id, out);
    out.extend_from_slice(b",\"scan_type\":");
    json_optional(scan_type, out);
    out.extend_from_slice(b",\"scan_finished\":");
    json_optional(scan_finished, out);
}

fn encode_asset_part(asset_id: Option<&str>, asset_name: Option<&str>, asset_address: Option<&str>, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"asset_id\":");
    json_optional(asset_id, out);
    out.extend_from_slice(b",\"asset_name\":");
    json_optional(asset_name, out);
    out.extend_from_slice(b",\"asset_address\":");
    json_optional(asset_address, out);
}

fn encode_tail(tail: &AssetFinding<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"kind\":");
    json_string(tail.kind, out);
    out.extend_from_slice(b",\"finding\":");
    json_optional(tail.finding, out);
    out.extend_from_slice(b",\"title\":");
    json_optional(tail.title, out);
    out.extend_from_slice(b",\"risk_level\":");
    json_optional(tail.risk_level, out);
    out.extend_from_slice(b",\"score\":");
    json_number(tail.score, out);
    out.extend_from_slice(b",\"first_seen\":");
    json_optional(tail.first_seen, out);
    out.push(b'}');
}

/// An optional string as JSON, as serde_json writes it: the string, or `null`.
pub fn json_optional(value: Option<&str>, out: &mut Vec<u8>) {
    match value {
        Some(text) => json_string(text, out),
        None => out.extend_from_slice(b"null"),
    }
}

/// What each byte becomes inside a JSON string, as serde_json escapes it: 0 = itself,
/// `u` = `\u00XX`, anything else = that letter after a backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of the 8 bytes of `word` needs escaping (below 0x20, `"` or `\\`): exact, with
/// the usual "has a zero byte" bit trick.
#[inline]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * b'"' as u64);
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * b'\\' as u64);
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH != 0
}

/// An optional number as JSON, as serde_json writes it: `null` for none and for non-finite numbers.
pub fn json_number(value: Option<f64>, out: &mut Vec<u8>) {
    match value {
        // serde_json writes floats with ryu, and non-finite ones as `null`: reuse it.
        Some(number) => serde_json::to_writer(&mut *out, &number).unwrap_or_else(|_| out.extend_from_slice(b"null")),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string, escaped as serde_json does (control characters, quote and backslash only).
/// Eight bytes at a time while nothing needs escaping, which is most text.
pub fn json_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let (mut start, mut index) = (0, 0);
    while index < bytes.len() {
        if let Some(chunk) = bytes.get(index..index + 8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if !needs_escape(word) {
                index += 8;
                continue;
            }
        }
        let byte = bytes[index];
        let escape = ESCAPE[byte as usize];
        if escape != 0 {
            out.extend_from_slice(&bytes[start..index]);
            match escape {
                b'u' => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xf) as usize],
                ]),
                letter => out.extend_from_slice(&[b'\\', letter]),
            }
            start = index + 1;
        }
        index += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes findings as JSON Lines into `W`, through one reused buffer (flushed to `W` every
/// 64 KiB, so `W` needs no buffering of its own).
pub struct JsonlWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    prefix: Vec<u8>,
    rows: u64,
}

/// How much is buffered before it is written to the sink.
const CHUNK: usize = 64 * 1024;

impl<W: Write> JsonlWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W) -> Self {
        Self { out, buf: Vec::with_capacity(CHUNK + 4096), prefix: Vec::with_capacity(512), rows: 0 }
    }

    /// How many rows were written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &FindingRow<'_>) -> io::Result<()> {
        encode_row(row, &mut self.buf);
        self.buf.push(b'\n');
        self.rows += 1;
        self.spill()
    }

    /// Writes every finding of a scan detail (in the order of [`finding_rows`]) and returns how
    /// many rows that was.
    pub fn write_scan(
        &mut self,
        instance_id: &str,
        instance_name: Option<&str>,
        scan: &VulnerabilityScan,
        detail: &ScanDetail,
    ) -> io::Result<u64> {
        let mut scan_prefix = std::mem::take(&mut self.prefix);
        scan_prefix.clear();
        encode_scan_prefix(
            instance_id,
            instance_name,
            &scan.scan_id,
            scan_type_label(scan),
            scan.scan_finished.as_deref(),
            &mut scan_prefix,
        );
        let scan_len = scan_prefix.len();
        let mut written = 0;
        let mut result = Ok(());
        for asset in &detail.assets {
            scan_prefix.truncate(scan_len);
            encode_asset_part(asset.identifier(), asset.name.as_deref(), asset.ip_address.as_deref(), &mut scan_prefix);
            for tail in asset_findings(asset) {
                self.buf.extend_from_slice(&scan_prefix);
                encode_tail(&tail, &mut self.buf);
                self.buf.push(b'\n');
                written += 1;
                if self.buf.len() >= CHUNK {
                    result = self.spill();
                    if result.is_err() {
                        break;
                    }
                }
            }
            if result.is_err() {
                break;
            }
        }
        self.prefix = scan_prefix;
        self.rows += written;
        result.map(|()| written)
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    /// The sink (what is still buffered has not reached it: [`flush`](Self::flush) first).
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The sink, mutably (to reuse it, as a benchmark does between rounds).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes, then returns the sink.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn scan(json: &str) -> VulnerabilityScan {
        serde_json::from_str(json).expect("a scan summary")
    }

    fn detail(json: &str) -> ScanDetail {
        serde_json::from_str(json).expect("a scan detail")
    }

    const DETAIL: &str = r#"{"assets": [
        {"assetId": "a1", "name": "web \"01\"", "ipAddress": "10.0.0.1",
         "vulnerabilities": [
            {"cve": "CVE-2024-1", "title": "line\nbreak\u0001 and é", "score": 7.5, "riskLevel": "High",
             "firstSeen": "2024-01-01"},
            {"cve": "CVE-2024-2", "score": 10.0, "riskLevel": ""}],
         "openPorts": [{"portNumber": "443", "portDescription": "https", "riskLevel": "Low"}]},
        {"id": "b2",
         "flaws": [{"alertId": "7", "alertName": "xss \\ here", "riskLevel": "Medium"},
                   {"alertRef": "10202", "alertId": "8"}]}
    ]}"#;

    #[test]
    fn latest_per_type_keeps_the_newest_scan_of_each_type_in_id_order() {
        let scans = vec![
            scan(r#"{"scanId": "5", "scanType": "11", "scanFinished": "2024-01-01"}"#),
            scan(r#"{"scanId": "3", "scanType": "11", "scanFinished": "2024-02-01"}"#),
            scan(r#"{"scanId": "9", "scanType": "12", "scanFinished": "2023-01-01"}"#),
            // Same finish time: the later start wins, then the larger id.
            scan(r#"{"scanId": "1", "scanType": "12", "scanFinished": "2023-01-01", "scanStarted": "b"}"#),
            scan(r#"{"scanId": "7"}"#),
            scan(r#"{"scanId": "8"}"#),
        ];
        let chosen: Vec<String> = latest_per_type(scans).into_iter().map(|scan| scan.scan_id).collect();
        assert_eq!(chosen, ["1", "3", "8"]);
    }

    #[test]
    fn the_columns_are_the_serialized_field_names_in_order() {
        let scan = scan(r#"{"scanId": "1"}"#);
        let detail = detail(DETAIL);
        let row = finding_rows("cc1", None, &scan, &detail).next().unwrap();
        let value = serde_json::to_value(row).unwrap();
        let text = serde_json::to_string(&row).unwrap();
        let keys: Vec<&str> = COLUMNS.iter().copied().filter(|key| value.get(key).is_some()).collect();
        assert_eq!(keys, COLUMNS, "every column is a key");
        let mut positions: Vec<usize> = COLUMNS.iter().map(|key| text.find(&format!("\"{key}\":")).unwrap()).collect();
        let sorted = {
            let mut sorted = positions.clone();
            sorted.sort_unstable();
            sorted
        };
        assert_eq!(positions, sorted, "in order: {text}");
        positions.dedup();
        assert_eq!(positions.len(), COLUMNS.len());
    }

    #[test]
    fn rows_come_asset_by_asset_vulnerabilities_then_ports_then_flaws() {
        let scan = scan(r#"{"scanId": "s9", "scanType": "11", "scanFinished": "2024-02-02"}"#);
        let detail = detail(DETAIL);
        let rows: Vec<FindingRow<'_>> = finding_rows("cc1", Some("Acme"), &scan, &detail).collect();
        let summary: Vec<(Option<&str>, &str, Option<&str>)> =
            rows.iter().map(|row| (row.asset_id, row.kind, row.finding)).collect();
        assert_eq!(
            summary,
            [
                (Some("a1"), "vulnerability", Some("CVE-2024-1")),
                (Some("a1"), "vulnerability", Some("CVE-2024-2")),
                (Some("a1"), "open_port", Some("443")),
                (Some("b2"), "web_flaw", Some("7")),
                (Some("b2"), "web_flaw", Some("10202")),
            ]
        );
        assert_eq!(rows[0].scan_type, Some("External Web Application"));
        assert_eq!(rows[0].risk_level, Some("High"));
        assert_eq!(rows[1].risk_level, None, "an empty risk level is no risk level");
        assert_eq!(rows[2].title, Some("https"));
        assert_eq!(rows[4].title, None);
        assert!(rows.iter().all(|row| row.instance_name == Some("Acme") && row.scan_id == "s9"));
    }

    #[test]
    fn the_writer_matches_serde_json_row_by_row() {
        let scans = [
            scan(r#"{"scanId": "s1", "scanType": "9"}"#),
            scan(r#"{"scanId": "s\"2", "scanTypeName": "Custom\ttype", "scanFinished": "x"}"#),
        ];
        let detail = detail(DETAIL);
        let mut writer = JsonlWriter::new(Vec::new());
        let mut expected = Vec::new();
        for (scan, name) in scans.iter().zip([Some("Acme \u{1f}"), None]) {
            let written = writer.write_scan("cc\\1", name, scan, &detail).unwrap();
            assert_eq!(written, 5);
            for row in finding_rows("cc\\1", name, scan, &detail) {
                serde_json::to_writer(&mut expected, &row).unwrap();
                expected.push(b'\n');
            }
        }
        let row = finding_rows("cc2", None, &scans[0], &detail).last().unwrap();
        writer.write_row(&row).unwrap();
        serde_json::to_writer(&mut expected, &row).unwrap();
        expected.push(b'\n');
        assert_eq!(writer.rows_written(), 11);
        let written = writer.into_inner().unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(expected).unwrap());
    }

    #[test]
    fn large_exports_reach_the_sink_in_chunks_and_whole() {
        let assets: Vec<String> = (0..3000)
            .map(|i| format!(r#"{{"assetId": "a{i}", "vulnerabilities": [{{"cve": "CVE-{i}", "score": 1.25}}]}}"#))
            .collect();
        let detail = detail(&format!(r#"{{"assets": [{}]}}"#, assets.join(",")));
        let scan = scan(r#"{"scanId": "s"}"#);
        let mut writer = JsonlWriter::new(Vec::new());
        assert_eq!(writer.write_scan("cc1", None, &scan, &detail).unwrap(), 3000);
        assert!(writer.out.len() >= CHUNK, "spilled to the sink before the end");
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3000);
        for (i, line) in lines.iter().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["finding"], format!("CVE-{i}"));
            assert_eq!(value["score"], 1.25);
        }
    }

    #[test]
    fn a_failing_sink_is_an_error_not_a_panic() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let assets: Vec<String> =
            (0..2000).map(|i| format!(r#"{{"assetId": "a{i}", "openPorts": [{{"portNumber": "{i}"}}]}}"#)).collect();
        let detail = detail(&format!(r#"{{"assets": [{}]}}"#, assets.join(",")));
        let scan = scan(r#"{"scanId": "s"}"#);
        let mut writer = JsonlWriter::new(Broken);
        let error = writer.write_scan("cc1", None, &scan, &detail).unwrap_err();
        assert_eq!(error.to_string(), "disk full");
    }

    #[test]
    fn the_word_check_finds_every_byte_that_needs_escaping() {
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut word = [b'a'; 8];
                word[position] = byte;
                let expected = byte < 0x20 || byte == b'"' || byte == b'\\';
                assert_eq!(needs_escape(u64::from_le_bytes(word)), expected, "byte {byte:#x} at {position}");
            }
        }
    }

    proptest! {
        #[test]
        fn strings_and_scores_encode_as_serde_json_does(
            text in any::<String>(),
            other in "[\\x00-\\x7f]{0,40}",
            score in proptest::option::of(any::<f64>()),
        ) {
            let row = FindingRow {
                instance_id: &text,
                instance_name: Some(&other),
                scan_id: &other,
                scan_type: None,
                scan_finished: Some(&text),
                asset_id: None,
                asset_name: Some(&text),
                asset_address: None,
                kind: "vulnerability",
                finding: Some(&other),
                title: Some(&text),
                risk_level: None,
                score,
                first_seen: None,
            };
            let mut ours = Vec::new();
            encode_row(&row, &mut ours);
            let theirs = serde_json::to_vec(&row).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }
}
