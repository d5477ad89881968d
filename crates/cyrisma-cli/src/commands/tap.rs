//! `cyrisma tap`: a Singer tap (specification 0.3) over the fleet layer's incremental pull
//! (`cyrisma_fleet::Fleet::pull`). `--discover` prints the catalog; otherwise SCHEMA messages
//! (with `key_properties`) come first, then each instance's RECORDs as it completes, and STATE
//! messages whose value is `{"bookmarks": {"<instance id>": {...}}}`: one bookmark per instance
//! (see `docs/pipelines.md`). A catalog selects streams and fields (keys are always written). The streams' columns are the history dataset's
//! (`cyrisma_dataset::schema`), so keys and fingerprints match `cyrisma snapshot`'s.
//!
//! `--config FILE` is a settings layer (the `CYRISMA_*` settings by their lower-case names)
//! between the flags and the environment; the secret in it is never printed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, IsTerminal as _, Read as _, Write};
use std::path::Path;

use anyhow::Context as _;
use cyrisma_dataset::schema::Column;
use cyrisma_fleet::pull::{PulledInstance, STREAM_TABLES};
use cyrisma_fleet::{Bookmarks, Fleet, PullBatch, Selection, Streams};
use cyrisma_transport::{Layer, Origin, Setting};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::args::TapArgs;
use crate::commands::Context;
use crate::exit::{CliError, PartialFailure, fleet_error};
use crate::output::TerminalJson;

/// The largest config, catalog or state file read (a state of 20,000 instances is a few MiB).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// A STATE message every this many instances (and one at the end): each holds every bookmark.
const STATE_EVERY: usize = 1000;

/// The replication method and replication keys of each stream (by `STREAM_TABLES` order).
const REPLICATION: [(&str, &[&str]); 4] =
    [("FULL_TABLE", &[]), ("FULL_TABLE", &[]), ("INCREMENTAL", &["scan_finished"]), ("INCREMENTAL", &[])];

/// The streams: name, columns, key properties, replication method, replication keys.
fn stream_specs()
-> impl Iterator<Item = (&'static str, &'static [Column], &'static [&'static str], &'static str, &'static [&'static str])>
{
    STREAM_TABLES
        .into_iter()
        .zip(REPLICATION)
        .map(|((name, columns, keys), (method, replication))| (name, columns, keys, method, replication))
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let shown = path.display();
    let file = std::fs::File::open(path).with_context(|| format!("cannot open the {what} `{shown}`"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the {what} `{shown}`"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CliError::usage(format!("the {what} `{shown}` is larger than {} MiB", MAX_FILE_BYTES >> 20)).into());
    }
    Ok(bytes)
}

/// A JSON file as a value; an empty file is `{}`. Parse errors name the line and column only
/// (never the text: a config holds the secret).
fn read_json(path: &Path, what: &str) -> anyhow::Result<Value> {
    let bytes = read_file(path, what)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        CliError::usage(format!(
            "the {what} `{}` is not valid json (line {}, column {})",
            path.display(),
            error.line(),
            error.column()
        ))
        .into()
    })
}

/// The settings layer of `--config FILE`.
pub(crate) fn config_layer(args: &TapArgs) -> anyhow::Result<Option<Layer>> {
    let Some(path) = &args.config else { return Ok(None) };
    let Value::Object(object) = read_json(path, "config file")? else {
        return Err(CliError::usage(format!("the config file `{}` is not a json object", path.display())).into());
    };
    let mut layer = Layer::new(Origin::File(path.display().to_string()));
    for (key, value) in object {
        let Some(setting) = Setting::ALL.into_iter().find(|setting| setting.key() == key) else {
            let known: Vec<&str> = Setting::ALL.iter().map(|setting| setting.key()).collect();
            return Err(CliError::usage(format!("unknown key `{key}` in the config file `{}`", path.display()))
                .with_hint(format!("the keys are: {}", known.join(", ")))
                .into());
        };
        let text = match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            Value::Array(items) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
            }
            _ => {
                return Err(CliError::usage(format!(
                    "key `{key}` of the config file `{}` must be a string, a number or a list of strings",
                    path.display()
                ))
                .into());
            }
        };
        layer.set(setting, text);
    }
    Ok(Some(layer))
}

