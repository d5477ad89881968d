//! Where a dataset lives: a local directory, or a prefix in an object store (`s3://`, `az://`,
//! `abfs://`, `gs://`) through the `object_store` crate, behind one set of file operations
//! (list a table, read a file, publish a run's files, delete) that the reader and writer use.
//!
//! **Locations are paths.** An object store dataset's root is kept as a path too
//! (`s3://bucket/prefix`), and its files as paths under it (`s3://bucket/prefix/runs/dt=…/….parquet`),
//! so errors name the same kind of location whatever the store; an object's key is its path
//! relative to the root, under the URL's prefix.
//!
//! **Atomicity.** On a local file system a run's files are written under hidden temporary names
//! in their partitions and renamed into place. An object store has no rename, but a PUT (and a
//! completed multipart upload) is atomic per object: each file is written to a local spool file
//! first and uploaded under its final key only when complete, the `runs` object last, so a run is
//! visible exactly when its `runs` row is, as on disk.
//!
//! **Sync over async.** The dataset's API is synchronous (it is called from async code, from
//! Python and from plain threads); object store calls run on one small process-wide Tokio
//! runtime of their own and the caller waits on a channel. That never nests runtimes, so it works
//! from inside any caller's runtime (blocking that thread for the call, as a local file read does).
//!
//! **Credentials** come only from each cloud's standard sources (environment variables, AWS
//! profiles, instance metadata). A location with credentials or a query string in it is refused
//! without being echoed, and known secret values are redacted from any store error's text.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use futures_util::TryStreamExt as _;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload, WriteMultipart};

use crate::{Error, Result, io_error};

/// Files larger than this are uploaded in parts (each part this size).
const PART_SIZE: usize = 8 * 1024 * 1024;

/// The storage behind a dataset.
#[derive(Clone)]
pub(crate) enum Store {
    /// A local directory.
    Local,
    /// An object store prefix.
    Object(Arc<Remote>),
}

pub(crate) struct Remote {
    /// The cloud, for hints (none for a store the caller configured).
    cloud: Option<Cloud>,
    store: Arc<dyn ObjectStore>,
    /// The URL's path: every key starts with it.
    prefix: Key,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cloud {
    S3,
    Azure,
    Gcs,
}

impl Cloud {
    fn hint(self) -> &'static str {
        match self {
            Cloud::S3 => {
                "S3 credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or the \
                 profile in AWS_PROFILE; set AWS_REGION, and AWS_ENDPOINT_URL for an S3-compatible server \
                 (AWS_ALLOW_HTTP=true for a plain http one)"
            }
            Cloud::Azure => {
                "Azure credentials come from AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY, a SAS in \
                 AZURE_STORAGE_SAS_KEY, or AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID"
            }
            Cloud::Gcs => {
                "Google Cloud credentials come from GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT (a \
                 service account key file), else the metadata server"
            }
        }
    }

    /// The environment variables whose values are secrets, redacted from store errors.
    const SECRETS: &'static [&'static str] = &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "AZURE_STORAGE_ACCESS_KEY",
        "AZURE_STORAGE_SAS_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "AZURE_STORAGE_TOKEN",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_SERVICE_ACCOUNT_KEY",
    ];
}

/// Parses a dataset location: `scheme://…` for an object store, anything else a local path.
pub(crate) fn parse(location: &Path) -> Result<(PathBuf, Store)> {
    if let Some(path) = location.to_str().and_then(|text| text.strip_prefix("file://")) {
        return Ok((PathBuf::from(path), Store::Local));
    }
    let Some(url) = split(location)? else { return Ok((location.to_owned(), Store::Local)) };
    let Some(cloud) = url.cloud else {
        return Err(Error::Location {
            location: format!("{}://…", url.scheme),
            message: "unsupported scheme: use a local path, s3://bucket/prefix, az://container/prefix, \
                      abfs://container@account.dfs.core.windows.net/prefix or gs://bucket/prefix"
                .into(),
        });
    };
    install_crypto_provider();
    let base = format!("{}://{}", url.scheme, url.authority);
    let store: Result<Arc<dyn ObjectStore>, object_store::Error> = match cloud {
        Cloud::S3 => aws_profile(object_store::aws::AmazonS3Builder::from_env())
            .with_url(&base)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
        Cloud::Azure => object_store::azure::MicrosoftAzureBuilder::from_env()
            .with_url(&base)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
        Cloud::Gcs => object_store::gcp::GoogleCloudStorageBuilder::from_env()
            .with_url(&base)
            .build()
            .map(|store| Arc::new(store) as Arc<dyn ObjectStore>),
    };
    let store = store.map_err(|error| Error::Location {
        location: url.root.display().to_string(),
        message: format!("cannot set up the store: {} ({})", redact(&error.to_string()), cloud.hint()),
    })?;
    Ok((url.root, Store::Object(Arc::new(Remote { cloud: Some(cloud), store, prefix: url.prefix }))))
}

