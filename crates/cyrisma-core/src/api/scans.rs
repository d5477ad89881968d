//! Endpoints for scan summaries and the vulnerability scan detail (instance hosts).

pub mod get_vulnerability_scan;
pub mod list_baseline_scans;
pub mod list_data_scans;
pub mod list_vulnerability_scans;
