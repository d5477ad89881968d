//! The CLI's output schema: one row type per kind of record, and their conversions from the
//! core's wire models.
//!
//! These are the shapes of `--output json|jsonl|csv` and the table columns. They are declared
//! here, field by field, and never derived from the wire format, so that a change of the wire
//! format cannot silently change what scripts read (see ARCHITECTURE, serialization rule). Column
//! names are stable: add new ones at the end.
//!
//! A command whose table needs nothing but the model's own fields has no row type: its columns are
//! the fields its core `model!` declares ([`model_row`]: the Rust field names, in declaration
//! order, not the wire keys), which change only with the SDK's own API.

use cyrisma_core::types::{
    Asset, BaselineDashboard, BaselineScan, Cve, DataScan, Grade, Instance, MfaType, RiskLevel, User,
    VulnerabilityScan, Webhook,
};
use cyrisma_core::wire::ModelSchema;
use serde::Serialize;

use crate::output::{Cell, Row, row};

fn grade(grade: Option<&Grade>) -> Option<String> {
    grade.map(|grade| grade.as_str().to_owned()).filter(|grade| !grade.is_empty())
}

fn risk(level: Option<&RiskLevel>) -> Option<String> {
    level.map(|level| level.as_str().to_owned()).filter(|level| !level.is_empty())
}

/// The CLI's name of an MFA method.
pub(crate) fn mfa_label(mfa: &MfaType) -> String {
    match mfa {
        MfaType::None => "none".to_owned(),
        MfaType::Email => "email".to_owned(),
        MfaType::Authenticator => "authenticator".to_owned(),
        other => other.as_str().to_owned(),
    }
}

/// The columns and cells of a model without a row type: one per declared field, the value of the
/// field's wire key in the model's JSON (an absent field, `null` and an empty text are empty; a
/// list or an object is its compact JSON).
pub(crate) fn model_row<T: Serialize>(
    object: &T,
    schema: &'static ModelSchema,
) -> anyhow::Result<(Vec<&'static str>, Vec<Cell>)> {
    let value = serde_json::to_value(object)?;
    let cells = schema
        .fields
        .iter()
        .map(|field| match value.get(field.wire) {
            None | Some(serde_json::Value::Null) => Cell::Empty,
            Some(serde_json::Value::Bool(flag)) => Cell::Bool(*flag),
            Some(serde_json::Value::String(text)) if text.is_empty() => Cell::Empty,
            Some(serde_json::Value::String(text)) => Cell::Text(text.clone()),
            Some(serde_json::Value::Number(number)) => match (number.as_u64(), number.as_f64()) {
                (Some(whole), _) => Cell::Int(whole),
                (None, Some(_)) if number.is_i64() => Cell::Text(number.to_string()),
                (None, Some(fraction)) => Cell::Float(fraction),
                (None, None) => Cell::Text(number.to_string()),
            },
            Some(other) => Cell::Text(other.to_string()),
        })
        .collect();
    Ok((schema.fields.iter().map(|field| field.name).collect(), cells))
}

// ----- instances -----

row! {
    /// An organization or instance in a listing.
    pub(crate) struct InstanceRow {
        pub(crate) instance_id: String,
        pub(crate) name: Option<String>,
        pub(crate) instance_type: Option<String>,
        pub(crate) status: Option<String>,
        pub(crate) consulting: Option<bool>,
        pub(crate) endpoints: Option<u64>,
        pub(crate) parent_id: Option<String>,
        pub(crate) host: Option<String>,
        pub(crate) mfa: Option<String>,
    }
}

impl InstanceRow {
    /// From a listed instance.
    pub(crate) fn from_core(instance: &Instance) -> Self {
        Self {
            instance_id: instance.instance_id.clone(),
            name: instance.name.clone(),
            instance_type: instance.instance_type.as_ref().map(|kind| kind.as_str().to_owned()),
            status: instance.status.as_ref().map(|status| status.as_str().to_owned()),
            consulting: instance.is_consulting,
            endpoints: instance.number_of_endpoints,
            parent_id: instance.parent_id.clone(),
            host: instance.url.clone(),
            mfa: instance.mfa.as_ref().map(mfa_label),
        }
    }
}

