//! Customer reports as offline HTML: `index.html` (the portfolio) and one `<instance_id>.html`
//! per customer, drawn from the findings history (`cyrisma_fleet::History` and its dataset).
//!
//! The pages are self-contained: inline CSS (with print rules), charts drawn here as inline SVG
//! (no JavaScript), an embedded logo, and a Content-Security-Policy of
//! `default-src 'none'; style-src 'unsafe-inline'; img-src data:`, so a browser fetches nothing.
//! Templates are compiled by askama with HTML auto-escaping, so every string from the server is
//! escaped; right-to-left names are isolated (`<bdi>`) and long unbroken strings wrap.
//!
//! Three steps, each its own module: [`collect`] reads the history into plain view models (the
//! only part that reads files), [`render`] turns them into pages (pure), and [`write`] puts the
//! pages into a directory, each file through a temporary file renamed into place.
//!
//! ```no_run
//! # fn example() -> Result<(), cyrisma_report_html::Error> {
//! use cyrisma_dataset::Dataset;
//! use cyrisma_fleet::History;
//! use cyrisma_report_html::{Options, write_report};
//!
//! let history = History::new(Dataset::new("./history"));
//! let written = write_report(&history, "./report".as_ref(), &Options::default())?;
//! println!("{} customer pages in {}", written.customers, written.dir.display());
//! # Ok(())
//! # }
//! ```

mod cache;
mod changes;
pub mod chart;
pub mod collect;
mod error;
pub mod options;
pub mod render;
pub mod table;
pub mod write;

pub use collect::{Customer, Portfolio, collect};
pub use error::Error;
pub use options::{Branding, Logo, Options, Period};
pub use write::{Written, write_report};

#[cfg(test)]
mod tests;
