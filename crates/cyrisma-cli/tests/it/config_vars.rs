//! Every `CYRISMA_*` variable of `docs/configuration.md` has a case here: the shared connection
//! settings are refused out of range (exit 2, the error naming the variable and the range of
//! `cyrisma_transport::Setting::allowed`) and honoured in range against the emulator; the CLI's
//! own variables show their effect. `bindings/python/tests/test_config.py` runs the same ranges
//! through Python, from the same table of the doc.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

use cyrisma_transport::Setting;

use crate::support::{Env, Run};

/// The doc, read at run time so that a new variable without a case fails here.
fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
    std::fs::read_to_string(path).expect("docs/configuration.md")
}

/// Every `CYRISMA_*` name in the doc.
fn doc_variables(doc: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("CYRISMA_") {
        let tail = &rest[start..];
        let end = tail.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).unwrap_or(tail.len());
        let name = tail[..end].trim_end_matches('_').to_owned();
        if name.len() > "CYRISMA_".len() && !names.contains(&name) {
            names.push(name);
        }
        rest = &tail[end..];
    }
    names
}

/// The rows of the doc's shared table: (variable, allowed).
fn shared_rows(doc: &str) -> Vec<(String, String)> {
    let section = doc.split("## Settings shared by the CLI, Rust and Python").nth(1).expect("the shared section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with("| `CYRISMA_"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[5].to_owned())
        })
        .collect()
}

/// What a run with the variable set to a value must show.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit 0.
    Works,
    /// A usage error (exit 2) naming the variable and what its setting allows.
    Refused,
    /// A failure (any non-zero exit): the value was used.
    Fails,
}

/// A shared setting's case: values and what they give, with the command to run.
struct Case {
    var: &'static str,
    values: &'static [(&'static str, Expect)],
    command: &'static [&'static str],
}

const USERS: &[&str] = &["users", "list", "-o", "json"];
const REPORT: &[&str] = &["report", "-o", "json"];
const SECONDS: &[(&str, Expect)] =
    &[("0", Expect::Refused), ("-1", Expect::Refused), ("1000001", Expect::Refused), ("1000000", Expect::Works)];
const REQUESTS: &[(&str, Expect)] = &[("0", Expect::Refused), ("65537", Expect::Refused), ("65536", Expect::Works)];

/// The shared settings. The harness sets the connection variables to the emulator's, so the
/// first six work with their harness value (every other test relies on it) and fail when
/// changed.
const SHARED: &[Case] = &[
    Case { var: "CYRISMA_BASE_URL", values: &[("http://api.example.com/app", Expect::Fails)], command: USERS },
    Case { var: "CYRISMA_API_KEY", values: &[("00000000-0000-4000-8000-000000000bad", Expect::Fails)], command: USERS },
    Case { var: "CYRISMA_API_SECRET", values: &[("not-the-secret", Expect::Fails)], command: USERS },
    Case { var: "CYRISMA_RESOLVE", values: &[("nonsense", Expect::Refused)], command: USERS },
    Case { var: "CYRISMA_CA_CERT", values: &[("/nonexistent/ca.pem", Expect::Fails)], command: USERS },
    Case { var: "CYRISMA_ALLOWED_DOMAIN", values: &[("example.org", Expect::Fails)], command: REPORT },
    Case { var: "CYRISMA_TIMEOUT", values: SECONDS, command: USERS },
    Case { var: "CYRISMA_CONNECT_TIMEOUT", values: SECONDS, command: USERS },
    Case { var: "CYRISMA_ATTEMPT_TIMEOUT", values: SECONDS, command: USERS },
    Case {
        var: "CYRISMA_MAX_RETRIES",
        values: &[("-1", Expect::Refused), ("101", Expect::Refused), ("100", Expect::Works)],
        command: USERS,
    },
    Case {
        var: "CYRISMA_CONCURRENCY",
        values: &[("0", Expect::Refused), ("1025", Expect::Refused), ("1024", Expect::Works)],
        command: REPORT,
    },
    Case { var: "CYRISMA_MAX_CONCURRENCY", values: REQUESTS, command: REPORT },
    Case { var: "CYRISMA_MAX_CONCURRENCY_PER_HOST", values: REQUESTS, command: REPORT },
    Case {
        var: "CYRISMA_MAX_BODY_SIZE",
        values: &[
            ("0", Expect::Refused),
            ("1099511627777", Expect::Refused),
            ("16", Expect::Fails),
            ("1099511627776", Expect::Works),
        ],
        command: USERS,
    },
    // Its effect is seen on the wire by `the_user_agent_variable_reaches_the_server`.
    Case { var: "CYRISMA_USER_AGENT", values: &[("config-test/1", Expect::Works)], command: USERS },
];

/// The CLI's own variables, each shown by a test of this file or named elsewhere.
const CLI_ONLY: &[(&str, &str)] = &[
    ("CYRISMA_PROFILE", "cli_variables_take_effect"),
    ("CYRISMA_CONFIG_DIR", "cli_variables_take_effect"),
    ("CYRISMA_OUTPUT", "cli_variables_take_effect"),
    ("CYRISMA_QUIET", "cli_variables_take_effect"),
    ("CYRISMA_NO_PROGRESS", "cli_variables_take_effect"),
    ("CYRISMA_EMULATOR", "cli_variables_take_effect"),
    ("CYRISMA_EMULATOR_HISTORY", "cli_variables_take_effect"),
    ("CYRISMA_EMULATOR_PERIOD", "history.rs: snapshots of successive periods are a month apart"),
    (
        "CYRISMA_HISTORY_DIR",
        "history.rs: `history runs` reads the dataset it names; the profile's `history_dir` below it",
    ),
    ("CYRISMA_REPORT_TITLE", "report_html.rs: the variable beats the profile's `report_title`"),
    ("CYRISMA_REPORT_MSP_NAME", "report_html.rs: the variable beats the profile's `report_msp_name`"),
    ("CYRISMA_REPORT_LOGO", "report_html.rs: the variable names the logo embedded in every page"),
    ("CYRISMA_COLOR", "cli_variables_take_effect"),
    ("CYRISMA_KEYRING", "credentials.rs: the file store is used without a session bus; `off` is its switch"),
    ("CYRISMA_WEBHOOK_SECRET", "webhooks.rs: `webhooks listen` signing secret"),
    ("CYRISMA_FAILPOINT", "credentials.rs and rotation.rs: failpoints of the project's own tests"),
];

fn run_with(env: &Env, command: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut prepared = env.command(command);
    // No retry of a refused call: a failure shows at once.
    prepared.env("CYRISMA_MAX_RETRIES", "0");
    for (name, value) in vars {
        prepared.env(name, value);
    }
    env.run_command(prepared, None)
}

fn check(run: &Run, var: &str, value: &str, expect: Expect) {
    let context = format!("{var}={value}:\n{}", run.transcript());
    match expect {
        Expect::Works => assert_eq!(run.code, 0, "{context}"),
        Expect::Fails => assert_ne!(run.code, 0, "{context}"),
        Expect::Refused => {
            let setting = Setting::from_var(var).expect("a shared setting");
            assert_eq!(run.code, 2, "{context}");
            assert!(run.stderr.contains(&format!("`{var}`")), "{context}");
            assert!(run.stderr.contains(setting.allowed()), "{context}");
        }
    }
}

#[test]
fn every_documented_variable_has_a_case_and_the_shared_table_matches_the_reader() {
    let doc = doc();
    let rows = shared_rows(&doc);
    assert_eq!(rows.len(), Setting::ALL.len(), "one row per shared setting: {rows:?}");
    for (var, allowed) in &rows {
        let setting = Setting::from_var(var).unwrap_or_else(|| panic!("{var} is not a setting of the reader"));
        assert_eq!(allowed, setting.allowed(), "the doc's range of {var}");
        assert!(SHARED.iter().any(|case| case.var == var), "{var} has no case");
    }
    for var in doc_variables(&doc) {
        let shared = rows.iter().any(|(name, _)| *name == var);
        let cli_only = CLI_ONLY.iter().any(|(name, _)| *name == var);
        assert!(shared != cli_only, "{var} needs exactly one case (shared {shared}, cli only {cli_only})");
    }
    for case in SHARED {
        assert!(rows.iter().any(|(name, _)| name == case.var), "{} is not in the doc's table", case.var);
    }
}

#[test]
fn shared_variables_are_honoured_with_their_ranges() {
    let env = Env::small();
    for case in SHARED {
        for (value, expect) in case.values {
            let run = run_with(&env, case.command, &[(case.var, value)]);
            check(&run, case.var, value, *expect);
        }
    }
}

#[test]
fn flags_and_profile_keys_are_named_in_their_errors() {
    let env = Env::small();
    let run = run_with(&env, &["users", "list", "--concurrency", "1025"], &[]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("`--concurrency`") && run.stderr.contains("from 1 to 1024"), "{}", run.transcript());
    assert!(!run.stderr.contains("CYRISMA_CONCURRENCY"), "{}", run.transcript());
    // The flag wins over the variable, and the variable over the profile.
    let run = run_with(&env, &["users", "list", "--timeout", "5"], &[("CYRISMA_TIMEOUT", "0")]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), "[profiles.default]\nconcurrency = 0\ntimeout = 0.0\n")
        .unwrap();
    let run = run_with(&env, &["users", "list"], &[]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("key `timeout` of profile `default`"), "{}", run.transcript());
    let run = run_with(&env, &["users", "list"], &[("CYRISMA_TIMEOUT", "30"), ("CYRISMA_CONCURRENCY", "2")]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

/// A one-connection HTTP server on loopback that records the request head and answers 503.
fn record_one_request() -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        // Bounded: the head ends at an empty line, or at the end of the stream.
        for _ in 0..200 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let _ = reader
            .get_mut()
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        head
    });
    (port, server)
}

#[test]
fn the_user_agent_variable_reaches_the_server() {
    let env = Env::small();
    let (port, server) = record_one_request();
    let base_url = format!("http://127.0.0.1:{port}/app");
    let run = run_with(
        &env,
        USERS,
        &[("CYRISMA_BASE_URL", &base_url), ("CYRISMA_RESOLVE", ""), ("CYRISMA_USER_AGENT", "config-test/1")],
    );
    // The server answered 503, or the CLI never connected: unblock the accept in that case.
    let _ = TcpStream::connect(("127.0.0.1", port));
    let head = server.join().unwrap().to_ascii_lowercase();
    assert_ne!(run.code, 0, "{}", run.transcript());
    assert!(head.contains("user-agent: config-test/1"), "{head}\n{}", run.transcript());
}

#[test]
fn cli_variables_take_effect() {
    let env = Env::small();
    let json = |run: &Run| serde_json::from_str::<serde_json::Value>(&run.stdout).ok();
    // CYRISMA_OUTPUT: the format, and a bad one is a usage error.
    let run = run_with(&env, &["users", "list"], &[("CYRISMA_OUTPUT", "json")]);
    assert!(json(&run).is_some_and(|value| value.is_array()), "{}", run.transcript());
    assert_eq!(run_with(&env, &["users", "list"], &[("CYRISMA_OUTPUT", "yaml")]).code, 2);
    // CYRISMA_PROFILE: the profile shown by `auth status`.
    let run = run_with(&env, &["auth", "status", "-o", "json"], &[("CYRISMA_PROFILE", "staging")]);
    assert_eq!(json(&run).and_then(|value| value["profile"].as_str().map(str::to_owned)).as_deref(), Some("staging"));
    // CYRISMA_CONFIG_DIR: another dir's config.toml is read.
    let other = env.home.path().join("other-config");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("config.toml"), "[profiles.default]\noutput = \"json\"\n").unwrap();
    let run = run_with(&env, &["users", "list"], &[("CYRISMA_CONFIG_DIR", other.to_str().unwrap())]);
    assert!(json(&run).is_some(), "{}", run.transcript());
    // CYRISMA_EMULATOR: the embedded emulator, announced on stderr unless CYRISMA_QUIET.
    let run = run_with(&env, &["auth", "status", "-o", "json"], &[("CYRISMA_EMULATOR", "true")]);
    assert_eq!(
        json(&run).and_then(|value| value["profile"].as_str().map(str::to_owned)).as_deref(),
        Some("(emulator)")
    );
    assert!(run.stderr.contains("embedded emulator"), "{}", run.transcript());
    let run = run_with(&env, &["auth", "status"], &[("CYRISMA_EMULATOR", "true"), ("CYRISMA_QUIET", "true")]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(!run.stderr.contains("embedded emulator"), "{}", run.transcript());
    // CYRISMA_EMULATOR_HISTORY: the embedded emulator starts with a past of monthly scans.
    let scans = |periods: &str| {
        let run = run_with(
            &env,
            &["scans", "vulnerability", "--instance", "cc100004", "-o", "json"],
            &[("CYRISMA_EMULATOR", "true"), ("CYRISMA_EMULATOR_HISTORY", periods)],
        );
        json(&run).and_then(|value| value.as_array().map(Vec::len)).unwrap_or_else(|| panic!("{}", run.transcript()))
    };
    assert!(scans("2") > scans("0"), "two past periods add scans");
    let run = run_with(&env, USERS, &[("CYRISMA_EMULATOR", "true"), ("CYRISMA_EMULATOR_HISTORY", "many")]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    // Booleans and the colour choice take only their documented values.
    for (var, good, bad) in [
        ("CYRISMA_QUIET", "false", "maybe"),
        ("CYRISMA_NO_PROGRESS", "true", "maybe"),
        ("CYRISMA_COLOR", "never", "pink"),
    ] {
        assert_eq!(run_with(&env, USERS, &[(var, good)]).code, 0, "{var}={good}");
        let run = run_with(&env, USERS, &[(var, bad)]);
        assert_eq!(run.code, 2, "{var}={bad}: {}", run.transcript());
    }
    // CYRISMA_COLOR=always colours the error report even with NO_COLOR set.
    let run = run_with(&env, USERS, &[("CYRISMA_COLOR", "always"), ("CYRISMA_API_SECRET", "not-the-secret")]);
    assert!(run.stderr.contains('\u{1b}'), "{}", run.transcript());
}
