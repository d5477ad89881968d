//! The whole-process modes of `support/scan_doc.rs` (write, parse, parse and export a scan
//! detail) in a binary whose global allocator is mimalloc. `cargo xtask bench` runs the same
//! export through this binary and through `parse` (the system allocator), paired A/B, to choose
//! the CLI's allocator by measurement (goal J5). Without a mode it runs goal E1's criterion group
//! on mimalloc, the allocator the CLI ships.

#[path = "support/scan_doc.rs"]
mod scan_doc;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if scan_doc::run_mode() {
        return;
    }
    // Without a mode: goal E1's criterion group on mimalloc, the CLI's allocator.
    let doc = scan_doc::generate(scan_doc::doc_bytes());
    let mut criterion = criterion::Criterion::default().configure_from_args();
    scan_doc::e1_group(&mut criterion, "e1_export_vs_parse_mimalloc", &doc);
    criterion.final_summary();
}
