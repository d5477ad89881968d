//! A stateful, faithful emulator of the CYRISMA Partner API, for users' dry runs and for every
//! network test and benchmark of this project.
//!
//! One loopback listener serves the central host (`api.<domain>`) and every instance host
//! (`ccNNNNNN.<domain>`), routed by the `Host` header and, over TLS, checked against the server
//! name. With TLS (the default) a CA and a wildcard certificate are generated at start and the
//! CA is written to a file clients can trust. Responses are serialized with `cyrisma-core`'s wire
//! models, so the core and the emulator cannot drift apart.
//!
//! It follows `shared/spec/cyrisma-api.md`: every \[DOC\] and \[OBS\] rule exactly and every
//! \[ASSUMED\] rule as written there (token format and expiry, instance authentication per token,
//! one-time secret rotation, the hierarchy's errors, one-element arrays for single lookups).
//! Reporting data is generated on request, deterministically from the seed, so 1,000 instances ×
//! 10 scans × 200 assets stay small in memory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cyrisma_emulator::StartError> {
//! use cyrisma_emulator::{Emulator, EmulatorConfig, Fault};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! println!("{}", emulator.export_lines()); // CYRISMA_BASE_URL=https://api.cyrisma.test:PORT/app ...
//! emulator.add_fault(Fault::rate_limited("2").on("scans.list_vulnerability_scans").times(1));
//! // ... run a client against emulator.base_url() with emulator.resolve() and the CA ...
//! assert!(emulator.count("auth.login") <= 1);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The admin API (`/__emulator/...` on the central host, loopback peers only) mirrors the
//! handle's admin methods; see the crate README for its routes and the fault kinds.

mod admin;
mod api;
mod body;
mod catalog;
mod clock;
mod config;
mod control;
mod emulator;
mod error;
mod failure;
mod inflight;
mod prng;
mod remote;
mod reporting;
mod seed;
mod serve;
mod server;
mod shared;
mod state;
mod timeline;
mod tls;
mod webhook;

pub use admin::{Fault, FaultInfo, FaultKind, REQUEST_LOG_CAPACITY, RequestRecord, UNROUTED};
pub use config::{DEFAULT_DOMAIN, EmulatorConfig, ServeArgs};
pub use emulator::{Emulator, EmulatorHandle, PARTNER_ID};
pub use error::StartError;
pub use inflight::InFlightStats;
pub use remote::{RemoteEmulator, RemoteError};
pub use serve::serve;
pub use timeline::{Advanced, MAX_HISTORY_PERIODS};
pub use webhook::DeliveryRecord;

// The README's library example, compiled and run as a doctest (its shell blocks are marked
// `sh no-run`, an attribute rustdoc does not know).
#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
