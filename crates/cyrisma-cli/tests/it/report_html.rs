//! `cyrisma report html` through the built binary: pages written from snapshots taken against
//! the emulator, opened in headless Chromium with every request refused, their rendered text
//! checked against `cyrisma report` and `cyrisma diff`; branding from flags, variables and the
//! profile; `cyrisma report` itself unchanged; clear errors. Screenshots of the portfolio and
//! one customer page go to `target/report-html-screenshots/` for a person to look at.

use std::path::{Path, PathBuf};

use cyrisma_emulator::Fault;
use serde_json::Value;

use crate::chromium::Browser;
use crate::support::{Env, Run};

/// Where the screenshots go: `target/report-html-screenshots/`.
fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory").join("report-html-screenshots")
}

fn reportable(env: &Env) -> Vec<(String, String)> {
    let mut instances: Vec<(String, String)> = env
        .emu
        .instances()
        .into_iter()
        .filter(|instance| !instance.is_organization() && !instance.is_suspended())
        .map(|instance| (instance.instance_id.clone(), instance.name.clone().unwrap_or_default()))
        .collect();
    instances.sort();
    instances
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a utf-8 path")
}

/// Three snapshots a month apart (the emulator's clock advanced between them), the last with one
/// instance failing. Returns the dataset's directory and the failed instance.
fn history(env: &Env) -> (PathBuf, String) {
    let dir = env.home.path().join("history");
    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    env.emu.advance(30).expect("the clock moves");
    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    env.emu.advance(30).expect("the clock moves");
    let victim = reportable(env)[1].0.clone();
    env.emu.add_fault(Fault::status(500).on("dashboards.get_overall_dashboard").at_host(victim.clone()));
    let partial = env.run(&["snapshot", "--dir", path(&dir)]);
    assert_eq!(partial.code, 3, "{}", partial.transcript());
    env.emu.clear_faults();
    (dir, victim)
}