/// A location on a store the caller configured: `location` (`scheme://bucket/prefix`) names it
/// in paths and errors, and its path part is the key prefix.
pub(crate) fn with_store(location: &str, store: Arc<dyn ObjectStore>) -> Result<(PathBuf, Store)> {
    let Some(url) = split(Path::new(location))? else {
        return Err(Error::Location {
            location: location.to_owned(),
            message: "an object store location is `scheme://bucket/prefix`".into(),
        });
    };
    Ok((url.root, Store::Object(Arc::new(Remote { cloud: url.cloud, store, prefix: url.prefix }))))
}

/// An object store location taken apart.
struct Url {
    scheme: String,
    authority: String,
    cloud: Option<Cloud>,
    /// `scheme://authority[/prefix]`, without a trailing slash.
    root: PathBuf,
    prefix: Key,
}

/// Takes a location apart: `None` for a local path (and `file://`), an error for a URL with credentials, a query string or no bucket.
fn split(location: &Path) -> Result<Option<Url>> {
    let Some(text) = location.to_str() else { return Ok(None) };
    let Some((scheme, rest)) = text.split_once("://") else { return Ok(None) };
    // `C://x` is a Windows path, not a URL; a scheme is at least two characters.
    if scheme.len() < 2 || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Ok(None);
    }
    let scheme = scheme.to_ascii_lowercase();
    let cloud = match scheme.as_str() {
        "file" => return Ok(None),
        "s3" | "s3a" => Some(Cloud::S3),
        "az" | "azure" | "abfs" | "abfss" | "adl" => Some(Cloud::Azure),
        "gs" => Some(Cloud::Gcs),
        _ => None,
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let refuse = |message: &str| Error::Location { location: format!("{scheme}://…"), message: message.into() };
    if rest.contains(['?', '#']) {
        return Err(refuse(
            "a location cannot have a query string or fragment: credentials go in the environment, never in the URL",
        ));
    }
    let userinfo = authority.rsplit_once('@').map(|(user, _)| user);
    if userinfo.is_some_and(|user| user.contains(':')) || (cloud != Some(Cloud::Azure) && userinfo.is_some()) {
        return Err(refuse("a location cannot carry credentials: put them in the environment, never in the URL"));
    }
    if authority.is_empty() {
        return Err(refuse("the location names no bucket or container"));
    }
    let path = path.trim_matches('/');
    let prefix = Key::parse(path).map_err(|error| Error::Location {
        location: format!("{scheme}://{authority}/{path}"),
        message: format!("not a valid object key prefix: {error}"),
    })?;
    let base = format!("{scheme}://{authority}");
    let root = PathBuf::from(if path.is_empty() { base } else { format!("{base}/{path}") });
    Ok(Some(Url { scheme, authority: authority.to_owned(), cloud, root, prefix }))
}

/// Credentials and region from the shared AWS files (`~/.aws/credentials` and `~/.aws/config`,
/// or `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`) for `AWS_PROFILE` (else `default`),
/// when the environment has no access key of its own.
fn aws_profile(builder: object_store::aws::AmazonS3Builder) -> object_store::aws::AmazonS3Builder {
    use object_store::aws::AmazonS3ConfigKey as K;
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let home = var("HOME").or_else(|| var("USERPROFILE")).map(PathBuf::from);
    let file = |variable: &str, name: &str| {
        var(variable).map(PathBuf::from).or_else(|| home.as_ref().map(|home| home.join(".aws").join(name)))
    };
    let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let mut builder = builder;
    if var("AWS_ACCESS_KEY_ID").is_none() {
        let section = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| ini_section(&text, &profile))
            .unwrap_or_default();
        for (key, config) in [
            ("aws_access_key_id", K::AccessKeyId),
            ("aws_secret_access_key", K::SecretAccessKey),
            ("aws_session_token", K::Token),
        ] {
            if let Some((_, value)) = section.iter().find(|(name, _)| name == key) {
                builder = builder.with_config(config, value);
            }
        }
    }
    if var("AWS_REGION").is_none() && var("AWS_DEFAULT_REGION").is_none() {
        let name = if profile == "default" { profile.clone() } else { format!("profile {profile}") };
        let section = file("AWS_CONFIG_FILE", "config")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| ini_section(&text, &name))
            .unwrap_or_default();
        if let Some((_, region)) = section.iter().find(|(name, _)| name == "region") {
            builder = builder.with_config(K::Region, region);
        }
    }
    builder
}

