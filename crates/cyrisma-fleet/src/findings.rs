//! The findings collection: the scans of an instance to export (the latest of each scan type, or
//! every scan) with their details.

use cyrisma_core::export;
use cyrisma_core::types::{ScanDetail, VulnerabilityScan};
use cyrisma_transport::InstanceClient;

/// Which scans of an instance an export reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScanChoice {
    /// The most recent scan of each scan type ([`cyrisma_core::export::latest_per_type`]).
    #[default]
    LatestPerType,
    /// Every scan.
    All,
}

impl ScanChoice {
    /// [`ScanChoice::All`] when `all` is true, else the default.
    pub fn all(all: bool) -> Self {
        if all { ScanChoice::All } else { ScanChoice::LatestPerType }
    }
}

/// The chosen scans of one instance with their details, in scan-id order (details fetched
/// concurrently). The finding rows ([`cyrisma_core::export::finding_rows`]) borrow from these.
pub async fn collect_findings(
    instance: InstanceClient,
    choice: ScanChoice,
) -> Result<Vec<(VulnerabilityScan, ScanDetail)>, cyrisma_transport::Error> {
    let scans = instance.vulnerability_scans().await?.vulnerability_scans;
    let chosen = match choice {
        ScanChoice::All => scans,
        ScanChoice::LatestPerType => export::latest_per_type(scans),
    };
    let details =
        futures_util::future::try_join_all(chosen.iter().map(|scan| instance.vulnerability_scan(&scan.scan_id)))
            .await?;
    Ok(chosen.into_iter().zip(details).collect())
}
