//! The application (permohonan): the lifecycle every service follows, chosen by the service
//! kind, and the transitions it allows. Illegal transitions are refused with a reason; every
//! transition is recorded with who, when (device time) and where.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::catalog::ServiceKind;
use crate::wilayah::RegionCode;

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being taken at the counter.
    Draft,
    /// Complete from the counter's side; waiting for the verifier.
    Submitted,
    /// Returned as incomplete, with written reasons.
    Returned,
    /// Verified complete.
    Verified,
    /// Photo, signature, fingerprints and iris recorded.
    BiometricsRecorded,
    /// Sent to the national centre for the uniqueness check (the SLA clock stops).
    SentForIdentification,
    /// The centre found a possible double: clarification needed.
    Clarification,
    /// Single identification: the card may be personalised.
    ReadyToPrint,
    /// The product is ready for the applicant.
    Ready,
    /// Handed over: done.
    HandedOver,
    /// Cancelled, with a reason.
    Cancelled,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 11] = [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Verified,
        Status::BiometricsRecorded,
        Status::SentForIdentification,
        Status::Clarification,
        Status::ReadyToPrint,
        Status::Ready,
        Status::HandedOver,
        Status::Cancelled,
    ];

    /// Stable code for storage and projections.
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Returned => "returned",
            Status::Verified => "verified",
            Status::BiometricsRecorded => "biometrics_recorded",
            Status::SentForIdentification => "sent_for_identification",
            Status::Clarification => "clarification",
            Status::ReadyToPrint => "ready_to_print",
            Status::Ready => "ready",
            Status::HandedOver => "handed_over",
            Status::Cancelled => "cancelled",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Finished one way or the other.
    pub fn is_final(self) -> bool {
        matches!(self, Status::HandedOver | Status::Cancelled)
    }

    /// The SLA clock stands still: waiting on the centre, or on the applicant (the file was
    /// returned for something missing; the office cannot go on until it comes back).
    pub fn pauses_sla(self) -> bool {
        matches!(self, Status::SentForIdentification | Status::Clarification | Status::Returned)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What can be done to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The counter hands the file to verification.
    Submit,
    /// The verifier returns it as incomplete.
    Return,
    /// The counter submits it again after completing it.
    Resubmit,
    /// The verifier declares it complete.
    Verify,
    /// Biometrics recorded.
    RecordBiometrics,
    /// Sent to the centre.
    SendForIdentification,
    /// The centre: single identification.
    IdentifiedSingle,
    /// The centre: double identification.
    IdentifiedDouble,
    /// Clarification done; sent again.
    ResolveClarification,
    /// Card printed, copy stamped, IKD activated: the product exists.
    Produce,
    /// Given to the applicant or a verified proxy.
    HandOver,
    /// Stopped, with a reason.
    Cancel,
}

impl Action {
    /// Every action, in lifecycle order.
    pub const ALL: [Action; 12] = [
        Action::Submit,
        Action::Return,
        Action::Resubmit,
        Action::Verify,
        Action::RecordBiometrics,
        Action::SendForIdentification,
        Action::IdentifiedSingle,
        Action::IdentifiedDouble,
        Action::ResolveClarification,
        Action::Produce,
        Action::HandOver,
        Action::Cancel,
    ];

    /// What a role must be allowed to take this step.
    pub fn permission(self) -> crate::auth::Permission {
        use crate::auth::Permission as P;
        match self {
            Action::Submit | Action::Resubmit | Action::RecordBiometrics | Action::Produce | Action::Cancel => {
                P::TakeApplications
            }
            Action::Return | Action::Verify => P::Verify,
            Action::SendForIdentification
            | Action::IdentifiedSingle
            | Action::IdentifiedDouble
            | Action::ResolveClarification => P::RecordCentralSteps,
            Action::HandOver => P::HandOver,
        }
    }
}