/// The `key = value` pairs of one `[section]` of an INI file.
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut pairs = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|line| line.strip_suffix(']')) {
            inside = name.trim() == section;
        } else if inside && let Some((key, value)) = line.split_once('=') {
            pairs.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    pairs
}

/// The object store client's TLS uses the process's default rustls provider: ring, like the rest
/// of the tool (installing it is a no-op when a provider is already installed).
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A store error's text with every known secret value replaced.
fn redact(text: &str) -> String {
    let mut text = text.to_owned();
    for name in Cloud::SECRETS {
        if let Ok(value) = std::env::var(name)
            && value.len() >= 4
        {
            text = text.replace(&value, "[redacted]");
        }
    }
    text
}

/// Runs a future on the store runtime and waits for it.
fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cyrisma-store")
            .enable_all()
            .build()
            .map_err(|error| error.to_string())
    });
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    match runtime {
        Ok(runtime) => {
            runtime.spawn(async move {
                let _ = sender.send(future.await);
            });
        }
        Err(error) => panic!("cannot start the object store runtime: {error}"),
    }
    receiver.recv().unwrap_or_else(|_| panic!("the object store runtime stopped"))
}

impl Remote {
    fn hint(&self) -> &'static str {
        self.cloud.map_or("check the store's credentials", Cloud::hint)
    }

    fn key(&self, root: &Path, path: &Path) -> Result<Key> {
        let relative = path.strip_prefix(root).map_err(|_| Error::Location {
            location: path.display().to_string(),
            message: "not inside the dataset".into(),
        })?;
        let mut parts: Vec<String> = self.prefix.parts().map(|part| part.as_ref().to_owned()).collect();
        parts.extend(relative.components().map(|part| part.as_os_str().to_string_lossy().into_owned()));
        Key::parse(parts.join("/")).map_err(|error| Error::Location {
            location: path.display().to_string(),
            message: format!("not a valid object key: {error}"),
        })
    }

    fn path(&self, root: &Path, key: &Key) -> PathBuf {
        let mut path = root.to_owned();
        for part in key.parts().skip(self.prefix.parts().count()) {
            path.push(part.as_ref());
        }
        path
    }

    fn error(&self, action: &'static str, path: &Path, error: &object_store::Error) -> Error {
        let text = redact(&error.to_string());
        let message = match error {
            object_store::Error::NotFound { .. } => "not found".to_owned(),
            object_store::Error::PermissionDenied { .. } => format!("access denied ({})", self.hint()),
            object_store::Error::Unauthenticated { .. } => format!("not authenticated ({})", self.hint()),
            _ if text.contains("NoSuchBucket") => "the bucket does not exist".to_owned(),
            _ if text.contains("ContainerNotFound") => "the container does not exist".to_owned(),
            _ if text.contains("AccessDenied") || text.contains("InvalidAccessKeyId") || text.contains("403") => {
                format!("access denied: {text} ({})", self.hint())
            }
            _ if text.contains("error sending request") => {
                format!("{text} (the store cannot be reached; {})", self.hint())
            }
            _ if text.contains("credential") || text.contains("Credential") => {
                format!("{text} ({})", self.hint())
            }
            _ => text,
        };
        Error::Store { action, path: path.to_owned(), message }
    }
}

/// A file's bytes: an open local file or an object's contents.
pub(crate) enum Contents {
    File(std::fs::File),
    Bytes(bytes::Bytes),
}

impl Store {
    /// Whether this is an object store.
    pub(crate) fn is_remote(&self) -> bool {
        matches!(self, Store::Object(_))
    }

