//! Hostile input on stable: the fuzz corpora replayed through the fuzz harness, 10,000-level
//! nesting for every endpoint, and a wrong-typed value in every field of every success fixture.
//!
//! `fuzz/harness.rs` is the code libFuzzer runs (`cargo +nightly fuzz run <target>`); this test
//! includes the same file, so every corpus input (seeds and anything the fuzzer kept) is checked
//! in CI without nightly.

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

use cyrisma_core::ResponseError;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file of `fuzz/corpus/<target>/`.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = repo_root().join("fuzz/corpus").join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the `{target}` corpus has only {} inputs", files.len());
    files
}

#[test]
fn the_harness_covers_every_endpoint_in_contract_order() {
    let harness: Vec<&str> = harness::PARSERS.iter().map(|(name, _)| *name).collect();
    let contract: Vec<&str> = cyrisma_core::api::ENDPOINTS.iter().map(|metadata| metadata.name).collect();
    assert_eq!(harness, contract);
}

/// Every fixture of every endpoint (`tests/fixtures/<resource>/<endpoint>/<status>-*`) as a
/// `responses` input: the header line `<resource>.<endpoint> <status>`, then the body. These
/// are seeds too (`fuzz/run-all.sh` writes the same inputs for libFuzzer), so a new endpoint's
/// fixtures seed it without a copy in `fuzz/corpus/responses/`.
fn fixture_inputs() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found = Vec::new();
    for (name, _) in harness::PARSERS {
        let dir = root.join(name.replace('.', "/"));
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let status = file.split('-').next().unwrap_or_default();
            let mut input = format!("{name} {status}\n").into_bytes();
            input.extend(std::fs::read(&path).unwrap());
            found.push((path, input));
        }
    }
    found.sort();
    found
}

#[test]
fn the_responses_corpus_replays_and_reaches_every_endpoint() {
    let mut parsed = vec![0usize; harness::PARSERS.len()];
    let mut rejected = vec![0usize; harness::PARSERS.len()];
    let fixtures = fixture_inputs();
    assert!(fixtures.len() >= harness::PARSERS.len(), "only {} fixtures", fixtures.len());
    for (path, input) in &fixtures {
        let file = path.display();
        let header = input.split(|byte| *byte == b'\n').next().unwrap();
        let status = std::str::from_utf8(header).unwrap().rsplit_once(' ').unwrap().1;
        assert!(harness::exact_status(status.as_bytes()).is_some(), "{file}: name it `<status>-...`");
        let (index, ..) = harness::split_response_input(input).unwrap_or_else(|| panic!("{file}: no endpoint"));
        match harness::responses(input).unwrap_or_else(|| panic!("{file}: no header line")) {
            harness::Outcome::Parsed => parsed[index] += 1,
            harness::Outcome::Rejected => rejected[index] += 1,
        }
    }
    for (path, input) in corpus("responses") {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = harness::responses(&input).unwrap_or_else(|| panic!("{file}: no header line"));
        // Seeds are keyed by name: the header names an endpoint and a status exactly, and the
        // file is named after both (`get_instance-404-...`).
        let header = input.split(|byte| *byte == b'\n').next().unwrap();
        let header = std::str::from_utf8(header).unwrap_or_else(|_| panic!("{file}: header is not utf-8"));
        let (name, status) = header.rsplit_once(' ').unwrap_or_else(|| panic!("{file}: header `{header}`"));
        let index = harness::endpoint_index(name.as_bytes()).unwrap_or_else(|| panic!("{file}: no endpoint `{name}`"));
        assert!(harness::exact_status(status.as_bytes()).is_some(), "{file}: status `{status}`");
        let (_, endpoint) = name.split_once('.').unwrap();
        assert!(file.starts_with(&format!("{endpoint}-{status}-")), "{file}: name it `{endpoint}-{status}-...`");
        assert_eq!(harness::split_response_input(&input).map(|(index, ..)| index), Some(index));
        match outcome {
            harness::Outcome::Parsed => parsed[index] += 1,
            harness::Outcome::Rejected => rejected[index] += 1,
        }
    }
    for (index, (name, _)) in harness::PARSERS.iter().enumerate() {
        assert!(parsed[index] > 0, "no corpus input or fixture parses as `{name}`");
        assert!(rejected[index] > 0, "no corpus input or fixture is refused by `{name}`");
    }
}