row! {
    /// One organization or instance, every field.
    pub(crate) struct InstanceDetailRow {
        pub(crate) instance_id: String,
        pub(crate) name: Option<String>,
        pub(crate) short_name: Option<String>,
        pub(crate) instance_type: Option<String>,
        pub(crate) status: Option<String>,
        pub(crate) consulting: Option<bool>,
        pub(crate) endpoints: Option<u64>,
        pub(crate) parent_id: Option<String>,
        pub(crate) hierarchy: Option<String>,
        pub(crate) host: Option<String>,
        pub(crate) mfa: Option<String>,
        pub(crate) country: Option<String>,
        pub(crate) tenant_id: Option<String>,
        pub(crate) agent_key: Option<String>,
        pub(crate) grading_period: Option<String>,
        pub(crate) created_at: Option<String>,
    }
}

impl InstanceDetailRow {
    /// From one instance.
    pub(crate) fn from_core(instance: &Instance) -> Self {
        Self {
            instance_id: instance.instance_id.clone(),
            name: instance.name.clone(),
            short_name: instance.short_name.clone(),
            instance_type: instance.instance_type.as_ref().map(|kind| kind.as_str().to_owned()),
            status: instance.status.as_ref().map(|status| status.as_str().to_owned()),
            consulting: instance.is_consulting,
            endpoints: instance.number_of_endpoints,
            parent_id: instance.parent_id.clone(),
            hierarchy: instance.hierarchy.clone(),
            host: instance.url.clone(),
            mfa: instance.mfa.as_ref().map(mfa_label),
            country: instance.country.clone(),
            tenant_id: instance.tenant_id.clone(),
            agent_key: instance.agent_key.clone(),
            grading_period: instance.grading_period.as_ref().map(|period| period.as_str().to_owned()),
            created_at: instance.created_at.clone(),
        }
    }
}

row! {
    /// A created organization or instance.
    pub(crate) struct CreatedInstanceRow {
        pub(crate) instance_id: String,
        pub(crate) agent_key: Option<String>,
        pub(crate) status: Option<String>,
    }
}

row! {
    /// A converted consulting instance.
    pub(crate) struct ConvertedRow {
        pub(crate) instance_id: String,
        pub(crate) name: Option<String>,
        pub(crate) consulting_status: Option<String>,
    }
}

row! {
    /// An instance after suspension or reactivation.
    pub(crate) struct StatusChangeRow {
        pub(crate) instance_id: String,
        pub(crate) name: Option<String>,
        pub(crate) status: Option<String>,
    }
}

row! {
    /// An organization's new MFA method.
    pub(crate) struct MfaRow {
        pub(crate) instance_id: String,
        pub(crate) mfa: Option<String>,
    }
}

row! {
    /// Whether an instance accepted the token for reporting.
    pub(crate) struct AuthenticatedRow {
        pub(crate) instance_id: String,
        pub(crate) result: &'static str,
    }
}

// ----- users -----

row! {
    /// A user.
    pub(crate) struct UserRow {
        pub(crate) id: String,
        pub(crate) username: Option<String>,
        pub(crate) first_name: Option<String>,
        pub(crate) last_name: Option<String>,
        pub(crate) enabled: Option<bool>,
        pub(crate) organization_id: Option<String>,
    }
}

impl UserRow {
    /// From a user.
    pub(crate) fn from_core(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            enabled: user.enabled.map(|enabled| enabled.get()),
            organization_id: user.instance_id.clone(),
        }
    }
}

// ----- scans -----

row! {
    /// A vulnerability scan summary.
    pub(crate) struct VulnerabilityScanRow {
        pub(crate) scan_id: String,
        pub(crate) scan_type: Option<String>,
        pub(crate) scan_name: Option<String>,
        pub(crate) started: Option<String>,
        pub(crate) finished: Option<String>,
        pub(crate) critical: Option<u64>,
        pub(crate) high: Option<u64>,
        pub(crate) medium: Option<u64>,
        pub(crate) low: Option<u64>,
        pub(crate) total: Option<u64>,
        pub(crate) grade: Option<String>,
    }
}

/// The CLI's name of a scan type: the code's label when the type is sent, else the server's name
/// (`cyrisma_core::export::scan_type_label`, as in the exports).
pub(crate) fn scan_type_label(scan: &VulnerabilityScan) -> Option<String> {
    cyrisma_core::export::scan_type_label(scan).map(str::to_owned)
}

