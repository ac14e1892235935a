//! The queue on a real SQLite file: tickets count only once printed, counters call priority
//! first within the policy, no ticket is called twice, and the display and statistics follow.

use std::sync::{Arc, Mutex};

use simpul_domain::office::BoxRole;
use simpul_domain::queue::{CallPolicy, Lane, PriorityReason, TicketAction};
use simpul_domain::zone::Zone;
use simpul_server::office::queue::{self, QueueError, Worker};
use simpul_store::catalog;
use time::Duration;
use time::macros::datetime;

const T0: time::OffsetDateTime = datetime!(2026-11-23 08:00 +08:00);
/// The office head: may work any counter (the queue's policies are tested through them).
const HEAD: Worker<'static> = Worker { id: "kepala", head: true };

fn office() -> (tempfile::TempDir, simpul_store::Connection, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = simpul_store::db::open_sync(
        &dir.path().join("t.sqlite3"),
        &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
    )
    .unwrap();
    simpul_server::ops::demo::seed(&mut conn, BoxRole::Office, time::OffsetDateTime::now_utc()).unwrap();
    let services: Vec<String> = catalog::list(&conn).unwrap().into_iter().map(|e| e.id).collect();
    simpul_store::queue::set_counter(&conn, "L1", "Loket 1", &[]).unwrap();
    simpul_store::queue::set_counter(&conn, "L2", "Loket 2", &[services[0].clone()]).unwrap();
    queue::open_counter(&conn, "L1", Worker { id: "staff-1", head: false }, true, T0, Zone::Wita).unwrap();
    queue::open_counter(&conn, "L2", Worker { id: "staff-2", head: false }, true, T0, Zone::Wita).unwrap();
    (dir, conn, services)
}

fn issue(conn: &simpul_store::Connection, service: &str, lane: Lane, n: u32) -> simpul_store::queue::Ticket {
    let t = queue::issue(
        conn,
        "51.03.02".parse().unwrap(),
        service,
        lane,
        &format!("client-{n}"),
        T0 + Duration::minutes(n.into()),
        Zone::Wita,
    )
    .unwrap();
    queue::printed(conn, &t.id, true).unwrap()
}

#[test]
fn tickets_are_numbered_per_lane_and_only_printed_ones_wait() {
    let (_d, conn, services) = office();
    let a1 = issue(&conn, &services[0], Lane::Normal, 1);
    let a2 = issue(&conn, &services[0], Lane::Normal, 2);
    let p1 = issue(&conn, &services[1], Lane::Priority(PriorityReason::Elderly), 3);
    let b1 = issue(&conn, &services[1], Lane::Normal, 4);
    assert_eq!(
        [a1.number.to_string(), a2.number.to_string(), p1.number.to_string(), b1.number.to_string()],
        ["A-001", "A-002", "P-001", "B-001"]
    );
    assert_eq!(a1.id, "510302-20261123-A001");
    assert_eq!(simpul_store::queue::lane_code(p1.lane), "lansia");

    // A retry of the same kiosk request gets the same ticket, not a second one.
    let again =
        queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "client-1", T0, Zone::Wita)
            .unwrap();
    assert_eq!(again.id, a1.id);

    // A ticket whose print failed is not issued: not waiting, not counted.
    let failed =
        queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "client-x", T0, Zone::Wita)
            .unwrap();
    assert_eq!(failed.stage.code(), "pending_print");
    assert_eq!(queue::printed(&conn, &failed.id, false).unwrap().stage.code(), "void");
    let waiting: Vec<String> =
        queue::waiting(&conn, T0, Zone::Wita).unwrap().into_iter().map(|t| t.number.to_string()).collect();
    assert_eq!(waiting, ["P-001", "A-001", "A-002", "B-001"]);
    assert_eq!(queue::stats(&conn, T0, Zone::Wita).unwrap().total.issued, 4);
}

