//! The queue (antrian): lanes, ticket numbers that are unique without coordination, the
//! lifecycle of a ticket, who is called next, and the day's statistics.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, PrimitiveDateTime};

use crate::wilayah::RegionCode;

/// Why an applicant may use the priority lane (pelayanan prioritas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityReason {
    /// Lansia: elderly (60 and over).
    Elderly,
    /// Ibu hamil atau menyusui: pregnant or nursing.
    PregnantOrNursing,
    /// Penyandang disabilitas.
    Disability,
}

impl PriorityReason {
    /// Every reason, in the order the kiosk shows them.
    pub const ALL: [PriorityReason; 3] =
        [PriorityReason::Elderly, PriorityReason::PregnantOrNursing, PriorityReason::Disability];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            PriorityReason::Elderly => "lansia",
            PriorityReason::PregnantOrNursing => "ibu_hamil_menyusui",
            PriorityReason::Disability => "disabilitas",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<PriorityReason> {
        PriorityReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The lane a ticket waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// The normal lane.
    Normal,
    /// The priority lane, with the reason given at the kiosk.
    Priority(PriorityReason),
}

impl Lane {
    /// True for the priority lane.
    pub fn is_priority(self) -> bool {
        matches!(self, Lane::Priority(_))
    }
}

/// Prefix of every priority ticket.
pub const PRIORITY_PREFIX: char = 'P';

/// A ticket number as printed and called: a letter and a three-digit number ("A-014", "P-003").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TicketNumber {
    /// Letter of the service (normal lane) or `P` (priority lane).
    pub prefix: char,
    /// Number within the day, from 1.
    pub number: u16,
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:03}", self.prefix, self.number)
    }
}

/// A text that is not a ticket number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a ticket number such as A-014")]
pub struct BadTicketNumber(pub String);

impl FromStr for TicketNumber {
    type Err = BadTicketNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadTicketNumber(s.to_string());
        let (prefix, number) = s.trim().split_once('-').ok_or_else(bad)?;
        let mut letters = prefix.chars();
        let prefix = letters.next().filter(char::is_ascii_uppercase).ok_or_else(bad)?;
        if letters.next().is_some() || number.len() < 3 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let number: u16 = number.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(TicketNumber { prefix, number })
    }
}

/// The most tickets one prefix can issue in a day.
pub const MAX_TICKETS_PER_DAY: u16 = 999;

/// The next number for `prefix`, given the highest issued today. `None` when the day is full.
pub fn next_number(prefix: char, highest_today: Option<u16>) -> Option<TicketNumber> {
    let number = highest_today.unwrap_or(0).checked_add(1).filter(|n| *n <= MAX_TICKETS_PER_DAY)?;
    Some(TicketNumber { prefix, number })
}

/// The highest number to count on after a restore, when the restored records reached
/// `highest` today: tickets issued between the backup and the restore are not in them, so
/// numbering resumes at the second hundred above (14 gives 200, so A-201 next; 0 gives 200),
/// at most leaving the day's last hundred.
pub fn restore_floor(highest: u16) -> u16 {
    let floor = (highest / 100).saturating_add(2).saturating_mul(100);
    floor.min(MAX_TICKETS_PER_DAY.saturating_sub(99)).max(highest)
}

/// The letter of a service's normal lane, from its position in the catalog: A, B, C, ...
/// skipping `P` (priority) and letters that read like digits (`I`, `O`).
pub fn service_prefix(position: usize) -> char {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNQRSTUVWXYZ";
    LETTERS[position % LETTERS.len()] as char
}

/// A ticket's id, unique across every office and day without asking anyone:
/// `510302-20261121-A014`.
pub fn ticket_id(office: RegionCode, date: Date, number: TicketNumber) -> String {
    format!(
        "{}-{:04}{:02}{:02}-{}{:03}",
        office.compact(),
        date.year(),
        u8::from(date.month()),
        date.day(),
        number.prefix,
        number.number
    )
}

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// In the waiting room.
    Waiting,
    /// Called to a counter, not yet at it.
    Called,
    /// Being served at a counter.
    Serving,
    /// Served.
    Done,
    /// Called and did not come (skipped).
    NoShow,
}

