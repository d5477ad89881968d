//! Tests of collecting and rendering over small datasets written here with the dataset's own
//! writer: the figures (grades, new, fixed, reopened), the pages (insta snapshots, the style
//! sheet left out), hostile strings from the server, and the output directory's rules.

use std::path::Path;

use cyrisma_dataset::schema::{CoverageRow, FindingRow, GradeRow, InstanceRow, OutcomeRow, UsageRow};
use cyrisma_dataset::write::RunCounts;
use cyrisma_dataset::{Dataset, RunWriter};
use cyrisma_fleet::History;

use crate::collect::{AREAS, Direction, page_file};
use crate::{Branding, Error, Logo, Options, Period, collect, render, write_report};

const DAY: i64 = 86_400 * 1_000_000;
/// 2026-01-01T00:00:00Z in microseconds.
const START: i64 = 20_454 * DAY;

/// One customer in one run: its name, whether it was pulled, its overall grade and its
/// findings as (asset, rule, risk, score, kind).
struct Customer<'a> {
    id: &'a str,
    name: &'a str,
    pulled: bool,
    overall: &'a str,
    findings: &'a [(&'a str, &'a str, &'a str, f64, &'a str)],
}

fn fingerprint(id: &str, asset: &str, kind: &str, rule: &str) -> String {
    // Any stable 32 hex digits do: the dataset stores what the snapshot computed.
    let mut hash: u128 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{id}|{asset}|{kind}|{rule}").bytes() {
        hash = (hash ^ u128::from(byte)).wrapping_mul(0x0100_0000_0000_0000_0000_0000_013b);
    }
    format!("{hash:032x}")
}

