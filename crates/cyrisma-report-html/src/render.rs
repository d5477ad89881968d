//! The pages, rendered from the view models by askama templates (`templates/*.html`, compiled
//! into the crate, HTML auto-escaping on). Pure: no file is read or written here.
//!
//! The templates only print prepared text: this module turns the view models into cells
//! (grades with their CSS class, counts as words), so that the templates hold no logic beyond
//! loops and conditions. Our own markup (the CSS and the SVG charts) is the only thing marked
//! safe; everything else is escaped by the template engine.

use askama::Template;

use crate::Error;
use crate::chart;
use crate::collect::{AreaGrades, Changes, Customer, Failure, Group, Mover, Portfolio, Usage};

/// The pages' style sheet, with the print rules.
pub const CSS: &str = include_str!("../templates/report.css");

/// The Content-Security-Policy every page declares.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// The header and footer every page shares.
struct Head {
    title: String,
    msp_name: Option<String>,
    logo: Option<String>,
    period: String,
    version: &'static str,
    css: &'static str,
    csp: &'static str,
}

impl Head {
    fn new(portfolio: &Portfolio) -> Self {
        let runs = portfolio.runs.len();
        let period = if runs == 1 {
            format!("one snapshot, {}", portfolio.latest().date)
        } else {
            format!("{} to {}, {runs} snapshots", portfolio.first().date, portfolio.latest().date)
        };
        Self {
            title: portfolio
                .branding
                .title
                .clone()
                .filter(|title| !title.trim().is_empty())
                .unwrap_or_else(|| "Security report".to_owned()),
            msp_name: portfolio.branding.msp_name.clone().filter(|name| !name.trim().is_empty()),
            logo: portfolio.branding.logo.as_ref().map(crate::Logo::data_url),
            period,
            version: env!("CARGO_PKG_VERSION"),
            css: CSS,
            csp: CSP,
        }
    }
}

/// A grade as shown: its letter (or a dash) and a CSS class by its letter.
struct GradeCell {
    text: String,
    class: &'static str,
}

impl GradeCell {
    fn of(grade: Option<&str>) -> Self {
        match grade.map(str::trim).filter(|grade| !grade.is_empty()) {
            Some(grade) => Self {
                text: grade.to_owned(),
                class: match grade.chars().next() {
                    Some('A') => "g g-a",
                    Some('B') => "g g-b",
                    Some('C') => "g g-c",
                    Some('D') => "g g-d",
                    Some('F') => "g g-f",
                    _ => "g",
                },
            },
            None => Self { text: "–".to_owned(), class: "g g-none" },
        }
    }
}

struct AreaRow {
    label: &'static str,
    now: GradeCell,
    previous: GradeCell,
    change_class: &'static str,
    change: &'static str,
    previous_period: GradeCell,
}

impl AreaRow {
    fn of(area: &AreaGrades) -> Self {
        Self {
            label: area.label,
            now: GradeCell::of(area.current.as_deref()),
            previous: GradeCell::of(area.previous.as_deref()),
            change_class: area.direction.as_str(),
            change: area.direction.words(),
            previous_period: GradeCell::of(area.previous_period.as_deref()),
        }
    }
}

/// Counts as text: a number, or a dash when there is nothing to compare with.
fn count(changes: Option<&Changes>, pick: fn(&Changes) -> u64) -> String {
    changes.map_or_else(|| "–".to_owned(), |changes| pick(changes).to_string())
}

struct ChangeRow {
    label: &'static str,
    since: String,
    over: String,
}

/// How one count is read from the changes.
type Pick = fn(&Changes) -> u64;

