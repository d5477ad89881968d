//! What the CLI writes to stdout: its own row types (never core types, which are the wire
//! format) and the four formats.
//!
//! - `table`: aligned columns fitted to the terminal's width when stdout is one; every control,
//!   escape and bidirectional-override character that came from the server is shown escaped
//!   (`\x1b`, `\u{202e}`), so server data can never drive the terminal.
//! - `json`: one valid document (an array of rows, or one object); strings are exact once
//!   parsed, and DEL, C1 and bidirectional characters are written as `\uXXXX` escapes so that the
//!   text is safe on a terminal too.
//! - `jsonl`: one object per line.
//! - `csv`: a header row, then one row per record; a text cell that starts with `=`, `+`, `-`,
//!   `@`, tab, CR or NUL gets a leading `'` so that spreadsheets do not run it as a formula. On a
//!   terminal, cells are also escaped as in a table; in a file or a pipe the text is exact.
//!
//! Rows are declared with [`row!`], which derives `Serialize` (JSON, JSONL) and the column list
//! (table, CSV) from one field list, so the formats cannot drift apart.

pub(crate) mod rows;

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};

use cyrisma_core::wire::ModelSchema;
use serde::Serialize;
use unicode_width::UnicodeWidthChar;

use crate::args::OutputFormat;

/// One cell of a table or CSV row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell {
    /// Nothing (`null` in JSON, empty in CSV, `-` in a table).
    Empty,
    /// Text from anywhere, the server included.
    Text(String),
    /// A whole number.
    Int(u64),
    /// A number with a fraction.
    Float(f64),
    /// A yes/no value.
    Bool(bool),
}

impl Cell {
    /// The cell as plain text, unescaped (CSV, and the input of table escaping).
    fn raw(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) => text.clone(),
            Cell::Int(number) => number.to_string(),
            Cell::Float(number) => format_float(*number),
            Cell::Bool(value) => if *value { "true" } else { "false" }.to_owned(),
        }
    }

    /// The cell for a table: escaped, and `-` when empty.
    fn display(&self) -> String {
        match self {
            Cell::Empty => "-".to_owned(),
            Cell::Bool(value) => if *value { "yes" } else { "no" }.to_owned(),
            other => neutralize(&other.raw()),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Float(_))
    }
}

fn format_float(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{number:.1}") } else { number.to_string() }
}

impl From<&String> for Cell {
    fn from(value: &String) -> Self {
        Cell::Text(value.clone())
    }
}

impl From<&Option<String>> for Cell {
    fn from(value: &Option<String>) -> Self {
        value.as_ref().map_or(Cell::Empty, |text| Cell::Text(text.clone()))
    }
}

impl From<&&'static str> for Cell {
    fn from(value: &&'static str) -> Self {
        Cell::Text((*value).to_owned())
    }
}

impl From<&Option<&'static str>> for Cell {
    fn from(value: &Option<&'static str>) -> Self {
        value.map_or(Cell::Empty, |text| Cell::Text(text.to_owned()))
    }
}

impl From<&u64> for Cell {
    fn from(value: &u64) -> Self {
        Cell::Int(*value)
    }
}

impl From<&Option<u64>> for Cell {
    fn from(value: &Option<u64>) -> Self {
        value.map_or(Cell::Empty, Cell::Int)
    }
}

impl From<&i64> for Cell {
    fn from(value: &i64) -> Self {
        u64::try_from(*value).map_or_else(|_| Cell::Text(value.to_string()), Cell::Int)
    }
}

impl From<&u32> for Cell {
    fn from(value: &u32) -> Self {
        Cell::Int(u64::from(*value))
    }
}

impl From<&Option<f64>> for Cell {
    fn from(value: &Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Float)
    }
}

impl From<&bool> for Cell {
    fn from(value: &bool) -> Self {
        Cell::Bool(*value)
    }
}

impl From<&Option<bool>> for Cell {
    fn from(value: &Option<bool>) -> Self {
        value.map_or(Cell::Empty, Cell::Bool)
    }
}

/// A record the CLI prints: its columns, in order, and its cells.
pub(crate) trait Row: Serialize {
    /// Column names (JSON keys and CSV headers).
    const COLUMNS: &'static [&'static str];
    /// The cells, in column order.
    fn cells(&self) -> Vec<Cell>;

    /// The columns of the table view (the full columns unless a row type has a compact view).
    fn table_columns() -> Vec<&'static str> {
        Self::COLUMNS.to_vec()
    }

    /// The cells of the table view.
    fn table_cells(&self) -> Vec<Cell> {
        self.cells()
    }
}

