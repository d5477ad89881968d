//! Hostile strings from the server: terminal escapes (CSI, OSC 8 hyperlinks, OSC 52 clipboard),
//! C0 and C1 controls, bidirectional controls and spreadsheet formula triggers in every string
//! field of every answer. Tables must show them neutralised, CSV must guard the formulas (and
//! keep the text otherwise exact), JSON and JSON lines must carry them byte for byte.
//!
//! The emulator serves real data; a rewriting proxy on 127.0.0.1 between the CLI and the
//! emulator (plain HTTP, loopback) replaces every string of every JSON answer, except the login
//! answers, with a hostile payload, and remembers what it sent.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::support::{Env, Run, small};

/// The formula triggers of OWASP's CSV-injection list, one per payload in turn.
const TRIGGERS: [&str; 6] = ["=", "+", "-", "@", "\t", "\r"];

/// Payload `number`: a formula trigger first, then CSI, OSC 8, OSC 52, C0 (BEL, BS, NUL, DEL),
/// C1 (CSI as U+009B, NEL), and the bidi override and isolates.
fn payload(number: usize) -> String {
    format!(
        "{}HYPERLINK(\"http://evil.example/{number}\")\u{1b}[2J\u{1b}[31m#{number}\u{1b}[0m \
         \u{1b}]8;;http://evil.example\u{7}link\u{1b}]8;;\u{7} \u{1b}]52;c;ZXZpbA==\u{7} \
         \u{7}\u{8}\u{0}\u{7f} \u{9b}2J\u{85} \u{202e}gpj.exe\u{2066}\u{2067}\u{2068}\u{2069}",
        TRIGGERS[number % TRIGGERS.len()]
    )
}

/// What a terminal must never receive raw: C0 and C1 controls but the newline, DEL, and the
/// bidirectional and zero-width formatting characters.
fn dangerous(ch: char) -> bool {
    (ch.is_control() && ch != '\n')
        || matches!(ch, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{061c}' | '\u{feff}')
}

/// Keys whose values route later calls (ids, hosts, the types and statuses fan-out filters on).
fn routing(key: &str) -> bool {
    key == "id"
        || key.ends_with("_id")
        || key.ends_with("Id")
        || key.ends_with("ID")
        || matches!(key, "url" | "instance_type" | "status" | "type" | "scan_type")
}

/// The proxy's shared state.
struct Shared {
    upstream: SocketAddr,
    /// Whether routing fields keep their values (fan-out commands need them).
    keep_routing: AtomicBool,
    next: AtomicUsize,
    sent: Mutex<BTreeSet<String>>,
}

impl Shared {
    fn rewrite(&self, value: &mut Value, key: &str) {
        match value {
            Value::String(text) => {
                // Numbers and booleans sent as strings are typed fields, not text.
                let typed =
                    text.parse::<f64>().is_ok() || matches!(text.to_ascii_lowercase().as_str(), "true" | "false");
                let keep = typed || (self.keep_routing.load(Ordering::SeqCst) && routing(key));
                if !keep {
                    *text = payload(self.next.fetch_add(1, Ordering::SeqCst));
                    self.sent.lock().unwrap().insert(text.clone());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.rewrite(item, key)),
            Value::Object(map) => map.iter_mut().for_each(|(key, value)| self.rewrite(value, key)),
            _ => {}
        }
    }
}

async fn forward(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let failed = |what: &str| {
        let mut response = Response::new(Full::new(Bytes::from(format!("proxy: {what}"))));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        Ok(response)
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes()) else { return failed("request body") };
    let path = parts.uri.path().to_owned();
    let Ok(stream) = tokio::net::TcpStream::connect(shared.upstream).await else { return failed("connect") };
    let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
        return failed("handshake");
    };
    tokio::spawn(connection);
    let Ok(response) = sender.send_request(Request::from_parts(parts, Full::new(body))).await else {
        return failed("send");
    };
    let (mut parts, body) = response.into_parts();
    let Ok(mut bytes) = body.collect().await.map(|body| body.to_bytes()) else { return failed("response body") };
    if parts.status.is_success()
        && !path.contains("/login")
        && let Ok(mut document) = serde_json::from_slice::<Value>(&bytes)
    {
        shared.rewrite(&mut document, "");
        bytes = Bytes::from(serde_json::to_vec(&document).expect("json serializes"));
    }
    parts.headers.insert(hyper::header::CONTENT_LENGTH, bytes.len().into());
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

/// The rewriting proxy, on its own runtime.
struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let shared = Arc::new(Shared {
            upstream,
            keep_routing: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            sent: Mutex::new(BTreeSet::new()),
        });
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("the proxy binds");
        let addr = listener.local_addr().expect("an address");
        let state = shared.clone();
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| forward(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, shared, _runtime: runtime }
    }
}