/// A stream's JSON Schema, from the dataset's documented columns.
fn json_schema<'a>(columns: impl IntoIterator<Item = &'a Column>) -> Value {
    let properties: Map<String, Value> = columns
        .into_iter()
        .map(|column| {
            let kind = match column.kind {
                "int64" | "int32" => "integer",
                "float64" => "number",
                "bool" => "boolean",
                _ => "string",
            };
            let mut property = json!({ "type": if column.nullable { json!([kind, "null"]) } else { json!(kind) } });
            if column.kind == "timestamp" {
                property["format"] = json!("date-time");
            }
            property["description"] = json!(column.doc);
            (column.name.to_owned(), property)
        })
        .collect();
    json!({ "type": "object", "properties": properties })
}

/// The catalog `--discover` prints: every stream selected.
fn catalog() -> Value {
    let streams: Vec<Value> = stream_specs()
        .map(|(name, columns, keys, method, replication_keys)| {
            let mut metadata = vec![json!({
                "breadcrumb": [],
                "metadata": {
                    "inclusion": "available",
                    "selected": true,
                    "table-key-properties": keys,
                    "forced-replication-method": method,
                    "valid-replication-keys": replication_keys,
                },
            })];
            metadata.extend(columns.iter().map(|column| {
                let inclusion = if keys.contains(&column.name) { "automatic" } else { "available" };
                json!({ "breadcrumb": ["properties", column.name], "metadata": { "inclusion": inclusion } })
            }));
            json!({
                "tap_stream_id": name,
                "stream": name,
                "schema": json_schema(columns),
                "key_properties": keys,
                "metadata": metadata,
            })
        })
        .collect();
    json!({ "streams": streams })
}

/// What a catalog selects: the streams, and the fields left out of each.
struct Selected {
    streams: Streams,
    /// Per stream (by name): the columns whose metadata says `"selected": false` (never a key).
    left_out: BTreeMap<&'static str, BTreeSet<&'static str>>,
}

impl Selected {
    /// Every stream, every field.
    fn all() -> Self {
        Self { streams: Streams::ALL, left_out: BTreeMap::new() }
    }

    /// The fields of `stream` left out (none for most).
    fn left_out(&self, stream: &str) -> Option<&BTreeSet<&'static str>> {
        self.left_out.get(stream).filter(|fields| !fields.is_empty())
    }
}

/// The fields of a catalog entry that its metadata deselects (breadcrumb `["properties", name]`
/// with `"selected": false`): the stream's columns but its keys, which Singer's `automatic`
/// inclusion always writes. An unknown field is warned about and ignored.
fn left_out_fields(
    entry: &Value,
    stream: &'static str,
    columns: &'static [Column],
    keys: &[&str],
    warn: &mut impl FnMut(String),
) -> BTreeSet<&'static str> {
    let mut left_out = BTreeSet::new();
    let items = entry.get("metadata").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    for item in items {
        let breadcrumb = item.get("breadcrumb").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let [Value::String(properties), Value::String(field)] = breadcrumb else { continue };
        if properties != "properties" || item.pointer("/metadata/selected").and_then(Value::as_bool) != Some(false) {
            continue;
        }
        match columns.iter().find(|column| column.name == field.as_str()) {
            Some(column) if !keys.contains(&column.name) => {
                left_out.insert(column.name);
            }
            Some(_) => warn(format!(
                "the catalog deselects `{field}`, a key of the `{stream}` stream: keys are always written"
            )),
            None => {
                warn(format!("the catalog deselects `{field}`, which the `{stream}` stream does not have: ignored"))
            }
        }
    }
    left_out
}

