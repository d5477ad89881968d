//! The one TLS configuration of a client: the system's trust store plus extra PEM certificates,
//! rustls with the `ring` provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN.
//!
//! Loading the system roots costs a few milliseconds, so it happens once per client and the
//! `Arc<rustls::ClientConfig>` is shared by every host the client talks to. With extra
//! certificates configured (an emulator's CA, a private CA), the system roots are loaded only if a
//! chain does not verify against the extra certificates alone: a client of the emulator never
//! reads them (about 150 files and 4 ms before its first request), and what a chain verifies
//! against is the same (see [`Trust`]).
//! [`tls_config_loads`] counts how many configurations this process has built (goal T3).
//!
//! Every instance is its own host name, so a fan-out makes one full handshake per instance, and
//! every instance host presents the same certificate chain: the configuration's [`Verifier`]
//! verifies a chain once and then, for the same chain (byte for byte), checks only the host
//! name (see its documentation for what stays checked every time).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::ConfigError;
use crate::locks::lock;

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
    // With extra certificates, the system's roots wait until a chain needs them (see `Trust`).
    let lazy = native_roots && !extra_cas.is_empty();
    if native_roots && !lazy {
        roots.add_parsable_certificates(system_roots());
    }
    let mut extra = Vec::new();
    for source in extra_cas {
        let certificates = read_pem(source)?;
        if certificates.is_empty() {
            return Err(ConfigError::CaCertificate {
                source_name: source_name(source),
                reason: "it holds no certificate".into(),
            });
        }
        for certificate in certificates {
            roots.add(certificate.clone()).map_err(|error| ConfigError::CaCertificate {
                source_name: source_name(source),
                reason: error.to_string().to_lowercase(),
            })?;
            extra.push(certificate);
        }
    }
    if roots.is_empty() && require_roots {
        return Err(ConfigError::NoTrustRoots);
    }
    let tls_error = |error: &dyn std::fmt::Display| ConfigError::Tls { reason: error.to_string().to_lowercase() };
    let provider = Arc::new(crypto_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|error| tls_error(&error))?;
    let mut config = if roots.is_empty() {
        // A plain-http client (see `require_roots`): it never verifies a certificate.
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|error| tls_error(&error))?;
        let trust = if lazy {
            Trust::ExtraFirst { extra: webpki, certificates: extra, provider, load: system_roots, all: OnceLock::new() }
        } else {
            Trust::Loaded(webpki)
        };
        builder.dangerous().with_custom_certificate_verifier(Arc::new(Verifier::new(trust))).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TLS_CONFIG_LOADS.fetch_add(1, Ordering::Relaxed);
    Ok(Arc::new(config))
}

/// The system's trust store (unparseable certificates are skipped, as browsers do; whether any
/// usable one is left is checked by the caller).
fn system_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// The roots a [`Verifier`] verifies chains against.
///
/// `ExtraFirst` gives the same answers as `Loaded` with the system's roots and the extra
/// certificates together: a chain verifies against a set of roots when it verifies against one
/// of them (a path ends at one anchor), so a chain the extra certificates verify is verified,
/// and any other chain is verified against all the roots, loaded then (once per client), and
/// refused or accepted by that verification alone, with its error.
pub(crate) enum Trust {
    /// Every root, loaded up front (the system's, or only the extra certificates).
    Loaded(Arc<WebPkiServerVerifier>),
    /// The extra certificates first, the system's roots added on first need.
    ExtraFirst {
        /// A verifier of the extra certificates alone.
        extra: Arc<WebPkiServerVerifier>,
        /// The extra certificates, for the verifier of every root.
        certificates: Vec<CertificateDer<'static>>,
        /// The provider of both verifiers.
        provider: Arc<rustls::crypto::CryptoProvider>,
        /// Loads the system's roots ([`system_roots`]; a stand-in in tests).
        load: fn() -> Vec<CertificateDer<'static>>,
        /// The verifier of every root, once a chain needed it.
        all: OnceLock<Arc<WebPkiServerVerifier>>,
    },
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Loaded(_) => f.write_str("Trust::Loaded"),
            Self::ExtraFirst { all, .. } => {
                f.debug_struct("Trust::ExtraFirst").field("system_roots_loaded", &all.get().is_some()).finish()
            }
        }
    }
}

impl Trust {
    /// The verifier of the signatures and schemes (the provider's algorithms; no root is used).
    fn signatures(&self) -> &WebPkiServerVerifier {
        match self {
            Self::Loaded(verifier) | Self::ExtraFirst { extra: verifier, .. } => verifier,
        }
    }

