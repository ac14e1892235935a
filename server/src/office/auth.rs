//! Passwords, logins, sessions and CSRF tokens.
//!
//! A session holds a CSRF token from the first page on, and after login the account id, the
//! account's session epoch (raised when its password changes or it is disabled) and the login
//! time (for the absolute lifetime). Every request re-reads the account, so a disabled account
//! or a changed password ends its sessions at once.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};
use serde::{Deserialize, Serialize};
use simpul_domain::auth::{Permission, ThrottlePolicy, Username};
use time::OffsetDateTime;
use tower_sessions::Session;

use simpul_store::audit::{self, Actor};
use simpul_store::db::{Db, StoreError};
use simpul_store::{staff, throttle};

/// Session key of the CSRF token.
pub const CSRF_KEY: &str = "csrf";
/// Session key of the login.
pub const AUTH_KEY: &str = "auth";

/// What a session remembers about its login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionLogin {
    /// Account id.
    pub user_id: String,
    /// The account's session epoch at login.
    pub epoch: i64,
    /// Unix time of the login.
    pub login_at: i64,
}

/// Why authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No login in the session.
    #[error("not logged in")]
    Unauthenticated,
    /// The session had a login or a cookie that ran out or no longer matches the account.
    #[error("session expired")]
    Expired,
    /// The role lacks the permission.
    #[error("forbidden")]
    Forbidden,
    /// CSRF token missing or wrong.
    #[error("invalid CSRF token")]
    Csrf,
    /// Wrong username or password.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures.
    #[error("throttled for {0} s")]
    Throttled(i64),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session store failed.
    #[error("session store: {0}")]
    Session(String),
}

impl From<tower_sessions::session::Error> for AuthError {
    fn from(e: tower_sessions::session::Error) -> Self {
        AuthError::Session(e.to_string())
    }
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("hashing failed: {e}")))
}

/// Checks a password against a stored hash. A damaged hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, verified against when the username is unknown so that both
/// failures take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// 32 random bytes, URL-safe base64 (no padding).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64url(&bytes)
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A password that is easy to read aloud and type: four groups of lower-case letters and
/// digits without look-alikes.
pub fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| (0..4).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Compares two strings in time independent of where they differ.
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session's CSRF token, created if the session has none.
pub async fn csrf_token(session: &Session) -> Result<String, AuthError> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let token = random_token();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Refuses a request whose token is missing or differs from the session's.
pub async fn check_csrf(session: &Session, presented: &str) -> Result<(), AuthError> {
    match session.get::<String>(CSRF_KEY).await? {
        Some(token) if !presented.is_empty() && constant_time_eq(&token, presented) => Ok(()),
        _ => Err(AuthError::Csrf),
    }
}

/// Lifetimes of a session.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Seconds after login when the session ends.
    pub absolute_secs: i64,
}

