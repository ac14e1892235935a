//! Trust between boxes and their hub: the hub's own CA (made with rcgen at hub setup), the hub's
//! TLS certificate, box certificates signed from a box's CSR, and the rustls configurations for
//! mutual TLS. Keys live in `<data dir>/tls/`, readable by the owner only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// Why keys or certificates could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// Reading or writing a key file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// rcgen refused (a malformed CSR, an unreadable key).
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    /// rustls refused the material.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The box is not enrolled yet.
    #[error("this box is not enrolled with a hub (run `simpul enroll --hub URL --token T`)")]
    NotEnrolled,
    /// The box's certificate ran out: the hub would refuse it.
    #[error("this box's certificate expired on {0}; enroll again with a new token from the regency")]
    Expired(time::Date),
}

fn tls_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    let io = |error| PkiError::Io { path: path.to_path_buf(), error };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|error| PkiError::Io { path: path.to_path_buf(), error })
}

/// SHA-256 of a certificate's DER, hex: how the hub knows a box.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// The DER of the first certificate in a PEM text.
pub fn cert_der(pem_text: &str) -> Result<Vec<u8>, PkiError> {
    CertificateDer::from_pem_slice(pem_text.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| PkiError::Tls(format!("certificate PEM: {e}")))
}

/// When the first certificate in a PEM text stops being valid.
pub fn not_after(pem_text: &str) -> Result<OffsetDateTime, PkiError> {
    let der = cert_der(pem_text)?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&der).map_err(|e| PkiError::Tls(format!("certificate: {e}")))?;
    OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
        .map_err(|e| PkiError::Tls(format!("certificate end: {e}")))
}

/// Days a box certificate has left before the sync panel warns: time to enroll again.
pub const RENEW_WARNING_DAYS: i64 = 60;

fn key_der(pem_text: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivatePkcs8KeyDer::from_pem_slice(pem_text.as_bytes())
        .map(PrivateKeyDer::Pkcs8)
        .map_err(|e| PkiError::Tls(format!("key PEM: {e}")))
}

fn name(common: &str, org: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common);
    dn.push(DnType::OrganizationName, org);
    dn
}

/// The hub's CA and TLS identity.
pub struct HubPki {
    /// The CA certificate (PEM), handed to boxes.
    pub ca_pem: String,
    ca_key: KeyPair,
    /// The hub's TLS certificate chain and key.
    server_cert_pem: String,
    server_key_pem: String,
}

impl HubPki {
    /// Loads the hub's CA and TLS certificate, creating them on first use. `names` are the DNS
    /// names and IP addresses boxes reach the hub by.
    pub fn ensure(data_dir: &Path, names: &[String], now: OffsetDateTime) -> Result<HubPki, PkiError> {
        let dir = tls_dir(data_dir);
        let (ca_key_path, ca_path) = (dir.join("hub-ca.key"), dir.join("hub-ca.pem"));
        if !ca_path.exists() {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::default();
            params.distinguished_name = name("Simpul Hub CA", "Simpul");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            params.not_before = now - Duration::days(1);
            params.not_after = now + Duration::days(365 * 10);
            let cert = params.self_signed(&key)?;
            write_private(&ca_key_path, &key.serialize_pem())?;
            write_private(&ca_path, &cert.pem())?;
        }
        let ca_pem = read(&ca_path)?;
        let ca_key = KeyPair::from_pem(&read(&ca_key_path)?)?;
        let (server_key_path, server_path, names_path) =
            (dir.join("hub-server.key"), dir.join("hub-server.pem"), dir.join("hub-server.names"));
        let wanted = names.join(",");
        let current = std::fs::read_to_string(&names_path).unwrap_or_default();
        let pki = HubPki { ca_pem, ca_key, server_cert_pem: String::new(), server_key_pem: String::new() };
        if !server_path.exists() || current != wanted {
            let key = KeyPair::generate()?;
            let mut params = CertificateParams::default();
            params.distinguished_name = name(names.first().map_or("simpul-hub", String::as_str), "Simpul");
            params.subject_alt_names = names
                .iter()
                .map(|n| match n.parse::<std::net::IpAddr>() {
                    Ok(ip) => Ok(SanType::IpAddress(ip)),
                    Err(_) => n.clone().try_into().map(SanType::DnsName),
                })
                .collect::<Result<_, _>>()?;
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.not_before = now - Duration::days(30);
            params.not_after = now + Duration::days(365 * 5);
            let cert = params.signed_by(&key, &pki.issuer()?, &pki.ca_key)?;
            write_private(&server_key_path, &key.serialize_pem())?;
            write_private(&server_path, &cert.pem())?;
            write_private(&names_path, &wanted)?;
        }
        Ok(HubPki { server_cert_pem: read(&server_path)?, server_key_pem: read(&server_key_path)?, ..pki })
    }

    fn issuer(&self) -> Result<rcgen::Certificate, PkiError> {
        // rcgen signs with an issuer certificate; rebuilt from the stored CA with the same name
        // and key, it issues exactly as the original.
        Ok(CertificateParams::from_ca_cert_pem(&self.ca_pem)?.self_signed(&self.ca_key)?)
    }

