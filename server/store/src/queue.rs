//! The day's queue as stored: tickets, counters, calls and the floors a restore sets. Local to
//! the box (not replicated). The rules (who may work a counter, which ticket is called next,
//! which actions a ticket's state allows) are in `simpul_domain::queue` and applied by the
//! server's office use-cases; this module only reads and writes the rows.

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::queue::{
    Lane, MAX_TICKETS_PER_DAY, PriorityReason, TicketNumber, TicketState, TicketTimes, Waiting,
};
use simpul_sync::records::date_text;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::StoreError;

/// Where a ticket stands as stored: before it counts (its print not yet confirmed), void (it
/// did not print, or its kiosk never said), or in the queue's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Issued at the kiosk; counts once its print is confirmed.
    PendingPrint,
    /// Never issued: the print failed or was never confirmed.
    Void,
    /// In the queue.
    Issued(TicketState),
}

impl Stage {
    /// Stable code, as stored and sent to the pages.
    pub fn code(self) -> &'static str {
        match self {
            Stage::PendingPrint => "pending_print",
            Stage::Void => "void",
            Stage::Issued(TicketState::Waiting) => "waiting",
            Stage::Issued(TicketState::Called) => "called",
            Stage::Issued(TicketState::Serving) => "serving",
            Stage::Issued(TicketState::Done) => "done",
            Stage::Issued(TicketState::NoShow) => "no_show",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<Stage> {
        Some(match code {
            "pending_print" => Stage::PendingPrint,
            "void" => Stage::Void,
            "waiting" => Stage::Issued(TicketState::Waiting),
            "called" => Stage::Issued(TicketState::Called),
            "serving" => Stage::Issued(TicketState::Serving),
            "done" => Stage::Issued(TicketState::Done),
            "no_show" => Stage::Issued(TicketState::NoShow),
            _ => return None,
        })
    }
}

/// A lane as stored: "normal" or the priority reason's code.
pub fn lane_code(lane: Lane) -> &'static str {
    match lane {
        Lane::Normal => "normal",
        Lane::Priority(r) => r.code(),
    }
}

/// A stored lane (anything unknown is the normal lane).
pub fn lane_of(code: &str) -> Lane {
    PriorityReason::from_code(code).map_or(Lane::Normal, Lane::Priority)
}

/// A ticket with its service's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Id (`510302-20261123-A014`).
    pub id: String,
    /// Number as called.
    pub number: TicketNumber,
    /// Lane.
    pub lane: Lane,
    /// Service (catalog entry id).
    pub service_id: String,
    /// Service title ("" when the entry is gone).
    pub service: String,
    /// Where it stands.
    pub stage: Stage,
    /// Counter that called it.
    pub counter: Option<String>,
    /// Issue time, in the office's offset.
    pub issued_at: OffsetDateTime,
}

/// Tickets with their service's title.
const TICKET_SELECT: &str = "SELECT t.id, t.prefix, t.number, t.lane, t.service_id, t.state, t.counter, t.issued_at,
    COALESCE(s.title, '') FROM queue_tickets t LEFT JOIN catalog_services s ON s.id = t.service_id";

fn damaged(what: &str, value: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored ticket {what} '{value}' does not read").into(),
    )
}

fn ticket_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let prefix: String = r.get(1)?;
    let number: i64 = r.get(2)?;
    let state: String = r.get(5)?;
    let issued: String = r.get(7)?;
    Ok(Ticket {
        id: r.get(0)?,
        number: TicketNumber {
            prefix: prefix.chars().next().ok_or_else(|| damaged("prefix", &prefix))?,
            number: u16::try_from(number).map_err(|_| damaged("number", number))?,
        },
        lane: lane_of(&r.get::<_, String>(3)?),
        service_id: r.get(4)?,
        service: r.get(8)?,
        stage: Stage::from_code(&state).ok_or_else(|| damaged("state", &state))?,
        counter: r.get(6)?,
        issued_at: OffsetDateTime::parse(&issued, &Rfc3339).map_err(|_| damaged("issue time", &issued))?,
    })
}

/// Stores a local time with its offset (the office's day and hour read straight from the text).
fn local_stamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// One ticket by id.
pub fn ticket(conn: &Connection, id: &str) -> Result<Option<Ticket>, StoreError> {
    Ok(conn.query_row(&format!("{TICKET_SELECT} WHERE t.id = ?1"), [id], ticket_row).optional()?)
}

