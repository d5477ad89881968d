//! Writing to a path the user named without replacing what is not ours.
//!
//! A command that writes a file (`export findings --out PATH`) opens it with [`OutFile::open`]:
//!
//! | the path is | what happens |
//! | --- | --- |
//! | `-`, `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1` | written to stdout |
//! | missing, or a regular file | a temporary file (mode 0600) beside it, synced and renamed over it on success |
//! | a symlink to a regular file (or to a missing file in an existing directory) | the same, beside the link's final target: the link stays a link |
//! | a FIFO or a character device (`/dev/null`, a terminal), directly or through a symlink | written through, as it is (nothing is created, renamed or truncated) |
//! | a directory, a socket, a block device, a dangling symlink chain or a loop | refused with a clear message |
//!
//! The module depends on nothing else in the crate, so that it can move to a shared crate.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Where a command's output file goes.
pub(crate) struct OutFile {
    kind: Kind,
}

enum Kind {
    /// A regular file: written to `temp` and renamed over `path` on [`OutFile::commit`].
    Replace { temp: tempfile::NamedTempFile, path: PathBuf },
    /// A FIFO or character device, written through as it is.
    Through { file: File, path: PathBuf },
    /// Standard output.
    Stdout,
}

/// The names that mean standard output.
const STDOUT_NAMES: &[&str] = &["-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];

/// How many symlinks are followed at most before a chain counts as a loop.
const MAX_LINKS: usize = 40;

impl OutFile {
    /// Opens `path` for writing as the table in the module documentation says.
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        if STDOUT_NAMES.iter().any(|name| path.as_os_str() == *name) {
            return Ok(Self { kind: Kind::Stdout });
        }
        let shown = path.display();
        let target = final_target(path)?;
        match std::fs::metadata(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Self::replace(&target),
            Err(error) => Err(anyhow::Error::new(error).context(format!("cannot inspect `{shown}`"))),
            Ok(meta) if meta.is_file() => Self::replace(&target),
            Ok(meta) if meta.is_dir() => anyhow::bail!("`{shown}` is a directory: give a file name"),
            Ok(meta) if is_stream(&meta) => {
                // No `create`, no `truncate`: a FIFO or a device is used as it is.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("cannot open `{shown}` for writing"))?;
                Ok(Self { kind: Kind::Through { file, path: path.to_path_buf() } })
            }
            Ok(_) => anyhow::bail!(
                "`{shown}` is not a regular file, a fifo or a character device (a socket or a block device): \
                 give another file name"
            ),
        }
    }

    fn replace(path: &Path) -> anyhow::Result<Self> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name =
            path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "export".to_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot create a file in `{}`", dir.display()))?;
        Ok(Self { kind: Kind::Replace { temp, path: path.to_path_buf() } })
    }

    /// Whether the output is a regular file that is written only on [`OutFile::commit`] (so a
    /// failed command can leave it as it was).
    pub(crate) fn is_replaced(&self) -> bool {
        matches!(self.kind, Kind::Replace { .. })
    }

    /// Whether the output is a terminal (stdout, or a terminal device named as the file).
    pub(crate) fn is_terminal(&self) -> bool {
        match &self.kind {
            Kind::Replace { .. } => false,
            Kind::Through { file, .. } => file.is_terminal(),
            Kind::Stdout => io::stdout().is_terminal(),
        }
    }

    /// A buffered writer to the output.
    pub(crate) fn writer(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match &self.kind {
            Kind::Replace { temp, .. } => {
                Box::new(BufWriter::new(temp.reopen().context("cannot open the temporary file")?))
            }
            Kind::Through { file, path } => Box::new(BufWriter::new(
                file.try_clone().with_context(|| format!("cannot write `{}`", path.display()))?,
            )),
            Kind::Stdout => Box::new(BufWriter::new(io::stdout())),
        })
    }

    /// Finishes the output once `sink` (from [`OutFile::writer`], already flushed) is done:
    /// syncs and renames a temporary file over its target. Returns the path written, if any.
    pub(crate) fn commit(self, sink: Box<dyn Write>) -> anyhow::Result<Option<PathBuf>> {
        drop(sink);
        match self.kind {
            Kind::Replace { temp, path } => {
                temp.as_file().sync_all().context("cannot flush the file to disk")?;
                temp.persist(&path)
                    .map_err(|error| error.error)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    sync_dir(dir);
                }
                Ok(Some(path))
            }
            Kind::Through { path, .. } => Ok(Some(path)),
            Kind::Stdout => Ok(None),
        }
    }
}