/// What the lifecycle of a service kind includes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// Biometrics are recorded at the office.
    pub biometrics: bool,
    /// The record goes to the centre for the uniqueness check.
    pub identification: bool,
}

impl Lifecycle {
    /// The lifecycle of a service kind.
    pub fn of(kind: ServiceKind) -> Lifecycle {
        match kind {
            ServiceKind::KtpElForeignNew | ServiceKind::KtpElNew => {
                Lifecycle { biometrics: true, identification: true }
            }
            ServiceKind::KtpElReissue
            | ServiceKind::KtpElReplacement
            | ServiceKind::Legalisation
            | ServiceKind::IkdActivation
            | ServiceKind::Other => Lifecycle { biometrics: false, identification: false },
        }
    }
}

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an application that is {from} cannot be given '{action:?}' ({why})")]
pub struct IllegalTransition {
    /// Current status.
    pub from: Status,
    /// Action refused.
    pub action: Action,
    /// Why, in plain words.
    pub why: &'static str,
}

/// The status after `action` for a service of `kind`, or why not.
pub fn transition(kind: ServiceKind, from: Status, action: Action) -> Result<Status, IllegalTransition> {
    use Action as A;
    use Status as S;
    let life = Lifecycle::of(kind);
    let refuse = |why| Err(IllegalTransition { from, action, why });
    if from.is_final() {
        return refuse("it is already closed");
    }
    match (from, action) {
        (_, A::Cancel) => Ok(S::Cancelled),
        (S::Draft, A::Submit) => Ok(S::Submitted),
        (S::Submitted, A::Return) => Ok(S::Returned),
        (S::Returned, A::Resubmit) => Ok(S::Submitted),
        (S::Submitted, A::Verify) => Ok(S::Verified),
        (S::Verified, A::RecordBiometrics) if life.biometrics => Ok(S::BiometricsRecorded),
        (S::Verified, A::RecordBiometrics) => refuse("this service records no biometrics"),
        (S::BiometricsRecorded, A::SendForIdentification) if life.identification => Ok(S::SentForIdentification),
        (S::Verified, A::SendForIdentification) if life.biometrics => refuse("biometrics must be recorded first"),
        (S::SentForIdentification, A::IdentifiedSingle) => Ok(S::ReadyToPrint),
        (S::SentForIdentification, A::IdentifiedDouble) => Ok(S::Clarification),
        (S::Clarification, A::ResolveClarification) => Ok(S::SentForIdentification),
        (S::ReadyToPrint, A::Produce) => Ok(S::Ready),
        (S::Verified, A::Produce) if !life.biometrics && !life.identification => Ok(S::Ready),
        (S::Verified, A::Produce) => refuse("the centre must identify the record first"),
        (S::Ready, A::HandOver) => Ok(S::HandedOver),
        (S::Draft | S::Returned, A::Verify) => refuse("it must be submitted first"),
        (S::Draft | S::Submitted | S::Returned, A::HandOver) => refuse("nothing has been produced yet"),
        _ => refuse("this step does not follow from the current one"),
    }
}

/// The actions available from a status for a kind (for buttons and checks).
pub fn available(kind: ServiceKind, from: Status) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| transition(kind, from, *a).is_ok()).collect()
}

/// One recorded step: who did what, when by their device's clock, at which office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// The action.
    pub action: Action,
    /// Staff account id.
    pub by: String,
    /// Device time of the step.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Office where it happened.
    pub office: RegionCode,
    /// Reason or note, when the action needs one.
    pub note: Option<String>,
}

/// An application number: office, date and a daily sequence, unique without coordination
/// (`510302-20261121-0007`).
pub fn application_number(office: RegionCode, date: Date, sequence: u32) -> String {
    format!("{}-{:04}{:02}{:02}-{:04}", office.compact(), date.year(), u8::from(date.month()), date.day(), sequence)
}

/// Stations an office's boxes are numbered in (the hub gives a box the lowest station no other
/// box of its office holds when it enrolls; a box that was never enrolled is station 1).
pub const STATIONS: u32 = 9;

