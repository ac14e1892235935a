//! The day's queue at this office: tickets from the kiosk, counters that call them, the
//! waiting-room display and the statistics. Local to the box (not replicated). Every action runs
//! in one transaction on the single database connection, so two counters calling at the same
//! moment get two different tickets.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use simpul_domain::queue::{
    self, CallPolicy, Lane, PRIORITY_PREFIX, PriorityReason, QueueStats, TicketAction, TicketNumber, TicketState,
    TicketTimes, Waiting,
};
use simpul_domain::wilayah::RegionCode;
use simpul_domain::zone::Zone;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::db::StoreError;
use crate::store::catalog;
use simpul_sync::records::date_text;

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

impl From<rusqlite::Error> for QueueError {
    fn from(e: rusqlite::Error) -> Self {
        QueueError::Store(StoreError::from(e))
    }
}

/// A ticket as shown and printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Id (`510302-20261123-A014`).
    pub id: String,
    /// Number as called ("A-014").
    pub number: String,
    /// Lane code: "normal" or the priority reason.
    pub lane: String,
    /// Service id.
    pub service_id: String,
    /// Service title.
    pub service: String,
    /// State code.
    pub state: String,
    /// Counter that called it.
    pub counter: Option<String>,
    /// Issue time, office-local "HH:MM".
    pub issued: String,
}

fn lane_code(lane: Lane) -> &'static str {
    match lane {
        Lane::Normal => "normal",
        Lane::Priority(r) => r.code(),
    }
}

fn lane_of(code: &str) -> Lane {
    PriorityReason::from_code(code).map_or(Lane::Normal, Lane::Priority)
}

fn state_code(s: &TicketState) -> &'static str {
    match s {
        TicketState::Waiting => "waiting",
        TicketState::Called => "called",
        TicketState::Serving => "serving",
        TicketState::Done => "done",
        TicketState::NoShow => "no_show",
    }
}

fn state_of(code: &str) -> Option<TicketState> {
    Some(match code {
        "waiting" => TicketState::Waiting,
        "called" => TicketState::Called,
        "serving" => TicketState::Serving,
        "done" => TicketState::Done,
        "no_show" => TicketState::NoShow,
        _ => return None,
    })
}

fn local(at: OffsetDateTime, zone: Zone) -> OffsetDateTime {
    at.to_offset(zone.offset())
}

fn stamp_local(at: OffsetDateTime, zone: Zone) -> String {
    local(at, zone).format(&Rfc3339).unwrap_or_default()
}

fn hhmm(stamp: &str) -> String {
    OffsetDateTime::parse(stamp, &Rfc3339).map(|t| format!("{:02}:{:02}", t.hour(), t.minute())).unwrap_or_default()
}

/// The letter of a service's normal lane: its position in the catalog order.
fn service_prefix(conn: &Connection, service_id: &str) -> Result<(char, String), QueueError> {
    let entries = catalog::list(conn)?;
    let position = entries.iter().position(|e| e.id == service_id).ok_or(QueueError::UnknownService)?;
    Ok((queue::service_prefix(position), entries[position].standard.title.clone()))
}

/// Tickets with their service's title.
const TICKET_SELECT: &str = "SELECT t.id, t.prefix, t.number, t.lane, t.service_id, t.state, t.counter, t.issued_at,
    COALESCE(s.title, '') FROM queue_tickets t LEFT JOIN catalog_services s ON s.id = t.service_id";

fn ticket_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let prefix: String = r.get(1)?;
    let number: i64 = r.get(2)?;
    let service_id: String = r.get(4)?;
    let service: String = r.get(8)?;
    Ok(Ticket {
        id: r.get(0)?,
        number: format!("{}-{:03}", prefix, number),
        lane: r.get(3)?,
        service_id,
        service,
        state: r.get(5)?,
        counter: r.get(6)?,
        issued: hhmm(&r.get::<_, String>(7)?),
    })
}