fn count_changes(diff: &Value, instance: &str, changes: &[&str]) -> usize {
    diff["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|row| row["instance_id"] == instance && changes.iter().any(|change| row["change"] == *change))
        .count()
}

#[test]
fn pages_render_in_chromium_with_nothing_fetched_and_the_figures_of_report_and_diff() {
    let env = Env::small();
    let (dir, victim) = history(&env);
    let out = env.home.path().join("report");
    let written = env
        .run(&[
            "report",
            "html",
            "--dir",
            path(&dir),
            "--out",
            path(&out),
            "--title",
            "Quarterly <review>",
            "--msp-name",
            "Northwind \"IT\"",
            "-o",
            "json",
        ])
        .json();
    let instances = reportable(&env);
    assert_eq!(written["customers"], instances.len(), "{written}");
    assert_eq!((written["runs"].as_u64(), written["failed_pulls"].as_u64()), (Some(3), Some(1)), "{written}");
    for (id, _) in &instances {
        assert!(out.join(format!("{id}.html")).is_file(), "{id}.html");
    }

    // The independent sources: the live report (nothing changed since the last snapshot) and
    // the diff of the last two runs.
    let live = env.run(&["report", "-o", "json"]).json();
    let live: Vec<&Value> = live["instances"].as_array().expect("instances").iter().collect();
    let diff = env.run(&["diff", "--dir", path(&dir), "-o", "json"]).json();

    let mut browser = Browser::start();
    let log = browser.open(&out.join("index.html"));
    assert!(log.requests.is_empty(), "the portfolio tried to fetch: {:?}", log.requests);
    assert!(log.errors.is_empty(), "console errors: {:?}", log.errors);
    let text = browser.text();
    assert!(text.contains("Quarterly <review>") && text.contains("Prepared by Northwind \"IT\""), "{text}");
    assert!(text.contains(&format!("{}\ncustomers", instances.len())), "{text}");
    let rows = browser.rows("table.customers tbody tr");
    assert_eq!(rows.len(), instances.len());
    for row in &live {
        let id = row["instance_id"].as_str().expect("an id");
        let name = row["name"].as_str().expect("a name");
        let cells =
            rows.iter().find(|cells| cells[0].contains(id)).unwrap_or_else(|| panic!("no row for {id} in {rows:?}"));
        assert!(cells[0].starts_with(name), "{cells:?}");
        if id == victim {
            assert!(cells[0].contains("pull failed"), "{cells:?}");
            continue;
        }
        let grades: Vec<&str> = ["overall", "vulnerability", "data", "baseline", "compliance"]
            .iter()
            .map(|area| row[format!("{area}_current")].as_str().unwrap_or("–"))
            .collect();
        assert_eq!(cells[1..6], grades, "{id}: grades");
        assert_eq!(cells[8], count_changes(&diff, id, &["new", "reopened"]).to_string(), "{id}: new");
        assert_eq!(cells[9], count_changes(&diff, id, &["fixed"]).to_string(), "{id}: fixed");
    }
    let failures = browser.rows("section.failures tbody tr");
    assert_eq!(failures.len(), 1);
    assert!(failures[0][0].contains(&victim) && failures[0][1].contains("500"), "{failures:?}");
    assert_eq!(browser.counts(&["svg.spark"])["svg.spark"], instances.len() as u64);
    browser.screenshot(&screenshots().join("index.png"));

    // A customer page.
    let (id, name) = instances.iter().find(|(id, _)| *id != victim).expect("a pulled customer").clone();
    let row = live.iter().find(|row| row["instance_id"] == id.as_str()).expect("its report row");
    let log = browser.open(&out.join(format!("{id}.html")));
    assert!(log.requests.is_empty(), "the customer page tried to fetch: {:?}", log.requests);
    assert!(log.errors.is_empty(), "console errors: {:?}", log.errors);
    let text = browser.text();
    assert!(text.contains(&name) && text.contains(&id), "{text}");
    for heading in ["Grades", "Vulnerabilities by severity", "Fix these first", "Top CVEs", "Open ports of concern"] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
    let grades = browser.rows("section.grades > table tbody tr");
    let labels = ["Overall", "Vulnerability", "Data sensitivity", "Secure baseline", "Compliance"];
    for (cells, (label, area)) in
        grades.iter().zip(labels.iter().zip(["overall", "vulnerability", "data", "baseline", "compliance"]))
    {
        assert_eq!(cells[0], *label);
        assert_eq!(cells[1], row[format!("{area}_current")].as_str().unwrap_or("–"), "{id} {area}");
    }
    let changes = browser.rows("section.changes tbody tr");
    assert_eq!(changes[0][1], count_changes(&diff, &id, &["new"]).to_string(), "{changes:?}");
    assert_eq!(changes[1][1], count_changes(&diff, &id, &["fixed"]).to_string(), "{changes:?}");
    assert_eq!(changes[2][1], count_changes(&diff, &id, &["reopened"]).to_string(), "{changes:?}");
    let severity = browser.rows("section.severity tbody tr");
    for (cells, level) in severity.iter().zip(["critical", "high", "medium", "low"]) {
        assert_eq!(cells[1], row[level].as_u64().map_or("–".to_owned(), |count| count.to_string()), "{level}");
    }
    let charts = browser.counts(&["svg.trend", "svg.bars", "svg[role=img][aria-label]"]);
    assert_eq!((charts["svg.trend"], charts["svg.bars"]), (1, 1), "{charts:?}");
    assert_eq!(charts["svg[role=img][aria-label]"], 2, "every chart has a text label");
    browser.screenshot(&screenshots().join("customer.png"));
    let pdf = browser.print_pdf();
    assert!(pdf.starts_with(b"%PDF") && pdf.len() > 10_000, "the page prints to PDF");

    // The failed customer's page says so and still shows its last grades.
    let log = browser.open(&out.join(format!("{victim}.html")));
    assert!(log.requests.is_empty() && log.errors.is_empty(), "{log:?}");
    let text = browser.text();
    assert!(text.contains("The latest snapshot could not pull this customer (status 500)"), "{text}");
    assert!(text.contains("The figures below are from the last snapshot that did"), "{text}");
}

#[test]
fn one_snapshot_says_trends_need_a_second() {
    let env = Env::small();
    let dir = env.home.path().join("history");
    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    let out = env.home.path().join("report");
    env.run(&["report", "html", "--dir", path(&dir), "--out", path(&out)]).ok();
    let index = std::fs::read_to_string(out.join("index.html")).expect("the portfolio");
    assert!(index.contains("This history has one snapshot"), "{index}");
    let (id, _) = &reportable(&env)[0];
    let page = std::fs::read_to_string(out.join(format!("{id}.html"))).expect("a customer page");
    assert!(page.contains("This is the first snapshot"));
    assert!(page.contains("Top CVEs") && page.contains("Vulnerabilities by severity"));
}

fn write_profile(env: &Env, body: &str) {
    std::fs::create_dir_all(env.config_dir()).expect("the config dir");
    std::fs::write(env.config_dir().join("config.toml"), body).expect("config.toml");
}

#[test]
fn branding_comes_from_flags_then_variables_then_the_profile() {
    let env = Env::small();
    let dir = env.home.path().join("history");
    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    let logo = env.home.path().join("logo.gif");
    std::fs::write(&logo, b"GIF89a-profile-logo").expect("a logo");
    let other = env.home.path().join("other.gif");
    std::fs::write(&other, b"GIF89a-variable-logo").expect("a logo");
    write_profile(
        &env,
        &format!(
            "[profiles.default]\nreport_title = \"Profile title\"\nreport_msp_name = \"Profile MSP\"\nreport_logo = \"{}\"\n",
            logo.display()
        ),
    );
    let out = env.home.path().join("report");
    let read = |run: Run| {
        assert_eq!(run.code, 0, "{}", run.transcript());
        std::fs::read_to_string(out.join("index.html")).expect("the portfolio")
    };
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };

    let from_profile = read(env.run(&["report", "html", "--dir", path(&dir), "--out", path(&out)]));
    assert!(
        from_profile.contains("<bdi>Profile title</bdi>")
            && from_profile.contains("Prepared by <bdi>Profile MSP</bdi>")
    );
    assert!(from_profile.contains(&b64(b"GIF89a-profile-logo")));

    let mut command = env.command(&["report", "html", "--dir", path(&dir), "--out", path(&out)]);
    command
        .env("CYRISMA_REPORT_TITLE", "Variable title")
        .env("CYRISMA_REPORT_MSP_NAME", "Variable MSP")
        .env("CYRISMA_REPORT_LOGO", &other);
    let from_variables = read(env.run_command(command, None));
    assert!(from_variables.contains("<bdi>Variable title</bdi>") && from_variables.contains("<bdi>Variable MSP</bdi>"));
    assert!(from_variables.contains(&b64(b"GIF89a-variable-logo")));

    let mut command =
        env.command(&["report", "html", "--dir", path(&dir), "--out", path(&out), "--title", "Flag title"]);
    command.env("CYRISMA_REPORT_TITLE", "Variable title");
    let from_flag = read(env.run_command(command, None));
    assert!(from_flag.contains("<bdi>Flag title</bdi>") && from_flag.contains("<bdi>Profile MSP</bdi>"));

    // A logo that is not an image: a usage error naming the file.
    let bad = env.home.path().join("logo.txt");
    std::fs::write(&bad, "not an image").expect("a file");
    let refused = env.run(&["report", "html", "--dir", path(&dir), "--out", path(&out), "--logo", path(&bad)]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(refused.stderr.contains("logo.txt") && refused.stderr.contains("PNG, JPEG"), "{}", refused.stderr);
}

#[test]
fn report_still_runs_alone_and_errors_are_clear() {
    let env = Env::small();
    // `cyrisma report` is unchanged by its new subcommand.
    let report = env.run(&["report", "-o", "json"]).json();
    assert_eq!(report["instances"].as_array().expect("rows").len(), reportable(&env).len());
    let one = env.run(&["report", "--instance", &reportable(&env)[0].0, "-o", "json"]).json();
    assert_eq!(one["instances"].as_array().expect("rows").len(), 1);
    // Its flags do not mix with the subcommand.
    let mixed = env.run(&["report", "--instance", "cc100004", "html", "--out", "x"]);
    assert_eq!(mixed.code, 2, "{}", mixed.transcript());

    let dir = env.home.path().join("history");
    let out = env.home.path().join("report");
    let empty = env.run(&["report", "html", "--dir", path(&dir), "--out", path(&out)]);
    assert_eq!(empty.code, 2, "{}", empty.transcript());
    assert!(empty.stderr.contains("no complete run") && empty.stderr.contains("cyrisma snapshot"), "{}", empty.stderr);
    assert!(!out.exists(), "nothing written without a run");

    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    for (args, needle) in [
        (vec!["--period", "3 months"], "90d"),
        (vec!["--since", "2026-02-30"], "YYYY-MM-DD"),
        (vec!["--since", "2999-01-01"], "no run"),
        (vec!["--instance", "cc999999"], "no instance cc999999"),
    ] {
        let mut full = vec!["report", "html", "--dir", path(&dir), "--out", path(&out)];
        full.extend(args.iter().copied());
        let run = env.run(&full);
        assert_eq!(run.code, 2, "{args:?}: {}", run.transcript());
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    let both = env.run(&[
        "report",
        "html",
        "--dir",
        path(&dir),
        "--out",
        path(&out),
        "--since",
        "2026-01-01",
        "--period",
        "3m",
    ]);
    assert_eq!(both.code, 2, "{}", both.transcript());

    // `--out` naming a file: refused, the file untouched.
    let file = env.home.path().join("file.html");
    std::fs::write(&file, "mine").expect("a file");
    let refused = env.run(&["report", "html", "--dir", path(&dir), "--out", path(&file)]);
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(refused.stderr.contains("is not a directory"), "{}", refused.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("the file"), "mine");
}

#[test]
fn the_browser_check_sees_requests_console_errors_and_policy_violations() {
    // The checks above can fail: a page that fetches and logs is caught.
    let dir = tempfile::tempdir().expect("a directory");
    let leaky = dir.path().join("leaky.html");
    std::fs::write(
        &leaky,
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"https://cdn.example.com/x.css\"></head>\
         <body><img src=\"http://203.0.113.1/x.png\"><script>console.error('boom')</script>hello</body></html>",
    )
    .expect("a page");
    let mut browser = Browser::start();
    let log = browser.open(&leaky);
    assert!(log.requests.iter().any(|url| url.contains("cdn.example.com")), "{log:?}");
    assert!(log.requests.iter().any(|url| url.contains("203.0.113.1")), "{log:?}");
    assert!(log.errors.iter().any(|error| error.contains("boom")), "{log:?}");
    // With the reports' policy, the same image is blocked, with an error (the check counts it
    // as attempted all the same).
    let strict = dir.path().join("strict.html");
    std::fs::write(
        &strict,
        format!(
            "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"></head>\
             <body><img src=\"http://203.0.113.1/y.png\">hello</body></html>",
            cyrisma_report_html::render::CSP
        ),
    )
    .expect("a page");
    let log = browser.open(&strict);
    assert!(log.errors.iter().any(|error| error.contains("Content Security Policy")), "{log:?}");
}

#[test]
fn hostile_names_render_as_text_in_chromium() {
    let env = Env::small();
    let organization = env
        .emu
        .instances()
        .into_iter()
        .find(|instance| instance.is_organization())
        .expect("an organization")
        .instance_id;
    let markup = "<img src=x onerror=alert(1)><script>alert(2)</script>\"' onmouseover=\"alert(3)";
    let long = format!("Long{}", "W".repeat(3000));
    let rtl = "\u{202e}lanigiro\u{202c} مرحبا שלום";
    for (name, short) in [(markup, "markup"), (long.as_str(), "long"), (rtl, "rtl")] {
        let created = env.run(&[
            "instances",
            "create",
            "--type",
            "standard",
            "--parent",
            &organization,
            "--name",
            name,
            "--short-name",
            short,
            "--country",
            "US",
            "--email",
            "it@example.com",
            "--wait",
        ]);
        assert_eq!(created.code, 0, "{}", created.transcript());
    }
    let dir = env.home.path().join("history");
    env.run(&["snapshot", "--dir", path(&dir)]).ok();
    let out = env.home.path().join("report");
    env.run(&["report", "html", "--dir", path(&dir), "--out", path(&out), "--msp-name", markup]).ok();

    let mut browser = Browser::start();
    let log = browser.open(&out.join("index.html"));
    assert!(log.requests.is_empty(), "injected markup fetched: {:?}", log.requests);
    assert!(log.errors.is_empty(), "{:?}", log.errors);
    let text = browser.text();
    assert!(text.contains(markup), "the name shows as text:\n{text}");
    assert!(text.contains(&format!("Prepared by {markup}")), "{text}");
    assert!(text.contains(rtl), "{text}");
    let injected = browser.counts(&["script", "img", "[onerror]", "[onmouseover]"]);
    assert!(injected.values().all(|count| *count == 0), "{injected:?}");
    // The long name wraps: the page is no wider than the window.
    let width = browser.eval("document.documentElement.scrollWidth").as_u64().expect("a width");
    assert!(width <= 1200, "the page is {width} px wide");
}
