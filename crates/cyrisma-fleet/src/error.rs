//! The error of a fleet operation as a whole (one instance failing is an
//! [`InstanceFailure`](crate::InstanceFailure) in the outcome, not an error).

use std::path::PathBuf;

use crate::InstanceFailure;

/// Why a fleet operation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The structure listing (or another call the whole operation needs) failed.
    #[error(transparent)]
    Transport(#[from] cyrisma_transport::Error),
    /// A file or stream could not be written.
    #[error("{context}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A named output file is something an export must not replace or cannot write (a
    /// directory, a socket, a loop of symlinks).
    #[error("{0}")]
    Target(String),
    /// Some instances failed, so the export file was not written.
    #[error("{} of {total} instances failed, so `{}` was not written", failures.len(), path.display())]
    Partial {
        /// The file that was not written.
        path: PathBuf,
        /// How many instances were selected.
        total: usize,
        /// The instances that failed, in instance-id order.
        failures: Vec<InstanceFailure>,
    },
}

impl Error {
    /// An I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}
