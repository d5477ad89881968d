//! The credential store: where a profile's API secret is kept.
//!
//! The OS keyring when one is available (macOS Keychain, Windows Credential Manager, the
//! Secret Service on Linux through pure-Rust D-Bus), otherwise `credentials.toml` in the config
//! dir. The fallback is stated once on stderr, never silent.
//!
//! The file is mode 0600 in a 0700 directory whatever the umask, and is written atomically: a
//! temporary file in the same directory, fsync, rename over the old file, fsync of the directory.
//! A file or directory found with looser permissions is tightened (with a warning) or, if that
//! fails, refused.
//!
//! Writers serialise: every write of the store (file or keyring) and every `config.toml` update
//! made with it runs under the config dir's lock ([`Store::lock`], an exclusive lock on
//! `.cyrisma.lock`), and re-reads what it changes under that lock, so concurrent commands (several
//! `auth rotate-secret --profile X`, several `auth setup`) all keep what they stored.
//!
//! Every keyring call runs on a helper thread with a time limit, so a locked or half-working
//! keyring falls back (or fails) instead of hanging the command.
//!
//! Test-only failure injection ([`failpoint`]): debug builds read `CYRISMA_FAILPOINT`, a
//! comma-separated list of named steps at which the process aborts (or, for `credentials-write`,
//! the write fails). Release builds compile none of it: [`failpoint`] is an empty function there.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use cyrisma_core::ApiSecret;
use serde::{Deserialize, Serialize};

use crate::args::StorageChoice;
use crate::exit::CliError;
use crate::ui::Ui;

/// The file holding secrets when no keyring is used.
pub(crate) const CREDENTIALS_FILE: &str = "credentials.toml";

/// The lock file that serialises the writers of a config dir's store.
pub(crate) const LOCK_FILE: &str = ".cyrisma.lock";

/// How long a writer waits for another command to release the store's lock (writers hold it for
/// one local write, so only a stuck process makes this run out).
const LOCK_WAIT: Duration = Duration::from_secs(30);

/// How much room a rotation proves before it is sent, on top of the files it may rewrite: a new
/// secret (or the raw answer saved for recovery) of up to this size.
pub(crate) const ROTATION_ROOM: u64 = 4096;

/// The keyring service name; the profile name is the keyring "user".
const KEYRING_SERVICE: &str = "cyrisma";

/// How long one keyring call may take before the keyring counts as unavailable.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// The variable naming the failpoints to trigger (debug builds only, see [`failpoint`]).
#[cfg(debug_assertions)]
const FAILPOINT_VAR: &str = "CYRISMA_FAILPOINT";

/// How old a temporary file left by an interrupted write must be before a later write removes it
/// (younger ones may belong to a write in progress in another process).
const STALE_TEMP_AGE: Duration = Duration::from_secs(600);

/// Whether the failpoint `name` is armed for `file` (debug builds only).
///
/// `CYRISMA_FAILPOINT` is a comma-separated list of entries; an entry `NAME` arms `NAME` for every
/// file, `NAME@FILE` only for the file named `FILE` (such as `credentials.toml`). Release builds
/// compile this to `false`, so they carry no failure injection at all.
#[cfg(debug_assertions)]
pub(crate) fn failpoint_armed(name: &str, file: &str) -> bool {
    std::env::var(FAILPOINT_VAR).is_ok_and(|value| armed_in(&value, name, file))
}

/// Whether the list `value` (the syntax of `CYRISMA_FAILPOINT`) arms `name` for `file`.
#[cfg(debug_assertions)]
fn armed_in(value: &str, name: &str, file: &str) -> bool {
    value.split(',').map(str::trim).any(|entry| match entry.split_once('@') {
        Some((entry_name, entry_file)) => entry_name == name && entry_file == file,
        None => entry == name,
    })
}

/// Release builds: no failure injection.
#[cfg(not(debug_assertions))]
pub(crate) fn failpoint_armed(_name: &str, _file: &str) -> bool {
    false
}

