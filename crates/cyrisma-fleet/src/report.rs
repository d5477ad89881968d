//! The cross-instance risk report: each selected instance's overall and vulnerability dashboards
//! as a [`ReportRow`](cyrisma_core::report::ReportRow), and the instances that failed.

use cyrisma_core::report::ReportRow;
use serde::Serialize;

use crate::{Error, Fleet, InstanceFailure, Progress, Selection};

/// The report: every instance that answered and every one that did not, in instance-id order.
/// This is the document of `cyrisma report -o json` and Python's `Report`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One row per instance that answered.
    pub instances: Vec<ReportRow>,
    /// One record per instance that failed or was not found.
    pub errors: Vec<InstanceFailure>,
}

impl Fleet {
    /// The report over the selected instances.
    pub async fn report(&self, selection: &Selection, progress: impl FnMut(Progress)) -> Result<Report, Error> {
        let outcome = self
            .run(
                selection,
                // One call after the other, on the instance host's one connection: at once, the
                // second call opened a second connection, so every instance cost two TLS
                // handshakes (1,906 connections for 960 instances); the fan-out's width already
                // keeps `concurrency` calls in flight (`docs/benchmarks.md`, H4 and H5).
                |instance| async move {
                    let overall = instance.dashboard_overall().await?;
                    let vulnerability = instance.dashboard_vulnerability().await?;
                    Ok((overall, vulnerability))
                },
                progress,
                |instance_id, name, (overall, vulnerability)| {
                    Ok(ReportRow::from_dashboards(instance_id, name, &overall, &vulnerability))
                },
            )
            .await?;
        Ok(Report {
            instances: outcome.succeeded.into_iter().map(|done| done.value).collect(),
            errors: outcome.failures,
        })
    }
}