/// Every string in a JSON document, with the key it sits under.
fn strings<'a>(value: &'a Value, key: &'a str, found: &mut Vec<(&'a str, &'a str)>) {
    match value {
        Value::String(text) => found.push((key, text)),
        Value::Array(items) => items.iter().for_each(|item| strings(item, key, found)),
        Value::Object(map) => map.iter().for_each(|(key, value)| strings(value, key, found)),
        _ => {}
    }
}

/// Removes every payload found whole in `text` (a value may compose several server strings,
/// like `key=value, ...`), and returns what is left and how many were found.
fn strip_payloads(text: &str) -> (String, usize) {
    const MARK: &str = "HYPERLINK(\"http://evil.example/";
    let mut rest = String::new();
    let mut found = 0;
    let mut tail = text;
    while let Some(at) = tail.find(MARK) {
        let digits: String = tail[at + MARK.len()..].chars().take_while(char::is_ascii_digit).collect();
        let Ok(number) = digits.parse::<usize>() else { break };
        let expected = payload(number);
        let start = at.saturating_sub(1);
        // Lists of names (webhook `events`) are split on commas and trimmed by the core's
        // parser: a whitespace trigger may be gone, the rest must be whole.
        let trimmed = expected.trim_start();
        if tail[start..].starts_with(&expected) {
            rest.push_str(&tail[..start]);
            tail = &tail[start + expected.len()..];
            found += 1;
        } else if tail[at..].starts_with(trimmed) {
            rest.push_str(&tail[..at]);
            tail = &tail[at + trimmed.len()..];
            found += 1;
        } else {
            // Not whole: keep it, so the caller sees what is left of it.
            rest.push_str(&tail[..at + MARK.len()]);
            tail = &tail[at + MARK.len()..];
        }
    }
    rest.push_str(tail);
    (rest, found)
}

/// A short, escaped excerpt for failure messages.
fn excerpt(text: &str) -> String {
    format!("{:?}", text.chars().take(120).collect::<String>())
}

/// Checks JSON output: every string carrying an escape is a payload the proxy sent, byte for
/// byte (or a composition of whole payloads). Returns the keys that carried one.
fn check_json(label: &str, documents: &[Value], sent: &BTreeSet<String>) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for document in documents {
        let mut found = Vec::new();
        strings(document, "", &mut found);
        for (key, text) in found {
            if !text.chars().any(dangerous) {
                continue;
            }
            if !sent.contains(text) {
                let (rest, whole) = strip_payloads(text);
                assert!(
                    whole > 0 && !rest.chars().any(dangerous),
                    "{label}: `{key}` is not byte-exact: {}",
                    excerpt(text)
                );
            }
            keys.insert(key.to_owned());
        }
    }
    keys
}

/// Checks a table: nothing dangerous reaches stdout, and the escapes are shown visibly.
fn check_table(label: &str, run: &Run) {
    let stdout = run.ok();
    let raw: Vec<char> = stdout.chars().filter(|ch| dangerous(*ch)).collect();
    assert!(raw.is_empty(), "{label}: raw control characters {raw:?} in {}", excerpt(stdout));
    assert!(stdout.contains("\\x1b]52;c;ZXZpbA==\\x07"), "{label}: the OSC 52 sequence is shown escaped");
    assert!(stdout.contains("\\u{202e}"), "{label}: the bidi override is shown escaped");
    let stderr: Vec<char> = run.stderr.chars().filter(|ch| dangerous(*ch)).collect();
    assert!(stderr.is_empty(), "{label}: raw control characters {stderr:?} on stderr");
}

/// Checks CSV: no cell starts with a formula trigger (numbers aside); a hostile cell is the payload
/// with a leading `'`, otherwise exact. Returns the columns that carried one.
fn check_csv(label: &str, text: &str) -> BTreeSet<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("a csv header").iter().map(str::to_owned).collect();
    let mut columns = BTreeSet::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap_or_else(|error| panic!("{label}: invalid csv ({error})"));
        rows += 1;
        for (index, cell) in record.iter().enumerate() {
            let first = cell.chars().next();
            if matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0')) {
                let number = cell.parse::<f64>().is_ok();
                assert!(number, "{label}: an unguarded formula in `{}`: {}", headers[index], excerpt(cell));
            }
            if cell.chars().any(dangerous) {
                // A payload or a composition of whole payloads, with `'` before a leading trigger.
                let text = cell.strip_prefix('\'').unwrap_or(cell);
                let (rest, whole) = strip_payloads(text);
                assert!(
                    whole > 0 && !rest.chars().any(dangerous),
                    "{label}: `{}` is altered beyond the guard: {}",
                    headers[index],
                    excerpt(cell)
                );
                columns.insert(headers[index].clone());
            }
        }
    }
    assert!(rows > 0, "{label}: no csv rows");
    columns
}

