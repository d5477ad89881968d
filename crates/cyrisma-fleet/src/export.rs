//! The findings export: one [`FindingRow`] per vulnerability, open port and web flaw of the
//! selected instances, written as each instance completes, as a JSON array, JSON lines or CSV.
//!
//! [`FindingWriter`] writes the rows into any [`Write`]; [`ExportFile`] is a temporary file
//! beside the target (mode 0600: findings are sensitive) that is renamed over it only when the
//! export is complete, so a crash or a failure never leaves a truncated file. CSV cells that a
//! spreadsheet would run as a formula are guarded with a leading `'`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use cyrisma_core::export::{self, FindingRow, JsonlWriter};
use cyrisma_core::types::{ScanDetail, VulnerabilityScan};
use serde::Serialize;

use crate::{Error, Fleet, InstanceFailure, Outcome, Progress, ScanChoice, Selection, collect_findings, outfile};

/// The export formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// One JSON array, one row per line.
    Json,
    /// A header row, then one row per finding.
    Csv,
}

impl ExportFormat {
    /// Reads a format name: `jsonl` (or `ndjson`), `json` or `csv`, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Some(ExportFormat::Jsonl),
            "json" => Some(ExportFormat::Json),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }

    /// The format's name.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

/// Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab, CR or
/// NUL: OWASP's list) with a leading `'`; other text as it is.
pub fn guard_formula(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// A number as a CSV cell: a whole number keeps one decimal (`5.0`), as in the JSON formats.
fn float_cell(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{number:.1}") } else { number.to_string() }
}

/// The CSV cells of a row, in [`export::COLUMNS`] order: text guarded against formulas, nothing
/// as an empty cell.
pub fn csv_cells(row: &FindingRow<'_>) -> [String; 14] {
    let text = |value: Option<&str>| value.map(guard_formula).unwrap_or_default();
    [
        guard_formula(row.instance_id),
        text(row.instance_name),
        guard_formula(row.scan_id),
        text(row.scan_type),
        text(row.scan_finished),
        text(row.asset_id),
        text(row.asset_name),
        text(row.asset_address),
        guard_formula(row.kind),
        text(row.finding),
        text(row.title),
        text(row.risk_level),
        row.score.map(float_cell).unwrap_or_default(),
        text(row.first_seen),
    ]
}

/// Writes finding rows in one of the formats, a scan's findings at a time. JSON lines (the
/// format for large exports) go through the core's encoder with no allocation per row; the JSON
/// array holds the same encoding, one row per line.
pub struct FindingWriter<W: Write> {
    inner: Inner<W>,
}

enum Inner<W: Write> {
    Jsonl(JsonlWriter<W>),
    Json { sink: W, first: bool, line: Vec<u8> },
    Csv { writer: Box<csv::Writer<W>>, escape: Option<fn(&str) -> String> },
}

/// A CSV error as an I/O error, keeping an I/O cause (a closed pipe stays recognizable).
fn csv_io(error: csv::Error) -> io::Error {
    if !error.is_io_error() {
        return io::Error::other(error);
    }
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> FindingWriter<W> {
    /// Starts an export into `sink` (the `[` of a JSON array, the header of CSV).
    pub fn new(mut sink: W, format: ExportFormat) -> io::Result<Self> {
        let inner = match format {
            ExportFormat::Jsonl => Inner::Jsonl(JsonlWriter::new(sink)),
            ExportFormat::Json => {
                sink.write_all(b"[")?;
                Inner::Json { sink, first: true, line: Vec::new() }
            }
            ExportFormat::Csv => {
                let mut writer = csv::WriterBuilder::new().from_writer(sink);
                writer.write_record(export::COLUMNS).map_err(csv_io)?;
                Inner::Csv { writer: Box::new(writer), escape: None }
            }
        };
        Ok(Self { inner })
    }

    /// Passes every CSV cell through `escape` after the formula guard (a front end that writes
    /// to a terminal escapes control characters this way); no effect on the JSON formats.
    pub fn with_csv_escape(mut self, escape: fn(&str) -> String) -> Self {
        if let Inner::Csv { escape: slot, .. } = &mut self.inner {
            *slot = Some(escape);
        }
        self
    }

    /// Writes every finding of one scan of an instance; returns how many rows that was.
    pub fn write_scan(
        &mut self,
        instance_id: &str,
        name: Option<&str>,
        scan: &VulnerabilityScan,
        detail: &ScanDetail,
    ) -> io::Result<u64> {
        if let Inner::Jsonl(writer) = &mut self.inner {
            return writer.write_scan(instance_id, name, scan, detail);
        }
        let mut count = 0;
        for row in export::finding_rows(instance_id, name, scan, detail) {
            self.write_row(&row)?;
            count += 1;
        }
        Ok(count)
    }

    /// Writes one row.
    pub fn write_row(&mut self, row: &FindingRow<'_>) -> io::Result<()> {
        match &mut self.inner {
            Inner::Jsonl(writer) => writer.write_row(row),
            Inner::Json { sink, first, line } => {
                line.clear();
                line.extend_from_slice(if *first { b"\n  " } else { b",\n  " });
                export::encode_row(row, line);
                *first = false;
                sink.write_all(line)
            }
            Inner::Csv { writer, escape } => {
                let mut cells = csv_cells(row);
                if let Some(escape) = escape {
                    for cell in &mut cells {
                        *cell = escape(cell);
                    }
                }
                writer.write_record(&cells).map_err(csv_io)
            }
        }
    }

    /// Ends the export (the `]` of a JSON array), flushes, and returns the sink.
    pub fn finish(self) -> io::Result<W> {
        let mut sink = match self.inner {
            Inner::Jsonl(writer) => writer.into_inner()?,
            Inner::Json { mut sink, first, .. } => {
                sink.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                sink
            }
            Inner::Csv { writer, .. } => writer.into_inner().map_err(|error| error.into_error())?,
        };
        sink.flush()?;
        Ok(sink)
    }
}

/// Where an export goes, opened by [`ExportFile::create`]:
///
/// | the path is | what happens |
/// | --- | --- |
/// | missing, or a regular file | a temporary file (mode 0600) beside it, synced and renamed over it on [`commit`](Self::commit) only; dropped without a commit, it is removed |
/// | a symlink to a regular file (or to a missing file in an existing directory) | the same, beside the link's final target: the link stays a link |
/// | a FIFO or a character device (`/dev/null`, `/dev/stdout` on a pipe or terminal), directly or through symlinks | written through as it is: nothing is created, renamed or truncated |
/// | a directory, a socket, a block device, a dangling symlink chain or a loop | refused ([`Error::Target`]) |
#[derive(Debug)]
pub struct ExportFile {
    kind: Target,
    path: PathBuf,
}

#[derive(Debug)]
enum Target {
    /// Written to `temp` and renamed over `target` (the final target of `path`) on commit.
    Replace { temp: tempfile::NamedTempFile, target: PathBuf },
    /// A FIFO or character device, written through.
    Through { file: File },
}

impl ExportFile {
    /// Opens `path` for an export as the table above says.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let shown = path.display();
        let target = outfile::final_target(path)?;
        let kind = match std::fs::metadata(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Self::temporary(&target)?,
            Err(error) => return Err(Error::io(format!("cannot inspect `{shown}`"))(error)),
            Ok(meta) if meta.is_file() => Self::temporary(&target)?,
            Ok(meta) if meta.is_dir() => {
                return Err(Error::Target(format!("`{shown}` is a directory: give a file name")));
            }
            Ok(meta) if outfile::is_stream(&meta) => {
                // No `create`, no `truncate`: a FIFO or a device is used as it is.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(Error::io(format!("cannot open `{shown}` for writing")))?;
                Target::Through { file }
            }
            Ok(_) => {
                return Err(Error::Target(format!(
                    "`{shown}` is not a regular file, a fifo or a character device (a socket or a block device): \
                     give another file name"
                )));
            }
        };
        Ok(Self { kind, path: path.to_path_buf() })
    }

    fn temporary(target: &Path) -> Result<Target, Error> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name =
            target.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "export".to_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .map_err(Error::io(format!("cannot create a file in `{}`", dir.display())))?;
        Ok(Target::Replace { temp, target: target.to_path_buf() })
    }

    /// The path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the target is a regular file written only on [`commit`](Self::commit) (a FIFO or
    /// a device is written through as the export goes).
    pub fn is_replaced(&self) -> bool {
        matches!(self.kind, Target::Replace { .. })
    }

    /// Whether the target is a terminal (a terminal device named as the file).
    pub fn is_terminal(&self) -> bool {
        match &self.kind {
            Target::Replace { .. } => false,
            Target::Through { file } => std::io::IsTerminal::is_terminal(file),
        }
    }

    /// A buffered writer into the temporary file, or into the FIFO or device.
    pub fn writer(&self) -> Result<BufWriter<File>, Error> {
        let file = match &self.kind {
            Target::Replace { temp, .. } => temp.reopen().map_err(Error::io("cannot open the temporary file"))?,
            Target::Through { file } => {
                file.try_clone().map_err(Error::io(format!("cannot write `{}`", self.path.display())))?
            }
        };
        Ok(BufWriter::new(file))
    }

    /// Syncs the temporary file and renames it over the target (a FIFO or device has already
    /// had everything); returns the path as given.
    pub fn commit(self) -> Result<PathBuf, Error> {
        if let Target::Replace { temp, target } = self.kind {
            temp.as_file().sync_all().map_err(Error::io("cannot flush the export to disk"))?;
            temp.persist(&target).map_err(|error| Error::Io {
                context: format!("cannot write `{}`", target.display()),
                source: error.error,
            })?;
            if let Some(dir) = target.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                outfile::sync_dir(dir);
            }
        }
        Ok(self.path)
    }
}

