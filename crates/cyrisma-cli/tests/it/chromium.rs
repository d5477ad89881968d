//! Headless Chromium driven over the DevTools protocol, for tests that open the report pages in
//! a real browser: a fresh profile, every network request refused (host resolution fails, a
//! dead proxy, and each request the page makes is failed and recorded through `Fetch`), console
//! errors and exceptions collected, and the process killed when the test ends.
//!
//! Chromium is Debian's `chromium` package (`.ci/run` installs it); `CYRISMA_CHROMIUM` names
//! another binary. Every wait is bounded: a read times out after a minute and no loop reads more
//! than a fixed number of messages.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// At most this many protocol messages are read while waiting for one answer or event.
const MAX_MESSAGES: usize = 20_000;
/// How long one read may block.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The browser binary.
pub(crate) fn binary() -> PathBuf {
    std::env::var_os("CYRISMA_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What happened while a page loaded.
#[derive(Debug, Default)]
pub(crate) struct PageLog {
    /// Every request the page tried to make (its own document excepted).
    pub(crate) requests: Vec<String>,
    /// Console errors, exceptions and error log entries (CSP violations among them).
    pub(crate) errors: Vec<String>,
}

/// A running headless Chromium with one page attached.
pub(crate) struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    log: PageLog,
    allowed: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts Chromium with a fresh profile and attaches to a blank page with requests
    /// intercepted and errors recorded.
    pub(crate) fn start() -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "{} is missing: install Debian's chromium package (`.ci/run` does) or set CYRISMA_CHROMIUM",
            binary.display()
        );
        let profile = tempfile::tempdir().expect("a profile directory");
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--mute-audio",
                // Nothing may reach a network: every name fails to resolve, and every proxied
                // request goes to a closed port.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=127.0.0.1:9",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let mut browser_guard = Guard(Some(child));
        // Chromium writes its port and browser path into the profile once it listens.
        let active = profile.path().join("DevToolsActivePort");
        let mut endpoint = None;
        for _ in 0..600 {
            if let Ok(text) = std::fs::read_to_string(&active) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    endpoint = Some((port.trim().to_owned(), path.trim().to_owned()));
                    break;
                }
            }
            if let Some(status) = browser_guard.0.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                panic!("chromium exited at start ({status})");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let (port, path) = endpoint.expect("chromium announced its DevTools port within a minute");
        let stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("a port"))).expect("connects");
        stream.set_read_timeout(Some(READ_TIMEOUT)).expect("a read timeout");
        let (socket, _) =
            tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream).expect("the DevTools handshake");
        let mut browser = Browser {
            child: browser_guard.0.take().expect("the child"),
            socket,
            session: String::new(),
            next_id: 0,
            log: PageLog::default(),
            allowed: Vec::new(),
            _profile: profile,
        };
        let target = browser.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().expect("a target id").to_owned();
        let attached = browser.call(None, "Target.attachToTarget", json!({ "targetId": target_id, "flatten": true }));
        browser.session = attached["sessionId"].as_str().expect("a session id").to_owned();
        for (method, params) in [
            ("Page.enable", json!({})),
            ("Runtime.enable", json!({})),
            ("Log.enable", json!({})),
            ("Network.enable", json!({})),
            ("Fetch.enable", json!({ "patterns": [{ "urlPattern": "*" }] })),
            (
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
            ),
        ] {
            browser.page(method, params);
        }
        browser
    }

    /// Sends a command (to the page's session, or to the browser) and returns its result,
    /// handling the events that arrive meanwhile.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = Value::from(session);
        }
        self.socket.send(Message::text(message.to_string())).expect("a command is sent");
        for _ in 0..MAX_MESSAGES {
            let value = self.receive();
            if value["id"].as_u64() == Some(id) {
                assert!(value.get("error").is_none(), "{method} failed: {value}");
                return value["result"].clone();
            }
            self.event(&value);
        }
        panic!("no answer to {method}");
    }

    fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params)
    }

    fn receive(&mut self) -> Value {
        loop {
            match self.socket.read().expect("a DevTools message within a minute") {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("json"),
                Message::Close(_) => panic!("chromium closed the DevTools connection"),
                _ => continue,
            }
        }
    }

    /// Records what an event says; answers paused requests (only the allowed documents load).
    fn event(&mut self, value: &Value) {
        let params = &value["params"];
        match value["method"].as_str().unwrap_or_default() {
            "Fetch.requestPaused" => {
                let url = params["request"]["url"].as_str().unwrap_or_default().to_owned();
                let request_id = params["requestId"].clone();
                let session = self.session.clone();
                if self.allowed.contains(&url) {
                    self.send_only(&session, "Fetch.continueRequest", json!({ "requestId": request_id }));
                } else {
                    self.log.requests.push(url);
                    self.send_only(
                        &session,
                        "Fetch.failRequest",
                        json!({ "requestId": request_id, "errorReason": "BlockedByClient" }),
                    );
                }
            }
            "Network.requestWillBeSent" => {
                let url = params["request"]["url"].as_str().unwrap_or_default().to_owned();
                if !self.allowed.contains(&url) && !self.log.requests.contains(&url) {
                    self.log.requests.push(url);
                }
            }
            "Runtime.consoleAPICalled" if params["type"] == "error" || params["type"] == "assert" => {
                self.log.errors.push(format!("console: {}", params["args"]));
            }
            "Runtime.exceptionThrown" => self.log.errors.push(format!("exception: {}", params["exceptionDetails"])),
            "Log.entryAdded" if params["entry"]["level"] == "error" => {
                self.log.errors.push(format!("log: {}", params["entry"]["text"]));
            }
            _ => {}
        }
    }

    /// Sends a command without waiting for its answer (answers without a waiter are skipped).
    fn send_only(&mut self, session: &str, method: &str, params: Value) {
        self.next_id += 1;
        let message = json!({ "id": self.next_id, "method": method, "params": params, "sessionId": session });
        self.socket.send(Message::text(message.to_string())).expect("a command is sent");
    }

    /// Opens a local file and waits for its load event; returns what happened meanwhile.
    pub(crate) fn open(&mut self, file: &Path) -> PageLog {
        let url = format!("file://{}", file.canonicalize().expect("the page exists").display());
        self.allowed = vec![url.clone()];
        self.log = PageLog::default();
        self.page("Page.navigate", json!({ "url": url }));
        let mut loaded = false;
        for _ in 0..MAX_MESSAGES {
            let value = self.receive();
            if value["method"] == "Page.loadEventFired" {
                loaded = true;
                break;
            }
            self.event(&value);
        }
        assert!(loaded, "{url} did not finish loading");
        // Anything the page does right after its load event arrives before this answer.
        self.eval("document.readyState");
        std::mem::take(&mut self.log)
    }

    /// Evaluates an expression in the page and returns its value.
    pub(crate) fn eval(&mut self, expression: &str) -> Value {
        let result = self.page("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// The page's visible text.
    pub(crate) fn text(&mut self) -> String {
        self.eval("document.body.innerText").as_str().unwrap_or_default().to_owned()
    }

    /// The text of each row of the tables matched by `selector`, cells joined by tabs.
    pub(crate) fn rows(&mut self, selector: &str) -> Vec<Vec<String>> {
        let expression = format!(
            "Array.from(document.querySelectorAll({})).map(row => Array.from(row.cells).map(cell => cell.innerText.trim()))",
            serde_json::to_string(selector).expect("json")
        );
        serde_json::from_value(self.eval(&expression)).expect("rows of cells")
    }

    /// A PNG of the whole page.
    pub(crate) fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let result = self.page("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        let data = base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().expect("image data"))
            .expect("base64");
        assert!(data.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(path.parent().expect("a directory")).expect("the screenshot directory");
        std::fs::write(path, data).expect("the screenshot is written");
    }

    /// The page printed to PDF, as "Save as PDF" in the print dialog gives it.
    pub(crate) fn print_pdf(&mut self) -> Vec<u8> {
        use base64::Engine as _;
        let result = self.page("Page.printToPDF", json!({ "printBackground": true, "preferCSSPageSize": true }));
        base64::engine::general_purpose::STANDARD.decode(result["data"].as_str().expect("pdf data")).expect("base64")
    }

    /// Counts of elements matching each selector.
    pub(crate) fn counts(&mut self, selectors: &[&str]) -> BTreeMap<String, u64> {
        selectors
            .iter()
            .map(|selector| {
                let expression =
                    format!("document.querySelectorAll({}).length", serde_json::to_string(selector).expect("json"));
                ((*selector).to_owned(), self.eval(&expression).as_u64().unwrap_or(0))
            })
            .collect()
    }
}

/// Kills the child if start-up fails half-way.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
