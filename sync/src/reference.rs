//! Reference data the hub hands down to its boxes: the service catalog, the office's staff
//! accounts (so login works with the link down), the region list and the holiday calendar.
//!
//! Unlike records, reference data has one author, the hub. Every row at the hub carries a
//! revision number from one counter; a box keeps the highest revision it applied and asks for
//! what lies after it, in the same exchange as the records. Applying a row is an upsert, so a
//! batch applied twice (a session cut after the hub answered) changes nothing.

use serde::{Deserialize, Serialize};
use simpul_domain::auth::Role;
use simpul_domain::calendar::HolidayKind;
use simpul_domain::wilayah::RegionCode;

/// Most rows in one batch; a box that is further behind gets the rest in the next exchange.
pub const MAX_ROWS_PER_BATCH: usize = 4_000;

/// A revision of the hub's reference data. A box has applied every row up to one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Revision(pub u64);

/// A staff account as the hub keeps it. The password travels only as its argon2 hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    /// Account id (UUID).
    pub id: uuid::Uuid,
    /// Login name (checked against the username rules on arrival).
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Office the account belongs to.
    pub office: Option<RegionCode>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// May log in.
    pub active: bool,
    /// Sessions older than this epoch end.
    pub session_epoch: i64,
}

/// A password its owner changed at a box, on its way to the hub: only the argon2id hash travels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialChange {
    /// Account id (UUID).
    pub staff: uuid::Uuid,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// When the owner changed it (the box's clock, Unix seconds).
    pub changed_at: i64,
}

/// Most password changes in one push.
pub const MAX_CREDENTIALS_PER_PUSH: usize = 200;

/// Why the hub refuses a password change from a box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialRefusal {
    /// The hub holds no such account.
    #[error("no such account at the hub")]
    UnknownAccount,
    /// The account is not one of the box's office (or is a regency account).
    #[error("the account is not of this office")]
    OtherOffice,
    /// The hash is not an argon2id PHC string of sane length.
    #[error("the password hash is not argon2id")]
    BadHash,
}

/// Whether the hub takes `change` from a box of `office` for the account as the hub holds it
/// (`holder`: its role and office): only the office's own accounts, only argon2id hashes.
pub fn credential_acceptable(
    change: &CredentialChange,
    holder: Option<(Role, Option<&RegionCode>)>,
    office: &RegionCode,
) -> Result<(), CredentialRefusal> {
    // The hash first: a malformed one is refused whatever account it names.
    if !argon2id_within_bounds(&change.password_hash) {
        return Err(CredentialRefusal::BadHash);
    }
    let (role, account_office) = holder.ok_or(CredentialRefusal::UnknownAccount)?;
    if !office_account(role, account_office, office) {
        return Err(CredentialRefusal::OtherOffice);
    }
    Ok(())
}

/// Whether `phc` is an argon2id PHC string whose cost is one a login may pay: memory 8-64 MiB,
/// 1-10 passes, 1-4 lanes. A hash claiming gigabytes (or nothing) would make every login
/// check of the account a denial of service (or no check at all).
pub fn argon2id_within_bounds(phc: &str) -> bool {
    if phc.len() > 512 {
        return false;
    }
    let mut parts = phc.split('$');
    let (Some(""), Some("argon2id"), Some(version), Some(params), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    if version != "v=19" || salt.is_empty() || hash.is_empty() {
        return false;
    }
    let mut cost = (None, None, None);
    for pair in params.split(',') {
        let Some((key, value)) = pair.split_once('=') else { return false };
        let Ok(value) = value.parse::<u32>() else { return false };
        match key {
            "m" => cost.0 = Some(value),
            "t" => cost.1 = Some(value),
            "p" => cost.2 = Some(value),
            _ => return false,
        }
    }
    matches!(cost, (Some(8192..=65536), Some(1..=10), Some(1..=4)))
}

/// Whether a change made at `changed_at` replaces the hub's password set at `hub_set_at`: the
/// later one wins, so a reset by the regency admin after the owner's change stands.
pub fn credential_supersedes(changed_at: i64, hub_set_at: Option<i64>) -> bool {
    hub_set_at.is_none_or(|set| changed_at > set)
}

/// A catalog entry. The standard travels as the JSON the hub stores; the box parses it into
/// the domain type before storing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    /// Entry id (UUID).
    pub id: uuid::Uuid,
    /// The standard as JSON.
    pub standard_json: String,
    /// File it was imported from at the hub.
    pub source: Option<String>,
}

/// A region of the Kemendagri list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionRow {
    /// Its code.
    pub code: RegionCode,
    /// Its name.
    pub name: String,
    /// A later decree removed it (it stays known for old NIKs).
    pub retired: bool,
}

