//! Each command's output against the emulator, snapshotted (ports, paths and times filtered),
//! plus the output-format guarantees: JSON is one document, CSV is formula-guarded, tables
//! neutralise escape sequences from server data.

use crate::support::{Env, snapshot};

/// Runs each command line and joins the transcripts, each under a `$ cyrisma ...` header.
fn transcripts(env: &Env, lines: &[&[&str]]) -> String {
    let mut text = String::new();
    for args in lines {
        let run = env.run(args);
        text.push_str(&format!("$ cyrisma {}\n{}\n", args.join(" "), run.transcript()));
    }
    env.filter(&text)
}

/// The first standard, active, non-consulting instance of the seeded data.
fn reportable_instance(env: &Env) -> String {
    let listed = env.run(&["instances", "list", "--type", "standard", "--status", "active", "-o", "json"]).json();
    listed.as_array().expect("an array")[0]["instance_id"].as_str().expect("an id").to_owned()
}

#[test]
fn instances_and_users() {
    let env = Env::small();
    snapshot!(
        "instances_and_users",
        transcripts(
            &env,
            &[
                &["instances", "list"],
                &["instances", "list", "--type", "msp", "-o", "csv"],
                &["instances", "get", "cc100003"],
                &["instances", "authenticate", "cc100003"],
                &["users", "list"],
                &["users", "get", "-o", "jsonl", &first_username(&env)],
            ]
        )
    );
}

fn first_username(env: &Env) -> String {
    let users = env.run(&["users", "list", "-o", "json"]).json();
    users[0]["username"].as_str().expect("a username").to_owned()
}

#[test]
fn scans_of_an_instance() {
    let env = Env::small();
    let instance = reportable_instance(&env);
    let scans = env.run(&["scans", "vulnerability", "--instance", &instance, "-o", "json"]).json();
    let scan_id = scans[0]["scan_id"].as_str().expect("a scan id").to_owned();
    snapshot!(
        "scans_of_an_instance",
        transcripts(
            &env,
            &[
                &["scans", "vulnerability", "--instance", &instance],
                &["scans", "vulnerability", "--instance", &instance, "--scan", &scan_id],
                &["scans", "data", "--instance", &instance, "-o", "csv"],
                &["scans", "baseline", "--instance", &instance],
            ]
        )
    );
}

#[test]
fn dashboards_of_an_instance() {
    let env = Env::small();
    let instance = reportable_instance(&env);
    let cves = env.run(&["dashboards", "cves", "--instance", &instance, "-o", "json"]).json();
    let cve = cves[0]["cve"].as_str().expect("a cve").to_owned();
    snapshot!(
        "dashboards_of_an_instance",
        transcripts(
            &env,
            &[
                &["dashboards", "overall", "--instance", &instance],
                &["dashboards", "data", "--instance", &instance],
                &["dashboards", "baseline", "--instance", &instance],
                &["dashboards", "vulnerability", "--instance", &instance, "-o", "json"],
                &["dashboards", "cves", "--instance", &instance, "--cve", &cve],
            ]
        )
    );
}

#[test]
fn assets_of_an_instance() {
    let env = Env::small();
    let instance = reportable_instance(&env);
    let assets = env.run(&["assets", "list", "--instance", &instance, "--type", "internal", "-o", "json"]).json();
    let asset = assets[0]["assetId"].as_str().or(assets[0]["id"].as_str()).expect("an asset id").to_owned();
    snapshot!(
        "assets_of_an_instance",
        transcripts(
            &env,
            &[
                &["assets", "list", "--instance", &instance],
                &["assets", "show", "--instance", &instance, &asset, "-o", "csv"],
                &["assets", "show", "--instance", &instance, "no-such-asset"],
            ]
        )
    );
}

#[test]
fn report_usage_and_api() {
    let env = Env::small();
    snapshot!(
        "report_usage_and_api",
        transcripts(
            &env,
            &[
                &["report"],
                &["report", "--instance", "cc100003", "-o", "json"],
                &["usage"],
                &["api", "GET", "/partner/instances/info/cc100001"],
                &[
                    "api",
                    "GET",
                    "/partner/dashboards/vulnerability/cve",
                    "--instance",
                    "cc100003",
                    "-f",
                    "cve_id=CVE-0000-0000"
                ],
                &["api", "POST", "/partner/login/"],
                &["api", "GET", "/partner/nothing"],
            ]
        )
    );
}