/// Checks the credentials (throttled per account and per address), then starts a fresh
/// session: new id, new CSRF token, the login recorded.
pub async fn login(
    db: &Db,
    session: &Session,
    username: &str,
    password: &str,
    address: &str,
    now: OffsetDateTime,
) -> Result<staff::Account, AuthError> {
    let name = Username::parse(username).map(|u| u.as_str().to_string()).unwrap_or_else(|_| username.to_lowercase());
    let account_key = throttle::account_key(&name);
    let address_key = throttle::address_key(address);
    let t = now.unix_timestamp();

    let (account, locked) = {
        let (name, account_key, address_key) = (name.clone(), account_key.clone(), address_key.clone());
        db.call(move |c| Ok((staff::by_username(c, &name)?, locked_for(c, &account_key, &address_key, t)?))).await?
    };
    if let Some(wait) = locked {
        return Err(AuthError::Throttled(wait));
    }

    // Argon2 is deliberately slow: keep it off the async workers.
    let hash = account.as_ref().map(|a| a.password_hash.clone()).unwrap_or_else(|| decoy_hash().to_string());
    let matches = verify_off_thread(password, hash).await?;

    match account {
        Some(account) if matches && account.active => {
            let id = account.id.clone();
            let actor = Actor::Staff(id.clone());
            db.call(move |c| {
                let tx = c.transaction()?;
                throttle::clear(&tx, &account_key)?;
                audit::record(&tx, now, &actor, "login", Some(&id), None)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
            session.cycle_id().await?;
            session.insert(CSRF_KEY, random_token()).await?;
            session
                .insert(
                    AUTH_KEY,
                    SessionLogin { user_id: account.id.clone(), epoch: account.session_epoch, login_at: t },
                )
                .await?;
            tracing::info!(user = %account.id, "login");
            Ok(account)
        }
        account => {
            let reason = match &account {
                None => "unknown user",
                Some(a) if !a.active => "disabled account",
                Some(_) => "wrong password",
            };
            let address_owned = address.to_string();
            db.call(move |c| {
                let tx = c.transaction()?;
                count_failure(&tx, &account_key, &address_key, t)?;
                audit::record(&tx, now, &Actor::Anonymous(address_owned), "login_failed", Some(&name), Some(reason))?;
                tx.commit()?;
                Ok(())
            })
            .await?;
            tracing::info!(reason, "login refused");
            Err(AuthError::InvalidCredentials)
        }
    }
}

/// A password change as its owner asks for it.
pub struct PasswordChange<'a> {
    /// The password now.
    pub current: &'a str,
    /// The one wanted.
    pub new: &'a str,
}

/// The owner changes their password: the current one is checked (throttled as a login is),
/// the new one against the policy. Every session of the account ends, this one too. With
/// `for_hub`, the change also waits in the outbox for the hub (a box).
pub async fn change_own_password(
    db: &Db,
    session: &Session,
    account: &staff::Account,
    PasswordChange { current, new }: PasswordChange<'_>,
    address: &str,
    for_hub: bool,
    now: OffsetDateTime,
) -> Result<Result<(), simpul_domain::auth::PasswordError>, AuthError> {
    let account_key = throttle::account_key(account.username.as_str());
    let address_key = throttle::address_key(address);
    let t = now.unix_timestamp();
    let locked = {
        let (account_key, address_key) = (account_key.clone(), address_key.clone());
        db.call(move |c| locked_for(c, &account_key, &address_key, t)).await?
    };
    if let Some(wait) = locked {
        return Err(AuthError::Throttled(wait));
    }
    let matches = verify_off_thread(current, account.password_hash.clone()).await?;
    let (id, actor) = (account.id.clone(), Actor::Staff(account.id.clone()));
    if !matches {
        db.call(move |c| {
            let tx = c.transaction()?;
            count_failure(&tx, &account_key, &address_key, t)?;
            audit::record(&tx, now, &actor, "password_change_failed", Some(&id), Some("wrong current password"))?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        return Err(AuthError::InvalidCredentials);
    }
    if let Err(problem) = simpul_domain::auth::check_new_password(&account.username, new) {
        return Ok(Err(problem));
    }
    let new = new.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|e| AuthError::Session(e.to_string()))??;
    db.call(move |c| {
        let tx = c.transaction()?;
        if for_hub {
            staff::change_own_password(&tx, &id, &hash, now)?;
        } else {
            staff::set_password(&tx, &id, &hash, now)?;
        }
        throttle::clear(&tx, &account_key)?;
        audit::record(&tx, now, &actor, "password_changed", Some(&id), None)?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    session.flush().await?;
    tracing::info!(user = %account.id, "password changed by its owner");
    Ok(Ok(()))
}

/// How long the account or the address (whichever is longer) is still locked out at `t`.
fn locked_for(
    conn: &simpul_store::Connection,
    account_key: &str,
    address_key: &str,
    t: i64,
) -> Result<Option<i64>, StoreError> {
    let by_account = throttle::get(conn, account_key)?.locked_for(t);
    Ok(by_account.max(throttle::get(conn, address_key)?.locked_for(t)))
}

/// Checks a password against its hash off the async workers: argon2 is deliberately slow.
async fn verify_off_thread(password: &str, hash: String) -> Result<bool, AuthError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| AuthError::Session(e.to_string()))
}

/// One more failed password for the account and the address (each throttled on its own).
fn count_failure(
    conn: &simpul_store::Connection,
    account_key: &str,
    address_key: &str,
    t: i64,
) -> Result<(), StoreError> {
    let by_account = throttle::get(conn, account_key)?.after_failure(t, ThrottlePolicy::ACCOUNT);
    throttle::put(conn, account_key, &by_account)?;
    let by_address = throttle::get(conn, address_key)?.after_failure(t, ThrottlePolicy::ADDRESS);
    throttle::put(conn, address_key, &by_address)
}

/// Ends the session after checking its CSRF token.
pub async fn logout(db: &Db, session: &Session, csrf: &str, now: OffsetDateTime) -> Result<(), AuthError> {
    check_csrf(session, csrf).await?;
    if let Some(login) = session.get::<SessionLogin>(AUTH_KEY).await? {
        let id = login.user_id.clone();
        db.call(move |c| audit::record(c, now, &Actor::Staff(id.clone()), "logout", Some(&id), None)).await?;
    }
    session.flush().await?;
    Ok(())
}

/// The logged-in account of a session, or why there is none. Ends sessions past their absolute
/// lifetime or whose account changed.
pub async fn current_account(
    db: &Db,
    session: &Session,
    lifetimes: Lifetimes,
    now: OffsetDateTime,
) -> Result<staff::Account, AuthError> {
    let Some(login) = session.get::<SessionLogin>(AUTH_KEY).await? else {
        return Err(AuthError::Unauthenticated);
    };
    if now.unix_timestamp() - login.login_at >= lifetimes.absolute_secs {
        session.flush().await?;
        return Err(AuthError::Expired);
    }
    let id = login.user_id.clone();
    let account = db.call(move |c| staff::by_id(c, &id)).await?;
    match account {
        Some(a) if a.active && a.session_epoch == login.epoch => Ok(a),
        _ => {
            session.flush().await?;
            Err(AuthError::Expired)
        }
    }
}

/// The account, if it holds `permission`.
pub fn require(account: staff::Account, permission: Permission) -> Result<staff::Account, AuthError> {
    if account.role.allows(permission) { Ok(account) } else { Err(AuthError::Forbidden) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("kopi-bali-pagi").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("kopi-bali-pagi", &hash));
        assert!(!verify_password("kopi-bali-pagI", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(base64url(b"Man"), "TWFu");
        assert_eq!(base64url(b"Ma"), "TWE");
        let p = random_password();
        assert_eq!(p.len(), 19);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
