//! The whole life of a partner integration, through the binary only: setup, secret rotation,
//! an organization and an instance, waiting for provisioning, a user, MFA, conversion,
//! suspension and reactivation, the report, the export in every format, and usage.

use cyrisma_emulator::PARTNER_ID;

use crate::support::{API_SECRET, Env};

fn created_id(env: &Env, args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.extend(["-o", "json"]);
    let created = env.run(&args).json();
    created["instance_id"].as_str().expect("an instance id").to_owned()
}

#[test]
fn a_partner_integration_from_setup_to_export() {
    let mut env = Env::small();
    env.secret_in_env = false;

    // Credentials: the temporary secret, then the rotation CYRISMA asks for first.
    env.run_stdin(&["auth", "setup", "--secret-stdin"], &format!("{API_SECRET}\n")).ok();
    let rotated = env.run(&["auth", "rotate-secret", "-o", "json"]).json();
    assert_eq!(rotated["verified"], true);
    assert_eq!(env.emu.count("auth.regen_pass"), 1);
    assert_ne!(env.emu.api_secret().expose_secret(), API_SECRET);
    assert_eq!(env.run(&["auth", "status", "-o", "json"]).json()["logged_in"], true);

    // An organization and a consulting instance under it.
    let org = created_id(
        &env,
        &[
            "instances",
            "create",
            "--type",
            "msp",
            "--parent",
            PARTNER_ID,
            "--name",
            "Northwind MSP",
            "--short-name",
            "northwind",
            "--country",
            "US",
            "--email",
            "ops@northwind.example",
            "--mfa",
            "email",
        ],
    );
    let instance = created_id(
        &env,
        &[
            "instances",
            "create",
            "--type",
            "standard",
            "--consulting",
            "--parent",
            &org,
            "--name",
            "Contoso Clinic",
            "--short-name",
            "contoso",
            "--country",
            "US",
            "--email",
            "it@contoso.example",
        ],
    );
    let waited = env.run(&["instances", "wait", &instance, "--wait-timeout", "30", "-o", "json"]).json();
    assert_eq!(waited["status"], "active");
    assert_eq!(waited["parent_id"], org.as_str());

    // A user, MFA, conversion, suspension and reactivation.
    let user = env
        .run(&[
            "users",
            "create",
            "--organization",
            &org,
            "--username",
            "jane@northwind.example",
            "--first-name",
            "Jane",
            "--last-name",
            "Doe",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(user["instance_id"], org.as_str());
    assert_eq!(user["enabled"], true);
    let mfa = env.run(&["instances", "set-mfa", &org, "authenticator", "-o", "json"]).json();
    assert_eq!(mfa["mfa_type"], 2, "the api's own field and value");
    let converted = env.run(&["instances", "convert", &instance, "-o", "json"]).json();
    assert_eq!(converted["instance_id"], instance.as_str());
    assert_ne!(env.run(&["instances", "convert", &instance]).code, 0, "a second conversion is refused");
    assert_eq!(env.run(&["instances", "get", &instance, "-o", "json"]).json()["is_consulting"], false);
    assert_eq!(env.run(&["instances", "suspend", &instance, "-o", "json"]).json()["status"], "suspended");
    assert_eq!(env.run(&["report", "--instance", &instance]).code, 1, "a suspended instance cannot report");
    assert_eq!(env.run(&["instances", "reactivate", &instance, "-o", "json"]).json()["status"], "active");
    let disabled = env.run(&["users", "disable", "jane@northwind.example", "-o", "json"]).json();
    assert_eq!(disabled["enabled"], false);

    // The report covers every reportable instance, the new one included.
    let report = env.run(&["report", "-o", "json"]).json();
    let rows = report["instances"].as_array().expect("instances");
    assert!(rows.iter().any(|row| row["instance_id"] == instance.as_str()), "{report}");
    assert!(report["errors"].as_array().expect("errors").is_empty());
    for row in rows {
        for key in ["overall", "data", "vulnerability", "baseline", "compliance"] {
            assert!(row.get(format!("{key}_current")).is_some() && row.get(format!("{key}_previous")).is_some());
        }
    }

    // The export, in every format, with the same findings.
    let dir = env.home.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    let mut counts = Vec::new();
    for format in ["jsonl", "csv", "json"] {
        let out = dir.join(format!("findings.{format}"));
        let run = env.run(&["export", "findings", "--format", format, "--out", out.to_str().unwrap()]);
        run.ok();
        assert!(run.stderr.contains("wrote "), "{}", run.transcript());
        let text = std::fs::read_to_string(&out).unwrap();
        let count = match format {
            "jsonl" => {
                for line in text.lines() {
                    serde_json::from_str::<serde_json::Value>(line).expect("a json line");
                }
                text.lines().count()
            }
            "json" => serde_json::from_str::<serde_json::Value>(&text)
                .expect("one document")
                .as_array()
                .expect("an array")
                .len(),
            _ => {
                let mut lines = text.lines();
                assert_eq!(
                    lines.next(),
                    Some(
                        "instance_id,instance_name,scan_id,scan_type,scan_finished,asset_id,asset_name,asset_address,kind,finding,title,risk_level,score,first_seen"
                    )
                );
                lines.count()
            }
        };
        counts.push(count);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| entry.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "temporary export files left behind");
    }
    assert!(counts[0] > 0 && counts.iter().all(|count| *count == counts[0]), "{counts:?}");
    let jsonl = std::fs::read_to_string(dir.join("findings.jsonl")).unwrap();
    let kinds: std::collections::BTreeSet<String> = jsonl
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["open_port", "vulnerability", "web_flaw"]);

    // Usage: the new organization with its one instance and one user, and a grand total.
    let usage = env.run(&["usage", "-o", "json"]).json();
    let usage = usage.as_array().expect("rows");
    let org_row =
        usage.iter().find(|row| row["scope"] == "organization" && row["id"] == org.as_str()).expect("the org");
    assert_eq!(org_row["instances"], 1);
    assert_eq!(org_row["users"], 1);
    assert_eq!(org_row["consulting"], 0, "converted to managed");
    let total = usage.last().expect("a total");
    assert_eq!(total["scope"], "total");
    let organizations: u64 =
        usage.iter().filter(|row| row["scope"] == "organization").map(|row| row["endpoints"].as_u64().unwrap()).sum();
    assert_eq!(total["endpoints"].as_u64().unwrap(), organizations);
}