#[test]
fn auth_status_and_webhooks() {
    let env = Env::small();
    snapshot!(
        "auth_status_and_webhooks",
        transcripts(
            &env,
            &[
                &["auth", "status"],
                &["webhooks", "list"],
                &["webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--events", "user.created", "-o", "json"],
                &["webhooks", "list", "-o", "csv"],
                &["webhooks", "delete", "wh000001"],
                &["webhooks", "create", "--url", "http://127.0.0.1:9/hook", "--events", "nonsense"],
            ]
        )
        .split("whsec_")
        .enumerate()
        .map(|(index, part)| {
            if index == 0 {
                part.to_owned()
            } else {
                format!("[WEBHOOK SECRET]{}", part.trim_start_matches(|ch: char| ch.is_ascii_alphanumeric()))
            }
        })
        .collect::<String>()
    );
}

#[test]
fn server_text_cannot_drive_the_terminal_or_a_spreadsheet() {
    let env = Env::small();
    let hostile = "=HYPERLINK(\"http://evil.example\")\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m\u{202e}exe.txt";
    env.run(&[
        "instances",
        "create",
        "--type",
        "standard",
        "--parent",
        "cc100001",
        "--name",
        hostile,
        "--short-name",
        "hostile",
        "--country",
        "US",
        "--email",
        "it@hostile.example",
    ])
    .ok();
    let table = env.run(&["instances", "list"]);
    let dangerous = |ch: char| ch.is_control() && ch != '\n' || matches!(ch, '\u{202a}'..='\u{202e}');
    assert!(!table.ok().chars().any(dangerous), "raw control characters reached the table:\n{}", table.stdout);
    assert!(table.stdout.contains("\\x1b]52;c;ZXZpbA==\\x07"), "{}", table.stdout);
    let csv = env.run(&["instances", "list", "-o", "csv"]);
    let line = csv.ok().lines().find(|line| line.contains("HYPERLINK")).expect("the hostile row");
    assert!(line.contains(",\"'=HYPERLINK("), "the formula is guarded: {line}");
    // JSON keeps the exact text (escaped by JSON itself).
    let json = env.run(&["instances", "list", "-o", "json"]).json();
    assert!(json.as_array().unwrap().iter().any(|row| row["name"] == hostile));
}

#[test]
fn json_is_one_document_and_jsonl_one_object_per_line() {
    let env = Env::small();
    for args in [&["instances", "list"][..], &["report"], &["usage"], &["users", "list"]] {
        let mut json = args.to_vec();
        json.extend(["-o", "json"]);
        let document = env.run(&json).json();
        assert!(document.is_array() || document.is_object(), "{args:?}");
        let mut jsonl = args.to_vec();
        jsonl.extend(["-o", "jsonl"]);
        let run = env.run(&jsonl);
        for line in run.ok().lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("each line is json");
            assert!(value.is_object(), "{args:?}: {line}");
        }
    }
}

#[test]
fn completions_are_generated_for_every_shell() {
    let env = Env::small();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = env.run(&["completions", shell]);
        assert!(run.ok().contains("rotate-secret"), "{shell}");
    }
}