/// A crash-injection point (debug builds only): aborts the process at once, as a crash or a
/// power cut would, when `name` is armed for `file` in `CYRISMA_FAILPOINT` (see
/// [`failpoint_armed`]). No destructor runs, so temporary files stay behind as after a real crash.
pub(crate) fn failpoint(name: &str, file: &str) {
    if failpoint_armed(name, file) {
        std::process::abort();
    }
}

/// Where a secret is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StoreKind {
    /// The OS keyring.
    Keyring,
    /// `credentials.toml`.
    File,
}

impl StoreKind {
    /// A short name for messages and output.
    pub(crate) fn label(self) -> &'static str {
        match self {
            StoreKind::Keyring => "keyring",
            StoreKind::File => "file",
        }
    }
}

/// The credential store of one config dir.
pub(crate) struct Store<'a> {
    dir: &'a Path,
    ui: &'a Ui,
}

/// The exclusive lock on a config dir's store, held until dropped. Writers of the store take it
/// ([`Store::lock`]) and pass it to [`Store::write`] and [`Store::delete`], which therefore always
/// re-read the file under it.
pub(crate) struct StoreLock {
    /// The open lock file: closing it releases the lock.
    _file: std::fs::File,
}

/// The secrets file: secrets by profile name. No `Debug`: it holds secrets.
#[derive(Default, Serialize, Deserialize)]
struct CredentialsFile {
    #[serde(default)]
    profiles: BTreeMap<String, StoredSecret>,
}

#[derive(Serialize, Deserialize)]
struct StoredSecret {
    api_secret: String,
}

impl<'a> Store<'a> {
    /// The store of the config dir `dir`.
    pub(crate) fn new(dir: &'a Path, ui: &'a Ui) -> Self {
        Self { dir, ui }
    }

    /// The path of the secrets file.
    pub(crate) fn file_path(&self) -> PathBuf {
        self.dir.join(CREDENTIALS_FILE)
    }

