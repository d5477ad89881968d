//! `cyrisma dashboards ...`: the risk dashboards and CVEs of one instance.

use anyhow::Context as _;

use crate::args::DashboardsCommand;
use crate::commands::Context;
use cyrisma_core::types::{DataDashboard, VulnerabilityDashboard};

use crate::output::rows::{AreaRow, BaselineDashboardRow, CveRow};

/// Runs a `dashboards` command.
pub(crate) async fn run(context: &Context, command: DashboardsCommand) -> anyhow::Result<()> {
    let client = context.client()?;
    match command {
        DashboardsCommand::Overall(args) => {
            let dashboard = client
                .instance(args.instance.clone())
                .dashboard_overall()
                .await
                .with_context(|| format!("cannot get the overall dashboard of `{}`", args.instance))?;
            let period = dashboard.grading_period.as_ref().map(|period| period.as_str().to_owned());
            let rows: Vec<AreaRow> = dashboard
                .areas()
                .iter()
                .map(|area| AreaRow {
                    area: area.name,
                    current_grade: area
                        .current
                        .map(|grade| grade.as_str().to_owned())
                        .filter(|grade| !grade.is_empty()),
                    previous_grade: area
                        .previous
                        .map(|grade| grade.as_str().to_owned())
                        .filter(|grade| !grade.is_empty()),
                    grading_period: period.clone(),
                })
                .collect();
            context.out.api_document(&dashboard, &rows)
        }
        DashboardsCommand::Data(args) => {
            let dashboard = client
                .instance(args.instance.clone())
                .dashboard_data()
                .await
                .with_context(|| format!("cannot get the data dashboard of `{}`", args.instance))?;
            context.out.api_model(&dashboard, &DataDashboard::SCHEMA)
        }
        DashboardsCommand::Baseline(args) => {
            let dashboard = client
                .instance(args.instance.clone())
                .dashboard_baseline()
                .await
                .with_context(|| format!("cannot get the baseline dashboard of `{}`", args.instance))?;
            context.out.api_one(&dashboard, &BaselineDashboardRow::from_core(&dashboard))
        }
        DashboardsCommand::Vulnerability(args) => {
            let dashboard = client
                .instance(args.instance.clone())
                .dashboard_vulnerability()
                .await
                .with_context(|| format!("cannot get the vulnerability dashboard of `{}`", args.instance))?;
            context.out.api_model(&dashboard, &VulnerabilityDashboard::SCHEMA)
        }
        DashboardsCommand::Cves(args) => {
            let cves = client
                .instance(args.instance.instance.clone())
                .cves(args.cve.as_deref())
                .await
                .with_context(|| format!("cannot list the cves of `{}`", args.instance.instance))?;
            let mut pairs: Vec<(_, CveRow)> = cves.cves.iter().map(|cve| (cve, CveRow::from_core(cve))).collect();
            pairs.sort_by(|(_, a), (_, b)| {
                b.score.partial_cmp(&a.score).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.cve.cmp(&b.cve))
            });
            let (objects, rows): (Vec<_>, Vec<CveRow>) = pairs.into_iter().unzip();
            if rows.is_empty() {
                context.ui.note("no cves match");
            }
            context.out.api_rows(&objects, &rows)
        }
    }
}
