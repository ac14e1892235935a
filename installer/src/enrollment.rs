//! Enrollment of an office box with its regency hub, both sides of it.
//!
//! - The regency admin makes a one-time token ([`make_token`]): `SPL1.<secret>.<first 16 hex
//!   digits of the SHA-256 of the hub CA>`, so a box can tell it reached the hub the token came
//!   from before it sends anything.
//! - The box ([`enroll`]) fetches the hub's CA, checks it against the token, sends a CSR and its
//!   receipt key over TLS pinned to that CA, and keeps the certificate, its office, its station
//!   and the hub's address.
//! - The hub ([`admit`]) redeems the token, signs the CSR for the token's office (whatever the
//!   CSR asks for), gives the box its numbering station, and audits it, in one transaction; a
//!   refused token is audited too (a replayed or guessed token is someone trying).

use std::path::Path;
use std::time::Duration;

use simpul_domain::office::{BoxRole, Unit};
use simpul_store::audit::{self, Actor};
use simpul_store::enroll::{self as tokens, TokenRefusal};
use simpul_store::{Connection, StoreError, regions, settings};
use simpul_sync::wire::{self, EnrollRequest, EnrollResponse};
use time::OffsetDateTime;

use crate::pki::{self, BoxIdentity, HubPki, PkiError};

/// Why the box could not enroll.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// The token is not in the expected form.
    #[error("the token is not a Simpul enrollment token")]
    BadToken,
    /// The hub's CA does not match the token: not the hub the token came from.
    #[error("the hub's certificate authority does not match the token; check the hub address")]
    WrongHub,
    /// The hub could not be reached.
    #[error("{0}")]
    Link(String),
    /// The hub refused.
    #[error("the hub refused: {0}")]
    Refused(String),
    /// Keys failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The box already holds applications of another office.
    #[error("this box already holds applications of office {0}; it cannot be enrolled for another office")]
    OtherOffice(String),
}

/// Makes the token the regency admin hands to an installer.
pub fn make_token(secret: &str, ca_pem: &str) -> Result<String, PkiError> {
    let print = pki::fingerprint(&pki::cert_der(ca_pem)?);
    Ok(format!("SPL1.{secret}.{}", &print[..16]))
}

/// The CA print a token names, when it is a token.
fn token_ca_print(token: &str) -> Result<&str, EnrollError> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [magic, secret, ca_print] = parts.as_slice() else { return Err(EnrollError::BadToken) };
    if *magic != "SPL1" || secret.len() < 16 || ca_print.len() != 16 {
        return Err(EnrollError::BadToken);
    }
    Ok(ca_print)
}

/// What a network failure was, in the words the hub-link banner uses.
fn link_problem(e: &reqwest::Error) -> EnrollError {
    EnrollError::Link(if e.is_timeout() {
        "the hub did not answer in time".to_string()
    } else if e.is_connect() {
        "cannot connect to the hub (network down or hub off)".to_string()
    } else {
        format!("request to the hub failed: {e}")
    })
}