fn write_run(dataset: &Dataset, day: i64, customers: &[Customer<'_>]) {
    let started_at = START + day * DAY;
    let run_id = cyrisma_dataset::run_id(started_at, day as u32);
    let mut writer = RunWriter::begin(dataset, &run_id, started_at, "test").unwrap();
    let run = || run_id.clone();
    let mut counts = RunCounts::default();
    for customer in customers {
        let id = customer.id.to_owned();
        writer
            .write(&[OutcomeRow {
                run_id: run(),
                instance_id: id.clone(),
                instance_name: Some(customer.name.to_owned()),
                outcome: if customer.pulled { "pulled" } else { "failed" }.to_owned(),
                status: (!customer.pulled).then_some(503),
                error_code: None,
                request_id: (!customer.pulled).then(|| "req-1".to_owned()),
                message: (!customer.pulled).then(|| "the instance host answered 503 <unavailable>".to_owned()),
            }])
            .unwrap();
        writer
            .write(&[InstanceRow {
                run_id: run(),
                instance_id: id.clone(),
                name: Some(customer.name.to_owned()),
                selected: true,
                number_of_endpoints: Some(40),
                critical: customer.pulled.then_some(1),
                high: customer.pulled.then_some(2),
                medium: customer.pulled.then_some(3),
                low: customer.pulled.then_some(4),
                ..InstanceRow::default()
            }])
            .unwrap();
        if !customer.pulled {
            counts.failed += 1;
            continue;
        }
        counts.pulled += 1;
        let grades: Vec<GradeRow> = AREAS
            .iter()
            .map(|(area, _)| GradeRow {
                run_id: run(),
                instance_id: id.clone(),
                area: (*area).to_owned(),
                current_grade: Some(if *area == "overall" { customer.overall } else { "B" }.to_owned()),
                previous_grade: Some("C".to_owned()),
                grading_period: None,
            })
            .collect();
        writer.write(&grades).unwrap();
        let mut coverage = Vec::new();
        for asset in ["ws-1", "ws-2", "srv-1"] {
            coverage.push(CoverageRow {
                run_id: run(),
                instance_id: id.clone(),
                scan_class: "internal_authenticated".to_owned(),
                scan_id: "s1".to_owned(),
                asset_key: format!("id:{asset}"),
            });
        }
        writer.write(&coverage).unwrap();
        let findings: Vec<FindingRow> = customer
            .findings
            .iter()
            .map(|(asset, rule, risk, score, kind)| FindingRow {
                run_id: run(),
                instance_id: id.clone(),
                scan_id: "s1".to_owned(),
                scan_class: "internal_authenticated".to_owned(),
                asset_key: format!("id:{asset}"),
                asset_id: Some((*asset).to_owned()),
                asset_name: Some((*asset).to_owned()),
                asset_address: None,
                kind: (*kind).to_owned(),
                rule: (*rule).to_owned(),
                risk_level: Some((*risk).to_owned()),
                score: Some(*score),
                title: Some(format!("Title of {rule}")),
                first_seen: None,
                fingerprint: fingerprint(customer.id, asset, kind, rule),
            })
            .collect();
        writer.write(&findings).unwrap();
    }
    writer
        .write(&[UsageRow {
            run_id: run(),
            scope: "total".to_owned(),
            endpoints: 40 * customers.len() as i64,
            instances: customers.len() as i64,
            standard: customers.len() as i64,
            users: Some(3),
            ..UsageRow::default()
        }])
        .unwrap();
    writer.commit(started_at + 1, counts).unwrap();
}

const LOG4J: (&str, &str, &str, f64, &str) = ("ws-1", "CVE-2021-44228", "Critical", 10.0, "vulnerability");
const SMB: (&str, &str, &str, f64, &str) = ("srv-1", "445", "High", 0.0, "open_port");
const OLD: (&str, &str, &str, f64, &str) = ("ws-2", "CVE-2019-0708", "High", 8.1, "vulnerability");
const LOW: (&str, &str, &str, f64, &str) = ("ws-2", "CVE-2020-0001", "Low", 2.0, "vulnerability");

/// Three runs: `cc1` fixes OLD in run 2 and it comes back in run 3, LOG4J is new in run 3;
/// `cc2` fails in run 3.
fn three_runs(dir: &Path) -> History {
    let dataset = Dataset::new(dir);
    write_run(
        &dataset,
        0,
        &[
            Customer { id: "cc1", name: "Acme Dental", pulled: true, overall: "C", findings: &[OLD, SMB, LOW] },
            Customer { id: "cc2", name: "Bravo Legal", pulled: true, overall: "B", findings: &[SMB] },
        ],
    );
    write_run(
        &dataset,
        30,
        &[
            Customer { id: "cc1", name: "Acme Dental", pulled: true, overall: "C+", findings: &[SMB, LOW] },
            Customer { id: "cc2", name: "Bravo Legal", pulled: true, overall: "B-", findings: &[SMB] },
        ],
    );
    write_run(
        &dataset,
        61,
        &[
            Customer { id: "cc1", name: "Acme Dental", pulled: true, overall: "B", findings: &[OLD, SMB, LOW, LOG4J] },
            Customer { id: "cc2", name: "Bravo Legal", pulled: false, overall: "", findings: &[] },
        ],
    );
    History::new(dataset)
}

#[test]
fn figures_follow_the_history_rules() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let portfolio = collect(&history, &Options::default()).unwrap();
    assert_eq!(portfolio.runs.len(), 3);
    assert_eq!(portfolio.runs[2].date, "2026-03-03");
    let acme = portfolio.customer("cc1").unwrap();
    let overall = acme.overall();
    assert_eq!(overall.grades, vec![Some("C".into()), Some("C+".into()), Some("B".into())]);
    assert_eq!((overall.current.as_deref(), overall.previous.as_deref()), (Some("B"), Some("C+")));
    assert_eq!(overall.direction, Direction::Up);
    assert_eq!(overall.previous_period.as_deref(), Some("C"));
    let since = acme.since_previous.unwrap();
    // Run 3: LOG4J never seen (new), OLD seen in run 1 (reopened).
    assert_eq!((since.new, since.reopened, since.fixed), (1, 1, 0));
    let over = acme.over_period.unwrap();
    // Run 2: OLD fixed (its asset was covered). Run 3: as above.
    assert_eq!((over.new, over.reopened, over.fixed), (1, 1, 1));
    assert_eq!(acme.top_cves[0].rule, "CVE-2021-44228");
    assert_eq!(acme.top_cves[0].change, Some("new"));
    assert_eq!(acme.top_cves[1].change, Some("reopened"));
    assert_eq!(acme.top_cves.len(), 3);
    assert_eq!(acme.ports.len(), 1);
    assert_eq!(acme.ports[0].assets, vec!["srv-1".to_owned()]);
    // Fix first: medium risk or worse, worst first; the low CVE is left out.
    let first: Vec<&str> = acme.fix_first.iter().map(|group| group.rule.as_str()).collect();
    assert_eq!(first, ["CVE-2021-44228", "CVE-2019-0708", "445"]);

    // cc2 failed in the latest run: reported, its grades and findings from run 2.
    let bravo = portfolio.customer("cc2").unwrap();
    assert_eq!(portfolio.failed.len(), 1);
    assert_eq!(portfolio.failed[0].instance_id, "cc2");
    assert_eq!(bravo.overall().current.as_deref(), Some("B-"));
    assert_eq!(bravo.overall().grades[2], None);
    assert_eq!(bravo.data_from.as_ref().unwrap().date, portfolio.runs[1].date);
    assert_eq!(bravo.since_previous.unwrap().not_covered, 1);
    assert_eq!(bravo.since_previous.unwrap().fixed, 0);

    assert_eq!(portfolio.movers_up.len(), 1);
    assert_eq!((portfolio.movers_up[0].instance_id.as_str(), portfolio.movers_up[0].steps), ("cc1", 3));
    assert_eq!(portfolio.movers_down[0].instance_id, "cc2");
    assert_eq!(portfolio.usage.unwrap().endpoints, 80);
}

