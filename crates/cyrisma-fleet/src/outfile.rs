//! Where a named output file really is: symlinks followed to their final target (which keeps
//! the link a link), FIFOs and character devices told apart from regular files, so that an export
//! never replaces what is not ours (`/dev/stdout`, a named pipe, a symlink someone made).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::Error;

/// How many symlinks are followed at most before a chain counts as a loop.
const MAX_LINKS: usize = 40;

/// The path that `path` finally names: `path` itself unless it is a symlink, else the end of its
/// chain of links (which may not exist yet; its directory must).
pub(crate) fn final_target(path: &Path) -> Result<PathBuf, Error> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)
                    .map_err(Error::io(format!("cannot read the symlink `{}`", current.display())))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let dir = current.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if current != path && !dir.is_dir() {
                    return Err(Error::Target(format!(
                        "`{}` is a symlink to `{}`, whose directory does not exist: fix the link or give another file name",
                        path.display(),
                        current.display()
                    )));
                }
                return Ok(current);
            }
            Err(error) => {
                return Err(Error::io(format!("cannot inspect `{}`", current.display()))(error));
            }
        }
    }
    Err(Error::Target(format!("`{}` is a loop of symlinks: give another file name", path.display())))
}

#[cfg(unix)]
pub(crate) fn is_stream(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    let kind = meta.file_type();
    kind.is_fifo() || kind.is_char_device()
}

#[cfg(not(unix))]
pub(crate) fn is_stream(_meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) {}