/// A day off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayRow {
    /// The date as `YYYY-MM-DD`.
    pub date: String,
    /// Its name.
    pub name: String,
    /// What kind of day off.
    pub kind: HolidayKind,
}

/// One row of reference data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferenceRow {
    /// A staff account of the box's office.
    Staff(StaffRow),
    /// An account that no longer belongs to the box's office (moved, or given a regency
    /// role): the box disables it if it holds it.
    StaffGone(uuid::Uuid),
    /// A service standard.
    Service(ServiceRow),
    /// A region.
    Region(RegionRow),
    /// A holiday.
    Holiday(HolidayRow),
}

/// What the hub sends of its reference data in one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceBatch {
    /// The rows, oldest revision first.
    pub rows: Vec<ReferenceRow>,
    /// The revision the box has once these rows are in.
    pub upto: Revision,
    /// More rows wait after `upto`.
    pub more: bool,
}

/// Whether a staff row may go to a box of `office`: only that office's accounts, and never a
/// regency-level role, whatever the hub's table holds.
pub fn staff_for_office(row: &StaffRow, office: &RegionCode) -> bool {
    office_account(row.role, row.office.as_ref(), office)
}

/// Whether an account of `role` belonging to `account_office` is one of `office`'s own.
fn office_account(role: Role, account_office: Option<&RegionCode>, office: &RegionCode) -> bool {
    account_office == Some(office) && matches!(role, Role::Petugas | Role::Verifikator | Role::Kepala)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_may_send_only_its_own_office_accounts_passwords_and_the_later_change_wins() {
        let own: RegionCode = "51.03.02".parse().unwrap();
        let change = CredentialChange {
            staff: uuid::Uuid::from_u128(1),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            changed_at: 100,
        };
        let row = staff(Role::Petugas, "51.03.02");
        assert_eq!(credential_acceptable(&change, Some((row.role, row.office.as_ref())), &own), Ok(()));
        assert_eq!(credential_acceptable(&change, None, &own), Err(CredentialRefusal::UnknownAccount));
        let other = staff(Role::Petugas, "51.03.01");
        assert_eq!(
            credential_acceptable(&change, Some((other.role, other.office.as_ref())), &own),
            Err(CredentialRefusal::OtherOffice)
        );
        let regency = staff(Role::AdminKabupaten, "51.03.02");
        assert_eq!(
            credential_acceptable(&change, Some((regency.role, regency.office.as_ref())), &own),
            Err(CredentialRefusal::OtherOffice)
        );
        let plain = CredentialChange { password_hash: "rahasia".into(), ..change.clone() };
        assert_eq!(
            credential_acceptable(&plain, Some((row.role, row.office.as_ref())), &own),
            Err(CredentialRefusal::BadHash)
        );
        let greedy = CredentialChange {
            password_hash: "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdA$aGFzaA".into(),
            ..change.clone()
        };
        assert_eq!(
            credential_acceptable(&greedy, Some((row.role, row.office.as_ref())), &own),
            Err(CredentialRefusal::BadHash)
        );
        for bad in ["$argon2id$v=19$m=19456,t=2$c2FsdA$aGFzaA", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"] {
            assert!(!argon2id_within_bounds(bad), "{bad}");
        }
        assert!(argon2id_within_bounds("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"));
        assert!(credential_supersedes(100, None));
        assert!(credential_supersedes(100, Some(99)));
        assert!(!credential_supersedes(100, Some(100)), "a reset at the hub at the same second stands");
        assert!(!credential_supersedes(100, Some(150)));
    }

    fn staff(role: Role, office: &str) -> StaffRow {
        StaffRow {
            id: uuid::Uuid::from_u128(1),
            username: "ani".into(),
            display_name: "Ani".into(),
            role,
            office: Some(office.parse().unwrap()),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            active: true,
            session_epoch: 0,
        }
    }

    #[test]
    fn a_box_gets_only_its_own_office_counter_accounts() {
        let mine: RegionCode = "51.03.02".parse().unwrap();
        assert!(staff_for_office(&staff(Role::Petugas, "51.03.02"), &mine));
        assert!(staff_for_office(&staff(Role::Kepala, "51.03.02"), &mine));
        assert!(!staff_for_office(&staff(Role::Petugas, "51.03.01"), &mine));
        assert!(!staff_for_office(&staff(Role::AdminKabupaten, "51.03.02"), &mine));
        assert!(!staff_for_office(&staff(Role::Installer, "51.03.02"), &mine));
        let mut no_office = staff(Role::Petugas, "51.03.02");
        no_office.office = None;
        assert!(!staff_for_office(&no_office, &mine));
    }
}
