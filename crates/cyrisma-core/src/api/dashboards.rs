//! Endpoints for risk dashboards and CVE details (instance hosts).

pub mod get_baseline_dashboard;
pub mod get_data_dashboard;
pub mod get_overall_dashboard;
pub mod get_vulnerability_dashboard;
pub mod list_cves;