    /// Takes the store's exclusive lock (an OS file lock on `.cyrisma.lock` in the config dir,
    /// released when the guard drops or the process ends), waiting up to [`LOCK_WAIT`] for another
    /// command to finish its write.
    pub(crate) fn lock(&self) -> anyhow::Result<StoreLock> {
        ensure_private_dir(self.dir, self.ui)?;
        let path = self.dir.join(LOCK_FILE);
        let file = open_lock_file(&path).with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
        let mut waited = Duration::ZERO;
        let step = Duration::from_millis(10);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StoreLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if waited < LOCK_WAIT => {
                    std::thread::sleep(step);
                    waited += step;
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(CliError::error(format!(
                        "another cyrisma command has held the lock `{}` for {} s",
                        path.display(),
                        LOCK_WAIT.as_secs()
                    ))
                    .with_hint("wait for it to finish (or stop it), then try again")
                    .into());
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(error).with_context(|| format!("cannot lock `{}`", path.display()));
                }
            }
        }
    }

    /// Proves that the config dir can take a write of `bytes` bytes: writes and syncs a file of
    /// that size there, then removes it. Run before a call whose answer must be stored (a
    /// rotation), so that a full disk refuses it before anything is sent.
    pub(crate) fn prove_room(&self, bytes: u64) -> anyhow::Result<()> {
        let refuse = |reason: String| -> anyhow::Error {
            CliError::error(format!(
                "the config dir `{}` cannot take a write of {bytes} bytes ({reason}): nothing was sent",
                self.dir.display()
            ))
            .with_hint("free some space on that file system (or fix its permissions), then try again")
            .into()
        };
        ensure_private_dir(self.dir, self.ui)?;
        if failpoint_armed("store-room", CREDENTIALS_FILE) {
            return Err(refuse("injected failure (CYRISMA_FAILPOINT)".to_owned()));
        }
        let mut probe = tempfile::Builder::new()
            .prefix(".cyrisma-room-")
            .tempfile_in(self.dir)
            .map_err(|error| refuse(error.to_string()))?;
        let block = [0u8; 4096];
        let mut left = bytes;
        while left > 0 {
            let chunk = left.min(block.len() as u64) as usize;
            probe.write_all(&block[..chunk]).map_err(|error| refuse(error.to_string()))?;
            left -= chunk as u64;
        }
        probe.as_file().sync_all().map_err(|error| refuse(error.to_string()))?;
        probe.close().map_err(|error| refuse(error.to_string()))?;
        Ok(())
    }

    /// The size of the files a rotation may rewrite (`credentials.toml` and `also`, the config
    /// dir's `config.toml`), which are written next to their old copy before replacing it.
    pub(crate) fn rewritten_size(&self, also: &str) -> u64 {
        [self.file_path(), self.dir.join(also)]
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|metadata| metadata.len())
            .sum()
    }

    /// Reads a profile's secret, looking first where it was recorded to be.
    pub(crate) fn read(
        &self,
        profile: &str,
        recorded: Option<StoreKind>,
    ) -> anyhow::Result<Option<(ApiSecret, StoreKind)>> {
        let order: &[StoreKind] = match recorded {
            Some(StoreKind::Keyring) => &[StoreKind::Keyring, StoreKind::File],
            Some(StoreKind::File) => &[StoreKind::File],
            None => &[StoreKind::File, StoreKind::Keyring],
        };
        for kind in order {
            let found = match kind {
                StoreKind::File => self.read_file(profile)?,
                StoreKind::Keyring => match keyring_get(profile) {
                    Ok(found) => found,
                    Err(reason) if recorded == Some(StoreKind::Keyring) => {
                        return Err(CliError::auth(format!(
                            "cannot read the secret of profile `{profile}` from the os keyring: {reason}"
                        ))
                        .with_hint("unlock the keyring, or store the secret again with `cyrisma auth setup`")
                        .into());
                    }
                    Err(_) => None,
                },
            };
            if let Some(secret) = found {
                return Ok(Some((secret, *kind)));
            }
        }
        Ok(None)
    }

    /// Decides where a secret will be written and checks that it can be, before anything
    /// irreversible happens. States the file fallback once.
    pub(crate) fn preflight(&self, choice: StorageChoice) -> anyhow::Result<StoreKind> {
        let kind = match choice {
            StorageChoice::File => StoreKind::File,
            StorageChoice::Keyring => match keyring_probe() {
                Ok(()) => StoreKind::Keyring,
                Err(reason) => {
                    return Err(CliError::error(format!("the os keyring is not usable: {reason}"))
                        .with_hint("use `--storage file` to keep the secret in `credentials.toml` (mode 0600)")
                        .into());
                }
            },
            StorageChoice::Auto => match keyring_probe() {
                Ok(()) => StoreKind::Keyring,
                Err(reason) => {
                    static STATED: AtomicBool = AtomicBool::new(false);
                    if !STATED.swap(true, Ordering::Relaxed) {
                        self.ui.warn(&format!(
                            "no os keyring is available ({reason}); the api secret is stored in `{}` (mode 0600) instead",
                            self.file_path().display()
                        ));
                    }
                    StoreKind::File
                }
            },
        };
        if kind == StoreKind::File {
            self.check_file_writable()?;
        }
        Ok(kind)
    }

    /// Writes a profile's secret to `kind` (checked by [`Store::preflight`]), and removes the
    /// copy in the other store. The caller holds the store's lock, so the file is re-read under it.
    pub(crate) fn write(
        &self,
        _lock: &StoreLock,
        profile: &str,
        secret: &ApiSecret,
        kind: StoreKind,
    ) -> anyhow::Result<()> {
        match kind {
            StoreKind::Keyring => {
                keyring_set(profile, secret)
                    .map_err(|reason| anyhow::anyhow!("cannot write to the os keyring: {reason}"))?;
                // Do not leave an older copy in the file.
                self.remove_from_file(profile)?;
            }
            StoreKind::File => {
                if failpoint_armed("credentials-write", CREDENTIALS_FILE) {
                    anyhow::bail!(
                        "cannot write `{}`: injected failure (CYRISMA_FAILPOINT)",
                        self.file_path().display()
                    );
                }
                let mut file = self.load_file()?;
                file.profiles
                    .insert(profile.to_owned(), StoredSecret { api_secret: secret.expose_secret().to_owned() });
                self.save_file(&file)?;
                let _ = keyring_delete(profile);
            }
        }
        Ok(())
    }

    /// Removes a profile's secret from both stores; returns where one was found.
    /// The caller holds the store's lock.
    pub(crate) fn delete(
        &self,
        _lock: &StoreLock,
        profile: &str,
        recorded: Option<StoreKind>,
    ) -> anyhow::Result<Vec<StoreKind>> {
        let mut removed = Vec::new();
        if self.remove_from_file(profile)? {
            removed.push(StoreKind::File);
        }
        match keyring_delete(profile) {
            Ok(true) => removed.push(StoreKind::Keyring),
            Ok(false) => {}
            Err(reason) if recorded == Some(StoreKind::Keyring) => {
                return Err(anyhow::anyhow!(
                    "cannot remove the secret of profile `{profile}` from the os keyring: {reason}"
                ));
            }
            Err(_) => {}
        }
        Ok(removed)
    }

    fn read_file(&self, profile: &str) -> anyhow::Result<Option<ApiSecret>> {
        let file = self.load_file()?;
        Ok(file
            .profiles
            .get(profile)
            .map(|stored| ApiSecret::new(stored.api_secret.clone()))
            .filter(|secret| !secret.is_empty()))
    }

    fn load_file(&self) -> anyhow::Result<CredentialsFile> {
        let path = self.file_path();
        if !crate::ownfile::check(&path)? {
            return Ok(CredentialsFile::default());
        }
        tighten(self.dir, 0o700, self.ui)?;
        tighten(&path, 0o600, self.ui)?;
        let bytes = crate::ownfile::read(&path)?.unwrap_or_default();
        let text = String::from_utf8(bytes)
            .map_err(|_| CliError::error(format!("`{}` is not valid utf-8", path.display())))?;
        // The parse error could quote the file, which holds secrets: say only where it failed.
        toml::from_str(&text).map_err(|error| {
            let place = error.span().map(|span| format!(" (at byte {})", span.start)).unwrap_or_default();
            CliError::error(format!("`{}` is not a valid credentials file{place}", path.display()))
                .with_hint("fix or remove it, then store the secret again with `cyrisma auth setup`")
                .into()
        })
    }

    fn save_file(&self, file: &CredentialsFile) -> anyhow::Result<()> {
        let text =
            toml::to_string_pretty(file).map_err(|_| anyhow::anyhow!("cannot serialize the credentials file"))?;
        let text = format!("# cyrisma api secrets: keep this file private (mode 0600).\n\n{text}");
        ensure_private_dir(self.dir, self.ui)?;
        write_private_file(self.dir, CREDENTIALS_FILE, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", self.file_path().display()))
    }

    fn remove_from_file(&self, profile: &str) -> anyhow::Result<bool> {
        if !crate::ownfile::check(&self.file_path())? {
            return Ok(false);
        }
        let mut file = self.load_file()?;
        if file.profiles.remove(profile).is_none() {
            return Ok(false);
        }
        self.save_file(&file)?;
        Ok(true)
    }

    /// Checks that the secrets file can be replaced: a private directory we can create files in,
    /// and an existing file that parses and is (or can be made) private.
    fn check_file_writable(&self) -> anyhow::Result<()> {
        ensure_private_dir(self.dir, self.ui)?;
        if crate::ownfile::check(&self.file_path())? {
            self.load_file()?;
        }
        let probe = tempfile::Builder::new()
            .prefix(".cyrisma-probe-")
            .tempfile_in(self.dir)
            .with_context(|| format!("cannot create files in `{}`", self.dir.display()))?;
        probe.as_file().sync_all().with_context(|| format!("cannot write files in `{}`", self.dir.display()))?;
        drop(probe);
        Ok(())
    }
}