#[test]
fn counters_call_priority_first_but_not_forever_and_never_the_same_ticket() {
    let (_d, conn, services) = office();
    let elderly = Lane::Priority(PriorityReason::Elderly);
    issue(&conn, &services[0], Lane::Normal, 1);
    issue(&conn, &services[0], elderly, 2);
    issue(&conn, &services[0], elderly, 3);
    let policy = CallPolicy { max_priority_in_row: 1 };
    let at = T0 + Duration::minutes(10);
    let first = queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita).unwrap();
    assert_eq!(first.number.to_string(), "P-001");
    // The counter is busy until it finishes, skips or transfers.
    assert!(matches!(queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita), Err(QueueError::Busy)));
    queue::act(&conn, &first.id, HEAD, TicketAction::Start, None, at, Zone::Wita).unwrap();
    queue::act(&conn, &first.id, HEAD, TicketAction::Finish, None, at + Duration::minutes(5), Zone::Wita).unwrap();
    // One priority call in a row is the limit while a normal ticket waits.
    let second = queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita).unwrap();
    assert_eq!(second.number.to_string(), "A-001");
    // The other counter gets the other ticket.
    let third = queue::call_next(&conn, "L2", HEAD, policy, at, Zone::Wita).unwrap();
    assert_eq!(third.number.to_string(), "P-002");
    assert!(matches!(queue::call_next(&conn, "L2", HEAD, policy, at, Zone::Wita), Err(QueueError::Busy)));
    queue::act(&conn, &third.id, HEAD, TicketAction::Skip, None, at, Zone::Wita).unwrap();
    assert!(matches!(queue::call_next(&conn, "L2", HEAD, policy, at, Zone::Wita), Err(QueueError::Empty)));
    // Illegal actions are refused.
    assert!(matches!(
        queue::act(&conn, &first.id, HEAD, TicketAction::Start, None, at, Zone::Wita),
        Err(QueueError::Illegal(_))
    ));
}

#[test]
fn a_recall_is_not_another_priority_call_and_yesterday_does_not_count() {
    let (_d, conn, services) = office();
    let elderly = Lane::Priority(PriorityReason::Elderly);
    let policy = CallPolicy { max_priority_in_row: 2 };
    // Yesterday L1 ended on priority calls; today that streak is gone.
    for n in 1..=2 {
        let t = issue(&conn, &services[0], elderly, n);
        let at = T0 + Duration::minutes(10 + i64::from(n));
        assert_eq!(queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita).unwrap().id, t.id);
        queue::act(&conn, &t.id, HEAD, TicketAction::Start, None, at, Zone::Wita).unwrap();
        queue::act(&conn, &t.id, HEAD, TicketAction::Finish, None, at, Zone::Wita).unwrap();
    }
    let today = T0 + Duration::days(1);
    let issue_today = |lane: Lane, n: u32| {
        let t =
            queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], lane, &format!("d2-{n}"), today, Zone::Wita)
                .unwrap();
        queue::printed(&conn, &t.id, true).unwrap()
    };
    issue_today(Lane::Normal, 1);
    let p1 = issue_today(elderly, 2);
    let p2 = issue_today(elderly, 3);
    assert_eq!(
        queue::call_next(&conn, "L1", HEAD, policy, today, Zone::Wita).unwrap().id,
        p1.id,
        "priority first again"
    );
    // The same priority ticket called three times is one call, not three.
    for _ in 0..3 {
        queue::act(&conn, &p1.id, HEAD, TicketAction::Recall, None, today, Zone::Wita).unwrap();
    }
    queue::act(&conn, &p1.id, HEAD, TicketAction::Start, None, today, Zone::Wita).unwrap();
    queue::act(&conn, &p1.id, HEAD, TicketAction::Finish, None, today, Zone::Wita).unwrap();
    assert_eq!(
        queue::call_next(&conn, "L1", HEAD, policy, today, Zone::Wita).unwrap().id,
        p2.id,
        "the second of two allowed"
    );
}