    /// Verifies a chain as of `now` (see the type's documentation).
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self {
            Self::Loaded(verifier) => {
                verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            Self::ExtraFirst { extra, certificates, provider, load, all } => {
                if let Ok(verified) =
                    extra.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                {
                    return Ok(verified);
                }
                let every = all.get_or_init(|| {
                    let mut roots = RootCertStore::empty();
                    roots.add_parsable_certificates(load());
                    roots.add_parsable_certificates(certificates.iter().cloned());
                    // Never empty (the extra certificates are in it), so this cannot fail; were it to,
                    // the extra certificates alone are what is left.
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .unwrap_or_else(|_| extra.clone())
                });
                every.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
        }
    }
}

/// The crypto provider of every client: rustls' `ring` provider with its TLS 1.3 cipher suites
/// offered in the order browsers offer them, AES-128-GCM with SHA-256 first (rustls offers
/// AES-256-GCM with SHA-384 first).
///
/// Every instance is its own host name, so a fan-out makes one full handshake per instance, and
/// a handshake's transcript hash and key schedule run the suite's hash a few dozen times: SHA-256
/// runs on the CPU's SHA extensions where they exist, SHA-384 never does (SHA-384's blocks were
/// 6% of `cyrisma report`'s CPU over 960 TLS instances). Servers choose among the offered suites,
/// most by the client's order; every suite offered is one rustls offers by default.
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    let first = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    provider.cipher_suites.retain(|suite| suite.suite() != first.suite());
    provider.cipher_suites.insert(0, first);
    provider
}

/// How long a verified certificate chain is remembered: a chain is remembered only when it is
/// valid both now and this long from now, so it is valid for the whole time it is remembered.
const VERIFIED_CHAIN_TTL: Duration = Duration::from_secs(300);

/// At most this many verified chains are remembered (an MSP's instances share one wildcard
/// certificate; a few more cover the central host and a rotation).
const VERIFIED_CHAINS: usize = 8;

/// The server certificate verifier: rustls' webpki verifier, plus a memory of the certificate
/// chains it has verified.
///
/// Every instance is its own host name, so a fan-out makes one full TLS handshake per instance
/// (session resumption is per host and cannot help), and every instance host presents the same
/// certificate chain (a wildcard certificate). Verifying that chain (parsing it, building the
/// path to a root, checking each signature) is the same work every time: after it passed once,
/// an identical chain (byte for byte) only has its host name checked. The handshake's own
/// signature (the server proving it holds the certificate's key) is checked every time, by
/// [`ServerCertVerifier::verify_tls13_signature`].
///
/// A chain is remembered only if it is also valid [`VERIFIED_CHAIN_TTL`] from now, and for no
/// longer than that, so a remembered chain is never past its validity. No revocation lists are
/// configured, so there is nothing else time-dependent to re-check.
#[derive(Debug)]
pub(crate) struct Verifier {
    inner: Trust,
    verified: Mutex<Vec<(Vec<Vec<u8>>, UnixTime)>>,
    chains_verified: AtomicU64,
}

impl Verifier {
    fn new(inner: Trust) -> Self {
        Self { inner, verified: Mutex::new(Vec::new()), chains_verified: AtomicU64::new(0) }
    }

    /// How many times a chain was verified in full.
    #[cfg(test)]
    fn chains_verified(&self) -> u64 {
        self.chains_verified.load(Ordering::Relaxed)
    }

