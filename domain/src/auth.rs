//! Staff roles, what each may do, account-name and password rules, and the failed-login
//! throttle. Pure rules: hashing and storage live in the server.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A staff member's role. One role per account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Petugas loket: counter staff.
    Petugas,
    /// Verifikator: checks files for completeness.
    Verifikator,
    /// Kepala: head of the office.
    Kepala,
    /// Admin kabupaten: regency administrator (catalog, staff, offices, conflicts).
    AdminKabupaten,
    /// Installer: provisions and checks boxes and devices.
    Installer,
}

impl Role {
    /// Every role, in the order the UI lists them.
    pub const ALL: [Role; 5] = [Role::Petugas, Role::Verifikator, Role::Kepala, Role::AdminKabupaten, Role::Installer];

    /// The stable code stored in databases and typed on the CLI.
    pub fn code(self) -> &'static str {
        match self {
            Role::Petugas => "petugas",
            Role::Verifikator => "verifikator",
            Role::Kepala => "kepala",
            Role::AdminKabupaten => "admin_kabupaten",
            Role::Installer => "installer",
        }
    }

    /// Whether this role may do `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ViewCatalog | ViewDashboard => true,
            ViewStaff => matches!(self, Kepala | AdminKabupaten),
            ManageStaff | EditCatalog => matches!(self, AdminKabupaten),
            ViewSystem => matches!(self, Installer | AdminKabupaten | Kepala),
            ServeCounter | TakeApplications | HandOver => matches!(self, Petugas | Kepala),
            ViewApplications => matches!(self, Petugas | Verifikator | Kepala | AdminKabupaten),
            Verify => matches!(self, Verifikator | Kepala),
            RecordCentralSteps => matches!(self, Kepala | AdminKabupaten),
            ManageQueue => matches!(self, Kepala | Installer),
            ManageDevices => matches!(self, Kepala | Installer),
            ResolveConflicts | ManageBoxes => matches!(self, AdminKabupaten),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A role code that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}' (expected one of petugas, verifikator, kepala, admin_kabupaten, installer)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// Things a role may or may not do. Checked on the server for every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// See the home dashboard.
    ViewDashboard,
    /// Read the service catalog.
    ViewCatalog,
    /// Import or edit catalog entries.
    EditCatalog,
    /// See the staff list.
    ViewStaff,
    /// Create accounts, reset passwords, disable accounts.
    ManageStaff,
    /// See the box's system page (version, storage, hub link).
    ViewSystem,
    /// Open a counter and call tickets.
    ServeCounter,
    /// Open applications, fill them in, attach documents, submit them.
    TakeApplications,
    /// See applications and their documents.
    ViewApplications,
    /// Verify or return applications.
    Verify,
    /// Record the national centre's steps (sent, single or double identification).
    RecordCentralSteps,
    /// Hand products over to applicants.
    HandOver,
    /// Set up counters and kiosk or display tokens.
    ManageQueue,
    /// Configure, check and test the office's devices (printers, scanners, biometric devices).
    ManageDevices,
    /// Settle conflicts a sync could not decide (regency admin, on the hub).
    ResolveConflicts,
    /// Enroll office boxes with the hub and revoke them (regency admin, on the hub).
    ManageBoxes,
}

/// A login name: 3-32 characters of `a-z 0-9 . _ -`, starting with a letter. Stored lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

/// Why a login name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Shorter than 3 or longer than 32.
    #[error("a username has 3 to 32 characters")]
    Length,
    /// Does not start with a letter.
    #[error("a username starts with a letter")]
    Start,
    /// Contains something outside a-z 0-9 . _ -.
    #[error("a username uses only a-z, 0-9, '.', '_' and '-'")]
    Characters,
}