/// Opens (creating, mode 0600) the lock file. It holds nothing; only its OS lock matters.
fn open_lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates the config dir with mode 0700, or tightens an existing one.
pub(crate) fn ensure_private_dir(dir: &Path, ui: &Ui) -> anyhow::Result<()> {
    if !dir.exists() {
        create_private_dir(dir).with_context(|| format!("cannot create the config dir `{}`", dir.display()))?;
    }
    tighten(dir, 0o700, ui)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    // The umask may have removed bits; the mode must be exactly 0700.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Tightens a file or directory to `mode` if group or others have any access; refuses if that
/// fails.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32, ui: &Ui) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).with_context(|| format!("cannot inspect `{}`", path.display()))?;
    let current = metadata.permissions().mode() & 0o777;
    if current & 0o077 == 0 {
        return Ok(());
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Ok(()) => {
            ui.warn(&format!(
                "`{}` was readable by others (mode {current:04o}): tightened to {mode:04o}",
                path.display()
            ));
            Ok(())
        }
        Err(error) => Err(CliError::error(format!(
            "`{}` is readable by others (mode {current:04o}) and cannot be tightened: {error}",
            path.display()
        ))
        .with_hint(format!("run `chmod {mode:o} {}` and try again", path.display()))
        .into()),
    }
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _mode: u32, _ui: &Ui) -> anyhow::Result<()> {
    Ok(())
}

