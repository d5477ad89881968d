//! The cross-instance risk report's row: one instance's current and previous grades of the five
//! areas and its vulnerability counts, from its overall and vulnerability dashboards.
//!
//! `cyrisma report` and Python's `client.report()` both build their rows here, so their columns
//! and rules (an empty grade is no grade; the grading period comes from the overall dashboard,
//! else the vulnerability one) cannot drift apart.

use serde::Serialize;

use crate::types::{Grade, OverallDashboard, VulnerabilityDashboard};

/// The columns of a report row, in order (the serialized field names).
pub const COLUMNS: &[&str] = &[
    "instance_id",
    "name",
    "grading_period",
    "overall_current",
    "overall_previous",
    "data_current",
    "data_previous",
    "vulnerability_current",
    "vulnerability_previous",
    "baseline_current",
    "baseline_previous",
    "compliance_current",
    "compliance_previous",
    "critical",
    "high",
    "medium",
    "low",
];

/// One instance of the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// The instance id.
    pub instance_id: String,
    /// The instance's name.
    pub name: Option<String>,
    /// The grading period of the dashboards.
    pub grading_period: Option<String>,
    /// Overall risk grade, current period.
    pub overall_current: Option<String>,
    /// Overall risk grade, previous period.
    pub overall_previous: Option<String>,
    /// Data-scan grade, current period.
    pub data_current: Option<String>,
    /// Data-scan grade, previous period.
    pub data_previous: Option<String>,
    /// Vulnerability grade, current period.
    pub vulnerability_current: Option<String>,
    /// Vulnerability grade, previous period.
    pub vulnerability_previous: Option<String>,
    /// Secure-baseline grade, current period.
    pub baseline_current: Option<String>,
    /// Secure-baseline grade, previous period.
    pub baseline_previous: Option<String>,
    /// Compliance grade, current period.
    pub compliance_current: Option<String>,
    /// Compliance grade, previous period.
    pub compliance_previous: Option<String>,
    /// Critical vulnerabilities.
    pub critical: Option<u64>,
    /// High vulnerabilities.
    pub high: Option<u64>,
    /// Medium vulnerabilities.
    pub medium: Option<u64>,
    /// Low vulnerabilities.
    pub low: Option<u64>,
}

impl ReportRow {
    /// The row of an instance from its overall and vulnerability dashboards.
    pub fn from_dashboards(
        instance_id: &str,
        name: Option<&str>,
        overall: &OverallDashboard,
        vulnerability: &VulnerabilityDashboard,
    ) -> Self {
        Self {
            instance_id: instance_id.to_owned(),
            name: name.map(str::to_owned),
            grading_period: overall
                .grading_period
                .as_ref()
                .or(vulnerability.grading_period.as_ref())
                .map(|period| period.as_str().to_owned()),
            overall_current: grade(overall.current_or_grade.as_ref()),
            overall_previous: grade(overall.previous_or_grade.as_ref()),
            data_current: grade(overall.current_ds_grade.as_ref()),
            data_previous: grade(overall.previous_ds_grade.as_ref()),
            vulnerability_current: grade(overall.current_vn_grade.as_ref()),
            vulnerability_previous: grade(overall.previous_vn_grade.as_ref()),
            baseline_current: grade(overall.current_sb_grade.as_ref()),
            baseline_previous: grade(overall.previous_sb_grade.as_ref()),
            compliance_current: grade(overall.current_cp_grade.as_ref()),
            compliance_previous: grade(overall.previous_cp_grade.as_ref()),
            critical: vulnerability.critical,
            high: vulnerability.high,
            medium: vulnerability.medium,
            low: vulnerability.low,
        }
    }
}

/// A grade as text; an empty one is no grade.
fn grade(grade: Option<&Grade>) -> Option<String> {
    grade.map(|grade| grade.as_str().to_owned()).filter(|grade| !grade.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_takes_the_grades_the_counts_and_the_overall_grading_period() {
        let overall: OverallDashboard = serde_json::from_str(
            r#"{"grading_period": "quarterly", "current_or_grade": "B", "previous_or_grade": "",
                "current_vn_grade": "C", "current_sb_grade": "A"}"#,
        )
        .expect("an overall dashboard");
        let vulnerability: VulnerabilityDashboard =
            serde_json::from_str(r#"{"grading_period": "monthly", "critical": 3, "low": 0}"#)
                .expect("a vulnerability dashboard");
        let row = ReportRow::from_dashboards("cc1", Some("Acme"), &overall, &vulnerability);
        assert_eq!(row.grading_period.as_deref(), Some("quarterly"), "the overall dashboard's period wins");
        assert_eq!(row.overall_current.as_deref(), Some("B"));
        assert_eq!(row.overall_previous, None, "an empty grade is no grade");
        assert_eq!(row.vulnerability_current.as_deref(), Some("C"));
        assert_eq!(row.baseline_current.as_deref(), Some("A"));
        assert_eq!((row.critical, row.high, row.low), (Some(3), None, Some(0)));
    }

    #[test]
    fn the_grading_period_falls_back_to_the_vulnerability_dashboard() {
        let vulnerability: VulnerabilityDashboard =
            serde_json::from_str(r#"{"gradingPeriod": "monthly"}"#).expect("a vulnerability dashboard");
        let row = ReportRow::from_dashboards("cc1", None, &OverallDashboard::default(), &vulnerability);
        assert_eq!(row.grading_period.as_deref(), Some("monthly"));
    }

    #[test]
    fn the_columns_are_the_serialized_field_names_in_order() {
        let text = serde_json::to_string(&ReportRow::default()).expect("serializes");
        let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
            .expect("json")
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        let mut sorted_columns: Vec<&str> = COLUMNS.to_vec();
        sorted_columns.sort_unstable();
        assert_eq!(keys, sorted_columns, "same set of keys");
        let positions: Vec<usize> =
            COLUMNS.iter().map(|key| text.find(&format!("\"{key}\":")).expect("a key")).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "in order: {text}");
    }
}
