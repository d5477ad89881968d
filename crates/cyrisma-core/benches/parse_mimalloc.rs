//! The whole-process modes of `support/scan_doc.rs` (write, parse, parse and export a scan
//! detail) in a binary whose global allocator is mimalloc. `cargo xtask bench` runs the same
//! export through this binary and through `parse` (the system allocator), paired A/B, to choose
//! the CLI's allocator by measurement (goal J5).

#[path = "support/scan_doc.rs"]
mod scan_doc;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    assert!(scan_doc::run_mode(), "set CYRISMA_BENCH_MODE (see support/scan_doc.rs)");
}