/// Declares a row type: a struct with public fields, `Serialize`, and [`Row`].
macro_rules! row {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident {
            $( $(#[$field_meta:meta])* pub(crate) $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Serialize)]
        pub(crate) struct $name {
            $( $(#[$field_meta])* pub(crate) $field: $ty ),*
        }

        impl $crate::output::Row for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn cells(&self) -> Vec<$crate::output::Cell> {
                vec![$($crate::output::Cell::from(&self.$field)),*]
            }
        }
    };
}

pub(crate) use row;

/// Where and how results are written.
pub(crate) struct Output {
    format: OutputFormat,
    /// The terminal width, when stdout is a terminal (tables are fitted to it).
    width: Option<usize>,
    bold_headers: bool,
}

impl Output {
    /// An output in `format`; `width` is the terminal's when stdout is one.
    pub(crate) fn new(format: OutputFormat, width: Option<usize>, bold_headers: bool) -> Self {
        Self { format, width, bold_headers }
    }

    /// The format.
    pub(crate) fn format(&self) -> OutputFormat {
        self.format
    }

    /// Writes a list of rows: a table, a JSON array, JSON lines or CSV.
    pub(crate) fn rows<R: Row>(&self, rows: &[R]) -> anyhow::Result<()> {
        let mut stdout = io::stdout().lock();
        let mut text = Vec::new();
        match self.format {
            // An empty table prints nothing; commands say so on stderr.
            OutputFormat::Table if rows.is_empty() => {}
            OutputFormat::Table => {
                let cells: Vec<Vec<Cell>> = rows.iter().map(Row::table_cells).collect();
                text.extend(render_table(&R::table_columns(), &cells, self.width, self.bold_headers).into_bytes());
            }
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut text, rows)?;
                text.push(b'\n');
                text = escape_json_for_terminal(text);
            }
            OutputFormat::Jsonl => {
                for row in rows {
                    serde_json::to_writer(&mut text, row)?;
                    text.push(b'\n');
                }
                text = escape_json_for_terminal(text);
            }
            OutputFormat::Csv => {
                let mut writer = CsvRows::new(&mut text, R::COLUMNS)?.for_terminal(io::stdout().is_terminal());
                for row in rows {
                    writer.write(&row.cells())?;
                }
                writer.finish()?;
            }
        }
        write_all(&mut stdout, &text)
    }

    /// Writes one record: `key  value` lines in a table, one JSON object, one JSON line, or a CSV
    /// header and row.
    pub(crate) fn one<R: Row>(&self, row: &R) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Table => {
                let mut stdout = io::stdout().lock();
                let text = render_vertical(R::COLUMNS, &row.cells(), self.bold_headers);
                write_all(&mut stdout, text.as_bytes())
            }
            OutputFormat::Json => self.document(row),
            _ => self.rows(std::slice::from_ref(row)),
        }
    }

    /// Writes objects of the API: for `json` and `jsonl`, the objects as the API sent them (its
    /// own field names and every field it sent, unknown ones included, with values as the core
    /// parsed them); for a table and CSV, the curated `rows` (one per object, same order).
    pub(crate) fn api_rows<T: Serialize, R: Row>(&self, objects: &[T], rows: &[R]) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Json => {
                let mut text = Vec::new();
                serde_json::to_writer_pretty(&mut text, objects)?;
                text.push(b'\n');
                write_all(&mut io::stdout().lock(), &escape_json_for_terminal(text))
            }
            OutputFormat::Jsonl => {
                let mut text = Vec::new();
                for object in objects {
                    serde_json::to_writer(&mut text, object)?;
                    text.push(b'\n');
                }
                write_all(&mut io::stdout().lock(), &escape_json_for_terminal(text))
            }
            OutputFormat::Table | OutputFormat::Csv => self.rows(rows),
        }
    }

    /// Writes one object of the API as [`Output::api_rows`] does: the API's object for `json`
    /// and `jsonl`, the curated `row` for a table and CSV.
    pub(crate) fn api_one<T: Serialize, R: Row>(&self, object: &T, row: &R) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Json | OutputFormat::Jsonl => self.document(object),
            OutputFormat::Table | OutputFormat::Csv => self.one(row),
        }
    }

    /// Writes one document of the API (a scan's findings, a dashboard) as the API sent it for
    /// `json` and `jsonl`, and the curated `rows` drawn from it for a table and CSV.
    pub(crate) fn api_document<T: Serialize, R: Row>(&self, object: &T, rows: &[R]) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Json | OutputFormat::Jsonl => self.document(object),
            OutputFormat::Table | OutputFormat::Csv => self.rows(rows),
        }
    }

    /// Writes one object of the API that has no curated row type: for `json` and `jsonl` as
    /// [`Output::api_one`] does; for a table and CSV, the row that its model declares
    /// ([`rows::model_row`]: one column per field, named and ordered as in the core's `model!`).
    pub(crate) fn api_model<T: Serialize>(&self, object: &T, schema: &'static ModelSchema) -> anyhow::Result<()> {
        match self.format {
            OutputFormat::Json | OutputFormat::Jsonl => self.document(object),
            OutputFormat::Table => {
                let (columns, cells) = rows::model_row(object, schema)?;
                write_all(&mut io::stdout().lock(), render_vertical(&columns, &cells, self.bold_headers).as_bytes())
            }
            OutputFormat::Csv => {
                let (columns, cells) = rows::model_row(object, schema)?;
                let mut text = Vec::new();
                let mut writer = CsvRows::new(&mut text, &columns)?.for_terminal(io::stdout().is_terminal());
                writer.write(&cells)?;
                writer.finish()?;
                write_all(&mut io::stdout().lock(), &text)
            }
        }
    }

    /// Writes any serializable value as one JSON document (pretty) or, for `jsonl`, one line.
    /// Tables and CSV are not meaningful for free-form documents: they get pretty JSON too.
    pub(crate) fn document<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let mut text = Vec::new();
        match self.format {
            OutputFormat::Jsonl => serde_json::to_writer(&mut text, value)?,
            _ => serde_json::to_writer_pretty(&mut text, value)?,
        }
        text.push(b'\n');
        write_all(&mut io::stdout().lock(), &escape_json_for_terminal(text))
    }
}