/// The sequence part of an application number for the `n`-th application of the day (from 1)
/// on `station`: each station numbers in its own block, so that two boxes of one office (or a
/// box reinstalled the same day, which enrolls again and gets another station) never give out
/// the same number without talking to each other. Station `s` uses `(s-1)*1000 + n` for its
/// first 999 a day, then `s*10000 + n`. Stations past [`STATIONS`] wrap around.
pub fn station_sequence(station: u32, n: u32) -> u32 {
    let s = station_block(station);
    if n <= 999 { (s - 1) * 1000 + n } else { s * 10_000 + n }
}

/// The numbering block a station gives out numbers in (no station is station 1; stations past
/// [`STATIONS`] wrap around).
pub fn station_block(station: u32) -> u32 {
    (station.max(1) - 1) % STATIONS + 1
}

/// The station and the day's count (from 1) behind a sequence [`station_sequence`] made;
/// `None` for a sequence it cannot make.
pub fn sequence_parts(sequence: u32) -> Option<(u32, u32)> {
    let (station, n) = if sequence >= 10_000 {
        (sequence / 10_000, sequence % 10_000)
    } else {
        (sequence / 1000 + 1, sequence % 1000)
    };
    let fits = if sequence >= 10_000 { n >= 1000 } else { n >= 1 };
    (fits && (1..=STATIONS).contains(&station)).then_some((station, n))
}

