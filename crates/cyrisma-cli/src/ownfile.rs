//! The files of the config dir (`config.toml`, `credentials.toml`) are read, re-permissioned and
//! replaced only when they are regular files: a symlink is not followed (a link planted in the
//! config dir would otherwise lend the secret store to another file, or get another file
//! chmod-ed), and a FIFO or a device (`/dev/zero`) is refused instead of read without end. Reads
//! are bounded too.

use std::io::Read as _;
use std::path::Path;

use crate::exit::CliError;

/// The most a config-dir file may hold (a few profiles take a few KiB).
pub(crate) const MAX_BYTES: u64 = 1024 * 1024;

/// Whether `path` exists as a regular file (`false` when missing); a symlink or any other kind of
/// file is refused with a clear error (exit code 2).
pub(crate) fn check(path: &Path) -> anyhow::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(anyhow::Error::new(error).context(format!("cannot inspect `{}`", path.display()))),
        Ok(meta) if meta.file_type().is_symlink() => Err(CliError::usage(format!(
            "`{}` is a symlink: cyrisma does not follow links for its configuration and credentials",
            path.display()
        ))
        .with_hint("replace the link with a regular file (or point `--config-dir` at the directory holding the file)")
        .into()),
        Ok(meta) if !meta.is_file() => Err(CliError::usage(format!("`{}` is not a regular file", path.display()))
            .with_hint("remove it; `cyrisma auth setup` writes a fresh one")
            .into()),
        Ok(_) => Ok(true),
    }
}

/// Reads `path` if it is a regular file of at most [`MAX_BYTES`] (`None` when missing); refuses
/// a symlink, any other kind of file and a larger file.
pub(crate) fn read(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    if !check(path)? {
        return Ok(None);
    }
    let cannot = |error: std::io::Error| anyhow::Error::new(error).context(format!("cannot read `{}`", path.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(cannot)?.take(MAX_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(CliError::usage(format!("`{}` is larger than {} KiB", path.display(), MAX_BYTES / 1024))
            .with_hint("fix or remove the file")
            .into());
    }
    Ok(Some(bytes))
}

/// [`check`] for the atomic writer, as an I/O error: replacing a symlink or a non-regular file
/// at `path` is refused.
pub(crate) fn check_replaceable(path: &Path) -> std::io::Result<()> {
    check(path).map(drop).map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{error:#}")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_devices_and_huge_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("elsewhere.toml");
        std::fs::write(&real, "x = 1\n").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(format!("{:#}", read(&link).unwrap_err()).contains("is a symlink"));
        assert!(check_replaceable(&link).is_err());
        assert!(format!("{:#}", read(Path::new("/dev/zero")).unwrap_err()).contains("not a regular file"));
        let big = dir.path().join("big.toml");
        std::fs::File::create(&big).unwrap().set_len(MAX_BYTES + 1).unwrap();
        assert!(format!("{:#}", read(&big).unwrap_err()).contains("larger than"));
        assert_eq!(read(&real).unwrap().unwrap(), b"x = 1\n");
        assert!(read(&dir.path().join("missing")).unwrap().is_none());
        assert!(check_replaceable(&dir.path().join("missing")).is_ok());
    }
}
