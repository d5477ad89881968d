//! Operations across the fleet of customer instances, shared by every front end.
//!
//! An operation selects instances ([`Selection`]: explicit ids, with the unknown ones reported, a
//! filter, or the default reportable set), fans out over them with bounded concurrency
//! ([`Fleet::run`]), reports [`Progress`] events that a front end may render, and collects rows
//! and one [`InstanceFailure`] record per instance that failed. On top of that: the risk
//! [`Report`], the findings export ([`FindingWriter`], [`ExportFile`]) and usage.
//!
//! The rows this crate produces ([`cyrisma_core::report::ReportRow`],
//! [`cyrisma_core::export::FindingRow`], [`cyrisma_core::usage::UsageRow`], [`InstanceFailure`])
//! are the shared output schema: the CLI and the Python package render them and never copy them
//! field by field. This crate knows no terminal and no Python.
//!
//! ```no_run
//! # async fn example(client: cyrisma_transport::Client) -> Result<(), cyrisma_fleet::Error> {
//! use cyrisma_fleet::{Fleet, Selection};
//!
//! let fleet = Fleet::new(client).with_concurrency(8);
//! let report = fleet.report(&Selection::reportable(), |_| {}).await?;
//! for row in &report.instances {
//!     println!("{} {:?}", row.instance_id, row.overall_current);
//! }
//! for failure in &report.errors {
//!     println!("{}: {}", failure.instance_id, failure.error);
//! }
//! # Ok(())
//! # }
//! ```

mod error;
pub mod export;
mod failure;
mod findings;
pub mod history;
mod outfile;
pub mod pull;
mod report;
mod run;
mod selection;
mod snapshot;
mod usage;

pub use error::Error;
pub use export::{ExportFile, ExportFormat, ExportSummary, FindingWriter};
pub use failure::{FailureKind, InstanceFailure, UNKNOWN_INSTANCE};
pub use findings::{ScanChoice, collect_findings};
pub use history::{
    DiffReport, DiffRow, FindingHistoryRow, GradeChangeRow, GradeHistoryRow, History, InstanceHistoryRow, RunSummary,
};
pub use pull::{Bookmarks, InstanceBookmark, Pull, PullBatch, ScanMark, Streams};
pub use report::Report;
pub use run::{Fleet, Outcome, Progress, Succeeded};
pub use selection::Selection;
pub use snapshot::Snapshot;

/// The concurrency of a [`Fleet`] unless [`Fleet::with_concurrency`] sets another.
pub const DEFAULT_CONCURRENCY: usize = 8;

// The reporting guide's Rust examples, compiled and run by `cargo test --doc` (see
// docs/README.md). The page marks shell blocks `sh no-run`, an attribute rustdoc does not know.
#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../../../docs/reporting.md")]
struct ReportingGuide;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct FleetReadme;
