//! Any interleaving of edits, syncs, cut sessions, backups and restores between a hub and four
//! boxes (three offices, one of them with two boxes editing the same records) converges, and no
//! accepted change is lost: a change only a restored replica held is gone with it, but every
//! change another replica had comes back to all.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, ReadDoc};
use proptest::prelude::*;
use simpul_sync::DocumentId;
use simpul_sync::memory::{Cut, MemoryReplica, session, session_as};
use simpul_sync::session::BoxPeer;

const OFFICES: [&str; 3] = ["51.03.01", "51.03.02", "51.03.03"];
/// Boxes: (id, office index). Office 0 runs two boxes, which edit the same records.
const BOXES: [(&str, usize); 4] = [("box-a", 0), ("box-b", 1), ("box-c", 2), ("box-d", 0)];
const NOW: i64 = 1_795_000_000;

#[derive(Clone, Debug)]
enum Op {
    /// Box `office` (an index into BOXES) edits its office's document `slot`.
    BoxEdit { office: usize, slot: u8, field: u8, value: u8 },
    /// The hub edits a document of `office` (if it holds it).
    HubEdit { office: usize, slot: u8, value: u8 },
    /// Box `office` syncs; the link breaks at exchange `cut_at` (never when `None`).
    Sync { office: usize, cut_at: Option<(u8, bool)>, budget: u16 },
    /// Replica `who` (an index into BOXES, or 4 for the hub) is backed up.
    Backup { who: usize },
    /// Replica `who` is restored from its last backup, and restarts with a new actor.
    Restore { who: usize },
}

const HUB_INDEX: usize = 4;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 0..4u8, 0..3u8, any::<u8>()).prop_map(|(office, slot, field, value)| Op::BoxEdit { office, slot, field, value }),
        1 => (0..3usize, 0..4u8, any::<u8>()).prop_map(|(office, slot, value)| Op::HubEdit { office, slot, value }),
        3 => (0..4usize, proptest::option::of((0..4u8, any::<bool>())), 64..4096u16)
            .prop_map(|(office, cut_at, budget)| Op::Sync { office, cut_at, budget }),
        1 => (0..5usize).prop_map(|who| Op::Backup { who }),
        1 => (0..5usize).prop_map(|who| Op::Restore { who }),
    ]
}

fn doc_id(office: usize, slot: u8) -> DocumentId {
    DocumentId(uuid::Uuid::from_u128(((office as u128) << 8) | slot as u128))
}

fn edit(doc: &mut automerge::AutoCommit, field: u8, value: u8) {
    match field {
        // A status-like field both sides may set.
        0 => doc.put(automerge::ROOT, "status", format!("s{value}")).unwrap(),
        // A counter that merges by rule.
        1 => match doc.get(automerge::ROOT, "copies").unwrap() {
            Some(_) => doc.increment(automerge::ROOT, "copies", 1).unwrap(),
            None => doc.put(automerge::ROOT, "copies", automerge::ScalarValue::counter(1)).unwrap(),
        },
        // An append-only list of steps.
        _ => {
            let steps = match doc.get(automerge::ROOT, "steps").unwrap() {
                Some((_, id)) => id,
                None => doc.put_object(automerge::ROOT, "steps", automerge::ObjType::List).unwrap(),
            };
            let n = doc.length(&steps);
            doc.insert(&steps, n, format!("step{value}")).unwrap();
        }
    }
}

fn snapshot(r: &MemoryReplica, office: &str) -> BTreeMap<DocumentId, (Vec<automerge::ChangeHash>, String)> {
    r.ids()
        .into_iter()
        .filter_map(|id| {
            let mut doc = r.open(id)?;
            let owner = simpul_sync::merge::root_text(&doc, "office")?;
            (owner == office).then(|| {
                let mut heads = doc.get_heads();
                heads.sort();
                (id, (heads, serde_json::to_string(&automerge::AutoSerde::from(&doc)).unwrap()))
            })
        })
        .collect()
}