/// What a counter can do to a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketAction {
    /// Call it to the counter.
    Call,
    /// Call it again (it stays called).
    Recall,
    /// The applicant arrived: start service.
    Start,
    /// Service finished.
    Finish,
    /// Called and absent.
    Skip,
    /// Send it back to the waiting room for another counter or service, keeping its place.
    Transfer,
}

/// Who works at a counter now: the staff member who opened it, and the local day they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterHold<'a> {
    /// Staff id.
    pub staff: &'a str,
    /// Local day the counter was opened.
    pub since: Date,
}

/// A staff member asked to work a counter another holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the counter is held by another staff member")]
pub struct CounterHeld {
    /// The holder's staff id.
    pub holder: String,
}

/// Whether `actor` may work a counter (open it, call to it, serve, skip or transfer its ticket,
/// close it) held by `hold` on `today`. One person works one counter: its holder may; the
/// office head may too (to take over, or to close a counter someone left); and a counter left
/// open from an earlier day is anyone's to take.
pub fn may_work(hold: Option<CounterHold<'_>>, actor: &str, head: bool, today: Date) -> Result<(), CounterHeld> {
    match hold {
        Some(h) if h.staff != actor && !head && h.since >= today => Err(CounterHeld { holder: h.staff.to_string() }),
        _ => Ok(()),
    }
}

/// An action that the ticket's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a ticket that is {state:?} cannot be given '{action:?}'")]
pub struct IllegalTicketAction {
    /// The state.
    pub state: TicketState,
    /// The action refused.
    pub action: TicketAction,
}

impl TicketState {
    /// The state after `action`, or why not.
    pub fn apply(&self, action: TicketAction) -> Result<TicketState, IllegalTicketAction> {
        use TicketAction as A;
        use TicketState as S;
        let next = match (self, &action) {
            (S::Waiting, A::Call) => S::Called,
            (S::Called, A::Recall) => S::Called,
            (S::Called, A::Start) => S::Serving,
            (S::Called, A::Skip) => S::NoShow,
            (S::Serving, A::Finish) => S::Done,
            (S::Called | S::Serving, A::Transfer) => S::Waiting,
            // A no-show who turns up late can be called again.
            (S::NoShow, A::Call) => S::Called,
            _ => return Err(IllegalTicketAction { state: *self, action }),
        };
        Ok(next)
    }
}

/// A waiting ticket as the call policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting<K> {
    /// The caller's key for the ticket.
    pub key: K,
    /// Its lane.
    pub lane: Lane,
    /// Order of issue (earlier first); a transfer keeps it.
    pub order: u64,
    /// The service it waits for.
    pub service: String,
    /// A counter it was transferred to, if any.
    pub for_counter: Option<String>,
}

/// How calls alternate between the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPolicy {
    /// Priority tickets called in a row, at most, while normal tickets wait.
    pub max_priority_in_row: u8,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy { max_priority_in_row: 3 }
    }
}

/// The ticket `counter` should call next: tickets sent to this counter or waiting for a service
/// it serves; priority first, but not more than the policy allows in a row while normal tickets
/// wait; within a lane, earliest issued first.
pub fn next_to_call<'a, K>(
    waiting: &'a [Waiting<K>],
    counter: &str,
    serves: &dyn Fn(&str) -> bool,
    priority_in_row: u8,
    policy: CallPolicy,
) -> Option<&'a Waiting<K>> {
    let eligible = |w: &&Waiting<K>| match &w.for_counter {
        Some(c) => c == counter,
        None => serves(&w.service),
    };
    let earliest = |priority: bool| {
        waiting.iter().filter(eligible).filter(|w| w.lane.is_priority() == priority).min_by_key(|w| w.order)
    };
    let priority = earliest(true);
    let normal = earliest(false);
    match (priority, normal) {
        (Some(p), Some(_)) if priority_in_row < policy.max_priority_in_row => Some(p),
        (Some(_), Some(n)) => Some(n),
        (Some(p), None) => Some(p),
        (None, n) => n,
    }
}