/// JSON text in which DEL, the C1 controls and the bidirectional and zero-width formatting
/// characters are written as `\uXXXX` escapes (serde_json already escapes C0 controls). The
/// values are the same once parsed, byte for byte, but the text cannot drive a terminal or
/// reorder what it shows. Outside strings JSON text is ASCII, so every such character is inside
/// a string, where the escape is valid.
pub(crate) fn escape_json_for_terminal(text: Vec<u8>) -> Vec<u8> {
    // Printable ASCII and new lines hold no such character (every other one has a byte below
    // 0x20 or from 0x7f up): a check the compiler vectorises, where decoding every character
    // costs about 1 ms per 500 KB of JSON.
    if text.iter().all(|&byte| (0x20..0x7f).contains(&byte) || byte == b'\n') {
        return text;
    }
    let text = match String::from_utf8(text) {
        Ok(text) => text,
        // serde_json writes UTF-8 only; were it not, the bytes would go out as they are.
        Err(error) => return error.into_bytes(),
    };
    if !text.chars().any(|ch| ch != '\n' && is_dangerous(ch)) {
        return text.into_bytes();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        if ch != '\n' && is_dangerous(ch) {
            // Every dangerous character is in the Basic Multilingual Plane: one `\uXXXX`.
            let _ = write!(out, "\\u{:04x}", ch as u32);
        } else {
            out.push(ch);
        }
    }
    out.into_bytes()
}

/// A stream of JSON text on its way to a terminal, escaped as [`escape_json_for_terminal`]
/// escapes a whole document. Writes may split a UTF-8 sequence: its start waits for the rest.
pub(crate) struct TerminalJson<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> TerminalJson<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self { inner, pending: Vec::new() }
    }
}

impl<W: Write> Write for TerminalJson<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let ready = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            // An incomplete sequence at the end: keep it for the next write.
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            // Not UTF-8 (never from serde_json or the core's encoder): out as it is.
            Err(_) => self.pending.len(),
        };
        let text: Vec<u8> = self.pending.drain(..ready).collect();
        self.inner.write_all(&escape_json_for_terminal(text))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A sequence still incomplete when the stream ends goes out as it is.
        let rest = std::mem::take(&mut self.pending);
        self.inner.write_all(&rest)?;
        self.inner.flush()
    }
}

