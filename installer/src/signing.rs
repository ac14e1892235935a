//! Signatures by a data directory's TLS identity over what it hands to the regency (a backup's
//! manifest): an enrolled box signs with its key, whose certificate the hub's CA issued; a hub
//! signs with its CA key. Checked against the regency CA the checking side trusts, a signature
//! says which box made a thing, which a tag under a key encrypted to the (public) recovery key
//! cannot.

use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, UnparsedPublicKey};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject;

use crate::pki::{PkiError, cert_der};

/// A signature and the certificate of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The signer's certificate (DER).
    pub cert_der: Vec<u8>,
    /// ECDSA P-256 with SHA-256 over the bytes (ASN.1 DER).
    pub signature: Vec<u8>,
}

/// Who signed, as far as the checking side can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// The certificate was issued by the CA the checking side trusts (its subject's name).
    Trusted(String),
    /// The signature matches its certificate, but the checking side trusts no CA to check the
    /// certificate against (a new disk, not enrolled yet).
    Unchecked(String),
}

/// Signs `bytes` with the identity of `data_dir`: an enrolled box's key, else a hub's CA key.
/// None when the directory holds neither (a box not enrolled yet).
pub fn sign(data_dir: &Path, bytes: &[u8]) -> Result<Option<Signed>, PkiError> {
    let tls = data_dir.join("tls");
    let pair = [("box.key", "box.pem"), ("hub-ca.key", "hub-ca.pem")]
        .into_iter()
        .map(|(key, cert)| (tls.join(key), tls.join(cert)))
        .find(|(key, cert)| key.is_file() && cert.is_file());
    let Some((key_path, cert_path)) = pair else { return Ok(None) };
    let read =
        |path: &Path| std::fs::read_to_string(path).map_err(|error| PkiError::Io { path: path.to_path_buf(), error });
    let key = PrivatePkcs8KeyDer::from_pem_slice(read(&key_path)?.as_bytes())
        .map_err(|e| PkiError::Tls(format!("key PEM: {e}")))?;
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, key.secret_pkcs8_der(), &rng)
        .map_err(|e| PkiError::Tls(format!("signing key: {e}")))?;
    let signature = pair.sign(&rng, bytes).map_err(|e| PkiError::Tls(format!("signing: {e}")))?;
    Ok(Some(Signed { cert_der: cert_der(&read(&cert_path)?)?, signature: signature.as_ref().to_vec() }))
}

/// Checks `signed` over `bytes`: the signature against its certificate, and the certificate
/// against `trusted_ca_pem` when the checking side trusts a CA. Validity dates are not checked:
/// a thing signed two years ago stays signed after the certificate ran out.
pub fn verify(signed: &Signed, bytes: &[u8], trusted_ca_pem: Option<&str>) -> Result<Signer, PkiError> {
    let bad = |why: &str| PkiError::Tls(why.to_string());
    let (_, cert) = x509_parser::parse_x509_certificate(&signed.cert_der)
        .map_err(|_| bad("the signer's certificate is damaged"))?;
    let point = cert.public_key().subject_public_key.data.as_ref();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
        .verify(bytes, &signed.signature)
        .map_err(|_| bad("the signature does not match what was signed"))?;
    let name =
        cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or("(no name)").to_string();
    let Some(ca_pem) = trusted_ca_pem else { return Ok(Signer::Unchecked(name)) };
    let ca_der = cert_der(ca_pem)?;
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).map_err(|_| bad("the trusted CA is damaged"))?;
    // The hub signs with its CA key: its certificate is the CA itself.
    if signed.cert_der == ca_der {
        return Ok(Signer::Trusted(name));
    }
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|_| bad("the signer's certificate was not issued by this regency's CA"))?;
    Ok(Signer::Trusted(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_signs_and_only_its_regency_ca_vouches_for_it() {
        let now = time::OffsetDateTime::now_utc();
        let dir = tempfile::tempdir().unwrap();
        let (hub, other_hub, office) = (dir.path().join("hub"), dir.path().join("other"), dir.path().join("box"));
        let pki = crate::pki::HubPki::ensure(&hub, &["localhost".into()], now).unwrap();
        let other = crate::pki::HubPki::ensure(&other_hub, &["localhost".into()], now).unwrap();
        assert_eq!(sign(&office, b"manifest").unwrap(), None, "a box not enrolled signs nothing");
        let (key_pem, csr) = crate::pki::box_key_and_csr("51.03.02").unwrap();
        let cert_pem = pki.sign_box(&csr, "51.03.02", now).unwrap();
        crate::pki::BoxIdentity { key_pem, cert_pem, ca_pem: pki.ca_pem.clone() }.save(&office).unwrap();

        let signed = sign(&office, b"manifest").unwrap().unwrap();
        assert_eq!(
            verify(&signed, b"manifest", Some(&pki.ca_pem)).unwrap(),
            Signer::Trusted("simpul-office-51.03.02".into())
        );
        assert_eq!(verify(&signed, b"manifest", None).unwrap(), Signer::Unchecked("simpul-office-51.03.02".into()));
        assert!(verify(&signed, b"manifesT", Some(&pki.ca_pem)).is_err(), "another text");
        assert!(verify(&signed, b"manifest", Some(&other.ca_pem)).is_err(), "another regency's CA");
        let mut flipped = signed.clone();
        let last = flipped.signature.len() - 1;
        flipped.signature[last] ^= 1;
        assert!(verify(&flipped, b"manifest", Some(&pki.ca_pem)).is_err());

        // The hub signs with its CA.
        let by_hub = sign(&hub, b"manifest").unwrap().unwrap();
        assert_eq!(verify(&by_hub, b"manifest", Some(&pki.ca_pem)).unwrap(), Signer::Trusted("Simpul Hub CA".into()));
        assert!(verify(&by_hub, b"manifest", Some(&other.ca_pem)).is_err());
    }
}
