//! Integration tests of the transport, against the emulator over TLS on loopback, with real host
//! names reached through resolve overrides (`*.cyrisma.test=127.0.0.1`).

mod auth;
mod canary;
mod fan_out;
mod fault_proxy;
mod hostile;
mod limits;
mod pool;
mod proxy;
mod retry;
mod rotate;
mod security;
mod support;
mod throttle;
mod typed;
mod wire_faults;