/// A header that names no endpoint or status (what the fuzzer makes of a seed) still picks one,
/// and an input without a header line is skipped.
#[test]
fn responses_inputs_without_an_exact_header_still_pick_an_endpoint() {
    let (index, status, body) = harness::split_response_input(b"users.get_user 404\n{}").unwrap();
    assert_eq!((harness::PARSERS[index].0, status, body), ("users.get_user", 404, &b"{}"[..]));
    let (index, status, _) = harness::split_response_input(b"users.get_usr 4x4\n{}").unwrap();
    assert!(index < harness::PARSERS.len());
    assert!(harness::STATUSES.contains(&status));
    assert_eq!(harness::split_response_input(b"users.get_user 404 {}"), None);
    assert_eq!(harness::responses(b"no header"), None);
    assert_eq!(harness::exact_status(b"1000"), None);
    assert_eq!(harness::exact_status(b"099"), None);
}

#[test]
fn the_model_corpora_replay() {
    for (target, run) in [
        ("scan_detail", harness::scan_detail as fn(&[u8]) -> harness::Outcome),
        ("asset_list", harness::asset_list),
        ("instance_list", harness::instance_list),
        ("webhook_event", harness::webhook_event),
    ] {
        let outcomes: Vec<_> = corpus(target).iter().map(|(_, input)| run(input)).collect();
        assert!(outcomes.contains(&harness::Outcome::Parsed), "`{target}`: nothing parses");
        assert!(outcomes.contains(&harness::Outcome::Rejected), "`{target}`: nothing is refused");
    }
}

#[test]
fn the_form_encoder_and_webhook_corpora_replay() {
    for (_, input) in corpus("form_encoder") {
        harness::form_encoder(&input);
    }
    for (_, input) in corpus("webhook_verify") {
        harness::webhook_verify(&input);
    }
}

#[test]
fn ten_thousand_levels_of_nesting_are_a_typed_error_for_every_endpoint() {
    let depth = 10_000;
    let arrays = [vec![b'['; depth], vec![b']'; depth]].concat();
    let objects = ["{\"a\":".repeat(depth), "1".into(), "}".repeat(depth)].concat().into_bytes();
    for (name, parser) in harness::PARSERS {
        for body in [&arrays, &objects] {
            // No stack overflow and no panic; a refusal, except for the one endpoint whose
            // contract is "any 2xx body is success" (its body is read only when it is an object).
            let outcome = parser(&harness::response_of(200, body));
            let expected =
                if *name == "webhooks.delete_webhook" { harness::Outcome::Parsed } else { harness::Outcome::Rejected };
            assert_eq!(outcome, expected, "`{name}` with 10,000 levels");
        }
    }
    // The errors are decode errors (serde_json's recursion limit), not anything else.
    let response = harness::response_of(200, &arrays);
    let error = <cyrisma_core::api::scans::get_vulnerability_scan::Request as cyrisma_core::Endpoint>::parse_response(
        &response,
    )
    .unwrap_err();
    assert!(matches!(error, ResponseError::Decode(_)), "{error:?}");
}

/// Every success fixture of every endpoint, with its endpoint's index in `PARSERS`.
fn success_fixtures() -> Vec<(usize, PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found = Vec::new();
    for (index, (name, _)) in harness::PARSERS.iter().enumerate() {
        let dir = root.join(name.replace('.', "/"));
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if !file.starts_with('2') || !file.ends_with(".json") {
                continue;
            }
            if let Ok(value) = serde_json::from_slice::<Value>(&std::fs::read(&path).unwrap()) {
                found.push((index, path, value));
            }
        }
    }
    found
}