impl Username {
    /// Checks and lower-cases a login name.
    pub fn parse(input: &str) -> Result<Self, UsernameError> {
        let name = input.trim().to_ascii_lowercase();
        if !(3..=32).contains(&name.chars().count()) {
            return Err(UsernameError::Length);
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(UsernameError::Start);
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
            return Err(UsernameError::Characters);
        }
        Ok(Username(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Username {
    type Error = UsernameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_CHARS`] characters (bounded to keep hashing cheap to refuse).
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// Equal to the username, ignoring case.
    #[error("the password must differ from the username")]
    SameAsUsername,
    /// Only one kind of character repeated, or a well-known sequence.
    #[error("the password is too easy to guess")]
    TooSimple,
}

impl PasswordError {
    /// Stable code, as the UI translates it.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordError::TooShort => "too_short",
            PasswordError::TooLong => "too_long",
            PasswordError::SameAsUsername => "same_as_username",
            PasswordError::TooSimple => "too_simple",
        }
    }
}

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Checks a password chosen for `username`.
pub fn check_new_password(username: &Username, password: &str) -> Result<(), PasswordError> {
    let count = password.chars().count();
    if count < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if count > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    if lower == username.as_str() {
        return Err(PasswordError::SameAsUsername);
    }
    let distinct: std::collections::HashSet<char> = lower.chars().collect();
    const COMMON: [&str; 6] = ["1234567890", "0123456789", "password12", "qwertyuiop", "passw0rd12", "simpul1234"];
    if distinct.len() < 4 || COMMON.iter().any(|c| lower.contains(c)) {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

/// Limits on failed logins. Both an account and a client address are counted, so that one
/// address cannot try many accounts and many addresses cannot try one account without being
/// slowed down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    /// Failures allowed inside the window before a lock.
    pub max_failures: u32,
    /// Length of the counting window, in seconds.
    pub window_secs: i64,
    /// Length of the lock, in seconds.
    pub lock_secs: i64,
}

impl ThrottlePolicy {
    /// Per account: 5 failures in 15 minutes lock the account for 15 minutes.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy { max_failures: 5, window_secs: 15 * 60, lock_secs: 15 * 60 };
    /// Per client address: 20 failures in 15 minutes lock the address for 15 minutes.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy { max_failures: 20, window_secs: 15 * 60, lock_secs: 15 * 60 };
}

/// The failure count kept for one account or address. Times are Unix seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the current window began.
    pub window_start: i64,
    /// Until when logins are refused, if locked.
    pub locked_until: Option<i64>,
}

impl FailureRecord {
    /// Seconds until a login may be tried again, or `None` when it may be tried now.
    pub fn locked_for(&self, now: i64) -> Option<i64> {
        self.locked_until.filter(|&until| until > now).map(|until| until - now)
    }

    /// The record after one more failure at `now`.
    pub fn after_failure(self, now: i64, policy: ThrottlePolicy) -> FailureRecord {
        let window_passed = now - self.window_start >= policy.window_secs;
        let lock_ran_out = self.locked_until.is_some() && self.locked_for(now).is_none();
        let mut next = if window_passed || lock_ran_out {
            // The window has passed, or a lock has run out: count afresh.
            FailureRecord { failures: 0, window_start: now, locked_until: None }
        } else {
            self
        };
        next.failures += 1;
        if next.failures >= policy.max_failures {
            next.locked_until = Some(now + policy.lock_secs);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>().unwrap(), role);
        }
        assert_eq!("ADMIN_KABUPATEN".parse::<Role>().unwrap(), Role::AdminKabupaten);
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn permissions_by_role() {
        assert!(Role::Petugas.allows(Permission::ViewCatalog));
        assert!(!Role::Petugas.allows(Permission::ViewStaff));
        assert!(!Role::Petugas.allows(Permission::ManageStaff));
        assert!(Role::Kepala.allows(Permission::ViewStaff));
        assert!(!Role::Kepala.allows(Permission::ManageStaff));
        assert!(Role::AdminKabupaten.allows(Permission::ManageStaff));
        assert!(Role::Installer.allows(Permission::ViewSystem));
        assert!(!Role::Verifikator.allows(Permission::ViewSystem));
        assert!(Role::AdminKabupaten.allows(Permission::ResolveConflicts));
        assert!(!Role::Kepala.allows(Permission::ResolveConflicts));
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Ayu.Petugas ").unwrap().as_str(), "ayu.petugas");
        assert_eq!(Username::parse("ab"), Err(UsernameError::Length));
        assert_eq!(Username::parse("1abc"), Err(UsernameError::Start));
        assert_eq!(Username::parse("ab c"), Err(UsernameError::Characters));
        assert_eq!(Username::parse("ab'; drop"), Err(UsernameError::Characters));
    }

    #[test]
    fn passwords() {
        let user = Username::parse("ayu").unwrap();
        assert_eq!(check_new_password(&user, "short"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password(&user, "aaaaaaaaaaaa"), Err(PasswordError::TooSimple));
        assert_eq!(check_new_password(&user, "x1234567890"), Err(PasswordError::TooSimple));
        assert_eq!(check_new_password(&user, &"k".repeat(200)), Err(PasswordError::TooLong));
        assert!(check_new_password(&user, "kopi-bali-pagi").is_ok());
    }

    #[test]
    fn throttle_locks_after_the_limit_and_forgets_after_the_window() {
        let policy = ThrottlePolicy { max_failures: 3, window_secs: 60, lock_secs: 300 };
        let mut record = FailureRecord::default();
        for t in [1000, 1001] {
            record = record.after_failure(t, policy);
            assert_eq!(record.locked_for(t), None);
        }
        record = record.after_failure(1002, policy);
        assert_eq!(record.locked_for(1002), Some(300));
        assert_eq!(record.locked_for(1302), None);
        // After the lock, counting starts again.
        record = record.after_failure(1400, policy);
        assert_eq!(record.failures, 1);
        // Failures spread wider than the window never lock.
        let mut slow = FailureRecord::default();
        for t in (0..10).map(|i| i * 61) {
            slow = slow.after_failure(t, policy);
            assert_eq!(slow.locked_for(t), None);
        }
    }
}
