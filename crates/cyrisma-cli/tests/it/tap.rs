//! `cyrisma tap` through the built binary against the emulator: the Singer catalog, SCHEMA before
//! RECORD, one bookmark per instance, nothing re-emitted with the last state, only the new scans'
//! findings after the emulator's clock moves, the same fingerprints as `cyrisma snapshot`, a
//! failed instance that keeps its bookmark, catalog selection, the `--config` file, and an exact
//! state at 20,000 instances.

use std::collections::{BTreeMap, BTreeSet};

use cyrisma_emulator::Fault;
use serde_json::Value;

use crate::support::{self, Env};

/// The messages of one tap run, parsed.
struct Tap {
    messages: Vec<Value>,
}

impl Tap {
    fn parse(stdout: &str) -> Self {
        let messages = stdout
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not json ({error}): {line}")))
            .collect();
        Self { messages }
    }

    fn records(&self, stream: &str) -> Vec<&Value> {
        self.messages
            .iter()
            .filter(|message| message["type"] == "RECORD" && message["stream"] == stream)
            .map(|message| &message["record"])
            .collect()
    }

    fn schemas(&self) -> Vec<&str> {
        self.messages.iter().filter(|m| m["type"] == "SCHEMA").map(|m| m["stream"].as_str().unwrap()).collect()
    }

    /// The last STATE message's value.
    fn state(&self) -> &Value {
        let last = self.messages.iter().rfind(|m| m["type"] == "STATE").expect("a STATE message");
        &last["value"]
    }

    fn bookmarks(&self) -> &serde_json::Map<String, Value> {
        self.state()["bookmarks"].as_object().expect("bookmarks")
    }

    /// Every RECORD of a stream comes after its SCHEMA, and the last message is a STATE.
    fn check_order(&self) {
        let mut declared = BTreeSet::new();
        for message in &self.messages {
            match message["type"].as_str().unwrap() {
                "SCHEMA" => {
                    assert!(!message["key_properties"].as_array().unwrap().is_empty(), "{message}");
                    declared.insert(message["stream"].as_str().unwrap().to_owned());
                }
                "RECORD" => assert!(declared.contains(message["stream"].as_str().unwrap()), "{message}"),
                "STATE" => {}
                other => panic!("unexpected message type {other}"),
            }
        }
        assert_eq!(self.messages.last().unwrap()["type"], "STATE");
    }
}

fn reportable(env: &Env) -> Vec<String> {
    let mut ids: Vec<String> = env
        .emu
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| instance.instance_id)
        .collect();
    ids.sort();
    ids
}

fn write(env: &Env, name: &str, value: &Value) -> String {
    let path = env.home.path().join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path.display().to_string()
}