/// The path that `path` finally names: `path` itself unless it is a symlink, else the end of its
/// chain of links (which may not exist yet; its directory must).
fn final_target(path: &Path) -> anyhow::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .with_context(|| format!("cannot read the symlink `{}`", current.display()))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let dir = current.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if current != path && !dir.is_dir() {
                    anyhow::bail!(
                        "`{}` is a symlink to `{}`, whose directory does not exist: fix the link or give another file name",
                        path.display(),
                        current.display()
                    );
                }
                return Ok(current);
            }
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!("cannot inspect `{}`", current.display())));
            }
        }
    }
    anyhow::bail!("`{}` is a loop of symlinks: give another file name", path.display())
}

#[cfg(unix)]
fn is_stream(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = meta.file_type();
    kind.is_fifo() || kind.is_char_device()
}

#[cfg(not(unix))]
fn is_stream(_meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(out: &OutFile, text: &str) -> Box<dyn Write> {
        let mut sink = out.writer().unwrap();
        sink.write_all(text.as_bytes()).unwrap();
        sink.flush().unwrap();
        sink
    }

    #[test]
    fn a_missing_or_regular_file_is_replaced_on_commit_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "old\n").unwrap();
        let out = OutFile::open(&path).unwrap();
        assert!(out.is_replaced());
        let sink = write(&out, "new\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n", "nothing reaches the file before commit");
        assert_eq!(out.commit(sink).unwrap(), Some(path.clone()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_symlink_and_its_target_gets_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.jsonl");
        std::fs::write(&real, "old\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink("real.jsonl", &link).unwrap();
        let out = OutFile::open(&link).unwrap();
        let sink = write(&out, "new\n");
        out.commit(sink).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new\n");
        // A link to a file not yet there: the file is created where the link points.
        let fresh = dir.path().join("fresh-link");
        std::os::unix::fs::symlink(dir.path().join("made.jsonl"), &fresh).unwrap();
        let out = OutFile::open(&fresh).unwrap();
        let sink = write(&out, "made\n");
        out.commit(sink).unwrap();
        assert!(std::fs::symlink_metadata(&fresh).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(dir.path().join("made.jsonl")).unwrap(), "made\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_character_device_is_written_through_and_left_alone() {
        let out = OutFile::open(Path::new("/dev/null")).unwrap();
        assert!(!out.is_replaced());
        let sink = write(&out, "discarded\n");
        out.commit(sink).unwrap();
        use std::os::unix::fs::FileTypeExt as _;
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[cfg(unix)]
    #[test]
    fn loops_directories_and_dangling_chains_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let error = OutFile::open(&a).err().unwrap().to_string();
        assert!(error.contains("loop of symlinks"), "{error}");
        let error = OutFile::open(dir.path()).err().unwrap().to_string();
        assert!(error.contains("is a directory"), "{error}");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("no/such/dir/file"), &dangling).unwrap();
        let error = format!("{:#}", OutFile::open(&dangling).err().unwrap());
        assert!(error.contains("whose directory does not exist"), "{error}");
    }

    #[test]
    fn the_names_of_stdout_are_stdout() {
        for name in STDOUT_NAMES {
            let out = OutFile::open(Path::new(name)).unwrap();
            assert!(matches!(out.kind, Kind::Stdout), "{name}");
        }
    }
}
