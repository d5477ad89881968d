//! Criterion benches of the pure parsing paths on a deterministic ~50 MB vulnerability scan
//! detail, each with its reference in the same group (goal IDs from
//! `shared/reference/perf-anchors.md`):
//!
//! - `j1_typed_vs_value`: the SDK's typed parse vs `serde_json::from_slice::<Value>`;
//! - `j2_production_vs_probe`: the production model vs a plain `#[derive(Deserialize)]` model
//!   with the same fields;
//! - `j3_typed_vs_ignored`: the SDK's typed parse vs `IgnoredAny` (validate-only ceiling);
//! - `j4_response_vs_from_slice`: `Endpoint::parse_response(&http::Response<Bytes>)` vs a raw
//!   `serde_json::from_slice` into the same model;
//! - `e1_export_vs_parse` (and `e1_export_vs_parse_mimalloc` in the `parse_mimalloc` binary, the
//!   CLI's allocator): parse plus JSONL export (one row per vulnerability, port and flaw,
//!   with `cyrisma_core::export`, the encoder the CLI's `export findings --format jsonl` ships)
//!   vs parse alone.
//!
//! `CYRISMA_BENCH_DOC_MB` changes the document size (the `--quick` smoke run uses 1 MB);
//! `CYRISMA_BENCH_MODE` runs one of the whole-process modes of `support/scan_doc.rs` instead.
//! `cargo xtask bench` reads the medians from `target/criterion/<group>/<function>/new/`.

#[path = "support/scan_doc.rs"]
mod scan_doc;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use cyrisma_core::Endpoint;
use cyrisma_core::api::scans::get_vulnerability_scan::Request;
use cyrisma_core::types::ScanDetail;
use serde::de::IgnoredAny;

fn group<'a>(c: &'a mut Criterion, name: &str, bytes: usize) -> BenchmarkGroup<'a, WallTime> {
    scan_doc::group(c, name, bytes)
}

fn benches(c: &mut Criterion) {
    let doc = scan_doc::generate(scan_doc::doc_bytes());
    let doc = doc.as_slice();
    let len = doc.len();

    let mut j1 = group(c, "j1_typed_vs_value", len);
    j1.bench_function("sdk_typed", |b| b.iter(|| Request::parse_success(black_box(doc)).unwrap()));
    j1.bench_function("serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(doc)).unwrap())
    });
    j1.finish();

    let mut j2 = group(c, "j2_production_vs_probe", len);
    j2.bench_function("production_model", |b| b.iter(|| Request::parse_success(black_box(doc)).unwrap()));
    j2.bench_function("probe_model", |b| {
        b.iter(|| serde_json::from_slice::<scan_doc::ProbeDetail>(black_box(doc)).unwrap())
    });
    j2.finish();

    let mut j3 = group(c, "j3_typed_vs_ignored", len);
    j3.bench_function("sdk_typed", |b| b.iter(|| Request::parse_success(black_box(doc)).unwrap()));
    j3.bench_function("ignored_any", |b| b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(doc)).unwrap()));
    j3.finish();

    let response = http::Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::copy_from_slice(doc))
        .expect("a valid response");
    let mut j4 = group(c, "j4_response_vs_from_slice", len);
    j4.bench_function("parse_response", |b| b.iter(|| Request::parse_response(black_box(&response)).unwrap()));
    j4.bench_function("from_slice", |b| b.iter(|| serde_json::from_slice::<ScanDetail>(black_box(doc)).unwrap()));
    j4.finish();

    scan_doc::e1_group(c, "e1_export_vs_parse", doc);
}

fn main() {
    if scan_doc::run_mode() {
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
}
