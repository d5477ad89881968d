//! The certificates generated at start: a CA, and a certificate for `*.<domain>` and `<domain>`
//! signed by it, served with rustls (ring provider, TLS 1.2 and 1.3, ALPN `http/1.1`).

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::StartError;

/// The generated CA and server certificate.
pub(crate) struct Certificates {
    /// The CA certificate, PEM: what clients trust.
    pub(crate) ca_pem: String,
    /// The CA certificate, DER.
    pub(crate) ca_der: CertificateDer<'static>,
    /// The server configuration presenting the wildcard certificate.
    pub(crate) server_config: Arc<rustls::ServerConfig>,
}

fn tls_error(error: impl std::fmt::Display) -> StartError {
    StartError::Tls(error.to_string())
}

/// Generates a CA and a wildcard certificate for the domain.
pub(crate) fn generate(domain: &str) -> Result<Certificates, StartError> {
    let ca_key = KeyPair::generate().map_err(tls_error)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_error)?;
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "CYRISMA Emulator Test CA (not trusted anywhere)");
    ca_name.push(DnType::OrganizationName, "cyrisma-emulator");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(tls_error)?;
    let mut leaf_params = CertificateParams::new(vec![format!("*.{domain}"), domain.to_owned()]).map_err(tls_error)?;
    let mut leaf_name = DistinguishedName::new();
    leaf_name.push(DnType::CommonName, format!("*.{domain}"));
    leaf_params.distinguished_name = leaf_name;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(tls_error)?;

    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error)?;
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificates { ca_pem: ca_cert.pem(), ca_der: ca_cert.der().clone(), server_config: Arc::new(server_config) })
}