/// The day and sequence of an application number made by [`application_number`].
pub fn number_parts(number: &str) -> Option<(Date, u32)> {
    let mut parts = number.rsplitn(3, '-');
    let sequence = parts.next()?;
    let day = parts.next()?;
    parts.next()?;
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) || !sequence.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = day[..4].parse().ok()?;
    let month: u8 = day[4..6].parse().ok()?;
    let date = Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day[6..].parse().ok()?).ok()?;
    Some((date, sequence.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn walk(kind: ServiceKind, actions: &[Action]) -> Result<Status, IllegalTransition> {
        actions.iter().try_fold(Status::Draft, |s, a| transition(kind, s, *a))
    }

    #[test]
    fn a_verifier_verifies_and_a_counter_does_not() {
        use crate::auth::Role;
        assert!(Role::Verifikator.allows(Action::Verify.permission()));
        assert!(!Role::Petugas.allows(Action::Verify.permission()));
        assert!(!Role::Petugas.allows(Action::Return.permission()));
        assert!(Role::Petugas.allows(Action::HandOver.permission()));
        assert!(!Role::Verifikator.allows(Action::HandOver.permission()));
        assert!(!Role::Petugas.allows(Action::IdentifiedDouble.permission()));
        assert!(Role::Kepala.allows(Action::IdentifiedSingle.permission()));
    }

    #[test]
    fn a_foreign_resident_ktp_goes_through_the_centre() {
        use Action::*;
        let path = [Submit, Return, Resubmit, Verify, RecordBiometrics, SendForIdentification, IdentifiedDouble];
        assert_eq!(walk(ServiceKind::KtpElForeignNew, &path), Ok(Status::Clarification));
        let path = [Submit, Verify, RecordBiometrics, SendForIdentification, IdentifiedSingle, Produce, HandOver];
        assert_eq!(walk(ServiceKind::KtpElForeignNew, &path), Ok(Status::HandedOver));
        let skip = [Submit, Verify, Produce];
        assert_eq!(
            walk(ServiceKind::KtpElForeignNew, &skip).unwrap_err().why,
            "the centre must identify the record first"
        );
        let no_bio = [Submit, Verify, SendForIdentification];
        assert_eq!(walk(ServiceKind::KtpElForeignNew, &no_bio).unwrap_err().why, "biometrics must be recorded first");
    }

    #[test]
    fn legalisation_and_reissue_skip_the_centre() {
        use Action::*;
        for kind in [ServiceKind::Legalisation, ServiceKind::KtpElReissue, ServiceKind::IkdActivation] {
            assert_eq!(walk(kind, &[Submit, Verify, Produce, HandOver]), Ok(Status::HandedOver), "{kind:?}");
            assert!(walk(kind, &[Submit, Verify, RecordBiometrics]).is_err());
        }
    }

    #[test]
    fn closed_applications_stay_closed() {
        use Action::*;
        assert_eq!(walk(ServiceKind::Other, &[Cancel]), Ok(Status::Cancelled));
        let e = walk(ServiceKind::Other, &[Cancel, Submit]).unwrap_err();
        assert_eq!(e.why, "it is already closed");
        assert!(available(ServiceKind::Other, Status::HandedOver).is_empty());
        assert_eq!(available(ServiceKind::Other, Status::Draft), vec![Submit, Cancel]);
        assert_eq!(walk(ServiceKind::Other, &[HandOver]).unwrap_err().why, "nothing has been produced yet");
    }

    #[test]
    fn stations_never_share_a_number() {
        let mut seen = std::collections::HashSet::new();
        for station in 1..=STATIONS {
            for n in 1..=9_000 {
                assert!(seen.insert(station_sequence(station, n)), "station {station}, n {n}");
            }
        }
        assert_eq!(station_sequence(1, 7), 7);
        assert_eq!(station_sequence(2, 7), 1007);
        assert_eq!(station_sequence(0, 7), 7, "no station is station 1");
        assert_eq!(station_sequence(STATIONS + 2, 7), 1007, "past the last station, around again");
    }

    proptest! {
        #[test]
        fn a_sequence_gives_back_its_station_and_count(station in 1..=STATIONS, n in 1u32..=9_999) {
            prop_assert_eq!(sequence_parts(station_sequence(station, n)), Some((station, n)));
        }

        #[test]
        fn a_number_gives_back_its_day_and_sequence(day in 0i64..3650, sequence in 1u32..99_999) {
            let date = time::macros::date!(2024 - 01 - 01) + time::Duration::days(day);
            let office: RegionCode = "51.03.02".parse().unwrap();
            prop_assert_eq!(number_parts(&application_number(office, date, sequence)), Some((date, sequence)));
        }
    }

    #[test]
    fn numbers_that_are_not_ours_give_nothing() {
        assert_eq!(sequence_parts(0), None);
        assert_eq!(sequence_parts(10_500), None, "a count under 1000 is never in the upper block");
        assert_eq!(number_parts("510302-20261341-0001"), None);
        assert_eq!(number_parts("20261121-0001"), None);
        assert_eq!(number_parts("510302-20261121-00x1"), None);
    }

    #[test]
    fn numbers_embed_office_and_date() {
        let office: RegionCode = "51.03.02".parse().unwrap();
        assert_eq!(application_number(office, time::macros::date!(2026 - 11 - 21), 7), "510302-20261121-0007");
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }

    fn any_action() -> impl Strategy<Value = Action> {
        prop::sample::select(Action::ALL.to_vec())
    }

    proptest! {
        /// Whatever is attempted, an application is handed over only after being produced, never
        /// leaves a final status, and reaches "ready" only through verification.
        #[test]
        fn no_sequence_breaks_the_lifecycle(
            kind in prop::sample::select(ServiceKind::ALL.to_vec()),
            actions in proptest::collection::vec(any_action(), 0..40),
        ) {
            let mut status = Status::Draft;
            let mut verified = false;
            for action in actions {
                match transition(kind, status, action) {
                    Ok(next) => {
                        prop_assert!(!status.is_final());
                        if next == Status::HandedOver { prop_assert_eq!(status, Status::Ready); }
                        if next == Status::Verified { verified = true; }
                        if next == Status::Ready { prop_assert!(verified); }
                        status = next;
                    }
                    Err(e) => prop_assert_eq!(e.from, status),
                }
            }
        }
    }
}