    fn same_chain(
        remembered: &[Vec<u8>],
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> bool {
        remembered.len() == intermediates.len() + 1
            && std::iter::once(end_entity).chain(intermediates).zip(remembered).all(|(a, b)| a.as_ref() == b.as_slice())
    }

    fn remembers(&self, end_entity: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>], now: UnixTime) -> bool {
        let mut verified = lock(&self.verified);
        verified.retain(|(_, until)| until.as_secs() > now.as_secs());
        verified.iter().any(|(chain, _)| Self::same_chain(chain, end_entity, intermediates))
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.remembers(end_entity, intermediates, now) {
            let parsed = ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.chains_verified.fetch_add(1, Ordering::Relaxed);
        let assertion = self.inner.verify(end_entity, intermediates, server_name, ocsp_response, now)?;
        let until = UnixTime::since_unix_epoch(Duration::from_secs(now.as_secs()) + VERIFIED_CHAIN_TTL);
        if self.inner.verify(end_entity, intermediates, server_name, ocsp_response, until).is_ok() {
            let chain = std::iter::once(end_entity).chain(intermediates).map(|cert| cert.to_vec()).collect();
            let mut verified = lock(&self.verified);
            if verified.len() >= VERIFIED_CHAINS {
                verified.remove(0);
            }
            verified.push((chain, until));
        }
        Ok(assertion)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.signatures().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.signatures().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.signatures().supported_verify_schemes()
    }
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
    fn clients_offer_aes_128_with_sha_256_first_and_every_default_suite() {
        let config = client_config(false, &[], false).unwrap();
        let offered: Vec<_> = config.crypto_provider().cipher_suites.iter().map(|suite| suite.suite()).collect();
        assert_eq!(offered[0], rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
        let mut defaults: Vec<_> =
            rustls::crypto::ring::default_provider().cipher_suites.iter().map(|suite| suite.suite()).collect();
        let mut sorted = offered.clone();
        sorted.sort_by_key(|suite| u16::from(*suite));
        defaults.sort_by_key(|suite| u16::from(*suite));
        assert_eq!(sorted, defaults, "the same suites as rustls' defaults, in another order");
    }

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

    /// A CA and a certificate it signed for `*.example.test`, valid until `not_after` (rcgen's
    /// default, far in the future, when `None`): (CA, leaf).
    fn chain(not_after: Option<(i32, u8, u8)>) -> (CertificateDer<'static>, CertificateDer<'static>) {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let mut leaf_params = CertificateParams::new(vec!["*.example.test".to_owned()]).unwrap();
        if let Some((year, month, day)) = not_after {
            leaf_params.not_after = rcgen::date_time_ymd(year, month, day);
        }
        let leaf = leaf_params.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
        (ca.der().clone(), leaf.der().clone())
    }

    fn verifier_trusting(ca: &CertificateDer<'static>) -> Verifier {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        Verifier::new(Trust::Loaded(verifier_of(roots)))
    }

    fn verifier_of(roots: RootCertStore) -> Arc<WebPkiServerVerifier> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap()
    }

    fn name(host: &str) -> ServerName<'static> {
        ServerName::try_from(host.to_owned()).unwrap()
    }

    /// 2026-01-01T00:00:00Z.
    fn jan_2026() -> UnixTime {
        UnixTime::since_unix_epoch(Duration::from_secs(1_767_225_600))
    }

    #[test]
    fn a_verified_chain_is_verified_once_and_every_host_name_is_still_checked() {
        let (ca, leaf) = chain(None);
        let verifier = verifier_trusting(&ca);
        let now = jan_2026();
        for host in ["cc100001.example.test", "cc100002.example.test", "cc100003.example.test"] {
            verifier.verify_server_cert(&leaf, std::slice::from_ref(&ca), &name(host), &[], now).unwrap();
        }
        assert_eq!(verifier.chains_verified(), 1, "the same chain is verified once");
        // A remembered chain still fails for a name it does not cover.
        let error =
            verifier.verify_server_cert(&leaf, std::slice::from_ref(&ca), &name("cc100001.other.test"), &[], now);
        assert!(error.is_err(), "a name outside the certificate is refused");
        let error = verifier.verify_server_cert(&leaf, std::slice::from_ref(&ca), &name("example.test"), &[], now);
        assert!(error.is_err(), "the wildcard does not cover its parent");
        // Another chain (another leaf) is verified in full.
        let (_, other_leaf) = chain(None);
        let error = verifier.verify_server_cert(
            &other_leaf,
            std::slice::from_ref(&ca),
            &name("cc100001.example.test"),
            &[],
            now,
        );
        assert!(error.is_err(), "a leaf another CA signed is refused");
        assert_eq!(verifier.chains_verified(), 2);
        // Past the time a chain is remembered for, it is verified again.
        let later = UnixTime::since_unix_epoch(Duration::from_secs(now.as_secs()) + VERIFIED_CHAIN_TTL * 2);
        verifier
            .verify_server_cert(&leaf, std::slice::from_ref(&ca), &name("cc100004.example.test"), &[], later)
            .unwrap();
        assert_eq!(verifier.chains_verified(), 3);
    }

    /// The stand-in system trust store of `extra_certificates_first_...`: one CA, and how many
    /// times it was loaded.
    static SYSTEM_CA: OnceLock<(CertificateDer<'static>, CertificateDer<'static>)> = OnceLock::new();
    static SYSTEM_LOADS: AtomicU64 = AtomicU64::new(0);