/// How many of the most recent calls (newest last) were priority, counted from the end.
pub fn priority_streak(recent_lanes: &[Lane]) -> u8 {
    recent_lanes.iter().rev().take_while(|l| l.is_priority()).count().min(u8::MAX as usize) as u8
}

/// One served (or skipped) ticket for statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketTimes {
    /// Service.
    pub service: String,
    /// Counter that called it, if any.
    pub counter: Option<String>,
    /// Lane.
    pub lane: Lane,
    /// Issued at.
    pub issued: PrimitiveDateTime,
    /// First called at.
    pub called: Option<PrimitiveDateTime>,
    /// Service started at.
    pub started: Option<PrimitiveDateTime>,
    /// Service finished at.
    pub finished: Option<PrimitiveDateTime>,
}

/// Averages over a group of tickets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Tickets issued.
    pub issued: u32,
    /// Tickets served to the end.
    pub served: u32,
    /// Mean wait from issue to first call, in seconds.
    pub mean_wait_secs: Option<i64>,
    /// Mean service time from start to finish, in seconds.
    pub mean_service_secs: Option<i64>,
}

/// The day's statistics per service, per counter and per lane.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// All tickets.
    pub total: Figures,
    /// By service.
    pub by_service: BTreeMap<String, Figures>,
    /// By counter.
    pub by_counter: BTreeMap<String, Figures>,
    /// Normal lane and priority lane.
    pub by_lane: BTreeMap<String, Figures>,
}

fn figures<'a>(tickets: impl Iterator<Item = &'a TicketTimes>) -> Figures {
    let mut f = Figures::default();
    let (mut wait, mut waits, mut service, mut services) = (Duration::ZERO, 0i64, Duration::ZERO, 0i64);
    for t in tickets {
        f.issued += 1;
        if let Some(called) = t.called {
            wait += called - t.issued;
            waits += 1;
        }
        if let (Some(started), Some(finished)) = (t.started, t.finished) {
            f.served += 1;
            service += finished - started;
            services += 1;
        }
    }
    f.mean_wait_secs = (waits > 0).then(|| wait.whole_seconds() / waits);
    f.mean_service_secs = (services > 0).then(|| service.whole_seconds() / services);
    f
}