fn fingerprints(records: &[&Value]) -> BTreeSet<String> {
    records.iter().map(|row| row["fingerprint"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_catalog_lists_the_four_streams_with_the_dataset_columns_and_keys() {
    let env = Env::small();
    let catalog = env.run(&["tap", "--discover"]).json();
    let streams = catalog["streams"].as_array().unwrap();
    let names: Vec<&str> = streams.iter().map(|stream| stream["tap_stream_id"].as_str().unwrap()).collect();
    assert_eq!(names, ["instances", "grades", "scans", "findings"]);
    let keys: BTreeMap<&str, Vec<&str>> = streams
        .iter()
        .map(|stream| {
            let keys = stream["key_properties"].as_array().unwrap().iter().map(|key| key.as_str().unwrap()).collect();
            (stream["stream"].as_str().unwrap(), keys)
        })
        .collect();
    assert_eq!(keys["findings"], ["fingerprint"]);
    assert_eq!(keys["scans"], ["instance_id", "scan_kind", "scan_id"]);
    for stream in streams {
        let properties = stream["schema"]["properties"].as_object().unwrap();
        let table = cyrisma_dataset::schema::TABLES.iter().find(|(name, _)| *name == stream["stream"]).unwrap().1;
        let columns: Vec<&str> = table.iter().map(|column| column.name).collect();
        assert_eq!(properties.keys().map(String::as_str).collect::<BTreeSet<_>>(), columns.into_iter().collect());
        for key in stream["key_properties"].as_array().unwrap() {
            assert!(properties.contains_key(key.as_str().unwrap()), "{key} is a column");
        }
        let top = &stream["metadata"][0];
        assert_eq!(top["breadcrumb"], serde_json::json!([]));
        assert_eq!(top["metadata"]["selected"], true);
    }
}

#[test]
fn the_tap_pulls_once_then_only_what_is_new_and_keeps_the_bookmark_of_a_failed_instance() {
    let env = Env::small();
    let ids = reportable(&env);

    // A first pull: every stream, one bookmark per instance.
    let first = env.run(&["tap"]);
    let first = Tap::parse(first.ok());
    first.check_order();
    assert_eq!(first.schemas(), ["instances", "grades", "scans", "findings"]);
    assert_eq!(first.bookmarks().keys().cloned().collect::<Vec<_>>(), ids);
    assert_eq!(first.records("instances").len(), ids.len());
    let findings = first.records("findings");
    assert!(!findings.is_empty());
    assert_eq!(fingerprints(&findings).len(), findings.len(), "one row per fingerprint");

    // The same fingerprints as a snapshot of the same data.
    let dir = env.home.path().join("history");
    env.run(&["snapshot", "--dir", dir.to_str().unwrap()]).ok();
    let lifecycles = env.run(&["history", "findings", "--dir", dir.to_str().unwrap(), "-o", "json"]).json();
    let snapshot: BTreeSet<String> =
        lifecycles.as_array().unwrap().iter().map(|row| row["fingerprint"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fingerprints(&findings), snapshot);

    // With the last state and nothing new: no findings, no scans, the same state.
    let state = write(&env, "state.json", first.state());
    let again = Tap::parse(env.run(&["tap", "--state", &state]).ok());
    again.check_order();
    assert!(again.records("findings").is_empty());
    assert!(again.records("scans").is_empty());
    assert_eq!(again.state(), first.state());
    // A whole STATE message works as the state file too.
    let message = write(&env, "message.json", &serde_json::json!({"type": "STATE", "value": first.state()}));
    assert!(Tap::parse(env.run(&["tap", "--state", &message]).ok()).records("findings").is_empty());

    // New scans: only theirs.
    env.emu.advance(30).unwrap();
    let after = Tap::parse(env.run(&["tap", "--state", &state]).ok());
    after.check_order();
    let scans = after.records("scans");
    assert!(!scans.is_empty());
    let old_scans: BTreeSet<&str> = first.records("scans").iter().map(|row| row["scan_id"].as_str().unwrap()).collect();
    assert!(scans.iter().all(|row| !old_scans.contains(row["scan_id"].as_str().unwrap())), "only new scans");
    let new_scans: BTreeSet<&str> = scans.iter().map(|row| row["scan_id"].as_str().unwrap()).collect();
    let findings = after.records("findings");
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|row| new_scans.contains(row["scan_id"].as_str().unwrap())),
        "only new scans' findings"
    );
    for id in &ids {
        assert_ne!(after.bookmarks()[id], first.bookmarks()[id], "{id} advanced");
    }

    // One instance fails: exit 3, stderr names it, its bookmark stays, the others advance.
    let state = write(&env, "state2.json", after.state());
    let victim = ids[0].clone();
    env.emu.add_fault(Fault::status(500).on("scans.list_vulnerability_scans").at_host(victim.clone()));
    env.emu.advance(30).unwrap();
    let partial = env.run(&["tap", "--state", &state]);
    assert_eq!(partial.code, 3, "{}", partial.transcript());
    assert!(partial.stderr.contains(&victim) && partial.stderr.contains("bookmark"), "{}", partial.stderr);
    let partial = Tap::parse(&partial.stdout);
    partial.check_order();
    assert_eq!(partial.bookmarks()[&victim], after.bookmarks()[&victim], "the failed instance keeps its bookmark");
    assert!(partial.records("findings").iter().all(|row| row["instance_id"] != victim.as_str()));
    for id in &ids[1..] {
        assert_ne!(partial.bookmarks()[id], after.bookmarks()[id], "{id} advanced");
    }
    // `--allow-partial`: the same, exit 0.
    let allowed = env.run(&["tap", "--state", &state, "--allow-partial"]);
    assert_eq!(allowed.code, 0, "{}", allowed.transcript());
    env.emu.clear_faults();
    // The next run pulls the victim's new scans (and nothing of the others).
    let state = write(&env, "state3.json", partial.state());
    let caught_up = Tap::parse(env.run(&["tap", "--state", &state]).ok());
    let instances: BTreeSet<&str> =
        caught_up.records("findings").iter().map(|row| row["instance_id"].as_str().unwrap()).collect();
    assert_eq!(instances, BTreeSet::from([victim.as_str()]));
}

#[test]
fn a_catalog_selects_streams_and_bookmarks_advance_only_with_scans_and_findings() {
    let env = Env::small();
    let mut catalog = env.run(&["tap", "--discover"]).json();
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let selected = stream["stream"] == "findings";
        stream["metadata"][0]["metadata"]["selected"] = Value::Bool(selected);
    }
    let path = write(&env, "catalog.json", &catalog);
    let only = Tap::parse(env.run(&["tap", "--catalog", &path]).ok());
    assert_eq!(only.schemas(), ["findings"]);
    assert!(!only.records("findings").is_empty());
    assert!(only.bookmarks().is_empty(), "no scans stream: the bookmarks do not move");
    // `--properties` is the older name of `--catalog`.
    assert_eq!(Tap::parse(env.run(&["tap", "--properties", &path]).ok()).schemas(), ["findings"]);

    for stream in catalog["streams"].as_array_mut().unwrap() {
        stream["metadata"][0]["metadata"]["selected"] = Value::Bool(false);
    }
    let none = write(&env, "none.json", &catalog);
    let refused = env.run(&["tap", "--catalog", &none]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(refused.stderr.contains("selects no stream"), "{}", refused.stderr);

    let bad = write(&env, "bad.json", &serde_json::json!({"bookmarks": {"cc1": {"data": 5}}}));
    let refused = env.run(&["tap", "--state", &bad]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(refused.stderr.contains("bookmarks"), "{}", refused.stderr);
}

/// Field selection: a field whose metadata says `"selected": false` is in neither the SCHEMA nor
/// the RECORDs (findings, on their fast path otherwise, and the other streams alike); a key
/// stays (Singer's `automatic` inclusion), an unknown field is warned about, and the records
/// are otherwise those of the full catalog.
#[test]
fn a_catalog_leaves_out_deselected_fields_but_never_keys() {
    let env = Env::small();
    let full = Tap::parse(env.run(&["tap"]).ok());
    let mut catalog = env.run(&["tap", "--discover"]).json();
    let deselect =
        [("findings", "title"), ("findings", "asset_name"), ("findings", "fingerprint"), ("scans", "scan_name")];
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let name = stream["stream"].as_str().unwrap().to_owned();
        for item in stream["metadata"].as_array_mut().unwrap() {
            let field = item["breadcrumb"][1].as_str().unwrap_or("").to_owned();
            if deselect.contains(&(name.as_str(), field.as_str())) {
                item["metadata"]["selected"] = Value::Bool(false);
            }
        }
        if name == "findings" {
            let unknown = serde_json::json!({"breadcrumb": ["properties", "no_such"], "metadata": {"selected": false}});
            stream["metadata"].as_array_mut().unwrap().push(unknown);
        }
    }
    let path = write(&env, "fields.json", &catalog);
    let run = env.run(&["tap", "--catalog", &path]);
    let tap = Tap::parse(run.ok());
    assert!(run.stderr.contains("`fingerprint`, a key of the `findings` stream"), "{}", run.stderr);
    assert!(run.stderr.contains("`no_such`"), "{}", run.stderr);
    let schema = |stream: &str| {
        let message = tap.messages.iter().find(|m| m["type"] == "SCHEMA" && m["stream"] == stream).unwrap();
        message["schema"]["properties"].as_object().unwrap().keys().cloned().collect::<BTreeSet<String>>()
    };
    let (findings, scans) = (schema("findings"), schema("scans"));
    assert!(!findings.contains("title") && !findings.contains("asset_name"), "{findings:?}");
    assert!(findings.contains("fingerprint") && findings.contains("rule"), "{findings:?}");
    assert!(!scans.contains("scan_name") && scans.contains("scan_id"), "{scans:?}");
    for (stream, left_out) in [("findings", ["title", "asset_name"]), ("scans", ["scan_name", "scan_name"])] {
        let (records, expected) = (tap.records(stream), full.records(stream));
        assert!(!records.is_empty());
        assert_eq!(records.len(), expected.len(), "{stream}");
        let sorted = |rows: Vec<Value>| {
            let mut rows: Vec<String> = rows.iter().map(Value::to_string).collect();
            rows.sort();
            rows
        };
        let trimmed = expected.iter().map(|row| {
            let mut row = (*row).clone();
            row["run_id"] = Value::Null;
            for field in left_out {
                row.as_object_mut().unwrap().remove(field);
            }
            row
        });
        let got = records.iter().map(|row| {
            let mut row = (*row).clone();
            row["run_id"] = Value::Null;
            row
        });
        assert_eq!(sorted(got.collect()), sorted(trimmed.collect()), "{stream}: the same rows less the fields");
    }
}

#[test]
fn the_config_file_carries_the_settings_and_its_secret_is_never_printed() {
    let mut env = Env::small();
    env.secret_in_env = false;
    let secret = env.emu.api_secret().expose_secret().to_owned();
    let mut config = serde_json::json!({
        "api_key": env.emu.api_key(),
        "api_secret": secret,
        "base_url": env.emu.base_url(),
        "resolve": [env.emu.resolve()],
        "allowed_domain": env.emu.allowed_domain(),
    });
    if let Some(path) = env.emu.ca_cert_path() {
        config["ca_cert"] = Value::String(path.display().to_string());
    }
    let path = write(&env, "tap.json", &config);
    let mut command = env.command(&["tap", "--config", &path]);
    // The file wins over the environment.
    command.env("CYRISMA_BASE_URL", "https://nowhere.invalid/app");
    let run = env.run_command(command, None);
    let tap = Tap::parse(run.ok());
    assert!(!tap.records("findings").is_empty());
    assert!(!run.stdout.contains(&secret) && !run.stderr.contains(&secret));

    config["api_secret"] = Value::String("wrong-secret-canary-7781".into());
    let wrong = write(&env, "wrong.json", &config);
    let run = env.run(&["tap", "--config", &wrong]);
    assert_eq!(run.code, 4, "{}", run.transcript());
    assert!(!run.stdout.contains("canary") && !run.stderr.contains("canary"), "{}", run.transcript());

    config["start_date"] = Value::String("2020-01-01".into());
    let unknown = write(&env, "unknown.json", &config);
    let run = env.run(&["tap", "--config", &unknown]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(run.stderr.contains("start_date") && !run.stderr.contains("canary"), "{}", run.stderr);
    std::fs::write(env.home.path().join("broken.json"), "{\"api_secret\": \"canary-in-broken\"").unwrap();
    let run = env.run(&["tap", "--config", env.home.path().join("broken.json").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(!run.stderr.contains("canary"), "{}", run.stderr);
}

#[test]
fn the_state_is_exact_at_twenty_thousand_instances() {
    // Plain HTTP on loopback: TLS would add a certificate per instance host (20,000 of them).
    let config = cyrisma_emulator::EmulatorConfig::plain()
        .with_seed(7)
        .with_size(20, 20_000, 1, 1)
        .with_anchor_time(support::ANCHOR)
        .with_credentials(support::API_KEY, cyrisma_core::ApiSecret::new(support::API_SECRET));
    let env = Env::start(config);
    let ids = reportable(&env);
    assert!(ids.len() > 10_000, "{}", ids.len());
    let mut catalog = env.run(&["tap", "--discover"]).json();
    for stream in catalog["streams"].as_array_mut().unwrap() {
        let selected = stream["stream"] == "findings" || stream["stream"] == "scans";
        stream["metadata"][0]["metadata"]["selected"] = Value::Bool(selected);
    }
    let catalog = write(&env, "catalog.json", &catalog);
    let first = Tap::parse(env.run(&["tap", "--catalog", &catalog, "--concurrency", "64"]).ok());
    assert_eq!(first.bookmarks().keys().cloned().collect::<Vec<_>>(), ids, "one bookmark per instance");
    let states = first.messages.iter().filter(|m| m["type"] == "STATE").count();
    assert_eq!(states, ids.len() / 1000 + 1, "a STATE every 1000 instances and one at the end");

    // New scans on three instances: exactly theirs, and only their bookmarks move.
    let touched = [&ids[0], &ids[ids.len() / 2], &ids[ids.len() - 1]];
    let mut new_scans = BTreeSet::new();
    for id in touched {
        new_scans.insert(env.emu.trigger_scan(id, 5).unwrap());
    }
    let state = write(&env, "state.json", first.state());
    let next = Tap::parse(env.run(&["tap", "--catalog", &catalog, "--state", &state, "--concurrency", "64"]).ok());
    let scans: BTreeSet<String> =
        next.records("scans").iter().map(|row| row["scan_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(scans, new_scans);
    assert!(next.records("findings").iter().all(|row| new_scans.contains(row["scan_id"].as_str().unwrap())));
    let changed: Vec<&String> =
        ids.iter().filter(|id| next.bookmarks()[id.as_str()] != first.bookmarks()[id.as_str()]).collect();
    assert_eq!(changed, touched);
}
