//! The asynchronous client of the CYRISMA Partner API: hyper, rustls and tokio driving the
//! sans-IO core (`cyrisma-core`).
//!
//! This is the crate Rust users import, and the engine under the CLI and the Python package. It
//! owns every piece of I/O: connections, TLS, timeouts, sleeping between retries, and the locks
//! around the core's [`Session`](cyrisma_core::session::Session). Every decision (when to log
//! in, which grant, whether to retry, which hosts may receive a token) is the core's; this crate
//! carries it out. It has no per-endpoint logic: the typed methods are thin wrappers over
//! [`Client::send`] and [`InstanceClient::send`], which take any core
//! [`Endpoint`](cyrisma_core::Endpoint).
//!
//! # Layout
//!
//! - [`Client`]: configuration checks, authentication (login, instance authentication) and the
//!   typed groups [`Client::instances`], [`Client::users`], [`Client::webhooks`]; every call goes
//!   through a short send driver (permits, one attempt, then the core's per-call decision,
//!   `cyrisma_core::call`), with the hosts' pools and gates in a module of their own.
//! - [`InstanceClient`]: the reporting calls of one instance, on its validated host.
//! - [`fan_out`]: one operation over many instances, results streamed as they complete.
//! - [`rotate`]: `rotate_secret`, which never loses the one-time secret.
//! - [`ClientBuilder`] and [`ClientConfig`]: settings, with [`ClientConfig::from_env`] for front
//!   ends.
//! - [`Error`]: one opaque error with predicates.
//! - The core, re-exported: [`api`] (every endpoint), [`types`] (the models), [`webhook`]
//!   (signatures), [`BaseUrl`], [`HostPolicy`], the secrets and the typed errors, so a Rust
//!   program needs only this crate.
//! - Internals: the connector (resolve overrides, loopback rule for plain http, proxy tunnel,
//!   TLS), the capped body reader, and the authentication driver.
//!
//! # Guarantees
//!
//! - HTTPS only; plain `http://` only when every resolved address is loopback, checked before a
//!   byte is sent. Redirects are never followed (a `3xx` is an error).
//! - Every instance host from server data is validated by the core's host policy before any
//!   connection: a token never goes to a host outside the allowed domain.
//! - Any number of concurrent callers cause one login; a `401` leads to at most one re-login and
//!   one replay; instances are authenticated once per token.
//! - A call that is not idempotent is never sent twice once its bytes may have reached the
//!   server: it fails with an [ambiguous](Error::is_ambiguous) error instead.
//! - Every call has a connect, a per-attempt and a total timeout; bodies are capped.
//! - Tracing spans (`cyrisma.request`, `cyrisma.attempt`) carry the endpoint, method, host, path
//!   template, status, attempt and duration; never a secret, a token, a form body or a query
//!   value.
//!
//! ```no_run
//! # async fn run() -> Result<(), cyrisma_transport::Error> {
//! use cyrisma_transport::{ClientBuilder, ClientConfig};
//!
//! // What a front end does: the `CYRISMA_*` variables, then `HTTPS_PROXY`/`NO_PROXY`.
//! let client = ClientBuilder::from_config(ClientConfig::from_env()?).proxy_from_env().build()?;
//! let dashboard = client.instance("cc123456").dashboard_overall().await?;
//! println!("overall risk: {:?}", dashboard.current_or_grade);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod auth;
mod body;
mod client;
mod config;
mod connect;
mod error;
pub mod fan_out;
mod gate;
mod instance;
mod locks;
mod pool;
mod proxy;
mod redact;
mod resolve;
mod resources;
pub mod rotate;
mod send;
pub mod settings;
mod target;
mod tls;

pub use client::Client;
pub use config::{ClientBuilder, ClientConfig, DEFAULT_BASE_URL};
pub use error::{BoxError, ConfigError, Error, ErrorKind, NewSecret, TimeoutKind};
pub use fan_out::{FanOut, FanOutItem};
pub use instance::InstanceClient;
pub use proxy::Proxy;
pub use resolve::{HostPattern, ResolveOverride, ResolveOverrideError, ResolveOverrides};
pub use resources::{Instances, Users, Webhooks};
pub use rotate::SecretSink;
pub use settings::{Layer, Origin, Resolved, Setting, Settings};
pub use tls::{CaSource, crypto_provider, tls_config_loads};

// What a Rust user needs from the core, so that this crate is the one dependency: the endpoint
// modules and models, the secrets, base URLs and host validation, the typed errors inside
// [`Error`], webhook signatures, and the endpoint list.
pub use cyrisma_core::{
    AccessToken, ApiError, ApiSecret, BaseUrl, DecodeError, Endpoint, HostKind, HostPolicy, InstanceHost, Metadata,
    RefreshToken, RequestError, ResponseError, WebhookSecret, api, endpoint, export, for_each_endpoint, report, types,
    usage, webhook,
};

// The guides' Rust examples, compiled and run by `cargo test --doc` (see docs/README.md). The
// pages mark shell blocks `sh no-run`, an attribute rustdoc does not know.
#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../../../docs/rust.md")]
struct RustGuide;

#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../../../docs/getting-started.md")]
struct GettingStarted;

#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../../../docs/emulator.md")]
struct EmulatorGuide;

#[cfg(doctest)]
#[allow(rustdoc::invalid_codeblock_attributes)]
#[doc = include_str!("../../../README.md")]
struct Readme;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct TransportReadme;