/// Writes bytes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    write_all(&mut io::stdout().lock(), bytes)
}

fn write_all(stdout: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `cyrisma ... | head` closes the pipe: that is not an error worth reporting.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to stdout")),
    }
}

/// Streams CSV rows with the formula guard.
pub(crate) struct CsvRows<W: Write> {
    writer: csv::Writer<W>,
    /// Whether the CSV goes to a terminal: then control and bidi characters are shown escaped
    /// too, as in a table (a file or a pipe gets the text exactly, formula guard aside).
    terminal: bool,
}

impl<W: Write> CsvRows<W> {
    /// Starts a CSV stream and writes the header.
    pub(crate) fn new(sink: W, columns: &[&str]) -> anyhow::Result<Self> {
        let mut writer = csv::WriterBuilder::new().from_writer(sink);
        writer.write_record(columns)?;
        Ok(Self { writer, terminal: false })
    }

    /// Escapes control and bidi characters in every cell when `terminal` is true.
    pub(crate) fn for_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// Writes one row.
    pub(crate) fn write(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        let terminal = self.terminal;
        let record: Vec<String> =
            cells.iter().map(|cell| if terminal { neutralize(&csv_cell(cell)) } else { csv_cell(cell) }).collect();
        self.writer.write_record(&record)?;
        Ok(())
    }

    /// Flushes and returns the sink.
    pub(crate) fn finish(self) -> anyhow::Result<W> {
        self.writer.into_inner().map_err(|error| anyhow::anyhow!("cannot finish the csv output: {}", error.error()))
    }
}

/// A CSV cell: text that a spreadsheet would run as a formula gets a leading `'`.
pub(crate) fn csv_cell(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => guard_formula(text),
        other => other.raw(),
    }
}

/// Prefixes `'` to text starting with `=`, `+`, `-`, `@`, tab, CR or NUL (OWASP's list): the
/// fleet layer's rule, which its export writers follow too.
pub(crate) use cyrisma_fleet::export::guard_formula;

/// Whether a character must not reach a terminal raw: C0 and C1 controls, DEL, and the
/// bidirectional and zero-width formatting characters that can disguise text.
fn is_dangerous(ch: char) -> bool {
    ch.is_control()
        || matches!(ch, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// Text made safe for a terminal: every dangerous character is written as a visible escape.
pub(crate) fn neutralize(text: &str) -> String {
    if !text.chars().any(is_dangerous) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        if is_dangerous(ch) {
            match ch {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                ch if (ch as u32) < 0x100 => {
                    let _ = write!(out, "\\x{:02x}", ch as u32);
                }
                ch => {
                    let _ = write!(out, "\\u{{{:x}}}", ch as u32);
                }
            }
        } else {
            out.push(ch);
        }
    }
    out
}

fn width_of(text: &str) -> usize {
    text.chars().map(|ch| ch.width().unwrap_or(0)).sum()
}

/// Cuts text to `max` columns, ending with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if width_of(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

fn header_text(column: &str) -> String {
    column.replace('_', " ").to_uppercase()
}

/// Renders rows as aligned columns; when `width` is known the widest columns are cut until the
/// table fits.
pub(crate) fn render_table(columns: &[&str], rows: &[Vec<Cell>], width: Option<usize>, bold: bool) -> String {
    const GAP: usize = 2;
    const MIN: usize = 4;
    let headers: Vec<String> = columns.iter().map(|column| header_text(column)).collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(Cell::display).collect()).collect();
    let numeric: Vec<bool> = (0..columns.len())
        .map(|index| {
            let mut any = false;
            let all = rows.iter().all(|row| match row.get(index) {
                Some(Cell::Empty) | None => true,
                Some(cell) => {
                    any = true;
                    cell.is_numeric()
                }
            });
            all && any
        })
        .collect();
    let mut content = vec![0; columns.len()];
    for row in &cells {
        for (index, cell) in row.iter().enumerate() {
            if let Some(column) = content.get_mut(index) {
                *column = (*column).max(width_of(cell));
            }
        }
    }
    let mut widths: Vec<usize> =
        headers.iter().zip(&content).map(|(header, content)| width_of(header).max(*content)).collect();
    if let Some(limit) = width {
        // Ids and numbers keep their content whole; text gives way first, down to 16 columns,
        // then everything down to a small floor (headers may be cut).
        let keeps_content: Vec<bool> =
            columns.iter().zip(&numeric).map(|(column, numeric)| *numeric || column.ends_with("id")).collect();
        let first: Vec<usize> = widths
            .iter()
            .zip(&keeps_content)
            .map(|(width, keeps)| if *keeps { *width } else { (*width).min(16) })
            .collect();
        let second: Vec<usize> = widths
            .iter()
            .zip(&keeps_content)
            .zip(&content)
            .map(|((width, keeps), content)| if *keeps { (*content).max(MIN).min(*width) } else { (*width).min(6) })
            .collect();
        for floors in [first, second] {
            let total = |widths: &[usize]| widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1);
            while total(&widths) > limit {
                let widest = widths
                    .iter()
                    .enumerate()
                    .filter(|(index, width)| **width > floors[*index])
                    .max_by_key(|(index, width)| (**width, std::cmp::Reverse(*index)))
                    .map(|(index, _)| index);
                let Some(widest) = widest else { break };
                widths[widest] -= 1;
            }
        }
    }
    let mut out = String::new();
    let line = |parts: Vec<String>, is_header: bool, out: &mut String| {
        let mut text = String::new();
        for (index, part) in parts.iter().enumerate() {
            let column_width = widths[index];
            let part = truncate(part, column_width);
            let pad = column_width.saturating_sub(width_of(&part));
            if index > 0 {
                text.push_str(&" ".repeat(GAP));
            }
            if numeric[index] && !is_header {
                text.push_str(&" ".repeat(pad));
                text.push_str(&part);
            } else {
                text.push_str(&part);
                text.push_str(&" ".repeat(pad));
            }
        }
        let text = text.trim_end();
        if is_header && bold {
            let _ = writeln!(out, "\u{1b}[1m{text}\u{1b}[0m");
        } else {
            let _ = writeln!(out, "{text}");
        }
    };
    line(headers, true, &mut out);
    for row in cells {
        line(row, false, &mut out);
    }
    out
}

