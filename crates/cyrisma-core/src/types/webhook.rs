//! Webhook registrations and event envelopes (provisional contract).
//!
//! STUB: being written.
