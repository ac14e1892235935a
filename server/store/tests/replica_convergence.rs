//! The convergence property of `simpul-sync` (sync/tests/convergence.rs) on the real store: a
//! hub and four boxes, each a SQLite file of its own, driven through random interleavings of
//! edits, syncs cut at any exchange, backups and restores. Every step of a session runs in one
//! SQLite transaction on `SqliteReplica`, through the wire encoding, as the server runs it.
//! Everything converges, no box holds another office's records, and no accepted change is lost
//! (a change only a restored replica held is gone with it; every change another replica had
//! comes back to all).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use autosurgeon::{Hydrate, Reconcile};
use proptest::prelude::*;
use simpul_store::replica::{ReplicaError, SqliteReplica};
use simpul_store::{Connection, db, documents};

use simpul_sync::protocol::{DocKind, Message, decode, encode};
use simpul_sync::session::{BoxPeer, SyncError, box_push, box_receive, box_rewind, hub_answer};
use time::OffsetDateTime;

const OFFICES: [&str; 3] = ["51.03.01", "51.03.02", "51.03.03"];
/// Boxes: (id, office index). Office 0 runs two boxes, which edit the same records.
const BOXES: [(&str, usize); 4] = [("box-a", 0), ("box-b", 1), ("box-c", 2), ("box-d", 0)];
const HUB: usize = 4;
const NOW: i64 = 1_795_000_000;

/// A record as the test edits it: a field both sides may set and a list both append to.
#[derive(Clone, Debug, Default, PartialEq, Reconcile, Hydrate)]
struct Record {
    office: String,
    status: String,
    steps: Vec<String>,
}

#[derive(Clone, Debug)]
enum Op {
    /// Box `who` (an index into BOXES) edits its office's record `slot`.
    BoxEdit { who: usize, slot: u8, append: bool, value: u8 },
    /// The hub edits a record of `office` (if it holds it).
    HubEdit { office: usize, slot: u8, value: u8 },
    /// Box `who` syncs; the link breaks at exchange `cut_at` (never when `None`).
    Sync { who: usize, cut_at: Option<(u8, bool)>, budget: u16 },
    /// Replica `who` (a box, or HUB) is backed up.
    Backup { who: usize },
    /// Replica `who` is restored from its last backup, as `simpul restore` does it: a new actor
    /// and a new log timeline.
    Restore { who: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..4usize, 0..3u8, any::<bool>(), any::<u8>()).prop_map(|(who, slot, append, value)| Op::BoxEdit { who, slot, append, value }),
        1 => (0..3usize, 0..3u8, any::<u8>()).prop_map(|(office, slot, value)| Op::HubEdit { office, slot, value }),
        3 => (0..4usize, proptest::option::of((0..3u8, any::<bool>())), 64..4096u16)
            .prop_map(|(who, cut_at, budget)| Op::Sync { who, cut_at, budget }),
        1 => (0..5usize).prop_map(|who| Op::Backup { who }),
        1 => (0..5usize).prop_map(|who| Op::Restore { who }),
    ]
}

fn doc_id(office: usize, slot: u8) -> String {
    uuid::Uuid::from_u128(((office as u128) << 8) | slot as u128).to_string()
}

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW + t).unwrap()
}

/// One replica: its database file and an open connection.
/// Every node of the test shares one key, as a box keeps its own across restarts and restores.
fn key() -> simpul_store::crypt::DbKey {
    simpul_store::crypt::MasterKey::from_bytes(&[7; 32]).unwrap().database_key()
}

struct Node {
    path: PathBuf,
    conn: Connection,
}

impl Node {
    fn open(path: PathBuf) -> Node {
        let conn = db::open_sync(&path, &key()).unwrap();
        // A new actor at every start, as the server makes one.
        documents::rotate_actor(&conn).unwrap();
        Node { path, conn }
    }

