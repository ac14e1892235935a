//! Indonesia's three time zones. Offices show local time; the zone follows the province.

use serde::{Deserialize, Serialize};
use time::UtcOffset;

/// Waktu Indonesia Barat / Tengah / Timur. None of them observes daylight saving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Zone {
    /// WIB, UTC+7: Sumatra, Java, West and Central Kalimantan.
    Wib,
    /// WITA, UTC+8: Bali, Nusa Tenggara, South/East/North Kalimantan, Sulawesi.
    Wita,
    /// WIT, UTC+9: Maluku and Papua.
    Wit,
}

impl Zone {
    /// The zone of a province by its Kemendagri code.
    pub fn for_province(province: u8) -> Zone {
        match province {
            51..=53 | 63..=65 | 71..=76 => Zone::Wita,
            81..=99 => Zone::Wit,
            _ => Zone::Wib,
        }
    }

    /// Offset from UTC.
    pub fn offset(self) -> UtcOffset {
        let hours = match self {
            Zone::Wib => 7,
            Zone::Wita => 8,
            Zone::Wit => 9,
        };
        UtcOffset::from_hms(hours, 0, 0).expect("static offset")
    }

    /// The abbreviation shown after a time ("14:05 WITA").
    pub fn abbreviation(self) -> &'static str {
        match self {
            Zone::Wib => "WIB",
            Zone::Wita => "WITA",
            Zone::Wit => "WIT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provinces_map_to_their_zone() {
        for (province, zone) in [
            (11, Zone::Wib),
            (31, Zone::Wib),
            (36, Zone::Wib),
            (51, Zone::Wita),
            (53, Zone::Wita),
            (61, Zone::Wib),
            (62, Zone::Wib),
            (63, Zone::Wita),
            (65, Zone::Wita),
            (73, Zone::Wita),
            (76, Zone::Wita),
            (81, Zone::Wit),
            (96, Zone::Wit),
        ] {
            assert_eq!(Zone::for_province(province), zone, "province {province}");
        }
        assert_eq!(Zone::Wita.offset().whole_hours(), 8);
    }
}