/// Replaces UUIDs (agent keys, tenant ids generated at run time) with `[UUID]`.
fn redact_uuids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        if rest.len() >= 36 && rest.is_char_boundary(36) {
            let candidate = &rest[..36];
            let shaped = candidate.char_indices().all(|(index, ch)| match index {
                8 | 13 | 18 | 23 => ch == '-',
                _ => ch.is_ascii_hexdigit(),
            });
            if shaped {
                out.push_str("[UUID]");
                rest = &rest[36..];
                continue 'scan;
            }
        }
        let ch = rest.chars().next().unwrap_or_default();
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[test]
fn provisioning_and_credentials_commands() {
    let mut env = Env::small();
    env.secret_in_env = false;
    let setup = env.run_stdin(&["auth", "setup", "--secret-stdin"], &format!("{}\n", crate::support::API_SECRET));
    let create = [
        "instances",
        "create",
        "--type",
        "standard",
        "--consulting",
        "--parent",
        "cc100001",
        "--name",
        "Contoso Clinic",
        "--short-name",
        "contoso",
        "--country",
        "US",
        "--email",
        "it@contoso.example",
    ];
    let mut text = format!("$ cyrisma auth setup --secret-stdin\n{}\n", setup.transcript());
    text.push_str(&transcripts(
        &env,
        &[
            &["auth", "rotate-secret"],
            &create,
            &["instances", "wait", "cc100009", "-o", "json"],
            &["instances", "convert", "cc100009"],
            &["instances", "convert", "cc100009"],
            &["instances", "suspend", "cc100009"],
            &["instances", "reactivate", "cc100009"],
            &["instances", "set-mfa", "cc100001", "email"],
            &["instances", "set-mfa", "cc100009", "email"],
            &[
                "users",
                "create",
                "--organization",
                "cc100001",
                "--username",
                "jane@contoso.example",
                "--first-name",
                "Jane",
                "--last-name",
                "Doe",
            ],
            &["users", "disable", "jane@contoso.example", "-o", "csv"],
            &["export", "findings", "--instance", "cc100003", "--format", "csv", "--out", "-"],
            &["auth", "logout"],
            &["auth", "status"],
        ],
    ));
    snapshot!("provisioning_and_credentials_commands", redact_uuids(&env.filter(&text)));
}

#[test]
fn settings_come_from_flag_then_environment_then_profile_then_default() {
    let env = Env::small();
    let dir = env.config_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "[profiles.default]\noutput = \"csv\"\n\n[profiles.json]\noutput = \"json\"\n",
    )
    .unwrap();
    let first_line = |run: crate::support::Run| run.ok().lines().next().unwrap_or_default().to_owned();
    assert!(first_line(env.run(&["users", "list"])).starts_with("id,username"), "the profile's output");
    assert!(first_line(env.run(&["users", "list", "--profile", "json"])).starts_with('['));
    let mut command = env.command(&["users", "list"]);
    command.env("CYRISMA_OUTPUT", "jsonl");
    assert!(first_line(env.run_command(command, None)).starts_with("{\"id\""), "the environment beats the profile");
    let mut command = env.command(&["users", "list", "-o", "table"]);
    command.env("CYRISMA_OUTPUT", "jsonl");
    assert!(first_line(env.run_command(command, None)).starts_with("ID "), "the flag beats the environment");
    let mut command = env.command(&["users", "list"]);
    command.env_remove("CYRISMA_CONFIG_DIR");
    assert!(
        first_line(env.run_command(command, None)).starts_with("id,"),
        "XDG_CONFIG_HOME/cyrisma is the default dir"
    );
}

#[test]
fn the_embedded_emulator_needs_no_account() {
    let env = Env::small();
    let mut command = env.command(&["--emulator", "report", "-o", "json"]);
    for name in [
        "CYRISMA_BASE_URL",
        "CYRISMA_RESOLVE",
        "CYRISMA_CA_CERT",
        "CYRISMA_ALLOWED_DOMAIN",
        "CYRISMA_API_KEY",
        "CYRISMA_API_SECRET",
    ] {
        command.env_remove(name);
    }
    let run = env.run_command(command, None);
    let report = run.json();
    assert_eq!(report["instances"].as_array().map(Vec::len), Some(24), "25 instances, one of them suspended");
    assert!(run.stderr.contains("using the embedded emulator"), "{}", run.transcript());
    assert!(!env.config_dir().exists(), "nothing was written");
    assert_eq!(env.run(&["--emulator", "auth", "setup"]).code, 2);
}

#[test]
fn output_into_a_closed_pipe_is_not_a_crash() {
    // `cyrisma completions bash | head -c 0`: the reading end is closed before anything is
    // written, so every write fails with a broken pipe, which is not an error worth reporting.
    let env = Env::small();
    for args in [
        &["completions", "bash"][..],
        &["instances", "list", "-o", "csv"][..],
        &["export", "findings", "--format", "jsonl", "--out", "-"][..],
    ] {
        let mut command = env.command(args);
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("the binary runs");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("the binary ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("internal error"), "{args:?} crashed on a closed pipe:\n{stderr}");
        assert!(!stderr.contains("error:"), "{args:?} reported a closed pipe as an error:\n{stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}:\n{stderr}");
    }
}