impl VulnerabilityScanRow {
    /// From a scan summary.
    pub(crate) fn from_core(scan: &VulnerabilityScan) -> Self {
        Self {
            scan_id: scan.scan_id.clone(),
            scan_type: scan_type_label(scan),
            scan_name: scan.scan_name.clone(),
            started: scan.scan_started.clone(),
            finished: scan.scan_finished.clone(),
            critical: scan.critical_vulnerabilities,
            high: scan.high_vulnerabilities,
            medium: scan.medium_vulnerabilities,
            low: scan.low_vulnerabilities,
            total: scan.total_vulnerabilities(),
            grade: grade(scan.grade_alpha.as_ref()),
        }
    }
}

row! {
    /// A data scan summary.
    pub(crate) struct DataScanRow {
        pub(crate) scan_id: String,
        pub(crate) scan_name: Option<String>,
        pub(crate) started: Option<String>,
        pub(crate) finished: Option<String>,
        pub(crate) files_scanned: Option<u64>,
        pub(crate) sensitive_files: Option<u64>,
        pub(crate) sensitive_matches: Option<u64>,
        pub(crate) grade: Option<String>,
    }
}

impl DataScanRow {
    /// From a scan summary.
    pub(crate) fn from_core(scan: &DataScan) -> Self {
        Self {
            scan_id: scan.scan_id.clone(),
            scan_name: scan.scan_name.clone(),
            started: scan.scan_started.clone(),
            finished: scan.scan_finished.clone(),
            files_scanned: scan.files_scanned,
            sensitive_files: scan.sensitive_files,
            sensitive_matches: scan.sensitive_matches,
            grade: grade(scan.grade_alpha.as_ref()),
        }
    }
}

row! {
    /// A secure-baseline scan summary.
    pub(crate) struct BaselineScanRow {
        pub(crate) scan_id: String,
        pub(crate) scan_name: Option<String>,
        pub(crate) started: Option<String>,
        pub(crate) finished: Option<String>,
        pub(crate) benchmark: Option<String>,
        pub(crate) targets: Option<u64>,
        pub(crate) passed_checks: Option<u64>,
        pub(crate) failed_checks: Option<u64>,
        pub(crate) grade: Option<String>,
    }
}

impl BaselineScanRow {
    /// From a scan summary.
    pub(crate) fn from_core(scan: &BaselineScan) -> Self {
        Self {
            scan_id: scan.scan_id.clone(),
            scan_name: scan.scan_name.clone(),
            started: scan.scan_started.clone(),
            finished: scan.scan_finished.clone(),
            benchmark: scan.benchmark.clone(),
            targets: scan.target_count(),
            passed_checks: scan.passed_checks,
            failed_checks: scan.failed_checks,
            grade: grade(scan.grade_alpha.as_ref()),
        }
    }
}

row! {
    /// One finding on an asset: a vulnerability, an open port or a web flaw.
    pub(crate) struct FindingRow {
        pub(crate) asset_id: Option<String>,
        pub(crate) asset_name: Option<String>,
        pub(crate) asset_address: Option<String>,
        pub(crate) kind: &'static str,
        pub(crate) finding: Option<String>,
        pub(crate) title: Option<String>,
        pub(crate) risk_level: Option<String>,
        pub(crate) score: Option<f64>,
        pub(crate) first_seen: Option<String>,
    }
}

impl FindingRow {
    /// Every finding of an asset, vulnerabilities first, then open ports, then flaws (the rules
    /// of `cyrisma_core::export`, shared with the exports).
    pub(crate) fn all_of(asset: &Asset) -> Vec<Self> {
        let owned = |text: Option<&str>| text.map(str::to_owned);
        cyrisma_core::export::asset_findings(asset)
            .map(|finding| Self {
                asset_id: owned(asset.identifier()),
                asset_name: asset.name.clone(),
                asset_address: asset.ip_address.clone(),
                kind: finding.kind,
                finding: owned(finding.finding),
                title: owned(finding.title),
                risk_level: owned(finding.risk_level),
                score: finding.score,
                first_seen: owned(finding.first_seen),
            })
            .collect()
    }
}