/// Writes `dir/name` atomically with mode 0600: a temporary file `.NAME.XXXXXX.tmp` in `dir`
/// (`tempfile`'s `NamedTempFile`), fsync, rename over the old file (`persist`), fsync of `dir`. A
/// crash at any step leaves either the complete old file or the complete new one; readers only
/// ever open `dir/name`, never a temporary file. Temporary files left by an interrupted write are
/// removed by a later write once they are [`STALE_TEMP_AGE`] old.
///
/// Each step has a failpoint (debug builds only), armed with `CYRISMA_FAILPOINT=atomic-write:<step>`
/// or `atomic-write:<step>@<name>`, the steps being, in order, `temp-created`, `partly-written`
/// (half the contents), `before-fsync` (all of it), `after-fsync` and `after-rename` (before the
/// directory's fsync).
pub(crate) fn write_private_file(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<()> {
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    crate::ownfile::check_replaceable(&dir.join(name))?;
    // `tempfile` creates the file with mode 0600 on Unix, whatever the umask.
    let mut temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
    set_private_mode(temp.path())?;
    failpoint("atomic-write:temp-created", name);
    let (first, rest) = contents.split_at(contents.len() / 2);
    temp.write_all(first)?;
    failpoint("atomic-write:partly-written", name);
    temp.write_all(rest)?;
    failpoint("atomic-write:before-fsync", name);
    temp.as_file().sync_all()?;
    failpoint("atomic-write:after-fsync", name);
    temp.persist(dir.join(name)).map_err(|error| error.error)?;
    failpoint("atomic-write:after-rename", name);
    sync_dir(dir)?;
    remove_stale_temp_files(dir, name);
    Ok(())
}

/// Writes `contents` to a new private file (mode 0600) in `dir` whose name starts with `prefix` and
/// ends with `suffix` and is unique: the UTC time to the nanosecond, the process id and a counter,
/// and never an existing file's name (the file is moved into place with no-clobber; a clash takes
/// the next counter). Synced like [`write_private_file`]. Returns the path.
pub(crate) fn write_new_private_file(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    contents: &[u8],
) -> std::io::Result<PathBuf> {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    if !dir.exists() {
        create_private_dir(dir)?;
    }
    let mut temp = tempfile::Builder::new().prefix(&format!(".{prefix}")).suffix(".tmp").tempfile_in(dir)?;
    set_private_mode(temp.path())?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| format!("{}.{:09}", elapsed.as_secs(), elapsed.subsec_nanos()))
        .unwrap_or_default();
    let pid = std::process::id();
    // Bounded: each try takes a fresh counter, and only an existing file of that name fails one.
    for _ in 0..1000 {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{prefix}{stamp}-{pid}-{count}{suffix}"));
        match temp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir)?;
                return Ok(path);
            }
            Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => temp = error.file,
            Err(error) => return Err(error.error),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free file name"))
}

