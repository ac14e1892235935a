//! Replays the fuzzer's corpus (and any crash it saved) through the decoder, so that what the
//! fuzzer found stays fixed. Run the fuzzer with `scripts/fuzz.sh` (see README).

use std::path::Path;

use simpul_sync::protocol::{decode, encode};

fn replay(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries.flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        if let Ok(message) = decode(&bytes) {
            assert_eq!(decode(&encode(&message)).ok(), Some(message), "{}", entry.path().display());
        }
        n += 1;
    }
    n
}

#[test]
fn the_fuzz_corpus_decodes_without_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = replay(&root.join("corpus/decode"));
    replay(&root.join("artifacts/decode"));
    assert!(corpus >= 5, "the committed corpus is missing ({corpus} files)");
}

/// Writes the seed messages the fuzzer starts from: `cargo test -p simpul-sync --test
/// fuzz_corpus -- --ignored`.
#[test]
#[ignore]
fn write_seed_corpus() {
    use automerge::ActorId;
    use simpul_sync::DocumentId;
    use simpul_sync::memory::{MemoryReplica, session};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    std::fs::create_dir_all(&dir).unwrap();
    let mut office = MemoryReplica::default();
    let mut hub = MemoryReplica::default();
    let actor = ActorId::from(vec![7; 16]);
    for i in 0..3u128 {
        office.edit(DocumentId(uuid::Uuid::from_u128(i)), "51.03.02", &actor, "staff", 1_795_000_000, |d| {
            automerge::transaction::Transactable::put(d, automerge::ROOT, "status", "draft").unwrap();
        });
    }
    let push = simpul_sync::session::box_push(&mut office, 1_795_000_000, 1 << 20).unwrap();
    std::fs::write(dir.join("seed-push"), encode(&simpul_sync::protocol::Message::Push(push.clone()))).unwrap();
    let mut with_password = push.clone();
    with_password.credentials.push(simpul_sync::reference::CredentialChange {
        staff: uuid::Uuid::from_u128(42),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        changed_at: 1_795_000_000,
    });
    std::fs::write(dir.join("seed-push-password"), encode(&simpul_sync::protocol::Message::Push(with_password)))
        .unwrap();
    let (pull, _) = simpul_sync::session::hub_answer(
        &mut hub,
        simpul_sync::session::BoxPeer { id: "box", office: "51.03.02" },
        &push,
        1_795_000_000,
        1 << 20,
    )
    .unwrap();
    std::fs::write(dir.join("seed-pull"), encode(&simpul_sync::protocol::Message::Pull(pull))).unwrap();
    session(&mut office, &mut hub, "51.03.02", 1_795_000_000, 1 << 20, |_| false).unwrap();
    let empty = simpul_sync::session::box_push(&mut office, 1_795_000_000, 1 << 20).unwrap();
    std::fs::write(dir.join("seed-empty-push"), encode(&simpul_sync::protocol::Message::Push(empty))).unwrap();
}
