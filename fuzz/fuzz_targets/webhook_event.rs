//! Fuzz target `webhook_event`: see `harness.rs` for the promise it checks.

#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::webhook_event(data);
});
