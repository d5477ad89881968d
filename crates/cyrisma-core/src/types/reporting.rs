//! Reporting models: scans, assets, dashboards and CVEs.
//!
//! STUB: being written.
