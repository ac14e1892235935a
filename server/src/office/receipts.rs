//! Signed references for hand-over receipts. The QR code on a receipt carries the application
//! number, the office, the hand-over time and an Ed25519 signature by this box's receipt key,
//! so that the hub (which learns the box's public key at enrollment) or anyone holding that
//! key can tell a genuine receipt from a forged one, offline.
//!
//! Format (ASCII, fits a small QR code):
//! `SIMPUL-TT1|<number>|<office>|<handed over at, RFC 3339>|<signature, base64url>`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use simpul_store::Connection;

use simpul_store::db::StoreError;
use simpul_store::settings;

const KEY_SETTING: &str = "receipt.signing_key";
const PREFIX: &str = "SIMPUL-TT1";

/// What a receipt's QR code vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Application number.
    pub number: String,
    /// Office code.
    pub office: String,
    /// Hand-over time (RFC 3339, device time).
    pub handed_over_at: String,
}

/// Why a reference did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not in the receipt format.
    #[error("this is not a Simpul receipt reference")]
    Format,
    /// The signature does not match (forged, altered, or another box's key).
    #[error("the signature does not match: the receipt is not genuine or comes from another box")]
    Signature,
}

/// This box's receipt key, created on first use and kept in the settings table.
pub fn key(conn: &Connection) -> Result<Ed25519KeyPair, StoreError> {
    if let Some(stored) = settings::get(conn, KEY_SETTING)? {
        let pkcs8 = URL_SAFE_NO_PAD.decode(stored).map_err(|_| StoreError::Corrupt("receipt key".into()))?;
        return Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| StoreError::Corrupt("receipt key".into()));
    }
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| StoreError::Corrupt("no randomness".into()))?;
    settings::put(conn, KEY_SETTING, &URL_SAFE_NO_PAD.encode(pkcs8.as_ref()))?;
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| StoreError::Corrupt("receipt key".into()))
}

/// The public half of the receipt key (base64url), for the hub and for `simpul receipt verify`.
pub fn public_key(conn: &Connection) -> Result<String, StoreError> {
    Ok(URL_SAFE_NO_PAD.encode(key(conn)?.public_key().as_ref()))
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| *c != '|' && !c.is_control()).collect()
}

/// The signed text for the QR code.
pub fn sign(key: &Ed25519KeyPair, reference: &Reference) -> String {
    let body = format!(
        "{PREFIX}|{}|{}|{}",
        clean(&reference.number),
        clean(&reference.office),
        clean(&reference.handed_over_at)
    );
    let signature = key.sign(body.as_bytes());
    format!("{body}|{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
}

/// Whether `key` is an Ed25519 public key as [`public_key`] writes it.
pub fn valid_public_key(key: &str) -> bool {
    key.len() <= 64 && URL_SAFE_NO_PAD.decode(key).is_ok_and(|k| k.len() == 32)
}

/// The office a receipt's text names, read without checking it (to find the keys to check it
/// with).
pub fn claimed_office(text: &str) -> Result<String, VerifyError> {
    let parts: Vec<&str> = text.trim().split('|').collect();
    match parts.as_slice() {
        [prefix, _, office, _, _] if *prefix == PREFIX => Ok(office.to_string()),
        _ => Err(VerifyError::Format),
    }
}

/// Checks a receipt's text against the keys of the boxes of the office it names, as the hub
/// holds them: (box fingerprint, public key). Answers the reference and the box that signed it.
pub fn verify_with_any(keys: &[(String, String)], text: &str) -> Result<(Reference, String), VerifyError> {
    let mut outcome = Err(VerifyError::Signature);
    for (box_print, key) in keys {
        match verify(key, text) {
            Ok(reference) => return Ok((reference, box_print.clone())),
            Err(VerifyError::Format) => return Err(VerifyError::Format),
            Err(e) => outcome = Err(e),
        }
    }
    outcome
}

/// Checks a receipt's text against a public key (base64url).
pub fn verify(public_key: &str, text: &str) -> Result<Reference, VerifyError> {
    let text = text.trim();
    let (body, signature) = text.rsplit_once('|').ok_or(VerifyError::Format)?;
    let parts: Vec<&str> = body.split('|').collect();
    let [prefix, number, office, at] = parts.as_slice() else { return Err(VerifyError::Format) };
    if *prefix != PREFIX {
        return Err(VerifyError::Format);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| VerifyError::Format)?;
    let public = URL_SAFE_NO_PAD.decode(public_key).map_err(|_| VerifyError::Format)?;
    UnparsedPublicKey::new(&ED25519, public).verify(body.as_bytes(), &signature).map_err(|_| VerifyError::Signature)?;
    Ok(Reference { number: number.to_string(), office: office.to_string(), handed_over_at: at.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Reference {
        Reference {
            number: "510302-20261121-0007".into(),
            office: "51.03.02".into(),
            handed_over_at: "2026-11-21T10:00:00+08:00".into(),
        }
    }

    #[test]
    fn a_signed_reference_verifies_and_an_altered_one_does_not() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)").unwrap();
        let k = key(&conn).unwrap();
        assert_eq!(k.public_key().as_ref(), key(&conn).unwrap().public_key().as_ref(), "the key is kept");
        let public = public_key(&conn).unwrap();
        let text = sign(&k, &reference());
        assert_eq!(verify(&public, &text), Ok(reference()));
        let altered = text.replace("0007", "0008");
        assert_eq!(verify(&public, &altered), Err(VerifyError::Signature));
        let other = Ed25519KeyPair::from_pkcs8(
            Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap().as_ref(),
        )
        .unwrap();
        assert_eq!(verify(&public, &sign(&other, &reference())), Err(VerifyError::Signature));
        assert_eq!(verify(&public, "hello"), Err(VerifyError::Format));
        // The hub tries every key of the office the receipt names.
        let other_public = URL_SAFE_NO_PAD.encode(other.public_key().as_ref());
        let keys = vec![("box-2".to_string(), other_public), ("box-1".to_string(), public.clone())];
        assert_eq!(claimed_office(&text), Ok("51.03.02".to_string()));
        assert_eq!(verify_with_any(&keys, &text), Ok((reference(), "box-1".to_string())));
        assert_eq!(verify_with_any(&keys, &altered), Err(VerifyError::Signature));
        assert_eq!(verify_with_any(&[], &text), Err(VerifyError::Signature));
        assert!(valid_public_key(&public) && !valid_public_key("abc") && !valid_public_key(&"A".repeat(200)));
        assert_eq!(verify(&public, "SIMPUL-TT1|a|b|c|!!"), Err(VerifyError::Format));
    }
}