    /// Every file under `directory` (recursively), as paths, in path order; nothing when it does
    /// not exist.
    pub(crate) fn list(&self, root: &Path, directory: &Path) -> Result<Vec<PathBuf>> {
        match self {
            Store::Local => {
                let mut files = Vec::new();
                let mut pending = vec![directory.to_owned()];
                while let Some(directory) = pending.pop() {
                    let entries = match std::fs::read_dir(&directory) {
                        Ok(entries) => entries,
                        Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(error) => return Err(io_error("cannot list", &directory)(error)),
                    };
                    for entry in entries {
                        let entry = entry.map_err(io_error("cannot list", &directory))?;
                        let kind = entry.file_type().map_err(io_error("cannot list", &directory))?;
                        if kind.is_dir() {
                            pending.push(entry.path());
                        } else {
                            files.push(entry.path());
                        }
                    }
                }
                files.sort();
                Ok(files)
            }
            Store::Object(remote) => {
                let prefix = remote.key(root, directory)?;
                let store = remote.store.clone();
                let listed = block_on(async move { store.list(Some(&prefix)).try_collect::<Vec<_>>().await });
                let objects = listed.map_err(|error| remote.error("cannot list", directory, &error))?;
                let mut files: Vec<PathBuf> =
                    objects.iter().map(|object| remote.path(root, &object.location)).collect();
                files.sort();
                Ok(files)
            }
        }
    }

    /// Opens a file for reading.
    pub(crate) fn open(&self, root: &Path, path: &Path) -> Result<Contents> {
        match self {
            Store::Local => std::fs::File::open(path).map(Contents::File).map_err(io_error("cannot open", path)),
            Store::Object(remote) => {
                let key = remote.key(root, path)?;
                let store = remote.store.clone();
                let got = block_on(async move { store.get(&key).await?.bytes().await });
                got.map(Contents::Bytes).map_err(|error| remote.error("cannot read", path, &error))
            }
        }
    }

    /// Where a table's file is written until it is published: (temporary, final). Local files
    /// are written in their partition under a hidden name; object store files in a local spool
    /// file.
    pub(crate) fn staging(&self, path: &Path, unique: &str) -> Result<PathBuf> {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match self {
            Store::Local => {
                let directory = path.parent().unwrap_or(path);
                std::fs::create_dir_all(directory).map_err(io_error("cannot create the directory", directory))?;
                Ok(directory.join(format!(".{name}.tmp")))
            }
            Store::Object(_) => {
                // Unique in this process too: two writers may write runs of the same id.
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let spool = format!("{SPOOL_PREFIX}{}-{serial}-{unique}-{name}.tmp", std::process::id());
                Ok(std::env::temp_dir().join(spool))
            }
        }
    }

    /// Publishes finished files under their final names: renames on a local file system (then
    /// syncs their directories), uploads on an object store (each object appears whole when its
    /// upload completes) and removes the spool files. `after_first` runs after the first file is
    /// in place (a test hook).
    pub(crate) fn publish(&self, root: &Path, files: &[(PathBuf, PathBuf)], after_first: impl Fn()) -> Result<()> {
        match self {
            Store::Local => {
                let mut directories: Vec<&Path> = Vec::new();
                for (index, (temporary, path)) in files.iter().enumerate() {
                    std::fs::rename(temporary, path).map_err(io_error("cannot rename into place", temporary))?;
                    if index == 0 {
                        after_first();
                    }
                    if let Some(parent) = path.parent()
                        && !directories.contains(&parent)
                    {
                        directories.push(parent);
                    }
                }
                for directory in directories {
                    sync_directory(directory)?;
                }
                Ok(())
            }
            Store::Object(remote) => {
                let Some((first, rest)) = files.split_first() else { return Ok(()) };
                upload(remote, root, std::slice::from_ref(first))?;
                after_first();
                upload(remote, root, rest)
            }
        }
    }

    /// Deletes a file (best effort: whether it went).
    pub(crate) fn delete(&self, root: &Path, path: &Path) -> bool {
        match self {
            Store::Local => std::fs::remove_file(path).is_ok(),
            Store::Object(remote) => {
                let Ok(key) = remote.key(root, path) else { return false };
                let store = remote.store.clone();
                block_on(async move { store.delete(&key).await }).is_ok()
            }
        }
    }
}

/// The start of a spool file's name (then the process id, a serial, the table, the file's name
/// and `.tmp`; see [`Store::staging`]).
const SPOOL_PREFIX: &str = ".cyrisma-";