#[test]
fn a_period_and_a_selection_narrow_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let options = Options { period: Period::last("31d").unwrap(), ..Options::default() };
    let portfolio = collect(&history, &options).unwrap();
    assert_eq!(portfolio.runs.len(), 2);
    assert_eq!(portfolio.earlier_runs, 1);
    // OLD was seen before the period, so its return is still `reopened`.
    assert_eq!(portfolio.customer("cc1").unwrap().over_period.unwrap().reopened, 1);
    let options = Options { instances: vec!["cc2".into()], ..Options::default() };
    let portfolio = collect(&history, &options).unwrap();
    assert_eq!(portfolio.customers.len(), 1);
    let unknown = Options { instances: vec!["cc9".into()], ..Options::default() };
    assert!(matches!(collect(&history, &unknown), Err(Error::UnknownInstances(ids)) if ids == ["cc9"]));
    let future = Options { period: Period::since("2030-01-01").unwrap(), ..Options::default() };
    assert!(matches!(collect(&history, &future), Err(Error::NoRuns(_))));
}

/// Every page of a report by its file name (`index.html` and each customer's).
fn pages(history: &History, options: &Options) -> std::collections::BTreeMap<String, String> {
    let portfolio = collect(history, options).unwrap();
    let mut pages = std::collections::BTreeMap::new();
    pages.insert("index.html".to_owned(), render::index_page(&portfolio).unwrap());
    for customer in &portfolio.customers {
        pages.insert(customer.file.clone(), render::customer_page(&portfolio, customer).unwrap());
    }
    pages
}

