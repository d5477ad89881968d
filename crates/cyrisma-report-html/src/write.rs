//! Writing the pages into a directory: the directory is created when missing (a file or a
//! dangling symlink there is refused), and each page goes to a temporary file in it (mode 0600)
//! that is renamed over the page only when complete, so a browser or a web server never sees
//! half a page. A page's name that is taken by anything but a regular file (a symlink, a FIFO,
//! a directory) is refused, never followed or replaced.
//!
//! Pages are not synced to disk one by one: they are derived from the history and can be
//! written again, and a sync per file cost about 8 ms each here (8 s for 1,000 customers, more
//! than everything else together). The export writer (`cyrisma_fleet::ExportFile`), whose files
//! are the only copy, syncs each one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use cyrisma_fleet::History;

use crate::{Error, Options, collect, render};

/// What [`write_report`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The directory.
    pub dir: PathBuf,
    /// The portfolio page.
    pub index: PathBuf,
    /// How many customer pages.
    pub customers: usize,
    /// How many runs the period has.
    pub runs: usize,
    /// The customers whose pull failed in the latest run.
    pub failed: usize,
}

/// Creates `dir` when missing; refuses anything that is not a directory.
fn prepare(dir: &Path) -> Result<(), Error> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::Target(format!(
            "`{}` is not a directory: the report writes index.html and one page per customer into a directory",
            dir.display()
        ))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(dir).is_ok() {
                return Err(Error::Target(format!(
                    "`{}` is a dangling symlink: fix it or give another directory",
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(Error::io_at("cannot create the directory", dir))
        }
        Err(error) => Err(Error::io_at("cannot inspect", dir)(error)),
    }
}

/// Writes one page through a temporary file renamed over it.
fn write_page(dir: &Path, name: &str, html: &str) -> Result<PathBuf, Error> {
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(Error::Target(format!(
                "`{}` is not a regular file (a symlink, a directory or a device): remove it or choose another directory",
                path.display()
            )));
        }
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(Error::io_at("cannot inspect", &path)(error)),
    }
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(Error::io_at("cannot create a file in", dir))?;
    temp.write_all(html.as_bytes()).map_err(Error::io_at("cannot write", &path))?;
    temp.flush().map_err(Error::io_at("cannot write", &path))?;
    temp.persist(&path).map_err(|error| Error::io_at("cannot write", &path)(error.error))?;
    Ok(path)
}

/// Writes the portfolio page and every customer's page from the history into `dir`.
pub fn write_report(history: &History, dir: &Path, options: &Options) -> Result<Written, Error> {
    let portfolio = collect(history, options)?;
    write_portfolio(&portfolio, dir)
}

/// Writes the pages of an already collected portfolio into `dir`: the customers' pages first,
/// the index last (a reader who sees the new index finds every page it links to).
pub fn write_portfolio(portfolio: &collect::Portfolio, dir: &Path) -> Result<Written, Error> {
    prepare(dir)?;
    // Pages are independent: rendered and written on a few threads, in runs of customers.
    let customers: Vec<&collect::Customer> = portfolio.customers.iter().collect();
    let written = collect::on_threads(customers, "writing it", |customer| {
        write_page(dir, &customer.file, &render::customer_page(portfolio, customer)?)
    })?;
    for page in written {
        page?;
    }
    let index = write_page(dir, "index.html", &render::index_page(portfolio)?)?;
    Ok(Written {
        dir: dir.to_path_buf(),
        index,
        customers: portfolio.customers.len(),
        runs: portfolio.runs.len(),
        failed: portfolio.failed.len(),
    })
}