/// Deletes the spool files in `dir` that killed snapshots left behind (named as
/// [`Store::staging`] names them, and not modified for longer than `age`: a snapshot in progress
/// writes its spool files as it goes and uploads them within minutes). Only regular files are
/// removed; links and directories are left alone. Returns how many files went.
pub(crate) fn remove_stale_spools(dir: &Path, age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let now = std::time::SystemTime::now();
    let stale = |entry: &std::fs::DirEntry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with(SPOOL_PREFIX)
            && name.ends_with(".parquet.tmp")
            && entry.file_type().is_ok_and(|kind| kind.is_file())
            && entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|idle| idle > age))
    };
    entries.flatten().filter(stale).filter(|entry| std::fs::remove_file(entry.path()).is_ok()).count()
}

/// How many files upload at once.
const UPLOADS_AT_ONCE: usize = 4;

/// Why a file's upload failed.
enum UploadFailure {
    Read(std::io::Error),
    Store(object_store::Error),
}

/// Uploads spool files, a few at once, each read from its spool file a part at a time (at
/// most [`UPLOADS_AT_ONCE`] files, each with one part being read and one on its way, are in
/// memory, whatever the size of the run), then removes them.
fn upload(remote: &Remote, root: &Path, files: &[(PathBuf, PathBuf)]) -> Result<()> {
    use futures_util::StreamExt as _;
    let mut jobs = Vec::new();
    for (spool, path) in files {
        jobs.push((remote.key(root, path)?, spool.clone(), path.clone()));
    }
    let store = remote.store.clone();
    let results = block_on(async move {
        let uploads = jobs.into_iter().map(|(key, spool, path)| {
            let store = store.clone();
            async move {
                let result = upload_file(&store, &key, &spool).await;
                (spool, path, result)
            }
        });
        futures_util::stream::iter(uploads).buffer_unordered(UPLOADS_AT_ONCE).collect::<Vec<_>>().await
    });
    for (spool, path, result) in results {
        match result {
            Ok(()) => {}
            Err(UploadFailure::Read(error)) => return Err(io_error("cannot read", &spool)(error)),
            Err(UploadFailure::Store(error)) => return Err(remote.error("cannot upload", &path, &error)),
        }
    }
    for (spool, _) in files {
        let _ = std::fs::remove_file(spool);
    }
    Ok(())
}

/// Uploads one spool file to `key`: in one request up to [`PART_SIZE`], else in parts of that
/// size (a failed multipart upload is aborted, so that the store keeps no orphaned parts).
async fn upload_file(store: &Arc<dyn ObjectStore>, key: &Key, spool: &Path) -> std::result::Result<(), UploadFailure> {
    let file = std::fs::File::open(spool).map_err(UploadFailure::Read)?;
    let size = file.metadata().map_err(UploadFailure::Read)?.len();
    let (mut file, first) = read_part(file).await?;
    if size <= PART_SIZE as u64 {
        return store.put(key, PutPayload::from(first)).await.map(drop).map_err(UploadFailure::Store);
    }
    let upload = store.put_multipart(key).await.map_err(UploadFailure::Store)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut part = first;
    loop {
        if part.is_empty() {
            return writer.finish().await.map(drop).map_err(UploadFailure::Store);
        }
        writer.write(&part);
        drop(part);
        // One part on its way while the next is read.
        let next = match writer.wait_for_capacity(1).await {
            Ok(()) => read_part(file).await,
            Err(error) => Err(UploadFailure::Store(error)),
        };
        match next {
            Ok((rest, next)) => (file, part) = (rest, next),
            Err(error) => {
                // Best effort: the upload already failed, and its error is the one to report.
                let _ = writer.abort().await;
                return Err(error);
            }
        }
    }
}

/// Reads the next [`PART_SIZE`] bytes of `file` (fewer at its end, none past it) on a blocking
/// thread.
async fn read_part(file: std::fs::File) -> std::result::Result<(std::fs::File, Vec<u8>), UploadFailure> {
    use std::io::Read as _;
    let read = tokio::task::spawn_blocking(move || {
        let mut part = Vec::with_capacity(PART_SIZE);
        let mut limited = (&file).take(PART_SIZE as u64);
        limited.read_to_end(&mut part).map(|_| (file, part))
    });
    match read.await {
        Ok(result) => result.map_err(UploadFailure::Read),
        Err(error) => Err(UploadFailure::Read(std::io::Error::other(error))),
    }
}