/// The ticket a kiosk's client id already took, if any.
pub fn by_client_id(conn: &Connection, client_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM queue_tickets WHERE client_id = ?1", [client_id], |r| r.get::<_, String>(0))
        .optional()?)
}

/// Voids the tickets whose print was never confirmed: from an earlier day than `day`, or
/// issued before `issued_before` (a local time).
pub fn void_unconfirmed(conn: &Connection, day: Date, issued_before: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE queue_tickets SET state = 'void'
         WHERE state = 'pending_print' AND (day < ?1 OR issued_at < ?2)",
        params![date_text(day), local_stamp(issued_before)],
    )?)
}

/// The highest number `day` has reached with `prefix`, or the floor a restore set.
pub fn highest_with_prefix(conn: &Connection, day: Date, prefix: char) -> Result<Option<u16>, StoreError> {
    let highest: Option<i64> = conn.query_row(
        "SELECT MAX(n) FROM (
             SELECT MAX(number) AS n FROM queue_tickets WHERE day = ?1 AND prefix = ?2
             UNION ALL SELECT floor FROM queue_floors WHERE day = ?1)",
        params![date_text(day), prefix.to_string()],
        |r| r.get(0),
    )?;
    Ok(highest.map(saturated))
}

/// A new ticket, pending until its print is confirmed.
#[derive(Debug, Clone, Copy)]
pub struct NewTicket<'a> {
    /// Id.
    pub id: &'a str,
    /// The office's day.
    pub day: Date,
    /// Number.
    pub number: TicketNumber,
    /// Lane.
    pub lane: Lane,
    /// Service.
    pub service_id: &'a str,
    /// Issue time, local.
    pub issued_at: OffsetDateTime,
    /// The kiosk's id for this request (a retry finds the same ticket).
    pub client_id: &'a str,
}

/// Inserts a ticket after the day's others (its place in the queue's order).
pub fn insert(conn: &Connection, t: &NewTicket<'_>) -> Result<(), StoreError> {
    let ord: i64 = conn.query_row(
        "SELECT COALESCE(MAX(ord), 0) + 1 FROM queue_tickets WHERE day = ?1",
        [date_text(t.day)],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO queue_tickets (id, day, prefix, number, lane, service_id, state, ord, issued_at, client_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending_print', ?7, ?8, ?9)",
        params![
            t.id,
            date_text(t.day),
            t.number.prefix.to_string(),
            t.number.number,
            lane_code(t.lane),
            t.service_id,
            ord,
            local_stamp(t.issued_at),
            t.client_id
        ],
    )?;
    Ok(())
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
    u16::try_from(number.max(0)).unwrap_or(MAX_TICKETS_PER_DAY)
}

/// Raises the day's floor to at least `floor` (never lowers it).
pub fn raise_floor(conn: &Connection, day: Date, floor: u16) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO queue_floors (day, floor) VALUES (?1, ?2)
         ON CONFLICT (day) DO UPDATE SET floor = MAX(floor, excluded.floor)",
        params![date_text(day), floor],
    )?;
    Ok(())
}

/// Where a ticket stands, if it exists.
pub fn stage(conn: &Connection, id: &str) -> Result<Option<Stage>, StoreError> {
    let state: Option<String> =
        conn.query_row("SELECT state FROM queue_tickets WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    state.map(|s| Stage::from_code(&s).ok_or_else(|| StoreError::Corrupt(format!("ticket state {s}")))).transpose()
}

/// Moves a ticket to `stage`.
pub fn set_stage(conn: &Connection, id: &str, stage: Stage) -> Result<(), StoreError> {
    conn.execute("UPDATE queue_tickets SET state = ?2 WHERE id = ?1", params![id, stage.code()])?;
    Ok(())
}

/// A counter as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// When it was opened (or taken over) by that staff member.
    pub opened_at: Option<OffsetDateTime>,
}