/// A copy of a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn cached_counts_give_the_pages_counting_gives() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let cold = pages(&history, &Options::default());
    let runs = history.dataset().runs().unwrap();
    let chains = crate::cache::chains(&runs);
    let cache = crate::cache::Cache::of(history.dataset());
    assert!(cache.step(&chains[0], true).is_none(), "the first run has no step");
    let step = cache.step(&chains[2], true).expect("the report cached the latest step");
    assert!(cache.step(&chains[1], true).is_some());
    assert_eq!(cache.seen(&chains[1]).map(|keys| keys.len()), Some(4), "the keys of the runs before the latest");
    assert_eq!(pages(&history, &Options::default()), cold, "pages from the cache");

    // The cached counts are what the pages show: a step altered in the cache shows.
    let mut altered = step.clone();
    for (id, changes) in &mut altered.counts {
        if id == "cc1" {
            changes[0] += 5;
        }
    }
    cache.put_step(&chains[2], &altered);
    let portfolio = collect(&history, &Options::default()).unwrap();
    assert_eq!(portfolio.customer("cc1").unwrap().since_previous.unwrap().new, 6);
    // A step missing from the cache (or unreadable) is counted again, and cached again.
    std::fs::remove_dir_all(dir.path().join(".cache")).unwrap();
    assert_eq!(pages(&history, &Options::default()), cold);
    assert_eq!(cache.step(&chains[2], true), Some(step));
    let narrower = Options { period: Period::last("31d").unwrap(), ..Options::default() };
    let narrow_cached = pages(&history, &narrower);
    std::fs::remove_dir_all(dir.path().join(".cache")).unwrap();
    assert_eq!(pages(&history, &narrower), narrow_cached, "a period reads the same steps");
    let _ = pages(&history, &Options::default());

    // A new run: only the new pair is counted, with the earlier runs' keys and the run before it
    // from the cache, and the pages are those of a report with no cache.
    write_run(
        history.dataset(),
        92,
        &[
            Customer { id: "cc1", name: "Acme Dental", pulled: true, overall: "B+", findings: &[SMB, LOW] },
            Customer { id: "cc2", name: "Bravo Legal", pulled: true, overall: "B", findings: &[SMB, OLD] },
        ],
    );
    let copy = tempfile::tempdir().unwrap();
    copy_tree(dir.path(), copy.path());
    std::fs::remove_dir_all(copy.path().join(".cache")).unwrap();
    let without_cache = pages(&History::new(Dataset::new(copy.path())), &Options::default());
    // The first run's findings, and the findings and coverage of the latest run before the new
    // one (kept compacted in the cache), are not read again.
    let (first, latest) = (&runs[0], &runs[2]);
    std::fs::remove_file(history.dataset().file("findings", &first.run_id, first.started_at)).unwrap();
    assert!(cache.run(&chains[2]).is_some(), "the latest run is kept");
    for table in ["findings", "coverage"] {
        std::fs::remove_file(history.dataset().file(table, &latest.run_id, latest.started_at)).unwrap();
    }
    let incremental = pages(&history, &Options::default());
    assert_eq!(incremental, without_cache);
    let acme = collect(&history, &Options::default()).unwrap();
    let since = acme.customer("cc1").unwrap().since_previous.unwrap();
    assert_eq!((since.new, since.fixed, since.reopened), (0, 2, 0), "OLD and LOG4J fixed");
    assert_eq!(acme.customer("cc2").unwrap().since_previous.unwrap().new, 1, "OLD is new to cc2");
}

#[test]
fn a_cache_that_cannot_be_written_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    // `.cache` taken by a file: nothing can be cached, and the report is written all the same.
    std::fs::write(dir.path().join(".cache"), "not a directory").unwrap();
    let first = pages(&history, &Options::default());
    let second = pages(&history, &Options::default());
    assert_eq!(first, second);
    assert_eq!(std::fs::read_to_string(dir.path().join(".cache")).unwrap(), "not a directory");
    let portfolio = collect(&history, &Options::default()).unwrap();
    assert_eq!(portfolio.customer("cc1").unwrap().since_previous.unwrap().new, 1);
}