/// Removes `.NAME.*.tmp` files in `dir` older than [`STALE_TEMP_AGE`]: leftovers of a write that
/// crashed, which may hold a secret. Best effort: a failure changes nothing else.
fn remove_stale_temp_files(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !(file_name.starts_with(&prefix) && file_name.ends_with(".tmp")) {
            continue;
        }
        let stale = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|metadata| metadata.modified().ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn set_private_mode(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private_mode(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

// ----- the OS keyring -----

/// Runs a keyring call on a helper thread with a time limit.
fn with_keyring<T: Send + 'static>(call: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    if std::env::var("CYRISMA_KEYRING").is_ok_and(|value| value == "off") {
        return Err("disabled by CYRISMA_KEYRING=off".to_owned());
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("cyrisma-keyring".into()).spawn(move || {
        let _ = sender.send(keyring_ready().and_then(|()| call()));
    });
    if spawned.is_err() {
        return Err("cannot start the keyring thread".to_owned());
    }
    receiver.recv_timeout(KEYRING_TIMEOUT).unwrap_or_else(|_| Err("the keyring did not answer in time".to_owned()))
}

/// Installs the platform's keyring store once.
fn keyring_ready() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY.get_or_init(install_platform_store).clone()
}

#[cfg(target_os = "linux")]
fn install_platform_store() -> Result<(), String> {
    let store = zbus_secret_service_keyring_store::Store::new().map_err(|error| describe_keyring_error(&error))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "macos")]
fn install_platform_store() -> Result<(), String> {
    let store = apple_native_keyring_store::keychain::Store::new().map_err(|error| describe_keyring_error(&error))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(windows)]