/// Every counter.
pub fn counters(conn: &Connection) -> Result<Vec<Counter>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, name, services, open, staff_id, opened_at FROM counters ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let services: String = r.get(2)?;
        Ok(Counter {
            id: r.get(0)?,
            name: r.get(1)?,
            services: serde_json::from_str(&services).unwrap_or_default(),
            open: r.get(3)?,
            staff_id: r.get(4)?,
            opened_at: r.get::<_, Option<String>>(5)?.as_deref().and_then(crate::parse_stamp),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One counter.
pub fn counter(conn: &Connection, id: &str) -> Result<Option<Counter>, StoreError> {
    Ok(counters(conn)?.into_iter().find(|c| c.id == id))
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
pub fn set_counter(conn: &Connection, id: &str, name: &str, services: &[String]) -> Result<(), StoreError> {
    let services = serde_json::to_string(services).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO counters (id, name, services) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, services = excluded.services",
        params![id, name, services],
    )?;
    Ok(())
}

/// Opens a counter with `staff` at it since `at` (or closes it, with nobody).
pub fn set_counter_open(
    conn: &Connection,
    id: &str,
    staff: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE counters SET open = ?2, staff_id = ?3, opened_at = ?4 WHERE id = ?1",
        params![id, staff.is_some(), staff, staff.map(|_| crate::stamp(at))],
    )?;
    Ok(())
}

/// An open counter is taken over by `staff` from `at` (it was left open from an earlier day).
pub fn take_over_counter(conn: &Connection, id: &str, staff: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE counters SET staff_id = ?2, opened_at = ?3 WHERE id = ?1",
        params![id, staff, crate::stamp(at)],
    )?;
    Ok(())
}

/// The ticket currently called to or served at a counter.
pub fn current(conn: &Connection, counter_id: &str, day: Date) -> Result<Option<Ticket>, StoreError> {
    Ok(conn
        .query_row(
            &format!("{TICKET_SELECT} WHERE t.day = ?1 AND t.counter = ?2 AND t.state IN ('called', 'serving')"),
            params![date_text(day), counter_id],
            ticket_row,
        )
        .optional()?)
}

/// The day's waiting tickets, keyed by id, as the call policy weighs them.
pub fn waiting_to_call(conn: &Connection, day: Date) -> Result<Vec<Waiting<String>>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, lane, ord, service_id, for_counter FROM queue_tickets WHERE day = ?1 AND state = 'waiting'",
    )?;
    let rows = stmt.query_map([date_text(day)], |r| {
        Ok(Waiting {
            key: r.get(0)?,
            lane: lane_of(&r.get::<_, String>(1)?),
            order: r.get::<_, i64>(2)? as u64,
            service: r.get(3)?,
            for_counter: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The lanes of the last tickets (at most 16) a counter called on `day`, oldest first, each
/// ticket once (a recall is not another call of its lane).
pub fn recent_lanes(conn: &Connection, counter_id: &str, day: Date) -> Result<Vec<Lane>, StoreError> {
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
    Ok(lanes)
}

/// A waiting ticket is called to a counter (the first call time is kept).
pub fn mark_called(conn: &Connection, id: &str, counter_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE queue_tickets SET state = 'called', counter = ?2, for_counter = NULL, called_at = COALESCE(called_at, ?3)
         WHERE id = ?1 AND state = 'waiting'",
        params![id, counter_id, local_stamp(at)],
    )?;
    Ok(())
}

/// Logs a call (or recall) of a ticket, for the display's chime and the counters' streaks.
pub fn log_call(
    conn: &Connection,
    id: &str,
    counter_id: &str,
    lane: Lane,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO queue_calls (ticket_id, counter, lane, at) VALUES (?1, ?2, ?3, ?4)",
        params![id, counter_id, lane_code(lane), local_stamp(at)],
    )?;
    Ok(())
}

/// A ticket's place now: where it stands, its counter, its lane and its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Where it stands.
    pub stage: Stage,
    /// Counter it was called to.
    pub counter: Option<String>,
    /// Lane.
    pub lane: Lane,
    /// Day it was issued.
    pub day: Date,
}

/// Where a ticket is, if it exists.
pub fn place(conn: &Connection, id: &str) -> Result<Option<Place>, StoreError> {
    let row: Option<(String, Option<String>, String, String)> = conn
        .query_row("SELECT state, counter, lane, day FROM queue_tickets WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(state, counter, lane, day)| {
        Ok(Place {
            stage: Stage::from_code(&state).ok_or_else(|| StoreError::Corrupt(format!("ticket state {state}")))?,
            counter,
            lane: lane_of(&lane),
            day: Date::parse(&day, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|_| StoreError::Corrupt(format!("ticket day {day}")))?,
        })
    })
    .transpose()
}

