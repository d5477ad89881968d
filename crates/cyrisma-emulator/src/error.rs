//! Why the emulator could not start.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The listen address is not a loopback address.
    #[error("refusing to listen on {addr}: the emulator serves loopback addresses only (127.0.0.0/8 or ::1)")]
    NotLoopback {
        /// The refused address.
        addr: SocketAddr,
    },
    /// A configuration value is unusable.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The certificates could not be generated.
    #[error("cannot generate the tls certificates: {0}")]
    Tls(String),
    /// The CA certificate could not be written.
    #[error("cannot write the ca certificate to {path}")]
    WriteCa {
        /// Where it was to be written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