/// One ticket by id.
pub fn ticket(conn: &Connection, id: &str) -> Result<Ticket, QueueError> {
    conn.query_row(&format!("{TICKET_SELECT} WHERE t.id = ?1"), [id], ticket_row)
        .optional()?
        .ok_or(QueueError::NoTicket)
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
    if let Some(id) = conn
        .query_row("SELECT id FROM queue_tickets WHERE client_id = ?1", [client_id], |r| r.get::<_, String>(0))
        .optional()?
    {
        return ticket(conn, &id);
    }
    let (service_letter, _) = service_prefix(conn, service_id)?;
    let prefix = if lane.is_priority() { PRIORITY_PREFIX } else { service_letter };
    let day = local(at, zone).date();
    // A kiosk that never said whether its ticket printed (it crashed, lost power) leaves the
    // ticket unissued; after a while it is void, so it never turns up later in the queue.
    conn.execute(
        "UPDATE queue_tickets SET state = 'void'
         WHERE state = 'pending_print' AND (day < ?1 OR issued_at < ?2)",
        params![date_text(day), stamp_local(at - PRINT_CONFIRM_WINDOW, zone)],
    )?;
    let highest: Option<i64> = conn.query_row(
        "SELECT MAX(n) FROM (
             SELECT MAX(number) AS n FROM queue_tickets WHERE day = ?1 AND prefix = ?2
             UNION ALL SELECT floor FROM queue_floors WHERE day = ?1)",
        params![date_text(day), prefix.to_string()],
        |r| r.get(0),
    )?;
    let number = queue::next_number(prefix, highest.and_then(|h| u16::try_from(h).ok())).ok_or(QueueError::DayFull)?;
    let id = queue::ticket_id(office, day, number);
    let ord: i64 =
        conn.query_row("SELECT COALESCE(MAX(ord), 0) + 1 FROM queue_tickets WHERE day = ?1", [date_text(day)], |r| {
            r.get(0)
        })?;
    conn.execute(
        "INSERT INTO queue_tickets (id, day, prefix, number, lane, service_id, state, ord, issued_at, client_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending_print', ?7, ?8, ?9)",
        params![
            id,
            date_text(day),
            number.prefix.to_string(),
            number.number,
            lane_code(lane),
            service_id,
            ord,
            stamp_local(at, zone),
            client_id
        ],
    )?;
    ticket(conn, &id)
}

/// The highest ticket number `day` has reached in any lane: issued, or the floor a restore set.
pub fn highest_today(conn: &Connection, day: Date) -> Result<Option<u16>, StoreError> {
    let highest: Option<i64> = conn.query_row(
        "SELECT MAX(n) FROM (
             SELECT MAX(number) AS n FROM queue_tickets WHERE day = ?1
             UNION ALL SELECT floor FROM queue_floors WHERE day = ?1)",
        [date_text(day)],
        |r| r.get(0),
    )?;
    Ok(highest.map(saturated))
}

/// The highest ticket number issued on `day` in any lane, for a database from before ticket
/// floors.
pub fn highest_issued(conn: &Connection, day: Date) -> Result<Option<u16>, StoreError> {
    let highest: Option<i64> =
        conn.query_row("SELECT MAX(number) FROM queue_tickets WHERE day = ?1", [date_text(day)], |r| r.get(0))?;
    Ok(highest.map(saturated))
}

fn saturated(number: i64) -> u16 {
    u16::try_from(number.max(0)).unwrap_or(queue::MAX_TICKETS_PER_DAY)
}

/// After a restore on `day`: the next ticket of every lane is numbered above anything issued
/// that day before the restore could have reached, the highest number known (to the restored
/// database, or `seen_elsewhere`: the one it replaces, when that still reads) rounded up to the
/// next hundred and one more hundred (A-014 then A-201), at most leaving the last hundred of
/// the day.
pub fn skip_ahead_after_restore(conn: &Connection, day: Date, seen_elsewhere: Option<u16>) -> Result<u16, StoreError> {
    let highest = highest_today(conn, day)?.unwrap_or(0).max(seen_elsewhere.unwrap_or(0));
    let floor = queue::restore_floor(highest);
    conn.execute(
        "INSERT INTO queue_floors (day, floor) VALUES (?1, ?2)
         ON CONFLICT (day) DO UPDATE SET floor = MAX(floor, excluded.floor)",
        params![date_text(day), floor],
    )?;
    Ok(floor)
}

/// How long a kiosk has to say whether a ticket printed before the ticket is void.
pub const PRINT_CONFIRM_WINDOW: time::Duration = time::Duration::minutes(10);

/// The print succeeded: the ticket joins the queue. Printing failed: it is void and never
/// counted as issued.
pub fn printed(conn: &Connection, id: &str, ok: bool) -> Result<Ticket, QueueError> {
    let state: Option<String> =
        conn.query_row("SELECT state FROM queue_tickets WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    match state.as_deref() {
        None => return Err(QueueError::NoTicket),
        Some("pending_print") => {
            conn.execute(
                "UPDATE queue_tickets SET state = ?2 WHERE id = ?1",
                params![id, if ok { "waiting" } else { "void" }],
            )?;
        }
        // A ticket that lapsed while its kiosk was silent did print after all: the applicant
        // holds it, so it joins the queue (at its place by issue time).
        Some("void") if ok => {
            conn.execute("UPDATE queue_tickets SET state = 'waiting' WHERE id = ?1", [id])?;
        }
        // Confirming twice is harmless.
        Some(_) => {}
    }
    ticket(conn, id)
}