fn holds(r: &MemoryReplica, hash: &automerge::ChangeHash) -> bool {
    r.ids().into_iter().any(|id| r.open(id).unwrap().get_change_by_hash(hash).is_some())
}

fn run(ops: Vec<Op>) {
    let mut hub = MemoryReplica::default();
    let mut boxes: Vec<MemoryReplica> = BOXES.iter().map(|_| MemoryReplica::default()).collect();
    // A replica's actor: (replica, restarts). A restored replica restarts with a new actor,
    // as the server does at every start.
    let mut restarts = [0u8; 5];
    let actor = |who: usize, restarts: &[u8; 5]| ActorId::from([vec![who as u8 + 1; 15], vec![restarts[who]]].concat());
    let mut backups: Vec<Option<MemoryReplica>> = vec![None; 5];
    // Every change hash a box or the hub accepted, by owning office.
    let mut accepted: Vec<(usize, automerge::ChangeHash)> = Vec::new();
    for (t, op) in ops.into_iter().enumerate() {
        match op {
            Op::Backup { who } => {
                backups[who] = Some(if who == HUB_INDEX { hub.clone() } else { boxes[who].clone() });
            }
            Op::Restore { who } => {
                let Some(mut backup) = backups[who].clone() else { continue };
                backup.restored();
                if who == HUB_INDEX {
                    hub = backup;
                } else {
                    boxes[who] = backup;
                }
                restarts[who] += 1;
                // What only the restored replica held is gone with it; the rest must come back.
                accepted.retain(|(_, hash)| holds(&hub, hash) || boxes.iter().any(|b| holds(b, hash)));
            }
            Op::BoxEdit { office: b, slot, field, value } => {
                let office = BOXES[b].1;
                let id = doc_id(office, slot);
                let by = actor(b, &restarts);
                boxes[b].edit(id, OFFICES[office], &by, "staff", NOW + t as i64, |d| edit(d, field, value));
                let mut doc = boxes[b].open(id).unwrap();
                accepted.extend(doc.get_heads().into_iter().map(|h| (office, h)));
            }
            Op::HubEdit { office, slot, value } => {
                let id = doc_id(office, slot);
                if hub.open(id).is_some() {
                    let by = actor(HUB_INDEX, &restarts);
                    hub.edit(id, OFFICES[office], &by, "admin", NOW + t as i64, |d| edit(d, 0, value));
                    let mut doc = hub.open(id).unwrap();
                    accepted.extend(doc.get_heads().into_iter().map(|h| (office, h)));
                }
            }
            Op::Sync { office: b, cut_at, budget } => {
                let mut step = 0u8;
                let peer = BoxPeer { id: BOXES[b].0, office: OFFICES[BOXES[b].1] };
                session_as(&mut boxes[b], &mut hub, peer, NOW, budget as usize, |at| {
                    let cut = match cut_at {
                        Some((n, after)) => n == step && (at == Cut::AfterHub) == after,
                        None => false,
                    };
                    if at == Cut::AfterHub {
                        step += 1;
                    }
                    cut
                })
                .unwrap();
            }
        }
    }
    // Heal: every box syncs until nothing moves (three times around carries what one box gives
    // back to a restored hub on to the other box of its office).
    for _ in 0..3 {
        for (i, b) in boxes.iter_mut().enumerate() {
            let peer = BoxPeer { id: BOXES[i].0, office: OFFICES[BOXES[i].1] };
            session_as(b, &mut hub, peer, NOW, 1 << 20, |_| false).unwrap();
        }
    }
    for (i, b) in boxes.iter().enumerate() {
        let office = OFFICES[BOXES[i].1];
        let at_box = snapshot(b, office);
        let at_hub = snapshot(&hub, office);
        assert_eq!(at_box, at_hub, "box {i} differs from the hub");
        // Nothing of other offices reached this box.
        assert_eq!(b.ids().len(), at_box.len(), "box {i} holds another office's documents");
    }
    for (office, hash) in accepted {
        let holders = BOXES.iter().enumerate().filter(|(_, (_, o))| *o == office).map(|(i, _)| &boxes[i]);
        for r in std::iter::once(&hub).chain(holders) {
            assert!(holds(r, &hash), "accepted change {hash} of office {office} was lost");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_interleaving_converges_without_loss(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn a_hub_restored_after_a_cut_session_gets_back_its_own_step_from_the_box() {
    // The box got the hub's edit, the next exchange never reached the hub, then the hub was
    // restored from a backup taken before its edit: the box must give the edit back.
    run(vec![
        Op::BoxEdit { office: 0, slot: 0, field: 0, value: 1 },
        Op::Sync { office: 0, cut_at: None, budget: 4096 },
        Op::Backup { who: HUB_INDEX },
        Op::HubEdit { office: 0, slot: 0, value: 2 },
        Op::Sync { office: 0, cut_at: Some((1, false)), budget: 4096 },
        Op::Restore { who: HUB_INDEX },
        Op::BoxEdit { office: 0, slot: 0, field: 1, value: 3 },
    ]);
}

#[test]
fn a_session_costs_the_same_round_trips_for_one_or_many_documents() {
    let mut hub = MemoryReplica::default();
    let mut office_box = MemoryReplica::default();
    let actor = ActorId::from(vec![9; 16]);
    for n in 0..300u16 {
        let id = DocumentId(uuid::Uuid::from_u128(1000 + n as u128));
        office_box.edit(id, OFFICES[0], &actor, "staff", NOW, |d| edit(d, 0, n as u8));
    }
    let many = session(&mut office_box, &mut hub, OFFICES[0], NOW, 1 << 20, |_| false).unwrap();
    let id = DocumentId(uuid::Uuid::from_u128(1000));
    office_box.edit(id, OFFICES[0], &actor, "staff", NOW, |d| edit(d, 0, 1));
    let one = session(&mut office_box, &mut hub, OFFICES[0], NOW, 1 << 20, |_| false).unwrap();
    assert_eq!(many.round_trips, 1);
    assert_eq!(one.round_trips, 1);
    // Ten changed among many: the box scans only its new log entries.
    let scanned_before = office_box.scanned;
    for n in 0..10u8 {
        let id = DocumentId(uuid::Uuid::from_u128(1000 + n as u128));
        office_box.edit(id, OFFICES[0], &actor, "staff", NOW, |d| edit(d, 0, n + 2));
    }
    session(&mut office_box, &mut hub, OFFICES[0], NOW, 1 << 20, |_| false).unwrap();
    assert_eq!(office_box.scanned - scanned_before, 10);
}

#[test]
fn a_box_cannot_send_another_offices_document_nor_a_skewed_clock() {
    let mut hub = MemoryReplica::default();
    let mut office_box = MemoryReplica::default();
    let actor = ActorId::from(vec![9; 16]);
    let id = DocumentId(uuid::Uuid::from_u128(5));
    office_box.edit(id, OFFICES[1], &actor, "staff", NOW, |d| edit(d, 0, 1));
    let err = session(&mut office_box, &mut hub, OFFICES[0], NOW, 1 << 20, |_| false).unwrap_err();
    assert!(matches!(err, simpul_sync::session::SyncError::ForeignDocument { .. }), "{err}");
    assert!(hub.ids().is_empty(), "nothing applied half-way");
    let mut honest = MemoryReplica::default();
    honest.edit(id, OFFICES[0], &actor, "staff", NOW, |d| edit(d, 0, 1));
    let push = simpul_sync::session::box_push(&mut honest, NOW - 3 * 86_400, 1 << 20).unwrap();
    let err = hub
        .transaction(|h| {
            simpul_sync::session::hub_answer(
                h,
                simpul_sync::session::BoxPeer { id: OFFICES[0], office: OFFICES[0] },
                &push,
                NOW,
                1 << 20,
            )
        })
        .unwrap_err();
    assert!(matches!(err, simpul_sync::session::SyncError::ClockSkew(_)), "{err}");
    assert!(hub.ids().is_empty());
}