#[test]
fn a_customer_whose_findings_span_both_halves_of_the_file_is_grouped_as_one() {
    // The run whose findings the pages show is read in two halves on two threads, then put
    // together in row order: the figures are those of one pass.
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(dir.path());
    let rows = cyrisma_dataset::write::ROW_GROUP_ROWS + 10_000;
    let assets: Vec<String> = (0..rows).map(|index| format!("ws-{:05}", index % 20_000)).collect();
    let mut findings: Vec<(&str, &str, &str, f64, &str)> = assets
        .iter()
        .enumerate()
        .map(|(index, asset)| {
            let risk = if index < rows - 5_000 { "Low" } else { "Critical" };
            (asset.as_str(), "CVE-2024-0001", risk, (index % 97) as f64 / 10.0, "vulnerability")
        })
        .collect();
    // A rule only in the later half; the same finding twice (one asset) counts as one asset.
    findings.extend([("ws-00001", "CVE-2024-0002", "High", 7.0, "vulnerability"); 2]);
    let late: Vec<(&str, &str, &str, f64, &str)> = vec![("srv-1", "445", "High", 0.0, "open_port")];
    write_run(
        &dataset,
        0,
        &[
            Customer { id: "cc1", name: "Acme", pulled: true, overall: "B", findings: &findings },
            Customer { id: "cc2", name: "Bravo", pulled: true, overall: "C", findings: &late },
        ],
    );
    let run = &dataset.runs().unwrap()[0];
    let half = |part| {
        let how = cyrisma_dataset::scan::Scan { columns: Some(&["rule"]), dictionary: &[], part: Some((part, 2)) };
        dataset.scan_batches("findings", run, &how).unwrap().rows()
    };
    assert!(half(0) > 0 && half(1) > 2, "the file has rows in both halves: {} and {}", half(0), half(1));
    let portfolio = collect(&History::new(dataset), &Options::default()).unwrap();
    let acme = portfolio.customer("cc1").unwrap();
    assert_eq!(acme.open_findings, rows + 2);
    assert_eq!(acme.cve_count, 2);
    let common = acme.top_cves.iter().find(|group| group.rule == "CVE-2024-0001").unwrap();
    assert_eq!(common.assets.len(), 20_000, "each asset once");
    assert!(common.assets.windows(2).all(|pair| pair[0] < pair[1]), "sorted");
    assert_eq!(common.risk.as_deref(), Some("Critical"));
    assert_eq!(common.score, Some(9.6));
    assert_eq!(common.title.as_deref(), Some("Title of CVE-2024-0001"));
    let later = acme.top_cves.iter().find(|group| group.rule == "CVE-2024-0002").unwrap();
    assert_eq!(later.assets, vec!["ws-00001".to_owned()]);
    assert_eq!(acme.top_cves[0].rule, "CVE-2024-0001", "critical before high");
    let bravo = portfolio.customer("cc2").unwrap();
    assert_eq!((bravo.open_findings, bravo.ports_total), (1, 1));
}

#[test]
fn an_empty_history_says_how_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let error = collect(&History::new(Dataset::new(dir.path())), &Options::default()).unwrap_err();
    assert!(error.to_string().contains("cyrisma snapshot"), "{error}");
}

/// A page with the style sheet left out (it is the same constant in every page) and the
/// version replaced.
fn without_css(html: &str) -> String {
    html.replace(render::CSS, "/* report.css */").replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

#[test]
fn pages_render_as_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let options = Options {
        branding: Branding { title: Some("Q1 review".into()), msp_name: Some("Northwind IT".into()), logo: None },
        ..Options::default()
    };
    let portfolio = collect(&history, &options).unwrap();
    insta::assert_snapshot!("index", without_css(&render::index_page(&portfolio).unwrap()));
    let acme = portfolio.customer("cc1").unwrap();
    insta::assert_snapshot!("customer", without_css(&render::customer_page(&portfolio, acme).unwrap()));
}

