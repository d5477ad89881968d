//! Development automation: `cargo xtask <command>`.

fn main() {}
