//! HTTPS to devices on the office LAN: trust on first use, then a pinned certificate.
//!
//! Printers (IPPS) and scanners (eSCL over HTTPS, `_uscans._tcp`) almost always present a
//! self-signed certificate made by the device itself, for a name no public CA vouches for, so
//! the usual web PKI check would refuse every one of them. What can be checked is that the
//! device keeps being the same device: the first handshake records the SHA-256 fingerprint of
//! its certificate (the caller stores it), and every later connection must present that same
//! certificate and prove it holds its key (the handshake signature is verified), or it is
//! refused with [`DeviceError::Identity`] before a byte of a document is sent. This is how CUPS
//! treats IPP Everywhere printers and SSH treats hosts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::DeviceError;
use crate::limited::request_error;

/// The SHA-256 fingerprint of a DER certificate, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What the handshakes of one client saw.
#[derive(Debug, Default)]
struct Seen {
    certificate: Mutex<Option<String>>,
    mismatch: AtomicBool,
}

#[derive(Debug)]
struct PinVerifier {
    pin: Option<String>,
    seen: Arc<Seen>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let print = fingerprint(end_entity.as_ref());
        if let Ok(mut seen) = self.seen.certificate.lock() {
            *seen = Some(print.clone());
        }
        match &self.pin {
            Some(pin) if !pin.eq_ignore_ascii_case(&print) => {
                self.seen.mismatch.store(true, Ordering::SeqCst);
                Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
            }
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// An HTTP client for one device: bounded by a timeout, never through a proxy (a device is on
/// the office LAN, and a proxy set for the hub link must not carry or see its documents), no
/// redirects, and for `https` the certificate pinned as described in the module docs.
#[derive(Clone, Debug)]
pub struct DeviceHttp {
    client: reqwest::Client,
    seen: Arc<Seen>,
}

impl DeviceHttp {
    /// A client whose requests are bounded by `timeout`; `pin` is the fingerprint an HTTPS
    /// device must present (none: the first certificate is accepted and reported by
    /// [`DeviceHttp::certificate`]).
    pub fn new(timeout: Duration, pin: Option<&str>) -> Result<DeviceHttp, DeviceError> {
        let seen = Arc::new(Seen::default());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let pin = pin.map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty());
        let verifier = PinVerifier { pin, seen: seen.clone(), provider: provider.clone() };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| DeviceError::Protocol(format!("TLS setup: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .use_preconfigured_tls(tls)
            .build()
            .map_err(|e| DeviceError::Protocol(e.to_string()))?;
        Ok(DeviceHttp { client, seen })
    }

    /// The client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The fingerprint of the certificate the device presented last (HTTPS only).
    pub fn certificate(&self) -> Option<String> {
        self.seen.certificate.lock().ok().and_then(|c| c.clone())
    }

    /// What a failed request means: another certificate than the pinned one is an identity
    /// problem, anything else a connection problem.
    pub fn error(&self, e: &reqwest::Error) -> DeviceError {
        if self.seen.mismatch.load(Ordering::SeqCst) {
            DeviceError::Identity(format!(
                "the device presented another TLS certificate ({}) than the one pinned",
                self.certificate().map(|c| c[..16.min(c.len())].to_string()).unwrap_or_default()
            ))
        } else {
            request_error(e)
        }
    }
}
