//! The one TLS configuration of a client: the system's trust store plus extra PEM certificates,
//! rustls with the `ring` provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN.
//!
//! Loading the system roots costs a few milliseconds, so it happens once per client and the
//! `Arc<rustls::ClientConfig>` is shared by every host the client talks to.
//! [`tls_config_loads`] counts how many configurations this process has built (goal T3).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::ConfigError;

/// Extra certificate authorities to trust, on top of (or instead of) the system's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaSource {
    /// A PEM file with one or more certificates.
    Path(PathBuf),
    /// PEM text with one or more certificates.
    Pem(Vec<u8>),
}

static TLS_CONFIG_LOADS: AtomicU64 = AtomicU64::new(0);

/// How many TLS configurations (each with a root-store load) this process has built.
///
/// Every [`Client`](crate::Client) builds exactly one, whatever the number of hosts it reaches;
/// the counter lets tests and benchmarks check it.
pub fn tls_config_loads() -> u64 {
    TLS_CONFIG_LOADS.load(Ordering::Relaxed)
}

/// Builds the client's TLS configuration.
///
/// `require_roots` is off only for a client whose base URL is plain http (towards loopback): it
/// never makes a TLS handshake, so it needs no trust root.
pub(crate) fn client_config(
    native_roots: bool,
    extra_cas: &[CaSource],
    require_roots: bool,
) -> Result<Arc<rustls::ClientConfig>, ConfigError> {
    let mut roots = RootCertStore::empty();
    if native_roots {
        let loaded = rustls_native_certs::load_native_certs();
        // Unparseable system certificates are skipped, as browsers do; the count of usable ones
        // is checked below.
        roots.add_parsable_certificates(loaded.certs);
    }
    for source in extra_cas {
        let certificates = read_pem(source)?;
        if certificates.is_empty() {
            return Err(ConfigError::CaCertificate {
                source_name: source_name(source),
                reason: "it holds no certificate".into(),
            });
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|error| ConfigError::CaCertificate {
                source_name: source_name(source),
                reason: error.to_string().to_lowercase(),
            })?;
        }
    }
    if roots.is_empty() && require_roots {
        return Err(ConfigError::NoTrustRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| ConfigError::Tls { reason: error.to_string().to_lowercase() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TLS_CONFIG_LOADS.fetch_add(1, Ordering::Relaxed);
    Ok(Arc::new(config))
}

fn read_pem(source: &CaSource) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let error = |reason: String| ConfigError::CaCertificate { source_name: source_name(source), reason };
    match source {
        CaSource::Path(path) => {
            let bytes = read_bounded(path).map_err(error)?;
            CertificateDer::pem_slice_iter(&bytes)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|pem| error(format!("it is not valid pem: {}", pem.to_string().to_lowercase())))
        }
        CaSource::Pem(bytes) => CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|pem| error(format!("it is not valid pem: {}", pem.to_string().to_lowercase()))),
    }
}

/// The most a CA certificate file may hold: a bundle of every public root is about 250 KiB.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a CA certificate file: a regular file (links followed) of at most
/// [`MAX_CA_FILE_BYTES`]; a FIFO or a device (`/dev/zero`) is refused before it is opened, so
/// that nothing blocks or reads without end.
fn read_bounded(path: &std::path::Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let lower = |io: std::io::Error| format!("cannot read it: {}", io.to_string().to_lowercase());
    let meta = std::fs::metadata(path).map_err(lower)?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(lower)?.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(lower)?;
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(format!("it is larger than {} MiB", MAX_CA_FILE_BYTES / (1024 * 1024)));
    }
    Ok(bytes)
}

fn source_name(source: &CaSource) -> String {
    match source {
        CaSource::Path(path) => path.display().to_string(),
        CaSource::Pem(_) => "<pem bytes>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_bad_pem_is_refused() {
        let error = client_config(false, &[CaSource::Pem(b"nothing here".to_vec())], true).unwrap_err();
        assert!(error.to_string().contains("holds no certificate"), "{error}");
        let error = client_config(false, &[CaSource::Path("/nonexistent/ca.pem".into())], true).unwrap_err();
        assert!(error.to_string().contains("cannot read it"), "{error}");
        let error = client_config(false, &[], true).unwrap_err();
        assert!(matches!(error, ConfigError::NoTrustRoots), "{error}");
        assert!(client_config(false, &[], false).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_huge_files_are_refused_without_reading_them_to_the_end() {
        let error = client_config(false, &[CaSource::Path("/dev/zero".into())], true).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_CA_FILE_BYTES + 1).unwrap();
        let error = client_config(false, &[CaSource::Path(big)], true).unwrap_err();
        assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
    }
}