/// Syncs a directory so that renames in it survive a power loss (a no-op where directories
/// cannot be opened, as on Windows).
fn sync_directory(directory: &Path) -> Result<()> {
    if cfg!(unix) {
        let handle = std::fs::File::open(directory).map_err(io_error("cannot open", directory))?;
        handle.sync_all().map_err(io_error("cannot sync", directory))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_stay_local() {
        for location in ["history", "/var/lib/history", "C://x", "./s3:/x"] {
            let (root, store) = parse(Path::new(location)).unwrap();
            assert!(!store.is_remote(), "{location}");
            assert_eq!(root, Path::new(location));
        }
        let (root, store) = parse(Path::new("file:///tmp/history")).unwrap();
        assert!(!store.is_remote());
        assert_eq!(root, Path::new("/tmp/history"));
    }

    #[test]
    fn bad_locations_are_refused_without_echoing_secrets() {
        for (location, expected) in [
            ("ftp://host/x", "unsupported scheme"),
            ("s3://AKIDCANARY:SECRETCANARY@bucket/x", "cannot carry credentials"),
            ("s3://user@bucket/x", "cannot carry credentials"),
            ("az://container/x?sig=SECRETCANARY", "query string"),
            ("gs:///x", "no bucket"),
        ] {
            let message = match parse(Path::new(location)) {
                Err(error) => error.to_string(),
                Ok(_) => panic!("{location} accepted"),
            };
            assert!(message.contains(expected), "{location}: {message}");
            assert!(!message.contains("CANARY"), "{location}: {message}");
        }
    }

    #[test]
    fn keys_are_the_prefix_and_the_relative_path() {
        let (root, store) = parse(Path::new("s3://bucket/some/prefix/")).unwrap();
        assert_eq!(root, Path::new("s3://bucket/some/prefix"));
        let Store::Object(remote) = store else { panic!("not remote") };
        let path = root.join("runs").join("dt=2026-12-05").join("r1.parquet");
        let key = remote.key(&root, &path).unwrap();
        assert_eq!(key.as_ref(), "some/prefix/runs/dt=2026-12-05/r1.parquet");
        assert_eq!(remote.path(&root, &key), path);
        let (root, store) = parse(Path::new("gs://bucket")).unwrap();
        let Store::Object(remote) = store else { panic!("not remote") };
        assert_eq!(remote.key(&root, &root.join("runs")).unwrap().as_ref(), "runs");
    }

    #[test]
    fn only_spool_files_untouched_for_longer_than_the_age_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let two_days_ago = std::time::SystemTime::now() - 2 * day;
        let file = |name: &str, old: bool| {
            let path = dir.path().join(name);
            let file = std::fs::File::create(&path).unwrap();
            if old {
                file.set_modified(two_days_ago).unwrap();
            }
            path
        };
        let stale = file(".cyrisma-4242-0-findings-r20261201T000000.000000Z-0a1b2c3d.parquet.tmp", true);
        let fresh = file(".cyrisma-4243-1-findings-r20261201T000000.000000Z-0a1b2c3d.parquet.tmp", false);
        let other = file(".cyrisma-notes.txt", true);
        let local = file(".r20261201T000000.000000Z-0a1b2c3d.parquet.tmp", true);
        let folder = dir.path().join(".cyrisma-4244-2-runs-r1.parquet.tmp");
        std::fs::create_dir(&folder).unwrap();
        assert_eq!(remove_stale_spools(dir.path(), day), 1);
        assert!(!stale.exists(), "a spool file untouched for two days goes");
        for kept in [&fresh, &other, &local, &folder] {
            assert!(kept.exists(), "{} is kept", kept.display());
        }
        assert_eq!(remove_stale_spools(dir.path(), day), 0, "nothing left to remove");
        assert_eq!(remove_stale_spools(&dir.path().join("missing"), day), 0, "a missing directory is nothing to do");
    }

    #[test]
    fn ini_sections() {
        let text = "[default]\naws_access_key_id = A\n[profile x]\nregion=eu-west-1\n";
        assert_eq!(ini_section(text, "default"), vec![("aws_access_key_id".to_owned(), "A".to_owned())]);
        assert_eq!(ini_section(text, "profile x"), vec![("region".to_owned(), "eu-west-1".to_owned())]);
        assert!(ini_section(text, "y").is_empty());
    }
}