/// Enrolls this box (data directory `data_dir`, database `conn`, receipt public key
/// `receipt_key`) with the hub at `hub` using `token`.
pub async fn enroll(
    conn: &Connection,
    data_dir: &Path,
    hub: &str,
    token: &str,
    receipt_key: String,
) -> Result<EnrollResponse, EnrollError> {
    let ca_print = token_ca_print(token)?;
    let base = reqwest::Url::parse(hub).map_err(|e| EnrollError::Link(format!("bad hub address: {e}")))?;
    let timeout = Duration::from_secs(20);
    let fetch = reqwest::Client::builder()
        .use_preconfigured_tls(pki::ca_fetch_config()?)
        .timeout(timeout)
        .build()
        .map_err(|e| EnrollError::Link(e.to_string()))?;
    let ca_url = base.join(wire::path::CA).map_err(|e| EnrollError::Link(e.to_string()))?;
    let ca_pem =
        fetch.get(ca_url).send().await.map_err(|e| link_problem(&e))?.text().await.map_err(|e| link_problem(&e))?;
    let print = pki::fingerprint(&pki::cert_der(&ca_pem).map_err(|_| EnrollError::WrongHub)?);
    if !print.starts_with(ca_print) {
        return Err(EnrollError::WrongHub);
    }
    let verified = reqwest::Client::builder()
        .use_preconfigured_tls(pki::ca_only_config(&ca_pem)?)
        .timeout(timeout)
        .build()
        .map_err(|e| EnrollError::Link(e.to_string()))?;
    // The hub names the certificate after the token's office, whatever the request says.
    let (key_pem, csr) = pki::box_key_and_csr("enrolling")?;
    let enroll_url = base.join(wire::path::ENROLL).map_err(|e| EnrollError::Link(e.to_string()))?;
    let response = verified
        .post(enroll_url)
        .json(&EnrollRequest { token: token.trim().to_string(), csr, receipt_key: Some(receipt_key) })
        .send()
        .await
        .map_err(|e| link_problem(&e))?;
    if !response.status().is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(EnrollError::Refused(text.chars().take(300).collect()));
    }
    let answer: EnrollResponse =
        response.json().await.map_err(|_| EnrollError::Refused("the hub's answer is not understood".into()))?;
    if let Some(other) = simpul_store::applications::other_office_than(conn, &answer.office)? {
        return Err(EnrollError::OtherOffice(other));
    }
    let code = answer.office.parse().map_err(|_| EnrollError::Refused("the hub sent an invalid office code".into()))?;
    BoxIdentity { key_pem, cert_pem: answer.certificate.clone(), ca_pem: answer.ca.clone() }.save(data_dir)?;
    settings::set_unit(conn, BoxRole::Office, &Unit { code, name: answer.office_name.clone() })?;
    settings::put(conn, settings::HUB_URL, base.as_str())?;
    settings::set_station(conn, answer.station)?;
    audit::record(conn, OffsetDateTime::now_utc(), &Actor::Cli, "box_enrolled", Some(&answer.office), None)?;
    Ok(answer)
}

/// Why the hub refused a box.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The token is unknown, used, expired or revoked.
    #[error(transparent)]
    Token(#[from] TokenRefusal),
    /// The certificate request cannot be signed.
    #[error("the certificate request is not valid: {0}")]
    Csr(String),
}

/// The hub admits a box: redeems its token, signs its CSR for the token's office, gives it a
/// station, all audited in one transaction. A refused token is audited and nothing else
/// changes. Checks of the request's shape (sizes, the receipt key) are the caller's.
pub fn admit(
    conn: &mut Connection,
    pki: &HubPki,
    request: &EnrollRequest,
    now: OffsetDateTime,
) -> Result<Result<EnrollResponse, Refusal>, StoreError> {
    let tx = conn.transaction()?;
    let office = match tokens::token_office(&tx, &request.token, now)? {
        Ok(office) => office,
        Err(refusal) => {
            drop(tx);
            audit::record(conn, now, &Actor::System, "enrollment_refused", None, Some(refusal.code()))?;
            return Ok(Err(Refusal::Token(refusal)));
        }
    };
    let signed = pki.sign_box(&request.csr, &office, now).and_then(|c| Ok((pki::cert_der(&c)?, c)));
    let (der, certificate) = match signed {
        Ok(signed) => signed,
        Err(e) => return Ok(Err(Refusal::Csr(e.to_string()))),
    };
    let print = pki::fingerprint(&der);
    if let Err(refusal) = tokens::redeem(&tx, &request.token, &print, request.receipt_key.as_deref(), now)? {
        return Ok(Err(Refusal::Token(refusal)));
    }
    let station = tokens::assign_station(&tx, &print, &office, now)?;
    let office_name = office
        .parse()
        .ok()
        .and_then(|code| regions::name(&tx, &code).ok().flatten())
        .map_or_else(|| format!("Kecamatan {office}"), |n| format!("Kantor Kecamatan {n}"));
    audit::record(&tx, now, &Actor::System, "box_enrolled", Some(&office), Some(&print))?;
    tx.commit()?;
    Ok(Ok(EnrollResponse { office, office_name, certificate, ca: pki.ca_pem.clone(), station }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_the_hub_ca_it_came_from() {
        assert!(matches!(token_ca_print("nonsense"), Err(EnrollError::BadToken)));
        assert!(matches!(token_ca_print("SPL1.short.0123456789abcdef"), Err(EnrollError::BadToken)));
        assert!(matches!(token_ca_print("SPL2.abcdefghijklmnopq.0123456789abcdef"), Err(EnrollError::BadToken)));
        assert_eq!(token_ca_print(" SPL1.abcdefghijklmnopq.0123456789abcdef\n").unwrap(), "0123456789abcdef");
    }
}
