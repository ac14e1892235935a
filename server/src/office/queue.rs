//! The day's queue at this office: tickets from the kiosk, counters that call them, the
//! waiting-room display and the statistics. Local to the box (not replicated). Every action runs
//! in one transaction on the single database connection, so two counters calling at the same
//! moment get two different tickets. The rules are `simpul_domain::queue`'s; the rows are
//! `simpul_store::queue`'s.

use simpul_domain::queue::{
    self, CallPolicy, Lane, PRIORITY_PREFIX, QueueStats, TicketAction, TicketNumber, TicketState,
};
use simpul_domain::wilayah::RegionCode;
use simpul_domain::zone::Zone;
use simpul_store::queue::{self as rows, Counter, NewTicket, Stage, Ticket};
use simpul_store::{Connection, StoreError, catalog, staff};
use time::{Date, OffsetDateTime};

/// Why a queue action was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No such ticket today.
    #[error("ticket not found")]
    NoTicket,
    /// No such counter.
    #[error("counter not found")]
    NoCounter,
    /// The counter is closed.
    #[error("the counter is closed")]
    CounterClosed,
    /// No such service.
    #[error("service not found")]
    UnknownService,
    /// Nobody is waiting for this counter.
    #[error("nobody is waiting")]
    Empty,
    /// The day's numbers for this lane are used up.
    #[error("no more numbers today")]
    DayFull,
    /// The ticket's state does not allow it.
    #[error(transparent)]
    Illegal(#[from] queue::IllegalTicketAction),
    /// The counter already has a ticket called or in service.
    #[error("finish or transfer the current ticket first")]
    Busy,
    /// Another staff member works at this counter (their name).
    #[error("another staff member works at this counter")]
    HeldBy(String),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn local(at: OffsetDateTime, zone: Zone) -> OffsetDateTime {
    at.to_offset(zone.offset())
}

/// The letter of a service's normal lane (its position in the catalog order) and its title.
fn service_prefix(conn: &Connection, service_id: &str) -> Result<(char, String), QueueError> {
    let entries = catalog::list(conn)?;
    let position = entries.iter().position(|e| e.id == service_id).ok_or(QueueError::UnknownService)?;
    Ok((queue::service_prefix(position), entries[position].standard.title.clone()))
}

/// One ticket by id.
pub fn ticket(conn: &Connection, id: &str) -> Result<Ticket, QueueError> {
    rows::ticket(conn, id)?.ok_or(QueueError::NoTicket)
}

/// Issues a ticket, pending until its print is confirmed. A retry with the same client id
/// returns the same ticket.
pub fn issue(
    conn: &Connection,
    office: RegionCode,
    service_id: &str,
    lane: Lane,
    client_id: &str,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<Ticket, QueueError> {
    if let Some(id) = rows::by_client_id(conn, client_id)? {
        return ticket(conn, &id);
    }
    let (service_letter, _) = service_prefix(conn, service_id)?;
    let prefix = if lane.is_priority() { PRIORITY_PREFIX } else { service_letter };
    let at = local(at, zone);
    let day = at.date();
    // A kiosk that never said whether its ticket printed (it crashed, lost power) leaves the
    // ticket unissued; after a while it is void, so it never turns up later in the queue.
    rows::void_unconfirmed(conn, day, at - PRINT_CONFIRM_WINDOW)?;
    let highest = rows::highest_with_prefix(conn, day, prefix)?;
    let number = queue::next_number(prefix, highest).ok_or(QueueError::DayFull)?;
    let id = queue::ticket_id(office, day, number);
    rows::insert(conn, &NewTicket { id: &id, day, number, lane, service_id, issued_at: at, client_id })?;
    ticket(conn, &id)
}

/// After a restore on `day`: the next ticket of every lane is numbered above anything issued
/// that day before the restore could have reached, the highest number known (to the restored
/// database, or `seen_elsewhere`: the one it replaces, when that still reads) rounded up to the
/// next hundred and one more hundred (A-014 then A-201), at most leaving the last hundred of
/// the day.
pub fn skip_ahead_after_restore(conn: &Connection, day: Date, seen_elsewhere: Option<u16>) -> Result<u16, StoreError> {
    let highest = rows::highest_today(conn, day)?.unwrap_or(0).max(seen_elsewhere.unwrap_or(0));
    let floor = queue::restore_floor(highest);
    rows::raise_floor(conn, day, floor)?;
    Ok(floor)
}

/// How long a kiosk has to say whether a ticket printed before the ticket is void.
pub const PRINT_CONFIRM_WINDOW: time::Duration = time::Duration::minutes(10);

/// The print succeeded: the ticket joins the queue. Printing failed: it is void and never
/// counted as issued.
pub fn printed(conn: &Connection, id: &str, ok: bool) -> Result<Ticket, QueueError> {
    match rows::stage(conn, id)? {
        None => return Err(QueueError::NoTicket),
        Some(Stage::PendingPrint) => {
            rows::set_stage(conn, id, if ok { Stage::Issued(TicketState::Waiting) } else { Stage::Void })?;
        }
        // A ticket that lapsed while its kiosk was silent did print after all: the applicant
        // holds it, so it joins the queue (at its place by issue time).
        Some(Stage::Void) if ok => rows::set_stage(conn, id, Stage::Issued(TicketState::Waiting))?,
        // Confirming twice is harmless.
        Some(_) => {}
    }
    ticket(conn, id)
}

/// Who acts at a counter.
#[derive(Debug, Clone, Copy)]
pub struct Worker<'a> {
    /// Staff id.
    pub id: &'a str,
    /// The office head, who may take over or close any counter.
    pub head: bool,
}

/// Refuses `by` at a counter another staff member works today (see
/// [`simpul_domain::queue::may_work`]).
fn check_hold(
    conn: &Connection,
    counter_id: &str,
    by: Worker<'_>,
    opening: bool,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<(), QueueError> {
    let c = counter(conn, counter_id)?;
    let since = c.opened_at.map(|t| local(t, zone).date());
    let today = local(at, zone).date();
    // Left open from an earlier day: whoever works it first today takes it, so that from then
    // on it is theirs alone.
    if c.open && !opening && since.is_none_or(|d| d < today) {
        rows::take_over_counter(conn, counter_id, by.id, at)?;
        return Ok(());
    }
    let hold = match (c.open, c.staff_id.as_deref(), since) {
        (true, Some(staff), Some(since)) => Some(queue::CounterHold { staff, since }),
        _ => None,
    };
    queue::may_work(hold, by.id, by.head, today).map_err(|held| {
        let name = staff::by_id(conn, &held.holder).ok().flatten().map(|a| a.display_name);
        QueueError::HeldBy(name.unwrap_or(held.holder))
    })
}

/// Opens (with `by` at it) or closes a counter.
pub fn open_counter(
    conn: &Connection,
    id: &str,
    by: Worker<'_>,
    open: bool,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<(), QueueError> {
    check_hold(conn, id, by, true, at, zone)?;
    rows::set_counter_open(conn, id, open.then_some(by.id), at)?;
    Ok(())
}

fn counter(conn: &Connection, id: &str) -> Result<Counter, QueueError> {
    rows::counter(conn, id)?.ok_or(QueueError::NoCounter)
}

/// The counter, open and with no ticket called or in service, and the local day.
fn free_counter(
    conn: &Connection,
    counter_id: &str,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<(Counter, Date), QueueError> {
    let c = counter(conn, counter_id)?;
    if !c.open {
        return Err(QueueError::CounterClosed);
    }
    let day = local(at, zone).date();
    if rows::current(conn, counter_id, day)?.is_some() {
        return Err(QueueError::Busy);
    }
    Ok((c, day))
}

/// Calls the next ticket to `counter_id` by the call policy.
pub fn call_next(
    conn: &Connection,
    counter_id: &str,
    by: Worker<'_>,
    policy: CallPolicy,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<Ticket, QueueError> {
    let (c, day) = free_counter(conn, counter_id, at, zone)?;
    check_hold(conn, counter_id, by, false, at, zone)?;
    let waiting = rows::waiting_to_call(conn, day)?;
    let streak = queue::priority_streak(&rows::recent_lanes(conn, counter_id, day)?);
    let serves = |s: &str| c.services.is_empty() || c.services.iter().any(|x| x == s);
    let pick = queue::next_to_call(&waiting, counter_id, &serves, streak, policy).ok_or(QueueError::Empty)?;
    let at = local(at, zone);
    rows::mark_called(conn, &pick.key, counter_id, at)?;
    rows::log_call(conn, &pick.key, counter_id, pick.lane, at)?;
    ticket(conn, &pick.key)
}

/// Recall, start, finish, skip or transfer the ticket at a counter.
pub fn act(
    conn: &Connection,
    ticket_id: &str,
    by: Worker<'_>,
    action: TicketAction,
    transfer_to: Option<(&str, Option<&str>)>,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<Ticket, QueueError> {
    let place = rows::place(conn, ticket_id)?.ok_or(QueueError::NoTicket)?;
    // A ticket at a counter is served by whoever works that counter.
    if let Some(counter) = &place.counter {
        check_hold(conn, counter, by, false, at, zone)?;
    }
    let Stage::Issued(state) = place.stage else { return Err(QueueError::NoTicket) };
    let next = state.apply(action.clone())?;
    let at = local(at, zone);
    match action {
        TicketAction::Recall => {
            rows::count_recall(conn, ticket_id)?;
            let counter = place.counter.as_deref().unwrap_or_default();
            rows::log_call(conn, ticket_id, counter, place.lane, at)?;
        }
        TicketAction::Start => rows::mark_started(conn, ticket_id, next, at)?,
        TicketAction::Finish => rows::mark_finished(conn, ticket_id, next, at)?,
        TicketAction::Skip => rows::set_stage(conn, ticket_id, Stage::Issued(next))?,
        TicketAction::Transfer => {
            let (to_counter, to_service) = transfer_to.unwrap_or(("", None));
            if !to_counter.is_empty() {
                counter(conn, to_counter)?;
            }
            if let Some(service) = to_service {
                catalog::get(conn, service)?.ok_or(QueueError::UnknownService)?;
            }
            rows::transfer(conn, ticket_id, (!to_counter.is_empty()).then_some(to_counter), to_service)?;
        }
        TicketAction::Call => return Err(QueueError::Illegal(queue::IllegalTicketAction { state, action })),
    }
    ticket(conn, ticket_id)
}

/// What the waiting-room display shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayState {
    /// Per open counter: counter name and the number called or served there.
    pub serving: Vec<(String, Option<TicketNumber>)>,
    /// The last calls, newest first: (number, counter name).
    pub last_called: Vec<(TicketNumber, String)>,
    /// How many wait, by lane: (normal, priority).
    pub waiting: (u32, u32),
    /// Increases with every call and recall, so the display knows when to chime.
    pub call_seq: i64,
}

/// The display's state now.
pub fn display(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<DisplayState, QueueError> {
    let day = local(at, zone).date();
    let counters = rows::counters(conn)?;
    let name_of = |id: &str| counters.iter().find(|c| c.id == id).map_or(id.to_string(), |c| c.name.clone());
    let mut state = DisplayState::default();
    for c in counters.iter().filter(|c| c.open) {
        let current = rows::current(conn, &c.id, day)?.map(|t| t.number);
        state.serving.push((c.name.clone(), current));
    }
    state.last_called =
        rows::last_calls(conn, day, 6)?.into_iter().map(|(number, counter)| (number, name_of(&counter))).collect();
    state.waiting = rows::waiting_counts(conn, day)?;
    state.call_seq = rows::call_sequence(conn)?;
    Ok(state)
}

/// Waiting tickets of the day, in call order for a counter serving everything.
pub fn waiting(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<Vec<Ticket>, QueueError> {
    Ok(rows::in_stage(conn, local(at, zone).date(), Stage::Issued(TicketState::Waiting))?)
}

/// Today's tickets that were called and did not come, in the order they were issued.
pub fn no_shows(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<Vec<Ticket>, QueueError> {
    Ok(rows::in_stage(conn, local(at, zone).date(), Stage::Issued(TicketState::NoShow))?)
}

/// Calls a ticket that did not come when called (skipped) again, to `counter_id`: the
/// applicant turned up later the same day. The call shows on the display and chimes like any
/// other.
pub fn call_again(
    conn: &Connection,
    ticket_id: &str,
    counter_id: &str,
    by: Worker<'_>,
    at: OffsetDateTime,
    zone: Zone,
) -> Result<Ticket, QueueError> {
    let (_, day) = free_counter(conn, counter_id, at, zone)?;
    check_hold(conn, counter_id, by, false, at, zone)?;
    let place = rows::place(conn, ticket_id)?.ok_or(QueueError::NoTicket)?;
    // Yesterday's tickets are not called again: the numbers start over each day.
    if place.day != day {
        return Err(QueueError::NoTicket);
    }
    let Stage::Issued(state) = place.stage else { return Err(QueueError::NoTicket) };
    if state != TicketState::NoShow {
        return Err(QueueError::Illegal(queue::IllegalTicketAction { state, action: TicketAction::Call }));
    }
    let next = state.apply(TicketAction::Call)?;
    rows::call_back(conn, ticket_id, counter_id, next)?;
    rows::log_call(conn, ticket_id, counter_id, place.lane, local(at, zone))?;
    ticket(conn, ticket_id)
}

/// The day's statistics (issued tickets only: a ticket whose print failed was never issued).
pub fn stats(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<QueueStats, QueueError> {
    Ok(QueueStats::of(&rows::times(conn, local(at, zone).date())?))
}

/// Parses a ticket number as typed ("a-14" is accepted as A-014).
pub fn parse_number(s: &str) -> Option<TicketNumber> {
    let s = s.trim().to_uppercase();
    let (p, n) = s.split_once('-')?;
    format!("{p}-{:03}", n.parse::<u16>().ok()?).parse().ok()
}