row! {
    /// An asset of an instance.
    pub(crate) struct AssetRow {
        pub(crate) asset_type: &'static str,
        pub(crate) asset_id: Option<String>,
        pub(crate) name: Option<String>,
        pub(crate) address: Option<String>,
        pub(crate) scan_type: Option<String>,
        pub(crate) vulnerabilities: u64,
        pub(crate) open_ports: u64,
        pub(crate) web_flaws: u64,
    }
}

impl AssetRow {
    /// From a listed asset.
    pub(crate) fn from_core(asset_type: &'static str, asset: &Asset) -> Self {
        Self {
            asset_type,
            asset_id: asset.identifier().map(str::to_owned),
            name: asset.name.clone(),
            address: asset.ip_address.clone(),
            scan_type: asset.scan_type.clone(),
            vulnerabilities: asset.vulnerabilities.len() as u64,
            open_ports: asset.open_ports.len() as u64,
            web_flaws: asset.flaws.len() as u64,
        }
    }
}

// ----- dashboards -----

row! {
    /// One area of the overall dashboard.
    pub(crate) struct AreaRow {
        pub(crate) area: &'static str,
        pub(crate) current_grade: Option<String>,
        pub(crate) previous_grade: Option<String>,
        pub(crate) grading_period: Option<String>,
    }
}

row! {
    /// The secure-baseline dashboard; targets as `name=grade` pairs.
    pub(crate) struct BaselineDashboardRow {
        pub(crate) current_grade: Option<String>,
        pub(crate) previous_grade: Option<String>,
        pub(crate) grading_period: Option<String>,
        pub(crate) targets: Option<String>,
    }
}

impl BaselineDashboardRow {
    /// From the dashboard.
    pub(crate) fn from_core(dashboard: &BaselineDashboard) -> Self {
        let targets: Vec<String> = dashboard
            .targets
            .iter()
            .map(|target| {
                format!(
                    "{}={}",
                    target.name.as_deref().unwrap_or("?"),
                    target.grade.as_ref().map(Grade::as_str).filter(|grade| !grade.is_empty()).unwrap_or("-")
                )
            })
            .collect();
        Self {
            current_grade: grade(dashboard.current_grade.as_ref()),
            previous_grade: grade(dashboard.previous_grade.as_ref()),
            grading_period: dashboard.grading_period.as_ref().map(|period| period.as_str().to_owned()),
            targets: (!targets.is_empty()).then(|| targets.join(", ")),
        }
    }
}

row! {
    /// A CVE found on an instance.
    pub(crate) struct CveRow {
        pub(crate) cve: String,
        pub(crate) title: Option<String>,
        pub(crate) score: Option<f64>,
        pub(crate) risk_level: Option<String>,
        pub(crate) affected_assets: Option<u64>,
        pub(crate) first_seen: Option<String>,
    }
}

impl CveRow {
    /// From a CVE.
    pub(crate) fn from_core(cve: &Cve) -> Self {
        Self {
            cve: cve.cve.clone(),
            title: cve.title.clone(),
            score: cve.score,
            risk_level: risk(cve.risk_level.as_ref()),
            affected_assets: cve.affected_assets,
            first_seen: cve.first_seen.clone(),
        }
    }
}

// ----- report and usage (the fleet layer's rows, rendered as they are) -----

/// One instance of `cyrisma report` (`cyrisma_core::report`, shared with the Python package). In
/// a table, each area is one `current/previous` column.
pub(crate) use cyrisma_core::report::ReportRow;

/// A current and a previous grade as one table cell, `current/previous`.
fn grade_pair(current: &Option<String>, previous: &Option<String>) -> Cell {
    match (current, previous) {
        (None, None) => Cell::Empty,
        _ => Cell::Text(format!("{}/{}", current.as_deref().unwrap_or("-"), previous.as_deref().unwrap_or("-"))),
    }
}

