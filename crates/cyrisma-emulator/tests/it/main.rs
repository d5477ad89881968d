//! Contract tests of the emulator over real loopback sockets: requests built by `cyrisma-core`,
//! answers parsed by `cyrisma-core`, so they also prove that the core and the emulator agree.

mod auth;
mod endpoints;
mod faults;
mod hosts;
mod instances;
mod memory;
mod reporting;
mod support;
mod timeline;
mod users;
mod webhooks;