/// What [`Fleet::export_findings_to_file`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// The file written.
    pub path: String,
    /// `jsonl`, `json` or `csv`.
    pub format: &'static str,
    /// How many findings (rows) were written.
    pub findings: u64,
    /// How many instances were exported.
    pub instances: u64,
    /// The instances that failed (only when partial exports are allowed).
    pub errors: Vec<InstanceFailure>,
}

impl Fleet {
    /// Exports the findings of the selected instances into `writer`, each instance's rows as it
    /// completes; the outcome keeps each instance's row count. A write error stops the export
    /// (an [`Error::Io`] whose source is the I/O error). The writer is not finished.
    pub async fn export_findings<W: Write>(
        &self,
        selection: &Selection,
        scans: ScanChoice,
        writer: &mut FindingWriter<W>,
        progress: impl FnMut(Progress),
    ) -> Result<Outcome<u64>, Error> {
        self.run(
            selection,
            move |instance| collect_findings(instance, scans),
            progress,
            |instance_id, name, scans: Vec<(VulnerabilityScan, ScanDetail)>| {
                let mut rows = 0;
                for (scan, detail) in &scans {
                    rows += writer
                        .write_scan(instance_id, name, scan, detail)
                        .map_err(Error::io("cannot write the export"))?;
                }
                Ok(rows)
            },
        )
        .await
    }