/// The streams a catalog selects: a stream whose top-level metadata (breadcrumb `[]`) or whose
/// own object says `"selected": true`; and the fields it deselects in each.
fn selected_streams(path: &Path, mut warn: impl FnMut(String)) -> anyhow::Result<Selected> {
    let catalog = read_json(path, "catalog")?;
    let Some(entries) = catalog.get("streams").and_then(Value::as_array) else {
        return Err(CliError::usage(format!("the catalog `{}` has no `streams` list", path.display()))
            .with_hint("`cyrisma tap --discover` prints one")
            .into());
    };
    let mut streams = Streams::NONE;
    let mut left_out = BTreeMap::new();
    for entry in entries {
        let name = entry.get("tap_stream_id").or_else(|| entry.get("stream")).and_then(Value::as_str).unwrap_or("");
        let top = entry.get("metadata").and_then(Value::as_array).and_then(|items| {
            items.iter().find(|item| item.get("breadcrumb").and_then(Value::as_array).is_some_and(Vec::is_empty))
        });
        let selected = top
            .and_then(|item| item.pointer("/metadata/selected"))
            .or_else(|| entry.get("selected"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if selected && !streams.select(name) {
            return Err(CliError::usage(format!(
                "the catalog `{}` selects an unknown stream `{name}`",
                path.display()
            ))
            .with_hint(format!("the streams are: {}", Streams::NAMES.join(", ")))
            .into());
        }
        if let Some((stream, columns, keys, _, _)) = stream_specs().find(|spec| selected && spec.0 == name) {
            left_out.insert(stream, left_out_fields(entry, stream, columns, keys, &mut warn));
        }
    }
    if streams == Streams::NONE {
        return Err(CliError::usage(format!("the catalog `{}` selects no stream", path.display()))
            .with_hint("set `\"selected\": true` in the top-level metadata of the streams to pull")
            .into());
    }
    Ok(Selected { streams, left_out })
}

/// The bookmarks of `--state FILE`: the last STATE message's value (or the whole message).
fn read_state(path: &Path) -> anyhow::Result<Bookmarks> {
    let mut state = read_json(path, "state file")?;
    if state.get("type").and_then(Value::as_str) == Some("STATE") {
        state = state.get("value").cloned().unwrap_or(Value::Null);
    }
    let bookmarks = match state.get("bookmarks") {
        None | Some(Value::Null) => return Ok(Bookmarks::new()),
        Some(bookmarks) => bookmarks.clone(),
    };
    serde_json::from_value(bookmarks).map_err(|error| {
        CliError::usage(format!("the state file `{}` does not hold this tap's bookmarks: {error}", path.display()))
            .with_hint("give the value of the last STATE message `cyrisma tap` wrote, or no `--state` for a first pull")
            .into()
    })
}

/// The reused buffer's usual capacity.
const LINE_CAPACITY: usize = 1 << 20;

/// Singer messages on a writer, one per line; RECORDs are encoded into one reused buffer and
/// written at once (the writer may be a terminal filter behind a `dyn Write`).
struct Messages<W: Write> {
    out: W,
    line: Vec<u8>,
    selected: Selected,
}

impl<W: Write> Messages<W> {
    fn message(&mut self, value: &Value) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    fn record<R: Serialize>(&mut self, stream: &str, row: &R) -> std::io::Result<()> {
        self.line.clear();
        self.line.extend_from_slice(b"{\"type\":\"RECORD\",\"stream\":\"");
        self.line.extend_from_slice(stream.as_bytes());
        self.line.extend_from_slice(b"\",\"record\":");
        match self.selected.left_out(stream) {
            // The row's fields less those left out (a JSON object's key order carries no meaning).
            Some(left_out) => {
                let mut record = serde_json::to_value(row)?;
                if let Value::Object(fields) = &mut record {
                    fields.retain(|name, _| !left_out.contains(name.as_str()));
                }
                serde_json::to_writer(&mut self.line, &record)?;
            }
            None => serde_json::to_writer(&mut self.line, row)?,
        }
        self.line.extend_from_slice(b"}\n");
        self.out.write_all(&self.line)
    }

    fn state(&mut self, bookmarks: &Bookmarks) -> std::io::Result<()> {
        self.out.write_all(b"{\"type\":\"STATE\",\"value\":{\"bookmarks\":")?;
        serde_json::to_writer(&mut self.out, bookmarks)?;
        self.out.write_all(b"}}\n")?;
        self.out.flush()
    }

    fn batch(&mut self, batch: &PullBatch) -> std::io::Result<()> {
        if let Some(row) = &batch.instance {
            self.record("instances", row)?;
        }
        for row in &batch.grades {
            self.record("grades", row)?;
        }
        for row in &batch.scans {
            self.record("scans", row)?;
        }
        for row in &batch.findings {
            self.record("findings", row)?;
        }
        Ok(())
    }

    /// A pulled instance: its batch, then its findings' RECORDs, encoded straight from the scan
    /// details into the reused buffer and written at once.
    fn pulled(&mut self, pulled: &PulledInstance<'_>) -> std::io::Result<()> {
        self.batch(&pulled.batch)?;
        if self.selected.left_out("findings").is_some() {
            // Fields left out: the owned rows, through `record`.
            for row in pulled.findings.to_rows() {
                self.record("findings", &row)?;
            }
            return Ok(());
        }
        self.line.clear();
        pulled.findings.encode_json(
            b"{\"type\":\"RECORD\",\"stream\":\"findings\",\"record\":",
            b"}\n",
            &mut self.line,
        );
        self.out.write_all(&self.line)?;
        // An instance with many findings grew the buffer: give the memory back.
        if self.line.capacity() > LINE_CAPACITY {
            self.line = Vec::with_capacity(LINE_CAPACITY);
        }
        Ok(())
    }
}

/// Runs `tap`.
pub(crate) async fn run(context: &Context, args: TapArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let terminal = stdout.is_terminal();
    let sink: Box<dyn Write> = if terminal {
        Box::new(TerminalJson::new(BufWriter::new(stdout)))
    } else {
        Box::new(BufWriter::with_capacity(1 << 16, stdout))
    };
    let mut messages = Messages { out: sink, line: Vec::with_capacity(LINE_CAPACITY), selected: Selected::all() };
    if args.discover {
        let text = serde_json::to_string_pretty(&catalog())?;
        messages.out.write_all(text.as_bytes())?;
        messages.out.write_all(b"\n")?;
        messages.out.flush()?;
        return Ok(());
    }
    if let Some(path) = &args.catalog {
        messages.selected = selected_streams(path, |warning| context.ui.warn(&warning))?;
    }
    let streams = messages.selected.streams;
    let bookmarks = match &args.state {
        Some(path) => read_state(path)?,
        None => Bookmarks::new(),
    };
    let fleet = Fleet::new(context.client()?).with_concurrency(context.concurrency());
    let selection = Selection::ids(&args.filter.instances);

    for (name, columns, keys, _, replication_keys) in stream_specs() {
        if streams.has(name) {
            let left_out = messages.selected.left_out(name).cloned().unwrap_or_default();
            let written = columns.iter().filter(|column| !left_out.contains(column.name));
            messages.message(&json!({
                "type": "SCHEMA",
                "stream": name,
                "schema": json_schema(written),
                "key_properties": keys,
                "bookmark_properties": replication_keys,
            }))?;
        }
    }

    // Bookmarks so far, for the periodic STATE messages: the old ones, advanced per instance.
    let mut running = bookmarks.clone();
    let mut done = 0usize;
    let pull = fleet
        .pull_borrowed(&selection, &bookmarks, streams, context.ui.fleet_progress("tap"), |pulled| {
            let io = |source| cyrisma_fleet::Error::Io { context: "cannot write the singer messages".into(), source };
            messages.pulled(&pulled).map_err(io)?;
            if streams.advances() {
                running.0.insert(pulled.batch.instance_id, pulled.batch.bookmark);
            }
            done += 1;
            if done.is_multiple_of(STATE_EVERY) {
                messages.state(&running).map_err(io)?;
            }
            Ok(())
        })
        .await
        .map_err(fleet_error)?;
    messages.state(&pull.bookmarks)?;
    for failure in &pull.failures {
        context.ui.warn(&format!(
            "instance {} failed, so its bookmark was kept (the next run pulls it again): {}",
            failure.instance_id, failure.error
        ));
    }
    context.ui.note(&format!(
        "pulled {} instances ({} findings), {} failed; {} bookmarks in the state",
        pull.pulled,
        pull.findings,
        pull.failures.len(),
        pull.bookmarks.len()
    ));
    if args.allow_partial { Ok(()) } else { PartialFailure::check(pull.pulled, &pull.failures) }
}