impl Row for ReportRow {
    const COLUMNS: &'static [&'static str] = cyrisma_core::report::COLUMNS;

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::from(&self.instance_id),
            Cell::from(&self.name),
            Cell::from(&self.grading_period),
            Cell::from(&self.overall_current),
            Cell::from(&self.overall_previous),
            Cell::from(&self.data_current),
            Cell::from(&self.data_previous),
            Cell::from(&self.vulnerability_current),
            Cell::from(&self.vulnerability_previous),
            Cell::from(&self.baseline_current),
            Cell::from(&self.baseline_previous),
            Cell::from(&self.compliance_current),
            Cell::from(&self.compliance_previous),
            Cell::from(&self.critical),
            Cell::from(&self.high),
            Cell::from(&self.medium),
            Cell::from(&self.low),
        ]
    }

    fn table_columns() -> Vec<&'static str> {
        vec![
            "instance_id",
            "name",
            "overall",
            "data",
            "vulnerability",
            "baseline",
            "compliance",
            "critical",
            "high",
            "medium",
            "low",
        ]
    }

    fn table_cells(&self) -> Vec<Cell> {
        vec![
            Cell::from(&self.instance_id),
            Cell::from(&self.name),
            grade_pair(&self.overall_current, &self.overall_previous),
            grade_pair(&self.data_current, &self.data_previous),
            grade_pair(&self.vulnerability_current, &self.vulnerability_previous),
            grade_pair(&self.baseline_current, &self.baseline_previous),
            grade_pair(&self.compliance_current, &self.compliance_previous),
            Cell::from(&self.critical),
            Cell::from(&self.high),
            Cell::from(&self.medium),
            Cell::from(&self.low),
        ]
    }
}

/// One line of `cyrisma usage` (`cyrisma_core::usage`, produced by the fleet layer and shared
/// with the Python package), rendered as it is.
impl Row for cyrisma_core::usage::UsageRow {
    const COLUMNS: &'static [&'static str] = cyrisma_core::usage::COLUMNS;

    fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::from(&self.scope),
            Cell::from(&self.id),
            Cell::from(&self.name),
            Cell::from(&self.organization_id),
            Cell::from(&self.endpoints),
            Cell::from(&self.instances),
            Cell::from(&self.standard),
            Cell::from(&self.consulting),
            Cell::from(&self.suspended),
            Cell::from(&self.users),
        ]
    }
}

// ----- history -----

/// Implements [`Row`] for a row type of the fleet layer, rendered field by field as it is (the
/// column names are its field names, in order, as in its JSON).
macro_rules! fleet_row {
    ($type:ty { $($field:ident),+ $(,)? }) => {
        impl Row for $type {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn cells(&self) -> Vec<Cell> {
                vec![$(Cell::from(&self.$field)),+]
            }
        }
    };
}

fleet_row!(cyrisma_fleet::RunSummary {
    run_id,
    started_at,
    finished_at,
    instances_pulled,
    instances_failed,
    instances_skipped,
    findings,
    failed_instances,
    tool_version
});
fleet_row!(cyrisma_fleet::DiffRow {
    change,
    fingerprint,
    instance_id,
    scan_id,
    scan_class,
    asset_key,
    asset_name,
    asset_address,
    kind,
    rule,
    risk_level,
    score,
    title
});
fleet_row!(cyrisma_fleet::GradeChangeRow { instance_id, area, from_grade, to_grade, direction });
fleet_row!(cyrisma_fleet::FindingHistoryRow {
    fingerprint,
    instance_id,
    kind,
    rule,
    asset_key,
    title,
    risk_level,
    status,
    first_seen,
    last_seen,
    fixed_at,
    times_reopened,
    days_open
});
fleet_row!(cyrisma_fleet::InstanceHistoryRow { instance_id, open, fixed, fixes, mean_days_to_fix });

// ----- webhooks -----

row! {
    /// A webhook registration.
    pub(crate) struct WebhookRow {
        pub(crate) webhook_id: String,
        pub(crate) url: Option<String>,
        pub(crate) events: String,
    }
}

impl WebhookRow {
    /// From a registration (never its secret).
    pub(crate) fn from_core(webhook: &Webhook) -> Self {
        Self {
            webhook_id: webhook.webhook_id.clone(),
            url: webhook.url.clone(),
            events: webhook.events.to_comma_separated(),
        }
    }
}

row! {
    /// A new webhook registration, with its signing secret (shown this once).
    pub(crate) struct CreatedWebhookRow {
        pub(crate) webhook_id: String,
        pub(crate) url: Option<String>,
        pub(crate) events: String,
        pub(crate) signing_secret: Option<String>,
    }
}