    /// Exports the findings of the selected instances to `path` through an [`ExportFile`]. When
    /// an instance fails, nothing is written and the error is [`Error::Partial`], unless
    /// `allow_partial`, when the file keeps what succeeded and the summary lists the failures.
    pub async fn export_findings_to_file(
        &self,
        selection: &Selection,
        scans: ScanChoice,
        path: &Path,
        format: ExportFormat,
        allow_partial: bool,
        progress: impl FnMut(Progress),
    ) -> Result<ExportSummary, Error> {
        let file = ExportFile::create(path)?;
        let write_error = || Error::io(format!("cannot write `{}`", path.display()));
        let mut writer = FindingWriter::new(file.writer()?, format).map_err(write_error())?;
        let outcome = self.export_findings(selection, scans, &mut writer, progress).await?;
        drop(writer.finish().map_err(write_error())?);
        if !outcome.failures.is_empty() && !allow_partial {
            return Err(Error::Partial {
                path: path.to_path_buf(),
                total: outcome.total(),
                failures: outcome.failures,
            });
        }
        let written = file.commit()?;
        Ok(ExportSummary {
            path: written.display().to_string(),
            format: format.name(),
            findings: outcome.succeeded.iter().map(|done| done.value).sum(),
            instances: outcome.succeeded.len() as u64,
            errors: outcome.failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_and_detail() -> (VulnerabilityScan, ScanDetail) {
        let scan: VulnerabilityScan =
            serde_json::from_str(r#"{"scanId": "s1", "scanType": "9", "scanFinished": "2024-05-01"}"#).unwrap();
        let detail: ScanDetail = serde_json::from_str(
            r#"{"assets": [{"assetId": "a1", "name": "=HYPERLINK(\"x\")", "ipAddress": "10.0.0.2",
                "vulnerabilities": [{"cve": "CVE-1", "title": "t, \"q\"", "score": 9.0, "riskLevel": "Critical"}],
                "openPorts": [{"portNumber": "22"}], "flaws": [{"alertId": "3", "alertName": "x"}]}]}"#,
        )
        .unwrap();
        (scan, detail)
    }

    fn export(format: ExportFormat) -> String {
        let (scan, detail) = scan_and_detail();
        let mut writer = FindingWriter::new(Vec::new(), format).unwrap();
        assert_eq!(writer.write_scan("cc1", Some("Acme"), &scan, &detail).unwrap(), 3);
        assert_eq!(writer.write_scan("cc2", None, &scan, &detail).unwrap(), 3);
        String::from_utf8(writer.finish().unwrap()).unwrap()
    }

    fn serde_rows() -> Vec<serde_json::Value> {
        let (scan, detail) = scan_and_detail();
        let mut rows: Vec<serde_json::Value> = Vec::new();
        for (id, name) in [("cc1", Some("Acme")), ("cc2", None)] {
            rows.extend(export::finding_rows(id, name, &scan, &detail).map(|row| serde_json::to_value(row).unwrap()));
        }
        rows
    }

    #[test]
    fn the_three_formats_hold_the_same_rows() {
        let expected = serde_rows();
        let jsonl: Vec<serde_json::Value> =
            export(ExportFormat::Jsonl).lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(jsonl, expected);
        let json_text = export(ExportFormat::Json);
        let json: Vec<serde_json::Value> = serde_json::from_str(&json_text).unwrap();
        assert_eq!(json, expected);
        assert_eq!(json_text.lines().count(), expected.len() + 2, "one row per line: {json_text}");
        let csv_text = export(ExportFormat::Csv);
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, export::COLUMNS);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), expected.len());
        for (record, row) in records.iter().zip(&expected) {
            for (cell, column) in record.iter().zip(export::COLUMNS) {
                let value = &row[*column];
                let plain = match value {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(text) => guard_formula(text),
                    serde_json::Value::Number(number) => float_cell(number.as_f64().unwrap()),
                    other => panic!("unexpected {other}"),
                };
                assert_eq!(cell, plain, "{column}");
            }
        }
        assert!(csv_text.contains(r#","'=HYPERLINK(""x"")","#), "formula guarded: {csv_text}");
        assert!(csv_text.contains(",9.0,"), "{csv_text}");
    }

    #[test]
    fn an_empty_export_is_a_valid_document_in_every_format() {
        for format in [ExportFormat::Jsonl, ExportFormat::Json, ExportFormat::Csv] {
            let writer = FindingWriter::new(Vec::new(), format).unwrap();
            let text = String::from_utf8(writer.finish().unwrap()).unwrap();
            match format {
                ExportFormat::Jsonl => assert_eq!(text, ""),
                ExportFormat::Json => {
                    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap().len(), 0)
                }
                ExportFormat::Csv => assert_eq!(text.trim_end(), export::COLUMNS.join(",")),
            }
        }
    }

    #[test]
    fn csv_cells_go_through_the_escape_after_the_guard() {
        let (scan, detail) = scan_and_detail();
        let mut writer = FindingWriter::new(Vec::new(), ExportFormat::Csv)
            .unwrap()
            .with_csv_escape(|cell| cell.replace('=', "<eq>"));
        writer.write_scan("cc1", None, &scan, &detail).unwrap();
        let text = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert!(text.contains("'<eq>HYPERLINK"), "{text}");
    }

    #[test]
    fn guard_formula_prefixes_what_a_spreadsheet_would_run() {
        for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\0x"] {
            assert_eq!(guard_formula(text), format!("'{text}"));
        }
        for text in ["", "plain", "1-1", " =x"] {
            assert_eq!(guard_formula(text), text);
        }
    }

    #[test]
    fn formats_parse_by_name() {
        for format in [ExportFormat::Jsonl, ExportFormat::Json, ExportFormat::Csv] {
            assert_eq!(ExportFormat::parse(format.name()), Some(format));
        }
        assert_eq!(ExportFormat::parse(" NDJSON "), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("xml"), None);
    }

    #[test]
    fn an_export_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.jsonl");
        let file = ExportFile::create(&target).unwrap();
        let mut writer = file.writer().unwrap();
        writer.write_all(b"{}\n").unwrap();
        writer.flush().unwrap();
        assert!(!target.exists(), "nothing at the target before the commit");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let temp = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap();
            assert_eq!(temp.metadata().unwrap().permissions().mode() & 0o077, 0, "0600");
        }
        drop(writer);
        assert_eq!(file.commit().unwrap(), target);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");

        let dropped = ExportFile::create(&dir.path().join("other.csv")).unwrap();
        drop(dropped);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a dropped export leaves nothing");
    }

    // Targets that are not ours: links stay links, FIFOs and devices are written through.
    fn write(out: &ExportFile, text: &str) {
        let mut sink = out.writer().unwrap();
        sink.write_all(text.as_bytes()).unwrap();
        sink.flush().unwrap();
    }

    #[test]
    fn a_missing_or_regular_file_is_replaced_on_commit_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let out = ExportFile::create(&path).unwrap();
        assert!(out.is_replaced());
        write(&out, "new\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n", "nothing reaches the file before commit");
        assert_eq!(out.commit().unwrap(), path.clone());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_symlink_and_its_target_gets_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink("real.jsonl", &link).unwrap();
        let out = ExportFile::create(&link).unwrap();
        write(&out, "new\n");
        out.commit().unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        // A link to a file not yet there: the file is created where the link points.
        let fresh = dir.path().join("fresh-link");
        std::os::unix::fs::symlink(dir.path().join("made.jsonl"), &fresh).unwrap();
        let out = ExportFile::create(&fresh).unwrap();
        write(&out, "made\n");
        out.commit().unwrap();
        assert!(std::fs::symlink_metadata(&fresh).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.path().join("made.jsonl")).unwrap(), "made\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_written_through_and_left_alone() {
        let out = ExportFile::create(Path::new("/dev/null")).unwrap();
        assert!(!out.is_replaced());
        write(&out, "discarded\n");
        out.commit().unwrap();
        use std::os::unix::fs::FileTypeExt as _;
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[cfg(unix)]
    #[test]
    fn loops_directories_and_dangling_chains_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let error = ExportFile::create(&a).err().unwrap().to_string();
        assert!(error.contains("loop of symlinks"), "{error}");
        let error = ExportFile::create(dir.path()).err().unwrap().to_string();
        assert!(error.contains("is a directory"), "{error}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("no/such/dir/file"), &dangling).unwrap();
        let error = ExportFile::create(&dangling).err().unwrap().to_string();
        assert!(error.contains("whose directory does not exist"), "{error}");
    }
}
