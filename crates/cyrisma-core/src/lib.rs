//! Sans-IO core of the CYRISMA Partner API SDK.
//!
//! This crate turns typed requests into `http::Request`s and `http::Response`s into typed results
//! or typed errors, and holds the pure decision logic every client needs. It does no I/O: no
//! sockets, no runtime, no clock (time is always a parameter), no environment, no files. The
//! transport (`cyrisma-transport`) drives it; the emulator reuses its wire types.
//!
//! # Layout
//!
//! - [`endpoint`]: the [`Endpoint`] trait, [`Metadata`] and parameters.
//! - [`base_url`]: [`BaseUrl`], [`HostKind`] and [`InstanceHost`]: where a request goes.
//! - [`api`]: one module per resource, one file per endpoint (`api::instances::create_instance`).
//! - [`types`]: the wire models shared by several endpoints (instances, users, scans, dashboards).
//! - [`wire`]: liberal parsing helpers and the declaration macros behind the models.
//! - [`error`]: [`RequestError`] (building) and [`ResponseError`] (reading).
//! - [`export`]: findings export rows and their JSONL encoding (sans-IO, any `io::Write`).
//! - [`civil`]: UTC calendar arithmetic (dates and RFC 3339 from Unix seconds), no clock.
//! - [`history`]: finding fingerprints, the diff rules (new, fixed, reopened, not covered) and
//!   each finding's lifecycle over runs.
//! - [`secret`]: redacted newtypes for the API secret, tokens and webhook secrets.
//! - [`session`]: when to log in, refresh, and (re-)authenticate instances.
//! - [`retry`]: whether and when to retry a failed attempt.
//! - [`host`]: validation of instance host names from server data.
//! - [`usage`]: usage figures derived from the structure and user listings.
//! - [`webhook`]: provisional webhook signature signing and verification.
//! - [`assumed`]: every choice the contract marks \[ASSUMED\], in one place.
//!
//! # Sending a request
//!
//! ```
//! use cyrisma_core::api::instances::get_instance;
//! use cyrisma_core::{AccessToken, BaseUrl, Endpoint};
//!
//! let base = BaseUrl::central("https://api.cyrisma.com/app").unwrap();
//! let token = AccessToken::new("YdxKmK3ZHG8220231101000426");
//! let request = get_instance::Request::new("cc123456");
//! let http_request = request.to_http_request(&base, Some(&token)).unwrap();
//! assert_eq!(http_request.uri(), "https://api.cyrisma.com/app/partner/instances/info/cc123456");
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod assumed;
pub mod base_url;
pub mod call;
pub mod civil;
pub mod endpoint;
pub mod error;
pub mod export;
pub mod history;
pub mod host;
pub mod report;
pub mod retry;
pub mod secret;
pub mod session;
pub mod throttle;
pub mod types;
pub mod usage;
pub mod webhook;
pub mod wire;

pub use base_url::{BaseUrl, HostKind, InstanceHost};
pub use endpoint::{Endpoint, Metadata};
pub use error::{ApiError, DecodeError, RequestError, ResponseError};
pub use host::HostPolicy;
pub use secret::{AccessToken, ApiSecret, RefreshToken, WebhookSecret};
