//! Fuzz target `webhook_verify`: see `harness.rs` for the promise it checks (the input is read with
//! `arbitrary`).

#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::webhook_verify(data);
});