#[test]
fn one_run_says_trends_need_a_second_and_shows_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(dir.path());
    write_run(
        &dataset,
        0,
        &[Customer { id: "cc1", name: "Acme Dental", pulled: true, overall: "C", findings: &[LOG4J, SMB] }],
    );
    let portfolio = collect(&History::new(dataset), &Options::default()).unwrap();
    let index = render::index_page(&portfolio).unwrap();
    assert!(index.contains("This history has one snapshot"), "{index}");
    assert!(!index.contains("Biggest movers"));
    let page = render::customer_page(&portfolio, &portfolio.customers[0]).unwrap();
    assert!(page.contains("This is the first snapshot: trends and new or fixed findings need a second one"));
    assert!(!page.contains("class=\"chart trend\""), "no trend chart with one run");
    assert!(page.contains("CVE-2021-44228") && page.contains("Open port 445"), "the rest is still shown");
}

#[test]
fn every_page_declares_the_policy_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let portfolio = collect(&history, &Options::default()).unwrap();
    let mut pages = vec![render::index_page(&portfolio).unwrap()];
    for customer in &portfolio.customers {
        pages.push(render::customer_page(&portfolio, customer).unwrap());
    }
    for page in pages {
        assert!(
            page.contains(&format!(
                r#"<meta http-equiv="Content-Security-Policy" content="{}">"#,
                render::CSP.replace('\'', "&#39;")
            )) || page.contains(&format!(r#"content="{}""#, render::CSP)),
            "no CSP meta"
        );
        for needle in ["<script", "http://", "https://", "src=\"//", "@import", "url("] {
            let hits: Vec<&str> = page.matches(needle).collect();
            // The only URLs allowed are the SVG namespace identifiers (never fetched).
            let allowed = page.matches("http://www.w3.org/2000/svg").count();
            if needle == "http://" {
                assert_eq!(hits.len(), allowed, "{needle}");
            } else {
                assert!(hits.is_empty(), "{needle} in a page");
            }
        }
    }
}

const HOSTILE_NAME: &str = "<script>alert(1)</script>\"' onmouseover=alert(2) <img src=x onerror=alert(3)>";

#[test]
fn hostile_strings_are_escaped_isolated_and_never_name_a_file_outside() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = Dataset::new(dir.path().join("history"));
    let long = "W".repeat(5000);
    let rtl = "\u{202e}evil\u{202c} שלום مرحبا";
    let evil_id = "../../x\"<b>";
    write_run(
        &dataset,
        0,
        &[
            Customer { id: "cc1", name: HOSTILE_NAME, pulled: true, overall: "<b>A</b>", findings: &[LOG4J] },
            Customer { id: "cc2", name: &long, pulled: true, overall: "B", findings: &[] },
            Customer { id: "cc3", name: rtl, pulled: true, overall: "B", findings: &[] },
            Customer { id: evil_id, name: "Evil id", pulled: false, overall: "", findings: &[] },
        ],
    );
    let out = dir.path().join("report");
    let written = write_report(&History::new(dataset), &out, &Options::default()).unwrap();
    assert_eq!(written.customers, 4);
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["_2e_2e_2f_2e_2e_2fx_22_3cb_3e.html", "cc1.html", "cc2.html", "cc3.html", "index.html"]);
    assert_eq!(page_file(evil_id), names[0]);
    for name in &names {
        let page = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(!page.contains("<script"), "{name}: unescaped markup");
        assert!(!page.contains("<img src=x"), "{name}: unescaped markup");
        assert!(!page.contains("<b>"), "{name}: unescaped markup");
        assert!(!page.contains("onmouseover=alert(2) <"), "{name}");
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39; onmouseover"), "escaped name missing");
    assert!(index.contains(&format!("<bdi>{rtl}</bdi>")), "right-to-left text isolated");
    assert!(index.contains(&long), "a long name is kept whole (the style sheet wraps it)");
    assert!(render::CSS.contains("bdi, .id, code { overflow-wrap: anywhere; }"));
    // The hostile grade is shown escaped and drawn nowhere.
    assert!(index.contains("&#60;b&#62;A&#60;/b&#62;"));
    assert!(index.contains(r#"href="_2e_2e_2f_2e_2e_2fx_22_3cb_3e.html""#));
}

#[test]
fn the_output_directory_is_created_and_a_file_there_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(&dir.path().join("history"));
    let out = dir.path().join("a/b/report");
    write_report(&history, &out, &Options::default()).unwrap();
    // Written again over itself: pages replaced, no temporary file left behind.
    write_report(&history, &out, &Options::default()).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["cc1.html", "cc2.html", "index.html"]);
    // A page name taken by a symlink is refused, and what it points to is left alone.
    #[cfg(unix)]
    {
        let elsewhere = dir.path().join("elsewhere.html");
        std::fs::write(&elsewhere, "theirs").unwrap();
        std::fs::remove_file(out.join("cc1.html")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("cc1.html")).unwrap();
        let error = write_report(&history, &out, &Options::default()).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "theirs");
        std::fs::remove_file(out.join("cc1.html")).unwrap();
    }
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let error = write_report(&history, &file, &Options::default()).unwrap_err();
    assert!(matches!(error, Error::Target(_)), "{error}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn periods_parse_or_say_what_is_allowed() {
    assert_eq!(Period::last("90d").unwrap(), Period::LastDays(90));
    assert_eq!(Period::last("3m").unwrap(), Period::LastDays(90));
    assert_eq!(Period::last("2w").unwrap(), Period::LastDays(14));
    assert_eq!(Period::since("2026-01-01").unwrap(), Period::Since(START));
    for bad in ["", "d", "0d", "-3d", "3x", "999999y", "3 months"] {
        let error = Period::last(bad).unwrap_err().to_string();
        assert!(error.contains("90d"), "{bad}: {error}");
    }
    for bad in ["2026-02-30", "2026-13-01", "26-01-01", "2026/01/01", "yesterday"] {
        assert!(Period::since(bad).unwrap_err().to_string().contains("YYYY-MM-DD"), "{bad}");
    }
}