#[test]
fn two_counters_calling_at_once_never_share_a_ticket() {
    let (_d, conn, services) = office();
    for n in 0..40 {
        issue(&conn, &services[0], Lane::Normal, n);
    }
    let conn = Arc::new(Mutex::new(conn));
    let called = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = ["L1", "L2"]
        .into_iter()
        .map(|counter| {
            let (conn, called) = (conn.clone(), called.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let c = conn.lock().unwrap();
                    let tx = c.unchecked_transaction().unwrap();
                    let t = queue::call_next(&tx, counter, HEAD, CallPolicy::default(), T0, Zone::Wita).unwrap();
                    queue::act(&tx, &t.id, HEAD, TicketAction::Start, None, T0, Zone::Wita).unwrap();
                    queue::act(&tx, &t.id, HEAD, TicketAction::Finish, None, T0, Zone::Wita).unwrap();
                    tx.commit().unwrap();
                    called.lock().unwrap().push(t.id);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut ids = called.lock().unwrap().clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every ticket called exactly once");
}

#[test]
fn transfers_keep_the_place_and_the_display_and_stats_follow() {
    let (_d, conn, services) = office();
    let a1 = issue(&conn, &services[1], Lane::Normal, 1);
    issue(&conn, &services[1], Lane::Normal, 2);
    let at = T0 + Duration::minutes(10);
    let t = queue::call_next(&conn, "L1", HEAD, CallPolicy::default(), at, Zone::Wita).unwrap();
    assert_eq!(t.id, a1.id);
    queue::act(&conn, &t.id, HEAD, TicketAction::Recall, None, at, Zone::Wita).unwrap();
    queue::act(&conn, &t.id, HEAD, TicketAction::Start, None, at, Zone::Wita).unwrap();
    // Sent to L2 for the service L2 handles: it keeps its early place there.
    let moved =
        queue::act(&conn, &t.id, HEAD, TicketAction::Transfer, Some(("L2", Some(&services[0]))), at, Zone::Wita)
            .unwrap();
    assert_eq!(moved.stage.code(), "waiting");
    let at_l2 = queue::call_next(&conn, "L2", HEAD, CallPolicy::default(), at, Zone::Wita).unwrap();
    assert_eq!(at_l2.id, a1.id);
    let display = queue::display(&conn, at, Zone::Wita).unwrap();
    assert_eq!(
        display.serving.iter().map(|(c, n)| (c.clone(), n.map(|n| n.to_string()))).collect::<Vec<_>>(),
        vec![("Loket 1".to_string(), None), ("Loket 2".to_string(), Some("B-001".to_string()))]
    );
    assert_eq!(
        (display.last_called[0].0.to_string(), display.last_called[0].1.clone()),
        ("B-001".to_string(), "Loket 2".to_string())
    );
    assert_eq!(display.waiting, (1, 0));
    assert_eq!(display.call_seq, 3, "call, recall, call");
    queue::act(&conn, &at_l2.id, HEAD, TicketAction::Start, None, at + Duration::minutes(1), Zone::Wita).unwrap();
    queue::act(&conn, &at_l2.id, HEAD, TicketAction::Finish, None, at + Duration::minutes(9), Zone::Wita).unwrap();
    let stats = queue::stats(&conn, at, Zone::Wita).unwrap();
    assert_eq!(stats.total.issued, 2);
    assert_eq!(stats.total.served, 1);
    assert_eq!(stats.by_counter["L2"].mean_service_secs, Some(480));
    assert_eq!(queue::parse_number(" a-14 ").unwrap().to_string(), "A-014");
}

#[test]
fn a_skipped_ticket_is_called_again_the_same_day_only_and_a_silent_kiosk_ticket_lapses() {
    let (_d, conn, services) = office();
    let policy = CallPolicy { max_priority_in_row: 1 };
    let t = issue(&conn, &services[0], Lane::Normal, 1);
    let at = T0 + Duration::minutes(5);
    assert_eq!(queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita).unwrap().id, t.id);
    // Only a ticket that did not come can be called again.
    assert!(matches!(queue::call_again(&conn, &t.id, "L2", HEAD, at, Zone::Wita), Err(QueueError::Illegal(_))));
    queue::act(&conn, &t.id, HEAD, TicketAction::Skip, None, at, Zone::Wita).unwrap();
    let no_shows: Vec<String> = queue::no_shows(&conn, at, Zone::Wita).unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(no_shows, std::slice::from_ref(&t.id));
    // Its holder turns up: another counter calls it again, and the display sees a new call.
    let before = queue::display(&conn, at, Zone::Wita).unwrap().call_seq;
    let again = queue::call_again(&conn, &t.id, "L2", HEAD, at + Duration::minutes(20), Zone::Wita).unwrap();
    assert_eq!((again.stage.code(), again.counter.as_deref()), ("called", Some("L2")));
    assert!(queue::display(&conn, at, Zone::Wita).unwrap().call_seq > before);
    assert!(queue::no_shows(&conn, at, Zone::Wita).unwrap().is_empty());
    // A busy counter calls nobody else; yesterday's no-show is not called today.
    let other = issue(&conn, &services[0], Lane::Normal, 2);
    queue::call_next(&conn, "L1", HEAD, policy, at, Zone::Wita).unwrap();
    queue::act(&conn, &other.id, HEAD, TicketAction::Skip, None, at, Zone::Wita).unwrap();
    assert!(matches!(queue::call_again(&conn, &other.id, "L2", HEAD, at, Zone::Wita), Err(QueueError::Busy)));
    let tomorrow = T0 + Duration::days(1);
    assert!(matches!(queue::call_again(&conn, &other.id, "L1", HEAD, tomorrow, Zone::Wita), Err(QueueError::NoTicket)));

    // A kiosk that never says whether its ticket printed: the ticket lapses after the window.
    let silent =
        queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "silent", at, Zone::Wita).unwrap();
    assert_eq!(silent.stage.code(), "pending_print");
    let later = at + queue::PRINT_CONFIRM_WINDOW + Duration::minutes(1);
    queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "next", later, Zone::Wita).unwrap();
    assert_eq!(queue::ticket(&conn, &silent.id).unwrap().stage.code(), "void");
    // Its kiosk speaks at last: it did print, so the applicant holding it is in the queue.
    assert_eq!(queue::printed(&conn, &silent.id, true).unwrap().stage.code(), "waiting");
    let fresh =
        queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "fresh", later, Zone::Wita)
            .unwrap();
    queue::issue(&conn, "51.03.02".parse().unwrap(), &services[0], Lane::Normal, "after", later, Zone::Wita).unwrap();
    assert_eq!(queue::ticket(&conn, &fresh.id).unwrap().stage.code(), "pending_print", "within the window it waits");
}

