//! `cyrisma report`: current and previous grades of the five areas and the vulnerability counts
//! of every instance, through the fleet layer (`cyrisma_fleet`), rendered as rows or, with
//! `-o json`, as the layer's report document (`instances` and `errors`). `cyrisma report html`
//! writes the offline HTML pages of `cyrisma_report_html` from the history.

use anyhow::Context as _;
use cyrisma_fleet::{Fleet, History, Selection};
use cyrisma_report_html::{Branding, Logo, Options, Period};

use crate::args::{OutputFormat, ReportArgs, ReportCommand, ReportHtmlArgs};
use crate::commands::Context;
use crate::exit::{CliError, PartialFailure, fleet_error};
use crate::output::rows::ReportHtmlRow;

/// Runs `report`.
pub(crate) async fn run(context: &Context, args: ReportArgs) -> anyhow::Result<()> {
    if let Some(ReportCommand::Html(html_args)) = args.command {
        return html(context, html_args);
    }
    let fleet = Fleet::new(context.client()?).with_concurrency(context.concurrency());
    let selection = Selection::ids(&args.filter.instances);
    let report = fleet.report(&selection, context.ui.fleet_progress("reporting")).await.map_err(fleet_error)?;
    if selection.is_reportable() && report.instances.is_empty() && report.errors.is_empty() {
        context.ui.note("no instances to report on (organizations and suspended instances are left out)");
    }
    match context.out.format() {
        OutputFormat::Json => context.out.document(&report)?,
        _ => context.out.rows(&report.instances)?,
    }
    PartialFailure::check(report.instances.len(), &report.errors)
}

/// Runs `report html`: flags and environment first, then the profile's `report_*` keys.
fn html(context: &Context, args: ReportHtmlArgs) -> anyhow::Result<()> {
    let (path, dataset) = super::history::dataset(context, &args.dir)?;
    let period = match (&args.since, &args.period) {
        (Some(date), _) => Period::since(date),
        (None, Some(period)) => Period::last(period),
        (None, None) => Ok(Period::All),
    }
    .map_err(|error| CliError::usage(error.to_string()))?;
    let logo = match args.logo.clone().or_else(|| context.profile.report_logo.clone()) {
        Some(file) => Some(Logo::read(&file).map_err(|error| {
            CliError::usage(error.to_string())
                .with_hint("`--logo` (or `CYRISMA_REPORT_LOGO`, or the profile's `report_logo`) names the image file")
        })?),
        None => None,
    };
    let options = Options {
        instances: args.instances.clone(),
        period,
        branding: Branding {
            title: args.title.clone().or_else(|| context.profile.report_title.clone()),
            msp_name: args.msp_name.clone().or_else(|| context.profile.report_msp_name.clone()),
            logo,
        },
    };
    let history = History::new(dataset);
    let written = cyrisma_report_html::write_report(&history, &args.out, &options)
        .map_err(|error| match error {
            cyrisma_report_html::Error::NoRuns(message) => CliError::usage(message)
                .with_hint("`cyrisma snapshot` adds a run; `cyrisma history runs` lists them")
                .into(),
            cyrisma_report_html::Error::UnknownInstances(_) => CliError::usage(error.to_string()).into(),
            cyrisma_report_html::Error::Target(message) => CliError::usage(message).into(),
            cyrisma_report_html::Error::History(error) => fleet_error(error),
            other => anyhow::Error::new(other),
        })
        .with_context(|| format!("cannot write the report from the history at {}", path.display()))?;
    context.ui.note(&format!(
        "wrote {} and {} customer page{} ({} snapshot{}) into {}",
        written.index.display(),
        written.customers,
        if written.customers == 1 { "" } else { "s" },
        written.runs,
        if written.runs == 1 { "" } else { "s" },
        written.dir.display()
    ));
    let row = ReportHtmlRow {
        dir: written.dir.display().to_string(),
        index: written.index.display().to_string(),
        customers: written.customers as u64,
        runs: written.runs as u64,
        failed_pulls: written.failed as u64,
    };
    match context.out.format() {
        OutputFormat::Json => context.out.document(&row),
        _ => context.out.one(&row),
    }
}