    fn stand_in_system_roots() -> Vec<CertificateDer<'static>> {
        SYSTEM_LOADS.fetch_add(1, Ordering::SeqCst);
        vec![SYSTEM_CA.get_or_init(|| chain(None)).0.clone()]
    }

    #[test]
    fn extra_certificates_first_then_the_system_roots_once_and_only_for_chains_they_do_not_verify() {
        let (system_ca, system_leaf) = SYSTEM_CA.get_or_init(|| chain(None)).clone();
        let (extra_ca, extra_leaf) = chain(None);
        let (stranger_ca, stranger_leaf) = chain(None);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(extra_ca.clone()).unwrap();
        let verifier = Verifier::new(Trust::ExtraFirst {
            extra: WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap(),
            certificates: vec![extra_ca.clone()],
            provider,
            load: stand_in_system_roots,
            all: OnceLock::new(),
        });
        let now = jan_2026();
        let verify = |leaf: &CertificateDer<'static>, ca: &CertificateDer<'static>, host: &str| {
            verifier.verify_server_cert(leaf, std::slice::from_ref(ca), &name(host), &[], now)
        };

        // A chain of an extra certificate: the system's roots are never read.
        for host in ["cc100001.example.test", "cc100002.example.test"] {
            verify(&extra_leaf, &extra_ca, host).unwrap();
        }
        assert_eq!(SYSTEM_LOADS.load(Ordering::SeqCst), 0, "{:?}", verifier.inner);

        // A chain of a system root: verified once the system's roots are loaded.
        verify(&system_leaf, &system_ca, "cc100003.example.test").unwrap();
        assert_eq!(SYSTEM_LOADS.load(Ordering::SeqCst), 1);

        // A chain of neither: refused (as a verifier of every root refuses it), every time, and
        // the system's roots are not loaded again.
        let mut every = RootCertStore::empty();
        every.add(extra_ca.clone()).unwrap();
        every.add(system_ca.clone()).unwrap();
        let reference = verifier_of(every);
        for host in ["cc100004.example.test", "cc100005.example.test"] {
            let error = verify(&stranger_leaf, &stranger_ca, host).unwrap_err();
            let expected = reference
                .verify_server_cert(&stranger_leaf, std::slice::from_ref(&stranger_ca), &name(host), &[], now)
                .unwrap_err();
            assert_eq!(error, expected);
        }
        // An extra certificate's chain for a name it does not cover: refused too.
        assert!(verify(&extra_leaf, &extra_ca, "cc100001.other.test").is_err());
        assert_eq!(SYSTEM_LOADS.load(Ordering::SeqCst), 1, "the system's roots are loaded once");
        assert_eq!(format!("{:?}", verifier.inner), "Trust::ExtraFirst { system_roots_loaded: true }");
    }

    #[test]
    fn refused_or_soon_expiring_chains_are_not_remembered() {
        let (ca, _) = chain(None);
        let (untrusted_ca, untrusted_leaf) = chain(None);
        let verifier = verifier_trusting(&ca);
        let now = jan_2026();
        for _ in 0..2 {
            let error = verifier.verify_server_cert(
                &untrusted_leaf,
                std::slice::from_ref(&untrusted_ca),
                &name("a.example.test"),
                &[],
                now,
            );
            assert!(error.is_err(), "an untrusted chain is refused every time");
        }
        assert_eq!(verifier.chains_verified(), 2);
        // Valid now, but not for the whole time it would be remembered: verified every time, and
        // refused once expired.
        let (ca, leaf) = chain(Some((2026, 1, 1)));
        let verifier = verifier_trusting(&ca);
        let just_before = UnixTime::since_unix_epoch(Duration::from_secs(jan_2026().as_secs() - 60));
        for host in ["a.example.test", "b.example.test"] {
            verifier.verify_server_cert(&leaf, std::slice::from_ref(&ca), &name(host), &[], just_before).unwrap();
        }
        assert_eq!(verifier.chains_verified(), 2, "a chain expiring within the memory time is not remembered");
        let after = UnixTime::since_unix_epoch(Duration::from_secs(jan_2026().as_secs() + 60));
        assert!(
            verifier.verify_server_cert(&leaf, std::slice::from_ref(&ca), &name("c.example.test"), &[], after).is_err()
        );
    }
}
