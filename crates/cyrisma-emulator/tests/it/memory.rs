//! The seeded state stays small at 1,000 instances × 10 scans × 200 assets, because reporting
//! data is generated on request.

use cyrisma_core::api::scans;
use cyrisma_emulator::EmulatorConfig;

use crate::support::{ANCHOR, Harness};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
#[allow(clippy::print_stderr, reason = "the figure is the point of this test (run with --nocapture)")]
async fn a_thousand_instances_with_ten_scans_of_two_hundred_assets() {
    let before = rss_kib();
    let config = EmulatorConfig::plain().with_seed(1).with_size(50, 1000, 10, 200).with_anchor_time(ANCHOR);
    let h = Harness::start(config).await;
    let after_start = rss_kib();
    assert_eq!(h.emu.instances().len(), 1050);
    let token = h.reporting_token().await;
    let id = h.active_instances()[999 - 60].clone();
    let summary = h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    assert_eq!(summary.vulnerability_scans.len(), 10);
    let detail = h
        .on(&id, &scans::get_vulnerability_scan::Request::new(&summary.vulnerability_scans[0].scan_id), &token)
        .await
        .unwrap();
    assert_eq!(detail.assets.len(), 200);
    let after_requests = rss_kib();
    if let (Some(before), Some(started), Some(served)) = (before, after_start, after_requests) {
        let seeded = started.saturating_sub(before);
        eprintln!(
            "memory: rss before {before} KiB, after seeding 1,000 instances {started} KiB (+{seeded} KiB), after serving a 200-asset scan {served} KiB"
        );
        // Generous bound: other tests share the process; the seeded structure itself is < 2 MiB.
        assert!(seeded < 64 * 1024, "seeding took {seeded} KiB");
    }
}