/// A command and whether the proxy keeps the routing fields for it.
struct Case {
    args: Vec<String>,
    keep_routing: bool,
    /// `export`: the format is `--format`, the file is stdout, and there is no table.
    export: bool,
    /// `api`: a JSON document whatever the format.
    document: bool,
}

fn case(args: &[&str], keep_routing: bool) -> Case {
    Case { args: args.iter().map(|arg| (*arg).to_owned()).collect(), keep_routing, export: false, document: false }
}

/// Checks that JSON text written to stdout is safe on a terminal: C0 controls are escaped by
/// JSON itself, and DEL, C1 and bidi characters are written as `\uXXXX`.
fn check_json_text(label: &str, stdout: &str) {
    let raw: Vec<char> = stdout.chars().filter(|ch| dangerous(*ch)).collect();
    assert!(raw.is_empty(), "{label}: raw control or bidi characters {raw:?} in the json text");
}

#[test]
fn hostile_strings_in_every_field_are_neutralised_in_tables_and_csv_and_exact_in_json() {
    let env = Env::start(small().with_tls(false));
    let proxy = Proxy::start(env.emu.addr());
    let base_url =
        env.emu.base_url().replace(&format!(":{}/", env.emu.addr().port()), &format!(":{}/", proxy.addr.port()));
    assert!(base_url.starts_with("http://") && base_url.contains(&proxy.addr.port().to_string()), "{base_url}");

    // Ids the commands need, read from the emulator directly (not through the proxy).
    let user = env.emu.users().first().and_then(|user| user.username.clone()).expect("a seeded user");
    let mut direct = env.command(&["scans", "vulnerability", "--instance", "cc100003", "-o", "json"]);
    direct.env("CYRISMA_BASE_URL", env.emu.base_url());
    let scans = env.run_command(direct, None).json();
    let scan = scans[0]["scan_id"].as_str().expect("a scan id").to_owned();
    let mut direct = env.command(&["assets", "list", "--instance", "cc100003", "-o", "json"]);
    direct.env("CYRISMA_BASE_URL", env.emu.base_url());
    let assets = env.run_command(direct, None).json();
    let asset = assets[0]["assetId"].as_str().or(assets[0]["id"].as_str()).expect("an asset id").to_owned();

    // A webhook registration to list (registered directly, not through the proxy).
    let mut direct = env.command(&[
        "webhooks",
        "create",
        "--url",
        "http://127.0.0.1:9/hook",
        "--events",
        "user.created",
        "-o",
        "json",
    ]);
    direct.env("CYRISMA_BASE_URL", env.emu.base_url());
    env.run_command(direct, None).json();

    let cases = vec![
        // Every string, ids and hosts included.
        case(&["instances", "list"], false),
        case(&["instances", "get", "cc100003"], false),
        case(&["users", "list"], false),
        case(&["users", "get", &user], false),
        // Ids, hosts, types and statuses kept: later calls and fan-out filters need them.
        case(&["scans", "vulnerability", "--instance", "cc100003"], true),
        case(&["scans", "vulnerability", "--instance", "cc100003", "--scan", &scan], true),
        case(&["scans", "data", "--instance", "cc100003"], true),
        case(&["scans", "baseline", "--instance", "cc100003"], true),
        case(&["dashboards", "overall", "--instance", "cc100003"], true),
        case(&["dashboards", "data", "--instance", "cc100003"], true),
        case(&["dashboards", "baseline", "--instance", "cc100003"], true),
        case(&["dashboards", "vulnerability", "--instance", "cc100003"], true),
        case(&["dashboards", "cves", "--instance", "cc100003"], true),
        case(&["assets", "list", "--instance", "cc100003"], true),
        case(&["assets", "show", "--instance", "cc100003", &asset], true),
        case(&["report"], true),
        case(&["usage"], true),
        Case { export: true, ..case(&["export", "findings", "--instance", "cc100003,cc100005", "--out", "-"], true) },
        case(&["webhooks", "list"], false),
        Case { document: true, ..case(&["api", "GET", "/partner/instances/info/"], false) },
    ];

    let mut figures: BTreeMap<String, usize> = BTreeMap::new();
    let mut runs = 0;
    for case in &cases {
        proxy.shared.keep_routing.store(case.keep_routing, Ordering::SeqCst);
        let name = case.args.join(" ");
        let formats: &[&str] = if case.export { &["json", "jsonl", "csv"] } else { &["table", "json", "jsonl", "csv"] };
        let mut fields = BTreeSet::new();
        for format in formats {
            let mut args: Vec<&str> = case.args.iter().map(String::as_str).collect();
            args.extend(if case.export { ["--format", format] } else { ["-o", format] });
            let mut command = env.command(&args);
            command.env("CYRISMA_BASE_URL", &base_url);
            let run = env.run_command(command, None);
            runs += 1;
            let label = format!("`cyrisma {}`", args.join(" "));
            let sent = proxy.shared.sent.lock().unwrap().clone();
            match *format {
                _ if case.document => {
                    check_json_text(&label, run.ok());
                    let keys = check_json(&label, &[run.json()], &sent);
                    assert!(!keys.is_empty(), "{label}: no hostile string reached the output");
                    fields.extend(keys);
                }
                "table" => check_table(&label, &run),
                "json" => {
                    if !case.export {
                        check_json_text(&label, run.ok());
                    }
                    let keys = check_json(&label, &[run.json()], &sent);
                    assert!(!keys.is_empty(), "{label}: no hostile string reached the output");
                    fields.extend(keys);
                }
                "jsonl" => {
                    if !case.export {
                        check_json_text(&label, run.ok());
                    }
                    let documents: Vec<Value> = run
                        .ok()
                        .lines()
                        .map(|line| {
                            serde_json::from_str(line).unwrap_or_else(|error| panic!("{label}: {error}: {line}"))
                        })
                        .collect();
                    let keys = check_json(&label, &documents, &sent);
                    assert!(!keys.is_empty(), "{label}: no hostile string reached the output");
                    fields.extend(keys);
                }
                _ => {
                    let columns = check_csv(&label, run.ok());
                    assert!(!columns.is_empty(), "{label}: no hostile string reached the csv");
                    fields.extend(columns);
                }
            }
        }
        figures.insert(name, fields.len());
    }
    // On a real terminal (a pty from util-linux `script`), every format is safe to show, and so
    // is an export written to the terminal (`--out -`).
    let mut terminal_runs = 0;
    if std::process::Command::new("script").arg("--version").output().is_ok_and(|output| output.status.success()) {
        let bin = crate::support::BIN;
        let lists =
            ["table", "csv", "json", "jsonl"].map(|format| (format, format!("{bin} instances list -o {format}")));
        let exports = ["csv", "json", "jsonl"].map(|format| {
            (format, format!("{bin} export findings --instance cc100003,cc100005 --out - --format {format}"))
        });
        for (format, line) in lists.into_iter().chain(exports) {
            // An export follows instance hosts and scan ids from the answers: keep those.
            proxy.shared.keep_routing.store(line.contains(" export "), Ordering::SeqCst);
            let mut command = env.command_with("script", &["-qec", &line, "/dev/null"]);
            command.env("CYRISMA_BASE_URL", &base_url);
            let run = env.run_command(command, None);
            let label = format!("`{}` on a terminal", line.replacen(bin, "cyrisma", 1));
            assert_eq!(run.code, 0, "{label}: {}", excerpt(&run.stdout));
            // The pty turns `\n` into `\r\n`; any other CR would come from the data.
            let text = run.stdout.replace("\r\n", "\n");
            let raw: Vec<char> = text.chars().filter(|ch| dangerous(*ch)).collect();
            assert!(
                raw.is_empty(),
                "{label}: {} raw control or bidi characters, first {:?}",
                raw.len(),
                &raw[..raw.len().min(16)]
            );
            let escaped =
                if format.starts_with("json") { "\\u001b]52;c;ZXZpbA==\\u0007" } else { "\\x1b]52;c;ZXZpbA==\\x07" };
            assert!(text.contains(escaped), "{label}: the OSC 52 sequence is shown escaped: {}", excerpt(&text));
            terminal_runs += 1;
        }
    } else {
        eprintln!("hostile strings: `script` is not installed; the terminal runs are skipped");
    }

    let total: usize = figures.values().sum();
    eprintln!(
        "hostile strings: {} commands, {runs} runs, {total} hostile fields checked (field x command): {figures:?}; \
         {} payloads sent; {terminal_runs} runs on a pty",
        cases.len(),
        proxy.shared.sent.lock().unwrap().len()
    );
}
