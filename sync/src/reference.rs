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
    row.office.as_ref() == Some(office) && matches!(row.role, Role::Petugas | Role::Verifikator | Role::Kepala)
}

#[cfg(test)]
mod tests {
    use super::*;

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