    /// Runs one session step in one transaction: committed when it succeeds, rolled back when
    /// it refuses.
    fn step<T>(
        &mut self,
        now: i64,
        f: impl FnOnce(&mut SqliteReplica<'_>) -> Result<T, ReplicaError>,
    ) -> Result<T, ReplicaError> {
        let tx = self.conn.transaction().unwrap();
        let stamp = simpul_store::stamp(OffsetDateTime::from_unix_timestamp(now).unwrap());
        let result = f(&mut SqliteReplica::new(&tx, stamp));
        if result.is_ok() {
            tx.commit().unwrap();
        }
        result
    }

    fn edit(&mut self, id: &str, office: &str, t: i64, by: &str, change: impl FnOnce(&mut Record)) {
        let tx = self.conn.transaction().unwrap();
        if documents::open(&tx, id).unwrap().is_none() {
            let mut record = Record { office: office.to_string(), ..Record::default() };
            change(&mut record);
            documents::create(&tx, DocKind::Application, id, &record, at(t), by).unwrap();
        } else {
            documents::update::<Record, (), _>(&tx, id, at(t), by, |r| {
                change(r);
                Ok(())
            })
            .unwrap();
        }
        tx.commit().unwrap();
    }

    fn heads(&self, id: &str) -> Vec<automerge::ChangeHash> {
        let mut doc = documents::open(&self.conn, id).unwrap().unwrap();
        doc.get_heads()
    }

    fn ids(&self) -> Vec<String> {
        let mut stmt = self.conn.prepare("SELECT id FROM documents ORDER BY id").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    }

    fn holds(&self, hash: &automerge::ChangeHash) -> bool {
        self.ids().iter().any(|id| documents::open(&self.conn, id).unwrap().unwrap().get_change_by_hash(hash).is_some())
    }

    fn snapshot(&self, office: &str) -> BTreeMap<String, (Vec<automerge::ChangeHash>, String)> {
        self.ids()
            .into_iter()
            .filter_map(|id| {
                let mut doc = documents::open(&self.conn, &id).unwrap().unwrap();
                let owner = simpul_sync::merge::root_text(&doc, "office")?;
                (owner == office).then(|| {
                    let mut heads = doc.get_heads();
                    heads.sort();
                    (id, (heads, serde_json::to_string(&automerge::AutoSerde::from(&doc)).unwrap()))
                })
            })
            .collect()
    }

    /// A backup into `to`, taken while the replica is in use (an encrypted export).
    fn backup(&self, to: &Path) {
        let _ = std::fs::remove_file(to);
        db::copy_into(&self.conn, to, &key()).unwrap();
    }

    /// Restores the backup at `from` in place of this replica.
    fn restore(self, from: &Path) -> Node {
        let path = self.path.clone();
        drop(self);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        std::fs::copy(from, &path).unwrap();
        let node = Node::open(path);
        simpul_store::replica::fork_epoch(&node.conn).unwrap();
        node
    }
}

/// A whole session between a box and the hub through the wire encoding, each step one
/// transaction; `cut` says before and after each exchange whether the link breaks there.
fn session(office_box: &mut Node, hub: &mut Node, peer: BoxPeer<'_>, budget: usize, mut cut: impl FnMut(bool) -> bool) {
    let mut round_trips = 0;
    let mut last_pull_had_changes = false;
    let mut rewinds = 0;
    loop {
        let push = office_box.step(NOW, |r| box_push(r, NOW, budget)).unwrap();
        if push.changes.is_empty() && !push.more && !last_pull_had_changes && round_trips > 0 {
            return;
        }
        let wire = encode(&Message::Push(push));
        if cut(false) {
            return;
        }
        let Ok(Message::Push(push)) = decode(&wire) else { panic!("own encoding decodes") };
        let (pull, _) = match hub.step(NOW, |r| hub_answer(r, peer, &push, NOW, budget)) {
            Err(ReplicaError::Sync(SyncError::Gap { held, hub_epoch, hub_held, .. })) if rewinds < 3 => {
                round_trips += 1;
                rewinds += 1;
                office_box.step(NOW, |r| box_rewind(r, held, hub_epoch, hub_held)).unwrap();
                continue;
            }
            other => other.unwrap(),
        };
        let wire = encode(&Message::Pull(pull));
        round_trips += 1;
        if cut(true) {
            return;
        }
        let Ok(Message::Pull(pull)) = decode(&wire) else { panic!("own encoding decodes") };
        office_box.step(NOW, |r| box_receive(r, push.sent(), &pull)).unwrap();
        last_pull_had_changes = !pull.changes.is_empty();
        if !push.more && !pull.more && !last_pull_had_changes {
            return;
        }
    }
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes: Vec<Option<Node>> =
        (0..5).map(|i| Some(Node::open(dir.path().join(format!("replica-{i}.sqlite3"))))).collect();
    let backup_of = |who: usize| dir.path().join(format!("backup-{who}.sqlite3"));
    let mut backed_up = [false; 5];
    // Every change hash a box or the hub accepted, by owning office.
    let mut accepted: Vec<(usize, automerge::ChangeHash)> = Vec::new();
    for (t, op) in ops.into_iter().enumerate() {
        let t = t as i64;
        match op {
            Op::Backup { who } => {
                nodes[who].as_ref().unwrap().backup(&backup_of(who));
                backed_up[who] = true;
            }
            Op::Restore { who } => {
                if !backed_up[who] {
                    continue;
                }
                let node = nodes[who].take().unwrap();
                nodes[who] = Some(node.restore(&backup_of(who)));
                // What only the restored replica held is gone with it; the rest must come back.
                accepted.retain(|(_, hash)| nodes.iter().flatten().any(|n| n.holds(hash)));
            }
            Op::BoxEdit { who, slot, append, value } => {
                let office = BOXES[who].1;
                let id = doc_id(office, slot);
                let node = nodes[who].as_mut().unwrap();
                node.edit(&id, OFFICES[office], t, "staff", |r| {
                    if append {
                        r.steps.push(format!("step{value}"));
                    } else {
                        r.status = format!("s{value}");
                    }
                });
                accepted.extend(node.heads(&id).into_iter().map(|h| (office, h)));
            }
            Op::HubEdit { office, slot, value } => {
                let id = doc_id(office, slot);
                let hub = nodes[HUB].as_mut().unwrap();
                if documents::open(&hub.conn, &id).unwrap().is_some() {
                    hub.edit(&id, OFFICES[office], t, "admin", |r| r.status = format!("h{value}"));
                    accepted.extend(hub.heads(&id).into_iter().map(|h| (office, h)));
                }
            }
            Op::Sync { who, cut_at, budget } => {
                let mut hub = nodes[HUB].take().unwrap();
                let mut office_box = nodes[who].take().unwrap();
                let peer = BoxPeer { id: BOXES[who].0, office: OFFICES[BOXES[who].1] };
                let mut exchange = 0u8;
                session(&mut office_box, &mut hub, peer, budget as usize, |after_hub| {
                    let cut = cut_at.is_some_and(|(n, after)| n == exchange && after == after_hub);
                    if after_hub {
                        exchange += 1;
                    }
                    cut
                });
                nodes[HUB] = Some(hub);
                nodes[who] = Some(office_box);
            }
        }
    }
    // Heal: every box syncs until nothing moves (three times around carries what one box gives
    // back to a restored hub on to the other box of its office).
    for _ in 0..3 {
        for (i, (id, office)) in BOXES.iter().enumerate() {
            let mut hub = nodes[HUB].take().unwrap();
            let mut office_box = nodes[i].take().unwrap();
            session(&mut office_box, &mut hub, BoxPeer { id, office: OFFICES[*office] }, 1 << 20, |_| false);
            nodes[HUB] = Some(hub);
            nodes[i] = Some(office_box);
        }
    }
    let hub = nodes[HUB].as_ref().unwrap();
    for (i, (_, office)) in BOXES.iter().enumerate() {
        let node = nodes[i].as_ref().unwrap();
        let at_box = node.snapshot(OFFICES[*office]);
        assert_eq!(at_box, hub.snapshot(OFFICES[*office]), "box {i} differs from the hub");
        assert_eq!(node.ids().len(), at_box.len(), "box {i} holds another office's records");
    }
    for (office, hash) in accepted {
        let holders = BOXES.iter().enumerate().filter(|(_, (_, o))| *o == office).map(|(i, _)| i);
        for who in std::iter::once(HUB).chain(holders) {
            assert!(nodes[who].as_ref().unwrap().holds(&hash), "accepted change {hash} of office {office} was lost");
        }
    }
}

proptest! {
    // Each case is five SQLite files on disk with synchronous=FULL: fewer cases than the
    // in-memory property, the same operations.
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_interleaving_on_sqlite_converges_without_loss(ops in proptest::collection::vec(op(), 1..40)) {
        run(ops);
    }
}

#[test]
fn a_hub_restored_after_a_cut_session_gets_back_its_own_step_from_the_box() {
    run(vec![
        Op::BoxEdit { who: 0, slot: 0, append: false, value: 1 },
        Op::Sync { who: 0, cut_at: None, budget: 4096 },
        Op::Backup { who: HUB },
        Op::HubEdit { office: 0, slot: 0, value: 2 },
        Op::Sync { who: 0, cut_at: Some((1, false)), budget: 4096 },
        Op::Restore { who: HUB },
        Op::BoxEdit { who: 0, slot: 0, append: true, value: 3 },
    ]);
}

#[test]
fn two_boxes_of_one_office_and_a_restored_box_converge() {
    run(vec![
        Op::BoxEdit { who: 0, slot: 1, append: true, value: 1 },
        Op::Backup { who: 0 },
        Op::Sync { who: 0, cut_at: None, budget: 128 },
        Op::BoxEdit { who: 3, slot: 1, append: true, value: 2 },
        Op::Sync { who: 3, cut_at: Some((0, true)), budget: 128 },
        Op::Restore { who: 0 },
        Op::BoxEdit { who: 0, slot: 1, append: false, value: 4 },
        Op::BoxEdit { who: 1, slot: 0, append: false, value: 5 },
    ]);
}