#[test]
fn logos_are_told_by_content_and_embedded() {
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let logo = Logo::from_bytes(png).unwrap();
    assert_eq!(logo.mime(), "image/png");
    assert!(logo.data_url().starts_with("data:image/png;base64,iVBORw0KGgo"));
    assert_eq!(Logo::from_bytes(b"<?xml version=\"1.0\"?><svg/>".to_vec()).unwrap().mime(), "image/svg+xml");
    assert!(Logo::from_bytes(b"<html><script>".to_vec()).is_err());
    assert!(Logo::from_bytes(vec![0; 10]).is_err());
    let big = [b"GIF89a".to_vec(), vec![0; crate::options::MAX_LOGO_BYTES as usize]].concat();
    assert!(Logo::from_bytes(big).unwrap_err().to_string().contains("smaller"));
    let dir = tempfile::tempdir().unwrap();
    assert!(Logo::read(dir.path()).is_err(), "a directory is not a logo");
    assert!(Logo::read(&dir.path().join("missing.png")).unwrap_err().to_string().contains("missing.png"));
}

#[test]
fn a_logo_and_branding_appear_on_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let history = three_runs(dir.path());
    let logo = Logo::from_bytes(b"GIF89a-logo".to_vec()).unwrap();
    let options = Options {
        branding: Branding {
            title: Some("Board \"pack\"".into()),
            msp_name: Some("Contoso <MSP>".into()),
            logo: Some(logo.clone()),
        },
        ..Options::default()
    };
    let portfolio = collect(&history, &options).unwrap();
    for page in
        [render::index_page(&portfolio).unwrap(), render::customer_page(&portfolio, &portfolio.customers[0]).unwrap()]
    {
        assert!(page.contains(&format!(r#"src="{}""#, logo.data_url())));
        assert!(page.contains("Prepared by <bdi>Contoso &#60;MSP&#62;</bdi>"));
        assert!(page.contains("Board &#34;pack&#34;"));
    }
}
