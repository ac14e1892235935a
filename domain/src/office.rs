//! Where a box stands in the star topology: a sub-district office or the regency hub, and the
//! identity it was given.

use serde::{Deserialize, Serialize};

use crate::wilayah::{RegionCode, RegionLevel};
use crate::zone::Zone;

/// The role the `simpul` binary runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxRole {
    /// A kecamatan office box: takes applications, works offline, syncs with its hub.
    #[default]
    Office,
    /// The regency hub: holds the whole regency, relays to offices, resolves conflicts.
    Hub,
}

impl BoxRole {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            BoxRole::Office => "office",
            BoxRole::Hub => "hub",
        }
    }
}

/// The unit a box serves: a kecamatan office, or a regency for the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Kecamatan code for an office, regency code for a hub.
    pub code: RegionCode,
    /// Display name ("Kantor Kecamatan Mengwi", "Dinas Dukcapil Kabupaten Badung").
    pub name: String,
}

/// Why a unit does not fit a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// An office must be a kecamatan, a hub a regency or city.
    #[error("a {role} must be identified by a {expected} code, {code} is not one")]
    Level {
        /// The role.
        role: &'static str,
        /// The level expected.
        expected: &'static str,
        /// The code given.
        code: RegionCode,
    },
}

impl Unit {
    /// Checks that the code's level fits the role.
    pub fn for_role(role: BoxRole, code: RegionCode, name: String) -> Result<Unit, UnitError> {
        let (expected_level, expected) = match role {
            BoxRole::Office => (RegionLevel::Kecamatan, "kecamatan"),
            BoxRole::Hub => (RegionLevel::Regency, "regency/city"),
        };
        if code.level() != expected_level {
            return Err(UnitError::Level { role: role.code(), expected, code });
        }
        Ok(Unit { code, name })
    }

    /// The time zone the unit keeps.
    pub fn zone(&self) -> Zone {
        Zone::for_province(self.code.province_number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_fit_their_role() {
        let kec: RegionCode = "51.03.02".parse().unwrap();
        let kab: RegionCode = "51.03".parse().unwrap();
        assert!(Unit::for_role(BoxRole::Office, kec, "Mengwi".into()).is_ok());
        assert!(Unit::for_role(BoxRole::Hub, kab, "Badung".into()).is_ok());
        assert!(Unit::for_role(BoxRole::Office, kab, "x".into()).is_err());
        assert!(Unit::for_role(BoxRole::Hub, kec, "x".into()).is_err());
        assert_eq!(Unit::for_role(BoxRole::Office, kec, "Mengwi".into()).unwrap().zone(), Zone::Wita);
    }
}

/// The kinds of device an office box drives (the drivers live in `simpul-hardware`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A document printer reached over IPP (receipts, rejection slips, forms).
    DocumentPrinter,
    /// A thermal ticket printer reached over ESC/POS on TCP port 9100 (queue tickets).
    TicketPrinter,
    /// A scanner reached over eSCL or SANE (requirement documents).
    Scanner,
    /// A biometric device service (photo, fingerprints, iris, signature).
    Biometric,
}

impl DeviceKind {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            DeviceKind::DocumentPrinter => "document_printer",
            DeviceKind::TicketPrinter => "ticket_printer",
            DeviceKind::Scanner => "scanner",
            DeviceKind::Biometric => "biometric",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<DeviceKind> {
        [DeviceKind::DocumentPrinter, DeviceKind::TicketPrinter, DeviceKind::Scanner, DeviceKind::Biometric]
            .into_iter()
            .find(|k| k.code() == code)
    }
}