#[test]
fn after_a_restore_the_day_numbers_above_every_ticket_handed_out_before_it() {
    let (_dir, conn, services) = office();
    let priority = Lane::Priority(PriorityReason::Elderly);
    for n in 0..14 {
        issue(&conn, &services[0], Lane::Normal, n);
    }
    issue(&conn, &services[0], priority, 20);
    // The box failed after handing out more tickets than the backup holds; the restore resumes
    // every lane above them.
    let floor = queue::skip_ahead_after_restore(&conn, T0.date(), None).unwrap();
    assert_eq!(floor, 200);
    assert_eq!(issue(&conn, &services[0], Lane::Normal, 21).number.to_string(), "A-201");
    assert_eq!(issue(&conn, &services[0], priority, 22).number.to_string(), "P-201");
    assert_eq!(issue(&conn, &services[1], Lane::Normal, 23).number.to_string(), "B-201");
    // A second restore the same day climbs again, never back, and above what the database it
    // replaced had handed out (A-201 here).
    assert_eq!(queue::skip_ahead_after_restore(&conn, T0.date(), Some(201)).unwrap(), 400);
    assert_eq!(issue(&conn, &services[0], Lane::Normal, 24).number.to_string(), "A-401");
    // The next day starts at 1.
    let t = queue::issue(
        &conn,
        "51.03.02".parse().unwrap(),
        &services[0],
        Lane::Normal,
        "client-next-day",
        T0 + Duration::days(1),
        Zone::Wita,
    )
    .unwrap();
    assert_eq!(t.number.to_string(), "A-001");
}

#[test]
fn one_person_works_a_counter_and_the_head_can_take_over() {
    let (_dir, conn, services) = office();
    let (ani, budi) = (Worker { id: "staff-1", head: false }, Worker { id: "staff-2", head: false });
    let t = issue(&conn, &services[0], Lane::Normal, 1);
    let at = T0 + Duration::minutes(5);
    // L1 is Ani's today: Budi cannot open it, call to it, or serve its ticket.
    let held = |r: Result<_, QueueError>| matches!(r, Err(QueueError::HeldBy(_)));
    assert!(held(queue::open_counter(&conn, "L1", budi, true, at, Zone::Wita)));
    assert!(held(queue::call_next(&conn, "L1", budi, CallPolicy::default(), at, Zone::Wita).map(|_| ())));
    let called = queue::call_next(&conn, "L1", ani, CallPolicy::default(), at, Zone::Wita).unwrap();
    assert_eq!(called.id, t.id);
    assert!(held(queue::act(&conn, &t.id, budi, TicketAction::Start, None, at, Zone::Wita).map(|_| ())));
    queue::act(&conn, &t.id, ani, TicketAction::Start, None, at, Zone::Wita).unwrap();
    // The head takes the counter over; Ani no longer works it.
    queue::open_counter(&conn, "L1", HEAD, true, at, Zone::Wita).unwrap();
    assert!(held(queue::act(&conn, &t.id, ani, TicketAction::Finish, None, at, Zone::Wita).map(|_| ())));
    queue::act(&conn, &t.id, HEAD, TicketAction::Finish, None, at, Zone::Wita).unwrap();
    // A counter left open from yesterday is anyone's to take today.
    let tomorrow = T0 + Duration::days(1);
    queue::open_counter(&conn, "L2", budi, true, tomorrow, Zone::Wita).unwrap();
    // L1 is still open from yesterday: Budi calls to it (nobody waits yet) and so takes it;
    // Ani no longer may.
    let nobody = queue::call_next(&conn, "L1", budi, CallPolicy::default(), tomorrow, Zone::Wita);
    assert!(matches!(nobody, Err(QueueError::Empty)), "{nobody:?}");
    assert!(held(queue::call_next(&conn, "L1", ani, CallPolicy::default(), tomorrow, Zone::Wita).map(|_| ())));
    queue::open_counter(&conn, "L1", budi, true, tomorrow, Zone::Wita).unwrap();
    // Closing is the holder's (or the head's) too.
    assert!(held(queue::open_counter(&conn, "L1", ani, false, tomorrow, Zone::Wita)));
    queue::open_counter(&conn, "L1", budi, false, tomorrow, Zone::Wita).unwrap();
}