row! {
    /// A deleted registration.
    pub(crate) struct DeletedWebhookRow {
        pub(crate) webhook_id: String,
        pub(crate) deleted: bool,
    }
}

/// A verified webhook event, as `webhooks listen` prints it (one JSON line each).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WebhookEventLine {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) event_type: String,
    pub(crate) created_at: Option<String>,
    pub(crate) partner_id: Option<String>,
    pub(crate) instance_id: Option<String>,
    pub(crate) data: serde_json::Value,
    pub(crate) signed_at: u64,
}

// ----- auth -----

row! {
    /// The outcome of `auth setup`.
    pub(crate) struct SetupRow {
        pub(crate) profile: String,
        pub(crate) api_key: String,
        pub(crate) secret_store: &'static str,
        pub(crate) verified: bool,
    }
}

row! {
    /// The outcome of `auth status` (never the token).
    pub(crate) struct StatusRow {
        pub(crate) profile: String,
        pub(crate) api_key: String,
        pub(crate) base_url: String,
        pub(crate) secret_source: &'static str,
        pub(crate) logged_in: bool,
        pub(crate) token_type: Option<String>,
        pub(crate) expires_in_seconds: Option<u64>,
        pub(crate) expires_at: Option<String>,
    }
}

row! {
    /// The outcome of `auth rotate-secret` (never the secret).
    pub(crate) struct RotateRow {
        pub(crate) profile: String,
        pub(crate) secret_store: &'static str,
        pub(crate) verified: bool,
    }
}

row! {
    /// The outcome of `auth logout`.
    pub(crate) struct LogoutRow {
        pub(crate) profile: String,
        pub(crate) removed_from: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model without a row type gets one column per declared field (its Rust name, in order)
    /// and each cell from the field's wire key: absent and empty values are empty cells.
    #[test]
    fn a_model_row_has_the_declared_fields_as_columns() {
        use cyrisma_core::types::{GradingPeriod, VulnerabilityDashboard};
        let dashboard = VulnerabilityDashboard {
            current_grade: Some(Grade::from_wire("B+")),
            previous_grade: Some(Grade::from_wire("")),
            grading_period: Some(GradingPeriod::Quarterly),
            critical: Some(3),
            low: Some(0),
            ..Default::default()
        };
        let (columns, cells) = model_row(&dashboard, &VulnerabilityDashboard::SCHEMA).unwrap();
        assert_eq!(columns, ["current_grade", "previous_grade", "grading_period", "critical", "high", "medium", "low"]);
        let text = |text: &str| Cell::Text(text.to_owned());
        assert_eq!(
            cells,
            [text("B+"), Cell::Empty, text("quarterly"), Cell::Int(3), Cell::Empty, Cell::Empty, Cell::Int(0)]
        );
        let cve = Cve { cve: "CVE-2021-44228".into(), score: Some(10.0), ..Default::default() };
        let (columns, cells) = model_row(&cve, &Cve::SCHEMA).unwrap();
        assert_eq!(columns.len(), Cve::SCHEMA.fields.len());
        assert_eq!(cells[0], text("CVE-2021-44228"));
        let score = columns.iter().position(|column| *column == "score").unwrap();
        assert_eq!(cells[score], Cell::Float(10.0));
    }

    /// Rendered rows put each cell under its column: as many cells as columns, for the rows the
    /// fleet layer produces.
    #[test]
    fn shared_rows_have_one_cell_per_column() {
        let usage = cyrisma_core::usage::UsageRow { scope: "total", endpoints: 3, ..Default::default() };
        assert_eq!(usage.cells().len(), cyrisma_core::usage::COLUMNS.len());
        assert_eq!(usage.cells()[0], Cell::Text("total".to_owned()));
        assert_eq!(usage.cells()[4], Cell::Int(3));
        let report = ReportRow::default();
        assert_eq!(report.cells().len(), ReportRow::COLUMNS.len());
        assert_eq!(report.table_cells().len(), ReportRow::table_columns().len());
    }
}

row! {
    /// What `cyrisma report html` wrote.
    pub(crate) struct ReportHtmlRow {
        pub(crate) dir: String,
        pub(crate) index: String,
        pub(crate) customers: u64,
        pub(crate) runs: u64,
        pub(crate) failed_pulls: u64,
    }
}