    /// Signs a box's CSR for `office`. Whatever the CSR asks for, the certificate names the
    /// office (from the enrollment token), is a client certificate only, and is valid two years.
    pub fn sign_box(&self, csr_pem: &str, office: &str, now: OffsetDateTime) -> Result<String, PkiError> {
        let mut csr = CertificateSigningRequestParams::from_pem(csr_pem)?;
        csr.params.distinguished_name = name(&format!("simpul-office-{office}"), "Simpul");
        csr.params.subject_alt_names = Vec::new();
        csr.params.is_ca = IsCa::ExplicitNoCa;
        csr.params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        csr.params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        csr.params.not_before = now - Duration::days(30);
        csr.params.not_after = now + Duration::days(365 * 2);
        csr.params.serial_number = Some(rcgen::SerialNumber::from_slice(uuid::Uuid::new_v4().as_bytes()));
        Ok(csr.signed_by(&self.issuer()?, &self.ca_key)?.pem())
    }

    /// The TLS configuration of the hub's sync listener: a client certificate from this CA is
    /// asked for and checked; a connection without one reaches only enrollment and the CA.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(cert_der(&self.ca_pem)?)).map_err(|e| PkiError::Tls(e.to_string()))?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| PkiError::Tls(e.to_string()))?;
        let chain = vec![CertificateDer::from(cert_der(&self.server_cert_pem)?)];
        let key = key_der(&self.server_key_pem)?;
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PkiError::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| PkiError::Tls(e.to_string()))?;
        Ok(Arc::new(config))
    }
}

/// A box's key and the CSR it sends at enrollment.
pub fn box_key_and_csr(office: &str) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&format!("simpul-office-{office}"), "Simpul");
    let csr = params.serialize_request(&key)?;
    Ok((key.serialize_pem(), csr.pem()?))
}

/// What an enrolled box keeps.
pub struct BoxIdentity {
    /// Its private key (PEM).
    pub key_pem: String,
    /// Its certificate (PEM).
    pub cert_pem: String,
    /// The hub's CA (PEM).
    pub ca_pem: String,
}

impl BoxIdentity {
    /// Writes the identity into the data directory.
    pub fn save(&self, data_dir: &Path) -> Result<(), PkiError> {
        let dir = tls_dir(data_dir);
        write_private(&dir.join("box.key"), &self.key_pem)?;
        write_private(&dir.join("box.pem"), &self.cert_pem)?;
        write_private(&dir.join("hub-ca.pem"), &self.ca_pem)
    }

    /// Reads the identity, if this box is enrolled.
    pub fn load(data_dir: &Path) -> Result<BoxIdentity, PkiError> {
        let dir = tls_dir(data_dir);
        if !dir.join("box.pem").exists() {
            return Err(PkiError::NotEnrolled);
        }
        Ok(BoxIdentity {
            key_pem: read(&dir.join("box.key"))?,
            cert_pem: read(&dir.join("box.pem"))?,
            ca_pem: read(&dir.join("hub-ca.pem"))?,
        })
    }

    /// A TLS client that trusts only the hub's CA and shows this box's certificate.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, PkiError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(cert_der(&self.ca_pem)?)).map_err(|e| PkiError::Tls(e.to_string()))?;
        let chain = vec![CertificateDer::from(cert_der(&self.cert_pem)?)];
        let key = key_der(&self.key_pem)?;
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PkiError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| PkiError::Tls(e.to_string()))
    }
}

/// A verifier for the one request that fetches the hub's CA at enrollment, before this box
/// knows it: it accepts any server certificate. What it fetches is trusted only if its SHA-256
/// matches the fingerprint carried by the enrollment token; the token itself travels only over
/// a connection verified against that CA.
#[derive(Debug)]
struct AcceptAnyForCaFetch(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyForCaFetch {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS client for fetching the hub's CA at enrollment (see [`AcceptAnyForCaFetch`]).
pub fn ca_fetch_config() -> Result<rustls::ClientConfig, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyForCaFetch(provider)))
        .with_no_client_auth())
}

/// A TLS client that trusts only `ca_pem` and shows no certificate (enrollment).
pub fn ca_only_config(ca_pem: &str) -> Result<rustls::ClientConfig, PkiError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(cert_der(ca_pem)?)).map_err(|e| PkiError::Tls(e.to_string()))?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_certificate_says_when_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let hub = HubPki::ensure(dir.path(), &["localhost".to_string()], now).unwrap();
        let (_key, csr) = box_key_and_csr("enrolling").unwrap();
        let cert = hub.sign_box(&csr, "51.03.02", now).unwrap();
        let end = not_after(&cert).unwrap();
        assert!((end - (now + Duration::days(365 * 2))).abs() < Duration::minutes(2), "{end}");
        assert!(not_after("not a certificate").is_err());
        // One issued three years ago has run out: the sync loop says so instead of trying.
        let (_key, csr) = box_key_and_csr("enrolling").unwrap();
        let old = hub.sign_box(&csr, "51.03.02", now - Duration::days(365 * 3)).unwrap();
        assert!(not_after(&old).unwrap() < now);
    }
}