fn install_platform_store() -> Result<(), String> {
    let store = windows_native_keyring_store::Store::new().map_err(|error| describe_keyring_error(&error))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn install_platform_store() -> Result<(), String> {
    Err("no keyring support on this platform".to_owned())
}

/// A short reason for a keyring failure (never a secret: these errors carry none we print).
fn describe_keyring_error(error: &keyring_core::Error) -> String {
    match error {
        keyring_core::Error::PlatformFailure(_) => "the platform keyring service is not reachable".to_owned(),
        keyring_core::Error::NoStorageAccess(_) => "the keyring is locked or not accessible".to_owned(),
        keyring_core::Error::NoDefaultStore => "no keyring store is configured".to_owned(),
        keyring_core::Error::NotSupportedByStore(reason) => format!("not supported by the keyring: {reason}"),
        _ => "the keyring refused the operation".to_owned(),
    }
}

fn entry(profile: &str) -> Result<keyring_core::Entry, String> {
    keyring_core::Entry::new(KEYRING_SERVICE, profile).map_err(|error| describe_keyring_error(&error))
}

/// Checks that the keyring can store a secret, with a probe entry written and removed.
fn keyring_probe() -> Result<(), String> {
    with_keyring(|| {
        let probe = entry("cyrisma-probe")?;
        probe.set_password("probe").map_err(|error| describe_keyring_error(&error))?;
        let _ = probe.delete_credential();
        Ok(())
    })
}

fn keyring_get(profile: &str) -> Result<Option<ApiSecret>, String> {
    let profile = profile.to_owned();
    with_keyring(move || match entry(&profile)?.get_password() {
        Ok(secret) => Ok(Some(ApiSecret::new(secret))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(error) => Err(describe_keyring_error(&error)),
    })
}

fn keyring_set(profile: &str, secret: &ApiSecret) -> Result<(), String> {
    let profile = profile.to_owned();
    let secret = secret.clone();
    with_keyring(move || {
        entry(&profile)?.set_password(secret.expose_secret()).map_err(|error| describe_keyring_error(&error))
    })
}

fn keyring_delete(profile: &str) -> Result<bool, String> {
    let profile = profile.to_owned();
    with_keyring(move || match entry(&profile)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring_core::Error::NoEntry) => Ok(false),
        Err(error) => Err(describe_keyring_error(&error)),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_file_store_is_private_atomic_and_tightens_loose_modes() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("cfg");
        let ui = Ui::new(None, true, true);
        let store = Store::new(&dir, &ui);
        assert_eq!(store.preflight(StorageChoice::File).unwrap(), StoreKind::File);
        let lock = store.lock().unwrap();
        store.write(&lock, "default", &ApiSecret::new("s1"), StoreKind::File).unwrap();
        store.write(&lock, "other", &ApiSecret::new("s2"), StoreKind::File).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&store.file_path()), 0o600);
        let (secret, kind) = store.read("default", Some(StoreKind::File)).unwrap().unwrap();
        assert_eq!((secret.expose_secret(), kind), ("s1", StoreKind::File));
        std::fs::set_permissions(store.file_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(store.read("other", None).unwrap().is_some());
        assert_eq!(mode(&store.file_path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(store.delete(&lock, "default", Some(StoreKind::File)).unwrap(), vec![StoreKind::File]);
        assert!(store.read("default", Some(StoreKind::File)).unwrap().is_none());
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        let mut leftovers: Vec<_> = leftovers.into_iter().filter(|name| name != LOCK_FILE).collect();
        leftovers.sort();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(CREDENTIALS_FILE)]);
    }

    #[test]
    fn a_later_write_removes_stale_temporary_files_and_keeps_young_ones() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        let stale = dir.join(format!(".{CREDENTIALS_FILE}.abc123.tmp"));
        let young = dir.join(format!(".{CREDENTIALS_FILE}.def456.tmp"));
        let other = dir.join(".config.toml.ghi789.tmp");
        for path in [&stale, &young, &other] {
            std::fs::write(path, "api_secret = \"half").unwrap();
        }
        let old = std::time::SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(5);
        for path in [&stale, &other] {
            std::fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
        }
        write_private_file(dir, CREDENTIALS_FILE, b"[profiles]\n").unwrap();
        assert!(!stale.exists(), "a stale temporary file of the same name is removed");
        assert!(young.exists(), "a young one may be a write in progress: kept");
        assert!(other.exists(), "another file's temporary files are left to that file's writes");
        assert_eq!(std::fs::read(dir.join(CREDENTIALS_FILE)).unwrap(), b"[profiles]\n");
        assert_eq!(mode(&dir.join(CREDENTIALS_FILE)), 0o600);
    }

    #[test]
    fn new_private_files_never_share_a_name() {
        let temp = tempfile::tempdir().unwrap();
        let paths: Vec<_> = (0..5)
            .map(|index| {
                write_new_private_file(temp.path(), "answer-", ".txt", format!("body {index}").as_bytes()).unwrap()
            })
            .collect();
        for (index, path) in paths.iter().enumerate() {
            assert_eq!(std::fs::read_to_string(path).unwrap(), format!("body {index}"));
            assert_eq!(mode(path), 0o600);
        }
        let names: std::collections::BTreeSet<_> = paths.iter().collect();
        assert_eq!(names.len(), 5);
        let count = std::fs::read_dir(temp.path()).unwrap().count();
        assert_eq!(count, 5, "no temporary file left");
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_dropped() {
        let temp = tempfile::tempdir().unwrap();
        let ui = Ui::new(None, true, true);
        let store = Store::new(temp.path(), &ui);
        let lock = store.lock().unwrap();
        // A second open file description of the same lock file cannot take it while held.
        let other = open_lock_file(&temp.path().join(LOCK_FILE)).unwrap();
        assert!(matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        drop(lock);
        other.try_lock().unwrap();
    }

    #[cfg(debug_assertions)]
    #[test]
    fn failpoint_lists_arm_a_step_for_every_file_or_for_one() {
        assert!(armed_in("atomic-write:after-rename", "atomic-write:after-rename", "config.toml"));
        assert!(armed_in("x, atomic-write:after-rename@config.toml", "atomic-write:after-rename", "config.toml"));
        assert!(!armed_in("atomic-write:after-rename@config.toml", "atomic-write:after-rename", CREDENTIALS_FILE));
        assert!(!armed_in("atomic-write:after", "atomic-write:after-rename", "config.toml"));
        assert!(!armed_in("", "credentials-write", CREDENTIALS_FILE));
        assert!(armed_in("credentials-write", "credentials-write", CREDENTIALS_FILE));
    }
}