/// A counter as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Id ("L1").
    pub id: String,
    /// Name ("Loket 1").
    pub name: String,
    /// Services it serves (empty: all).
    pub services: Vec<String>,
    /// Open now.
    pub open: bool,
    /// Staff at it.
    pub staff_id: Option<String>,
}

/// Every counter.
pub fn counters(conn: &Connection) -> Result<Vec<Counter>, QueueError> {
    let mut stmt = conn.prepare("SELECT id, name, services, open, staff_id FROM counters ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let services: String = r.get(2)?;
        Ok(Counter {
            id: r.get(0)?,
            name: r.get(1)?,
            services: serde_json::from_str(&services).unwrap_or_default(),
            open: r.get(3)?,
            staff_id: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The open counter a staff member sits at, or the counter with an id: its id, if any.
pub fn counter_of(conn: &Connection, staff: Option<&str>, id: Option<&str>) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id FROM counters WHERE (?1 IS NULL OR (staff_id = ?1 AND open = 1)) AND (?2 IS NULL OR id = ?2)
             ORDER BY opened_at DESC LIMIT 1",
            rusqlite::params![staff, id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Creates or renames a counter and sets the services it serves.
pub fn set_counter(conn: &Connection, id: &str, name: &str, services: &[String]) -> Result<(), QueueError> {
    let services = serde_json::to_string(services).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO counters (id, name, services) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, services = excluded.services",
        params![id, name, services],
    )?;
    Ok(())
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
    let (open, staff, opened_at): (bool, Option<String>, Option<String>) = conn
        .query_row("SELECT open, staff_id, opened_at FROM counters WHERE id = ?1", [counter_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or(QueueError::NoCounter)?;
    let since = opened_at.as_deref().and_then(crate::store::parse_stamp).map(|t| local(t, zone).date());
    let today = local(at, zone).date();
    // Left open from an earlier day: whoever works it first today takes it, so that from then
    // on it is theirs alone.
    if open && !opening && since.is_none_or(|d| d < today) {
        conn.execute(
            "UPDATE counters SET staff_id = ?2, opened_at = ?3 WHERE id = ?1",
            params![counter_id, by.id, crate::store::stamp(at)],
        )?;
        return Ok(());
    }
    let hold = match (open, staff.as_deref(), since) {
        (true, Some(staff), Some(since)) => Some(queue::CounterHold { staff, since }),
        _ => None,
    };
    queue::may_work(hold, by.id, by.head, today).map_err(|held| {
        let name: Option<String> = conn
            .query_row("SELECT display_name FROM staff WHERE id = ?1", [&held.holder], |r| r.get(0))
            .optional()
            .ok()
            .flatten();
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
    let staff = open.then_some(by.id);
    conn.execute(
        "UPDATE counters SET open = ?2, staff_id = ?3, opened_at = ?4 WHERE id = ?1",
        params![id, open, staff, staff.map(|_| crate::store::stamp(at))],
    )?;
    Ok(())
}

fn counter(conn: &Connection, id: &str) -> Result<Counter, QueueError> {
    counters(conn)?.into_iter().find(|c| c.id == id).ok_or(QueueError::NoCounter)
}

/// The ticket currently called to or served at a counter.
pub fn current(conn: &Connection, counter_id: &str, day: Date) -> Result<Option<Ticket>, QueueError> {
    Ok(conn
        .query_row(
            &format!("{TICKET_SELECT} WHERE t.day = ?1 AND t.counter = ?2 AND t.state IN ('called', 'serving')"),
            params![date_text(day), counter_id],
            ticket_row,
        )
        .optional()?)
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
    if current(conn, counter_id, day)?.is_some() {
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
    let mut stmt = conn.prepare(
        "SELECT id, lane, ord, service_id, for_counter FROM queue_tickets WHERE day = ?1 AND state = 'waiting'",
    )?;
    let waiting: Vec<Waiting<String>> = stmt
        .query_map([date_text(day)], |r| {
            Ok(Waiting {
                key: r.get(0)?,
                lane: lane_of(&r.get::<_, String>(1)?),
                order: r.get::<_, i64>(2)? as u64,
                service: r.get(3)?,
                for_counter: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // Today's calls of this counter, each ticket once (a recall is not another priority call).
    let mut recent = conn.prepare(
        "SELECT lane FROM queue_calls WHERE counter = ?1 AND at LIKE ?2 || '%'
         GROUP BY ticket_id ORDER BY MAX(seq) DESC LIMIT 16",
    )?;
    let mut lanes: Vec<Lane> = recent
        .query_map(params![counter_id, date_text(day)], |r| r.get::<_, String>(0))?
        .filter_map(Result::ok)
        .map(|l| lane_of(&l))
        .collect();
    lanes.reverse();
    let streak = queue::priority_streak(&lanes);
    let serves = |s: &str| c.services.is_empty() || c.services.iter().any(|x| x == s);
    let pick = queue::next_to_call(&waiting, counter_id, &serves, streak, policy).ok_or(QueueError::Empty)?;
    let id = pick.key.clone();
    conn.execute(
        "UPDATE queue_tickets SET state = 'called', counter = ?2, for_counter = NULL, called_at = COALESCE(called_at, ?3)
         WHERE id = ?1 AND state = 'waiting'",
        params![id, counter_id, stamp_local(at, zone)],
    )?;
    conn.execute(
        "INSERT INTO queue_calls (ticket_id, counter, lane, at) VALUES (?1, ?2, ?3, ?4)",
        params![id, counter_id, lane_code(pick.lane), stamp_local(at, zone)],
    )?;
    ticket(conn, &id)
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
    let (state, at_counter): (String, Option<String>) = conn
        .query_row("SELECT state, counter FROM queue_tickets WHERE id = ?1", [ticket_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or(QueueError::NoTicket)?;
    // A ticket at a counter is served by whoever works that counter.
    if let Some(counter) = &at_counter {
        check_hold(conn, counter, by, false, at, zone)?;
    }
    let state = state_of(&state).ok_or(QueueError::NoTicket)?;
    let next = state.apply(action.clone())?;
    let now = stamp_local(at, zone);
    match action {
        TicketAction::Recall => {
            conn.execute("UPDATE queue_tickets SET recalls = recalls + 1 WHERE id = ?1", [ticket_id])?;
            let (counter, lane): (String, String) =
                conn.query_row("SELECT counter, lane FROM queue_tickets WHERE id = ?1", [ticket_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            conn.execute(
                "INSERT INTO queue_calls (ticket_id, counter, lane, at) VALUES (?1, ?2, ?3, ?4)",
                params![ticket_id, counter, lane, now],
            )?;
        }
        TicketAction::Start => {
            conn.execute(
                "UPDATE queue_tickets SET state = ?2, started_at = ?3 WHERE id = ?1",
                params![ticket_id, state_code(&next), now],
            )?;
        }
        TicketAction::Finish => {
            conn.execute(
                "UPDATE queue_tickets SET state = ?2, finished_at = ?3 WHERE id = ?1",
                params![ticket_id, state_code(&next), now],
            )?;
        }
        TicketAction::Skip => {
            conn.execute("UPDATE queue_tickets SET state = ?2 WHERE id = ?1", params![ticket_id, state_code(&next)])?;
        }
        TicketAction::Transfer => {
            let (to_counter, to_service) = transfer_to.unwrap_or(("", None));
            if !to_counter.is_empty() {
                counter(conn, to_counter)?;
            }
            if let Some(service) = to_service {
                catalog::get(conn, service)?.ok_or(QueueError::UnknownService)?;
                conn.execute("UPDATE queue_tickets SET service_id = ?2 WHERE id = ?1", params![ticket_id, service])?;
            }
            conn.execute(
                "UPDATE queue_tickets SET state = 'waiting', counter = NULL, for_counter = ?2, started_at = NULL WHERE id = ?1",
                params![ticket_id, (!to_counter.is_empty()).then_some(to_counter)],
            )?;
        }
        TicketAction::Call => return Err(QueueError::Illegal(queue::IllegalTicketAction { state, action })),
    }
    ticket(conn, ticket_id)
}

/// What the waiting-room display shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayState {
    /// Per open counter: counter name and the number called or served there.
    pub serving: Vec<(String, Option<String>)>,
    /// The last calls, newest first: (number, counter name).
    pub last_called: Vec<(String, String)>,
    /// How many wait, by lane: (normal, priority).
    pub waiting: (u32, u32),
    /// Increases with every call and recall, so the display knows when to chime.
    pub call_seq: i64,
}

/// The display's state now.
pub fn display(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<DisplayState, QueueError> {
    let day = local(at, zone).date();
    let names: Vec<Counter> = counters(conn)?;
    let name_of = |id: &str| names.iter().find(|c| c.id == id).map_or(id.to_string(), |c| c.name.clone());
    let mut state = DisplayState::default();
    for c in names.iter().filter(|c| c.open) {
        let current = current(conn, &c.id, day)?.map(|t| t.number);
        state.serving.push((c.name.clone(), current));
    }
    let mut stmt = conn.prepare(
        "SELECT t.prefix, t.number, c.counter FROM queue_calls c JOIN queue_tickets t ON t.id = c.ticket_id
         WHERE t.day = ?1 ORDER BY c.seq DESC LIMIT 6",
    )?;
    state.last_called = stmt
        .query_map([date_text(day)], |r| {
            Ok((format!("{}-{:03}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?), name_of(&r.get::<_, String>(2)?)))
        })?
        .collect::<Result<_, _>>()?;
    let (normal, priority): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(lane = 'normal'), 0), COALESCE(SUM(lane != 'normal'), 0) FROM queue_tickets WHERE day = ?1 AND state = 'waiting'",
        [date_text(day)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    state.waiting = (normal as u32, priority as u32);
    state.call_seq = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM queue_calls", [], |r| r.get(0))?;
    Ok(state)
}

/// Waiting tickets of the day, in call order for a counter serving everything.
pub fn waiting(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<Vec<Ticket>, QueueError> {
    let day = local(at, zone).date();
    let mut stmt = conn.prepare(&format!(
        "{TICKET_SELECT} WHERE t.day = ?1 AND t.state = 'waiting' ORDER BY t.lane = 'normal', t.ord"
    ))?;
    let rows = stmt.query_map([date_text(day)], ticket_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Today's tickets that were called and did not come, in the order they were issued.
pub fn no_shows(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<Vec<Ticket>, QueueError> {
    let day = local(at, zone).date();
    let mut stmt = conn.prepare(&format!("{TICKET_SELECT} WHERE t.day = ?1 AND t.state = 'no_show' ORDER BY t.ord"))?;
    let rows = stmt.query_map([date_text(day)], ticket_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
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
    let (state, ticket_day, lane): (String, String, String) = conn
        .query_row("SELECT state, day, lane FROM queue_tickets WHERE id = ?1", [ticket_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or(QueueError::NoTicket)?;
    // Yesterday's tickets are not called again: the numbers start over each day.
    if ticket_day != date_text(day) {
        return Err(QueueError::NoTicket);
    }
    let state = state_of(&state).ok_or(QueueError::NoTicket)?;
    if state != TicketState::NoShow {
        return Err(QueueError::Illegal(queue::IllegalTicketAction { state, action: TicketAction::Call }));
    }
    let next = state.apply(TicketAction::Call)?;
    let now = stamp_local(at, zone);
    conn.execute(
        "UPDATE queue_tickets SET state = ?2, counter = ?3, recalls = recalls + 1 WHERE id = ?1",
        params![ticket_id, state_code(&next), counter_id],
    )?;
    conn.execute(
        "INSERT INTO queue_calls (ticket_id, counter, lane, at) VALUES (?1, ?2, ?3, ?4)",
        params![ticket_id, counter_id, lane, now],
    )?;
    ticket(conn, ticket_id)
}

/// The day's statistics (issued tickets only: a ticket whose print failed was never issued).
pub fn stats(conn: &Connection, at: OffsetDateTime, zone: Zone) -> Result<QueueStats, QueueError> {
    let day = local(at, zone).date();
    let mut stmt = conn.prepare(
        "SELECT service_id, counter, lane, issued_at, called_at, started_at, finished_at FROM queue_tickets
         WHERE day = ?1 AND state NOT IN ('pending_print', 'void')",
    )?;
    let parse = |s: Option<String>| -> Option<PrimitiveDateTime> {
        s.and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok()).map(|t| PrimitiveDateTime::new(t.date(), t.time()))
    };
    let tickets: Vec<TicketTimes> = stmt
        .query_map([date_text(day)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?
        .filter_map(Result::ok)
        .filter_map(|(service, counter, lane, issued, called, started, finished)| {
            Some(TicketTimes {
                service,
                counter,
                lane: lane_of(&lane),
                issued: parse(Some(issued))?,
                called: parse(called),
                started: parse(started),
                finished: parse(finished),
            })
        })
        .collect();
    Ok(QueueStats::of(&tickets))
}

/// Parses a ticket number as typed ("a-14" is accepted as A-014).
pub fn parse_number(s: &str) -> Option<TicketNumber> {
    let s = s.trim().to_uppercase();
    let (p, n) = s.split_once('-')?;
    format!("{p}-{:03}", n.parse::<u16>().ok()?).parse().ok()
}
