//! Every endpoint of the contract, one module per resource and one file per endpoint.
//!
//! Each endpoint file holds a `//!` header with the method and path, a `metadata!` block, a
//! `Request` with a `new(required…)` constructor, and its `Endpoint` impl. Response models shared
//! by several endpoints live in [`crate::types`].

pub mod assets;
pub mod auth;
pub mod dashboards;
pub mod instances;
pub mod scans;
pub mod users;
pub mod webhooks;