/// A recall: counted on the ticket.
pub fn count_recall(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE queue_tickets SET recalls = recalls + 1 WHERE id = ?1", [id])?;
    Ok(())
}

/// Service starts at the counter: the ticket moves to `to` (the lifecycle's answer).
pub fn mark_started(conn: &Connection, id: &str, to: TicketState, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE queue_tickets SET state = ?2, started_at = ?3 WHERE id = ?1",
        params![id, Stage::Issued(to).code(), local_stamp(at)],
    )?;
    Ok(())
}

/// Service ends: the ticket moves to `to`.
pub fn mark_finished(conn: &Connection, id: &str, to: TicketState, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE queue_tickets SET state = ?2, finished_at = ?3 WHERE id = ?1",
        params![id, Stage::Issued(to).code(), local_stamp(at)],
    )?;
    Ok(())
}

/// The ticket goes back to waiting, for another counter (`None`: any) and, when given,
/// another service.
pub fn transfer(
    conn: &Connection,
    id: &str,
    to_counter: Option<&str>,
    to_service: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(service) = to_service {
        conn.execute("UPDATE queue_tickets SET service_id = ?2 WHERE id = ?1", params![id, service])?;
    }
    conn.execute(
        "UPDATE queue_tickets SET state = 'waiting', counter = NULL, for_counter = ?2, started_at = NULL WHERE id = ?1",
        params![id, to_counter],
    )?;
    Ok(())
}

/// A ticket that did not come is called again to a counter: it moves to `to`.
pub fn call_back(conn: &Connection, id: &str, counter_id: &str, to: TicketState) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE queue_tickets SET state = ?2, counter = ?3, recalls = recalls + 1 WHERE id = ?1",
        params![id, Stage::Issued(to).code(), counter_id],
    )?;
    Ok(())
}

/// The last calls of `day`, newest first: (number, counter id).
pub fn last_calls(conn: &Connection, day: Date, limit: u32) -> Result<Vec<(TicketNumber, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT t.prefix, t.number, c.counter FROM queue_calls c JOIN queue_tickets t ON t.id = c.ticket_id
         WHERE t.day = ?1 ORDER BY c.seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![date_text(day), limit], |r| {
        let prefix: String = r.get(0)?;
        let number: i64 = r.get(1)?;
        Ok((
            TicketNumber {
                prefix: prefix.chars().next().ok_or_else(|| damaged("prefix", &prefix))?,
                number: u16::try_from(number).map_err(|_| damaged("number", number))?,
            },
            r.get::<_, String>(2)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many wait on `day`: (normal lane, priority lane).
pub fn waiting_counts(conn: &Connection, day: Date) -> Result<(u32, u32), StoreError> {
    let (normal, priority): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(lane = 'normal'), 0), COALESCE(SUM(lane != 'normal'), 0) FROM queue_tickets WHERE day = ?1 AND state = 'waiting'",
        [date_text(day)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((normal as u32, priority as u32))
}

/// Grows with every call and recall.
pub fn call_sequence(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM queue_calls", [], |r| r.get(0))?)
}

/// Tickets of `day` in `stage`: waiting ones priority lane first then by issue, others by issue.
pub fn in_stage(conn: &Connection, day: Date, stage: Stage) -> Result<Vec<Ticket>, StoreError> {
    let order = if stage == Stage::Issued(TicketState::Waiting) { "t.lane = 'normal', t.ord" } else { "t.ord" };
    let mut stmt = conn.prepare(&format!("{TICKET_SELECT} WHERE t.day = ?1 AND t.state = ?2 ORDER BY {order}"))?;
    let rows = stmt.query_map(params![date_text(day), stage.code()], ticket_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The times of the tickets issued on `day` (a ticket whose print failed was never issued).
pub fn times(conn: &Connection, day: Date) -> Result<Vec<TicketTimes>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT service_id, counter, lane, issued_at, called_at, started_at, finished_at FROM queue_tickets
         WHERE day = ?1 AND state NOT IN ('pending_print', 'void')",
    )?;
    let parse = |s: Option<String>| -> Option<PrimitiveDateTime> {
        s.and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok()).map(|t| PrimitiveDateTime::new(t.date(), t.time()))
    };
    let tickets = stmt
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
    Ok(tickets)
}