fn change_rows(since: Option<&Changes>, over: Option<&Changes>) -> Vec<ChangeRow> {
    let rows: [(&'static str, Pick); 4] = [
        ("New", |c| c.new),
        ("Fixed", |c| c.fixed),
        ("Reopened", |c| c.reopened),
        ("Gone but not covered by a complete scan (not counted as fixed)", |c| c.not_covered),
    ];
    rows.iter().map(|(label, pick)| ChangeRow { label, since: count(since, *pick), over: count(over, *pick) }).collect()
}

struct GroupRow {
    label: String,
    title: String,
    risk: String,
    risk_class: &'static str,
    score: String,
    assets: Vec<String>,
    more: usize,
    asset_count: usize,
    change: Option<&'static str>,
}

impl GroupRow {
    fn of(group: &Group) -> Self {
        let risk = group.risk.clone().unwrap_or_default();
        let label = group.label();
        let title = shown_title(&label, group.title.as_deref().unwrap_or_default());
        Self {
            label,
            title,
            risk_class: match crate::collect::risk_rank(Some(&risk)) {
                4 => "risk risk-critical",
                3 => "risk risk-high",
                2 => "risk risk-medium",
                1 => "risk risk-low",
                _ => "risk",
            },
            risk,
            score: group.score_text(),
            assets: group.shown_assets().to_vec(),
            more: group.more_assets(),
            asset_count: group.assets.len(),
            change: group.change,
        }
    }
}

/// A finding's title as shown beside its label: scanners often repeat the CVE in front of the
/// title (`CVE-2020-0796: Microsoft SMBv3 ...`), which the label already shows.
fn shown_title(label: &str, title: &str) -> String {
    match title.strip_prefix(label) {
        Some("") => String::new(),
        Some(rest) if rest.starts_with(':') => rest[1..].trim_start().to_owned(),
        _ => title.to_owned(),
    }
}

struct RunGrades {
    date: String,
    grades: Vec<GradeCell>,
}

/// A customer's page.
#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    head: Head,
    name: String,
    instance_id: String,
    runs: usize,
    data_from: Option<String>,
    failure: Option<Failure>,
    areas: Vec<AreaRow>,
    trend: Option<String>,
    area_labels: [&'static str; 5],
    per_run: Vec<RunGrades>,
    previous_date: Option<String>,
    changes: Vec<ChangeRow>,
    has_changes: bool,
    severity: String,
    levels: Vec<(&'static str, String)>,
    endpoints: String,
    fix_first: Vec<GroupRow>,
    open_findings: usize,
    top_cves: Vec<GroupRow>,
    cve_count: usize,
    ports: Vec<GroupRow>,
    ports_total: usize,
    flaws: Vec<GroupRow>,
    flaws_total: usize,
}

struct IndexRow {
    name: String,
    instance_id: String,
    file: String,
    grades: Vec<GradeCell>,
    change_class: &'static str,
    change: &'static str,
    spark: String,
    new: String,
    fixed: String,
    endpoints: String,
    failed: bool,
}

struct MoverRow {
    name: String,
    file: String,
    from: GradeCell,
    to: GradeCell,
    steps: String,
}

impl MoverRow {
    fn of(mover: &Mover) -> Self {
        Self {
            name: mover.name.clone(),
            file: mover.file.clone(),
            from: GradeCell::of(Some(&mover.from)),
            to: GradeCell::of(Some(&mover.to)),
            steps: format!(
                "{} step{} {}",
                mover.steps.abs(),
                if mover.steps.abs() == 1 { "" } else { "s" },
                if mover.steps > 0 { "up" } else { "down" }
            ),
        }
    }
}

/// The portfolio page.
#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    head: Head,
    runs: usize,
    customers: Vec<IndexRow>,
    area_labels: [&'static str; 5],
    failed: Vec<Failure>,
    movers_up: Vec<MoverRow>,
    movers_down: Vec<MoverRow>,
    new_since: String,
    fixed_since: String,
    new_over: String,
    fixed_over: String,
    reopened_over: String,
    usage: Option<Usage>,
    users: String,
    previous_date: Option<String>,
}

fn render_error(page: &str) -> impl FnOnce(askama::Error) -> Error + '_ {
    move |error| Error::Render { page: page.to_owned(), message: error.to_string() }
}

/// The portfolio page (`index.html`).
pub fn index_page(portfolio: &Portfolio) -> Result<String, Error> {
    let customers = portfolio
        .customers
        .iter()
        .map(|customer| IndexRow {
            name: customer.display_name().to_owned(),
            instance_id: customer.instance_id.clone(),
            file: customer.file.clone(),
            grades: customer.areas.iter().map(|area| GradeCell::of(area.current.as_deref())).collect(),
            change_class: customer.overall().direction.as_str(),
            change: customer.overall().direction.words(),
            spark: chart::sparkline(&customer.overall().grades),
            new: count(customer.since_previous.as_ref(), |c| c.new + c.reopened),
            fixed: count(customer.since_previous.as_ref(), |c| c.fixed),
            endpoints: customer.endpoints.map_or_else(|| "–".to_owned(), |count| count.to_string()),
            failed: customer.failure.is_some(),
        })
        .collect();
    let page = IndexPage {
        head: Head::new(portfolio),
        runs: portfolio.runs.len(),
        customers,
        area_labels: chart::area_labels(),
        failed: portfolio.failed.clone(),
        movers_up: portfolio.movers_up.iter().map(MoverRow::of).collect(),
        movers_down: portfolio.movers_down.iter().map(MoverRow::of).collect(),
        new_since: count(portfolio.since_previous.as_ref(), |c| c.new + c.reopened),
        fixed_since: count(portfolio.since_previous.as_ref(), |c| c.fixed),
        new_over: count(portfolio.over_period.as_ref(), |c| c.new),
        fixed_over: count(portfolio.over_period.as_ref(), |c| c.fixed),
        reopened_over: count(portfolio.over_period.as_ref(), |c| c.reopened),
        usage: portfolio.usage,
        users: portfolio.usage.and_then(|usage| usage.users).map_or_else(|| "–".to_owned(), |users| users.to_string()),
        previous_date: previous_date(portfolio),
    };
    page.render().map_err(render_error("index.html"))
}

fn previous_date(portfolio: &Portfolio) -> Option<String> {
    let runs = &portfolio.runs;
    (runs.len() > 1).then(|| runs[runs.len() - 2].date.clone())
}

/// One customer's page.
pub fn customer_page(portfolio: &Portfolio, customer: &Customer) -> Result<String, Error> {
    let dates: Vec<String> = portfolio.runs.iter().map(|run| run.date.clone()).collect();
    let runs = portfolio.runs.len();
    let per_run = dates
        .iter()
        .enumerate()
        .map(|(index, date)| RunGrades {
            date: date.clone(),
            grades: customer
                .areas
                .iter()
                .map(|area| GradeCell::of(area.grades.get(index).and_then(|grade| grade.as_deref())))
                .collect(),
        })
        .collect();
    let page = CustomerPage {
        head: Head::new(portfolio),
        name: customer.display_name().to_owned(),
        instance_id: customer.instance_id.clone(),
        runs,
        data_from: customer.data_from.as_ref().map(|run| run.date.clone()),
        failure: customer.failure.clone(),
        areas: customer.areas.iter().map(AreaRow::of).collect(),
        trend: (runs > 1).then(|| chart::trend(&customer.areas, &dates)),
        area_labels: chart::area_labels(),
        per_run,
        previous_date: previous_date(portfolio),
        changes: change_rows(customer.since_previous.as_ref(), customer.over_period.as_ref()),
        has_changes: customer.since_previous.is_some(),
        severity: chart::severity_bars(&customer.severity),
        levels: customer
            .severity
            .levels()
            .iter()
            .map(|(level, count)| (*level, count.map_or_else(|| "–".to_owned(), |count| count.to_string())))
            .collect(),
        endpoints: customer.endpoints.map_or_else(|| "unknown".to_owned(), |count| count.to_string()),
        fix_first: customer.fix_first.iter().map(GroupRow::of).collect(),
        open_findings: customer.open_findings,
        top_cves: customer.top_cves.iter().map(GroupRow::of).collect(),
        cve_count: customer.cve_count,
        ports: customer.ports.iter().map(GroupRow::of).collect(),
        ports_total: customer.ports_total,
        flaws: customer.flaws.iter().map(GroupRow::of).collect(),
        flaws_total: customer.flaws_total,
    };
    page.render().map_err(render_error(&customer.file))
}

#[cfg(test)]
mod title_tests {
    use super::shown_title;

    #[test]
    fn a_title_that_repeats_the_label_shows_it_once() {
        assert_eq!(shown_title("CVE-2020-0796", "CVE-2020-0796: Microsoft SMBv3 RCE"), "Microsoft SMBv3 RCE");
        assert_eq!(shown_title("CVE-2020-0796", "CVE-2020-0796"), "");
        assert_eq!(shown_title("CVE-2020-0796", "Apache Log4j2 RCE"), "Apache Log4j2 RCE");
        // Only a label followed by a colon is a repeat: a longer id is a different title.
        assert_eq!(shown_title("CVE-2020-079", "CVE-2020-0796: x"), "CVE-2020-0796: x");
    }
}