impl QueueStats {
    /// Computes the statistics of a set of tickets.
    pub fn of(tickets: &[TicketTimes]) -> QueueStats {
        let mut stats = QueueStats { total: figures(tickets.iter()), ..QueueStats::default() };
        let mut services: Vec<&str> = tickets.iter().map(|t| t.service.as_str()).collect();
        services.sort();
        services.dedup();
        for s in services {
            stats.by_service.insert(s.to_string(), figures(tickets.iter().filter(|t| t.service == s)));
        }
        let mut counters: Vec<&str> = tickets.iter().filter_map(|t| t.counter.as_deref()).collect();
        counters.sort();
        counters.dedup();
        for c in counters {
            stats.by_counter.insert(c.to_string(), figures(tickets.iter().filter(|t| t.counter.as_deref() == Some(c))));
        }
        for (name, priority) in [("normal", false), ("priority", true)] {
            let f = figures(tickets.iter().filter(|t| t.lane.is_priority() == priority));
            if f.issued > 0 {
                stats.by_lane.insert(name.to_string(), f);
            }
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_person_works_a_counter_the_head_may_take_over_and_yesterdays_is_free() {
        let today = time::macros::date!(2026 - 11 - 23);
        let hold = Some(CounterHold { staff: "ani", since: today });
        assert_eq!(may_work(hold, "ani", false, today), Ok(()));
        assert_eq!(may_work(hold, "budi", false, today), Err(CounterHeld { holder: "ani".into() }));
        assert_eq!(may_work(hold, "kepala", true, today), Ok(()));
        assert_eq!(may_work(None, "budi", false, today), Ok(()), "a closed counter is anyone's");
        let left = Some(CounterHold { staff: "ani", since: today.previous_day().unwrap() });
        assert_eq!(may_work(left, "budi", false, today), Ok(()), "left open yesterday");
    }

    use proptest::prelude::*;
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn ticket_numbers_and_ids() {
        let n = TicketNumber { prefix: 'A', number: 14 };
        assert_eq!(n.to_string(), "A-014");
        assert_eq!("A-014".parse::<TicketNumber>().unwrap(), n);
        assert_eq!("P-003".parse::<TicketNumber>().unwrap(), TicketNumber { prefix: 'P', number: 3 });
        for bad in ["", "A14", "a-014", "AB-014", "A-14", "A-000", "A-0x4"] {
            assert!(bad.parse::<TicketNumber>().is_err(), "{bad}");
        }
        assert_eq!(next_number('A', None), Some(TicketNumber { prefix: 'A', number: 1 }));
        assert_eq!(next_number('A', Some(998)).map(|n| n.number), Some(999));
        assert_eq!(next_number('A', Some(999)), None);
        let office: RegionCode = "51.03.02".parse().unwrap();
        assert_eq!(ticket_id(office, date!(2026 - 11 - 21), n), "510302-20261121-A014");
        assert_eq!(service_prefix(0), 'A');
        assert_ne!(service_prefix(14), 'P');
    }

    #[test]
    fn numbering_after_a_restore_resumes_above_what_anyone_can_hold() {
        assert_eq!(restore_floor(0), 200);
        assert_eq!(restore_floor(14), 200);
        assert_eq!(restore_floor(199), 300);
        assert_eq!(restore_floor(850), 900);
        assert_eq!(restore_floor(950), 950);
        assert_eq!(restore_floor(999), 999);
    }

    #[test]
    fn ticket_lifecycle() {
        use TicketAction::*;
        let s = TicketState::Waiting.apply(Call).unwrap();
        assert_eq!(s, TicketState::Called);
        assert_eq!(s.apply(Recall).unwrap(), TicketState::Called);
        let serving = s.apply(Start).unwrap();
        assert_eq!(serving.apply(Finish).unwrap(), TicketState::Done);
        assert_eq!(serving.apply(Transfer).unwrap(), TicketState::Waiting);
        assert!(TicketState::Waiting.apply(Finish).is_err());
        assert!(TicketState::Done.apply(Call).is_err());
        assert_eq!(TicketState::Called.apply(Skip).unwrap(), TicketState::NoShow);
        assert_eq!(TicketState::NoShow.apply(Call).unwrap(), TicketState::Called);
    }

    fn w(key: u32, priority: bool, order: u64, service: &str) -> Waiting<u32> {
        let lane = if priority { Lane::Priority(PriorityReason::Elderly) } else { Lane::Normal };
        Waiting { key, lane, order, service: service.into(), for_counter: None }
    }

    #[test]
    fn priority_first_but_not_forever() {
        let policy = CallPolicy { max_priority_in_row: 2 };
        let all = |_: &str| true;
        let queue = vec![w(1, false, 1, "ktp"), w(2, true, 2, "ktp"), w(3, true, 3, "ktp")];
        assert_eq!(next_to_call(&queue, "L1", &all, 0, policy).unwrap().key, 2);
        assert_eq!(next_to_call(&queue, "L1", &all, 1, policy).unwrap().key, 2);
        // Two priority calls in a row while a normal ticket waits: now the normal one.
        assert_eq!(next_to_call(&queue, "L1", &all, 2, policy).unwrap().key, 1);
        // Without normal tickets waiting, priority goes on.
        let only_priority = vec![w(2, true, 2, "ktp")];
        assert_eq!(next_to_call(&only_priority, "L1", &all, 9, policy).unwrap().key, 2);
        assert!(next_to_call::<u32>(&[], "L1", &all, 0, policy).is_none());
        assert_eq!(
            priority_streak(&[
                Lane::Normal,
                Lane::Priority(PriorityReason::Disability),
                Lane::Priority(PriorityReason::Elderly)
            ]),
            2
        );
    }

    #[test]
    fn counters_call_their_services_and_their_transfers() {
        let policy = CallPolicy::default();
        let legal_only = |s: &str| s == "legalisir";
        let mut queue = vec![w(1, false, 1, "ktp"), w(2, false, 2, "legalisir")];
        assert_eq!(next_to_call(&queue, "L2", &legal_only, 0, policy).unwrap().key, 2);
        queue[0].for_counter = Some("L2".into());
        assert_eq!(next_to_call(&queue, "L2", &legal_only, 0, policy).unwrap().key, 1, "transferred here, earlier");
        assert_eq!(next_to_call(&queue, "L1", &|_| true, 0, policy).unwrap().key, 2, "not for L1 any more");
    }

    #[test]
    fn statistics() {
        let t = |service: &str, counter: &str, lane: Lane, issued, called, started, finished| TicketTimes {
            service: service.into(),
            counter: Some(counter.into()),
            lane,
            issued,
            called: Some(called),
            started: Some(started),
            finished: Some(finished),
        };
        let tickets = vec![
            t(
                "ktp",
                "L1",
                Lane::Normal,
                datetime!(2026-11-23 08:00),
                datetime!(2026-11-23 08:10),
                datetime!(2026-11-23 08:11),
                datetime!(2026-11-23 08:21),
            ),
            t(
                "ktp",
                "L2",
                Lane::Priority(PriorityReason::Elderly),
                datetime!(2026-11-23 08:05),
                datetime!(2026-11-23 08:07),
                datetime!(2026-11-23 08:08),
                datetime!(2026-11-23 08:28),
            ),
        ];
        let stats = QueueStats::of(&tickets);
        assert_eq!(stats.total.issued, 2);
        assert_eq!(stats.total.mean_wait_secs, Some(360));
        assert_eq!(stats.total.mean_service_secs, Some(900));
        assert_eq!(stats.by_counter["L2"].mean_wait_secs, Some(120));
        assert_eq!(stats.by_lane["priority"].served, 1);
        assert_eq!(stats.by_service["ktp"].served, 2);
    }

    proptest! {
        /// Whatever the queue, the pick is eligible, and it is the earliest of its lane.
        #[test]
        fn the_pick_is_always_fair(
            tickets in proptest::collection::vec((any::<bool>(), 0u64..1000, 0usize..3), 0..30),
            streak in 0u8..6,
            max in 1u8..4,
        ) {
            let services = ["ktp", "kk", "legalisir"];
            let queue: Vec<Waiting<usize>> = tickets.iter().enumerate()
                .map(|(i, (p, order, s))| w(i as u32, *p, *order, services[*s])).map(|t| Waiting { key: t.key as usize, lane: t.lane, order: t.order, service: t.service, for_counter: None })
                .collect();
            let serves = |s: &str| s != "kk";
            let policy = CallPolicy { max_priority_in_row: max };
            match next_to_call(&queue, "L1", &serves, streak, policy) {
                None => prop_assert!(queue.iter().all(|t| !serves(&t.service))),
                Some(pick) => {
                    prop_assert!(serves(&pick.service));
                    let same_lane_earlier = queue.iter().any(|t| serves(&t.service) && t.lane.is_priority() == pick.lane.is_priority() && t.order < pick.order);
                    prop_assert!(!same_lane_earlier);
                    let normal_waiting = queue.iter().any(|t| serves(&t.service) && !t.lane.is_priority());
                    if pick.lane.is_priority() && normal_waiting {
                        prop_assert!(streak < max);
                    }
                }
            }
        }
    }
}