/// Paths (object keys and array indexes) to every leaf of a document.
fn leaves(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(Step::Key(key.clone()));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                path.push(Step::Index(index));
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |value, step| match step {
        Step::Key(key) => value.get_mut(key.as_str()).unwrap(),
        Step::Index(index) => value.get_mut(*index).unwrap(),
    })
}

/// A value of a different JSON type than `original`.
fn wrong_types(original: &Value) -> Vec<Value> {
    let all = [
        Value::Bool(true),
        serde_json::json!(-1.5),
        serde_json::json!("not-the-right-type"),
        serde_json::json!({"nested": [1]}),
        serde_json::json!([{"x": 1}]),
    ];
    let kind = |value: &Value| std::mem::discriminant(value);
    all.into_iter().filter(|candidate| kind(candidate) != kind(original)).collect()
}

#[allow(clippy::print_stderr, reason = "the figures are the point of this test (run with --nocapture)")]
#[test]
fn a_wrong_type_in_any_field_is_a_typed_error_naming_the_field_or_a_liberal_parse() {
    let (mut mutations, mut refused, mut named) = (0usize, 0usize, 0usize);
    let mut unnamed = Vec::new();
    for (index, path, document) in success_fixtures() {
        let (name, parser) = harness::PARSERS[index];
        let unchanged = harness::response_of(200, &serde_json::to_vec(&document).unwrap());
        if parser(&unchanged) != harness::Outcome::Parsed {
            // A fixture that is refused as it is (a missing required field) says nothing here.
            continue;
        }
        let mut paths = Vec::new();
        leaves(&document, &mut Vec::new(), &mut paths);
        // Large documents: every leaf of the first 400, which covers every field of each model.
        for leaf in paths.iter().filter(|leaf| !leaf.is_empty()).take(400) {
            let original = at(&mut document.clone(), leaf).clone();
            for wrong in wrong_types(&original) {
                let mut mutated = document.clone();
                *at(&mut mutated, leaf) = wrong;
                let body = serde_json::to_vec(&mutated).unwrap();
                let response = harness::response_of(200, &body);
                mutations += 1;
                if parser(&response) == harness::Outcome::Parsed {
                    continue;
                }
                refused += 1;
                let error = decode_error(name, &response);
                if error.path.is_some() {
                    named += 1;
                } else {
                    unnamed.push(format!("{} {leaf:?}: {}", path.display(), error.message));
                }
            }
        }
    }
    assert!(mutations > 1_000, "only {mutations} mutations");
    assert!(refused > 0);
    // A field of the wrong type inside the document is always named by its path.
    assert!(unnamed.is_empty(), "{} refusals without a field path:\n{}", unnamed.len(), unnamed.join("\n"));
    eprintln!("wrong-type mutations: {mutations}, refused: {refused}, refused with a field path: {named}");
}

/// The decode error of one endpoint for a response (the harness only says "refused").
fn decode_error(name: &str, response: &http::Response<bytes::Bytes>) -> cyrisma_core::DecodeError {
    use cyrisma_core::Endpoint;
    macro_rules! by_name {
        ($(($resource:ident, $endpoint:ident, $id:ident)),* $(,)?) => {
            $(
                if cyrisma_core::api::$resource::$endpoint::METADATA.name == name {
                    return match cyrisma_core::api::$resource::$endpoint::Request::parse_response(response) {
                        Err(ResponseError::Decode(error)) => *error,
                        other => panic!("`{name}`: expected a decode error, got {:?}", other.err()),
                    };
                }
            )*
        };
    }
    cyrisma_core::for_each_endpoint!(by_name);
    panic!("unknown endpoint `{name}`")
}
