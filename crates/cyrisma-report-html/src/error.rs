//! Why a report could not be written.

use std::path::PathBuf;

/// What went wrong writing a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The history could not be read.
    #[error(transparent)]
    History(#[from] cyrisma_fleet::Error),
    /// The dataset could not be read.
    #[error(transparent)]
    Dataset(#[from] cyrisma_dataset::Error),
    /// A table of the history lacks a column the report needs.
    #[error("the history's {table} table: {message}")]
    Table {
        /// The table.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The history has no complete run (or none in the period asked for).
    #[error("{0}")]
    NoRuns(String),
    /// `--instance` named instances the history does not have.
    #[error("no instance {} in the history (see `cyrisma history runs` and `cyrisma report`)", .0.join(", "))]
    UnknownInstances(Vec<String>),
    /// A period or date that cannot be read.
    #[error("{0}")]
    Period(String),
    /// The logo is not an image this report can embed.
    #[error("{0}")]
    Logo(String),
    /// The output directory is something the report must not write into.
    #[error("{0}")]
    Target(String),
    /// A file or directory could not be read or written.
    #[error("{context}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A template failed to render (a bug: the templates are compiled in).
    #[error("cannot render {page}: {message}")]
    Render {
        /// The page.
        page: String,
        /// The template engine's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }

    pub(crate) fn io_at(action: &str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        Self::io(format!("{action} `{}`", PathBuf::from(path).display()))
    }
}