/// Renders one record as `KEY  value` lines.
pub(crate) fn render_vertical(columns: &[&str], cells: &[Cell], bold: bool) -> String {
    let keys: Vec<String> = columns.iter().map(|column| column.replace('_', " ")).collect();
    let key_width = keys.iter().map(|key| width_of(key)).max().unwrap_or(0);
    let mut out = String::new();
    for (key, cell) in keys.iter().zip(cells) {
        let pad = " ".repeat(key_width - width_of(key));
        if bold {
            let _ = writeln!(out, "\u{1b}[1m{key}\u{1b}[0m{pad}  {}", cell.display());
        } else {
            let _ = writeln!(out, "{key}{pad}  {}", cell.display());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    row! {
        /// A test row.
        pub(crate) struct Sample {
            pub(crate) name: String,
            pub(crate) count: Option<u64>,
            pub(crate) score: Option<f64>,
        }
    }

    #[test]
    fn terminal_json_streams_escape_like_whole_documents_at_every_split() {
        let line = "{\"name\":\"a\u{9b}31m\u{202e}gnp.exe\u{200b} Zürich — ok\"}\n".as_bytes().to_vec();
        let whole = escape_json_for_terminal(line.clone());
        assert!(!String::from_utf8_lossy(&whole).contains('\u{9b}'));
        assert!(String::from_utf8_lossy(&whole).contains("\\u009b31m\\u202egnp.exe\\u200b Zürich — ok"));
        for split in 0..=line.len() {
            let mut out = TerminalJson::new(Vec::new());
            out.write_all(&line[..split]).unwrap();
            out.write_all(&line[split..]).unwrap();
            out.flush().unwrap();
            assert_eq!(out.inner, whole, "split at byte {split}");
        }
        // Byte by byte, too.
        let mut out = TerminalJson::new(Vec::new());
        for byte in &line {
            out.write_all(std::slice::from_ref(byte)).unwrap();
        }
        out.flush().unwrap();
        assert_eq!(out.inner, whole);
        // The value is the same once parsed.
        let parsed: serde_json::Value = serde_json::from_slice(&whole).unwrap();
        let original: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed, original);
    }

    #[test]
    fn escapes_neutralize_every_control_and_bidi_character() {
        let hostile = "a\u{1b}]52;c;ZWNobw==\u{7}b\u{1b}[31mred\u{9b}2J\u{202e}txt.exe\u{0}\u{7f}";
        let safe = neutralize(hostile);
        assert!(!safe.chars().any(is_dangerous), "{safe}");
        assert_eq!(neutralize("plain – ünïcode 漢字"), "plain – ünïcode 漢字");
        assert_eq!(neutralize("a\nb"), "a\\nb");
        let table = render_table(&["name"], &[vec![Cell::Text(hostile.to_owned())]], None, false);
        assert!(!table.chars().any(|ch| ch != '\n' && is_dangerous(ch)), "{table}");
    }

    #[test]
    fn printable_ascii_json_is_kept_and_any_raw_control_is_still_escaped() {
        let plain = b"{\n  \"name\": \"Acme ~ 100%\"\n}\n".to_vec();
        assert_eq!(escape_json_for_terminal(plain.clone()), plain);
        for raw in [0x1b_u8, b'\t', b'\r', 0x7f] {
            let text = [b"{\"a\":1}".as_slice(), &[raw], b"\n"].concat();
            let escaped = String::from_utf8(escape_json_for_terminal(text)).unwrap();
            assert_eq!(escaped, format!("{{\"a\":1}}\\u{raw:04x}\n"));
        }
    }

    #[test]
    fn json_text_escapes_what_could_drive_a_terminal_and_keeps_the_values() {
        let hostile = "a\u{1b}]52;c;ZWNobw==\u{7}\u{9b}2J\u{85}\u{7f}\u{202e}txt\u{2066}\u{feff} – ünïcode 漢字";
        let mut text = Vec::new();
        serde_json::to_writer_pretty(&mut text, &serde_json::json!({ "name": hostile, "list": [hostile] })).unwrap();
        let safe = String::from_utf8(escape_json_for_terminal(text)).unwrap();
        assert!(!safe.chars().any(|ch| ch != '\n' && is_dangerous(ch)), "{safe}");
        assert!(safe.contains("\\u202e") && safe.contains("\\u009b") && safe.contains("\\u007f"), "{safe}");
        assert!(safe.contains("– ünïcode 漢字"), "other text stays as it is: {safe}");
        let parsed: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(parsed["name"], hostile);
        assert_eq!(parsed["list"][0], hostile);
    }

    #[test]
    fn csv_for_a_terminal_is_escaped_and_csv_for_a_file_is_exact() {
        let hostile = "\t=cmd\u{1b}[2J\u{202e}x";
        let write = |terminal: bool| {
            let mut rows = CsvRows::new(Vec::new(), &["name"]).unwrap().for_terminal(terminal);
            rows.write(&[Cell::Text(hostile.to_owned())]).unwrap();
            String::from_utf8(rows.finish().unwrap()).unwrap()
        };
        let file = write(false);
        assert!(file.contains(&format!("'{hostile}")), "{file:?}");
        let terminal = write(true);
        assert!(!terminal.chars().any(|ch| ch != '\n' && is_dangerous(ch)), "{terminal:?}");
        assert!(terminal.contains("'\\t=cmd\\x1b[2J\\u{202e}x"), "{terminal:?}");
    }

    #[test]
    fn formula_guard_covers_the_trigger_characters() {
        for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\0x"] {
            assert!(guard_formula(text).starts_with('\''), "{text:?}");
        }
        assert_eq!(guard_formula("plain"), "plain");
        assert_eq!(csv_cell(&Cell::Float(-1.5)), "-1.5");
    }

    #[test]
    fn tables_fit_the_width_and_align_numbers() {
        let rows = [
            Sample { name: "a rather long name that will not fit".into(), count: Some(5), score: Some(9.8) },
            Sample { name: "short".into(), count: None, score: None },
        ];
        let cells: Vec<Vec<Cell>> = rows.iter().map(Row::cells).collect();
        let table = render_table(Sample::COLUMNS, &cells, Some(30), false);
        assert!(table.lines().all(|line| width_of(line) <= 30), "{table}");
        assert!(table.contains('…'));
        insta::assert_snapshot!(render_table(Sample::COLUMNS, &cells, None, false), @r"
        NAME                                  COUNT  SCORE
        a rather long name that will not fit      5    9.8
        short                                     -      -
        ");
    }
}
