//! The sync messages and their wire form.
//!
//! A session is a short series of exchanges, each one HTTP round trip: the box sends a [`Push`]
//! (its changes after the cursor the hub last acknowledged, and how far it has applied the
//! hub's log), the hub answers with a [`Pull`] (its acknowledgement and the changes the box
//! lacks). How many exchanges a session takes depends on bytes, never on how many documents
//! changed: changes of many documents travel in one batch.
//!
//! Wire form: `SMPL`, a version byte, the payload length before compression (u32 LE), then the
//! payload: postcard-encoded message compressed with zstd. Every length is checked before
//! anything is allocated for it.

use serde::{Deserialize, Serialize};

use crate::reference::{CredentialChange, MAX_CREDENTIALS_PER_PUSH, MAX_ROWS_PER_BATCH, ReferenceBatch, Revision};
use crate::{Cursor, DocumentId};

/// First bytes of every message.
pub const MAGIC: [u8; 4] = *b"SMPL";
/// Version of the message layout; a peer refuses versions it does not know. Version 4 is
/// version 3 followed by a [`Lineage`].
pub const VERSION: u8 = 4;
/// The oldest version still read. Version 2 pushes carry no password changes; a hub answers
/// a message in the version it came in, so boxes not yet upgraded keep syncing.
pub const OLDEST_VERSION: u8 = 2;
/// Largest message on the wire.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;
/// Largest message once decompressed.
pub const MAX_PAYLOAD_BYTES: usize = 32 * 1024 * 1024;
/// Most documents in one batch.
pub const MAX_DOCS_PER_BATCH: usize = 20_000;
/// Most heads a document may announce.
pub const MAX_HEADS: usize = 64;
/// Byte budget a sender aims at for the changes of one batch.
pub const BATCH_BUDGET: usize = 1024 * 1024;
/// The smallest budget a box may ask for, on the slowest link (a batch still carries at least
/// one document whatever its size).
pub const MIN_BATCH_BUDGET: usize = 16 * 1024;

/// The budget a box asked for, within what a peer allows.
pub fn clamp_budget(asked: usize) -> usize {
    asked.clamp(MIN_BATCH_BUDGET, BATCH_BUDGET)
}

/// Kinds of replicated documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocKind {
    /// An application (permohonan).
    Application,
}

impl DocKind {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            DocKind::Application => "application",
        }
    }

    /// From the stored code.
    pub fn from_code(code: &str) -> Option<DocKind> {
        match code {
            "application" => Some(DocKind::Application),
            _ => None,
        }
    }
}

/// The changes of one document in a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    /// Which document.
    pub doc: DocumentId,
    /// What kind it is.
    pub kind: DocKind,
    /// Automerge change chunks, concatenated.
    #[serde(with = "serde_bytes_compat")]
    pub bytes: Vec<u8>,
    /// The sender's heads of the document once these changes are in: the receiver checks it
    /// holds them all afterwards, so a gap is found at once, not at the next edit.
    pub heads: Vec<[u8; 32]>,
}

/// Box to hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// The box's clock when it sent this (Unix seconds).
    pub sent_at: i64,
    /// The box's log position this batch starts after (what the hub acknowledged last).
    pub after: Cursor,
    /// The box's log position the batch reaches.
    pub upto: Cursor,
    /// How far the box has durably applied the hub's log.
    pub applied_hub: Cursor,
    /// The changes.
    pub changes: Vec<DocChanges>,
    /// More local changes wait after `upto`.
    pub more: bool,
    /// The hub's reference data the box has applied (see [`crate::reference`]).
    pub reference_applied: Revision,
    /// Passwords the box's staff changed there, for the hub (version 3).
    pub credentials: Vec<CredentialChange>,
    /// Which timelines the positions refer to (version 4, after the message).
    #[serde(skip)]
    pub lineage: Lineage,
}

/// A timeline of a log. A log's positions keep their meaning until a restore from a backup
/// takes the log back to an earlier end and new entries take the positions of lost ones: a
/// restore starts a new timeline, which shares its positions up to `start` with its `parent`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEpoch {
    /// The timeline (random; 0 for a peer that does not tell).
    pub id: u64,
    /// The timeline it was restored from (0 if none).
    pub parent: u64,
    /// The log's end when it was restored: positions up to here are the parent's.
    pub start: Cursor,
}

/// Which timelines the positions of a message refer to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The sender's own timeline (its log positions: a push's `after`/`upto`, a pull's `upto`).
    pub epoch: LogEpoch,
    /// The receiver's timeline the sender's cursor on it refers to (a push's `applied_hub`, a
    /// pull's `applied_box`); 0 when not known.
    pub peer_epoch: u64,
}

/// A push as version 2 lays it out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PushV2 {
    sent_at: i64,
    after: Cursor,
    upto: Cursor,
    applied_hub: Cursor,
    changes: Vec<DocChanges>,
    more: bool,
    reference_applied: Revision,
}

/// A message as version 2 lays it out (a pull has not changed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum MessageV2 {
    Push(PushV2),
    Pull(Pull),
}

impl From<Message> for MessageV2 {
    /// What version 2 can carry of a message: a push without its password changes.
    fn from(message: Message) -> MessageV2 {
        match message {
            Message::Push(p) => MessageV2::Push(PushV2 {
                sent_at: p.sent_at,
                after: p.after,
                upto: p.upto,
                applied_hub: p.applied_hub,
                changes: p.changes,
                more: p.more,
                reference_applied: p.reference_applied,
            }),
            Message::Pull(p) => MessageV2::Pull(p),
        }
    }
}

impl From<MessageV2> for Message {
    fn from(old: MessageV2) -> Message {
        match old {
            MessageV2::Push(p) => Message::Push(Push {
                sent_at: p.sent_at,
                after: p.after,
                upto: p.upto,
                applied_hub: p.applied_hub,
                changes: p.changes,
                more: p.more,
                reference_applied: p.reference_applied,
                credentials: Vec::new(),
                lineage: Lineage::default(),
            }),
            MessageV2::Pull(p) => Message::Pull(p),
        }
    }
}

/// Hub to box.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pull {
    /// The hub's clock (Unix seconds).
    pub sent_at: i64,
    /// How far the hub has durably applied the box's log.
    pub applied_box: Cursor,
    /// The hub's log position this batch reaches (for this box's scope).
    pub upto: Cursor,
    /// The changes the box lacks.
    pub changes: Vec<DocChanges>,
    /// More changes wait after `upto`.
    pub more: bool,
    /// Reference data the box lacks.
    pub reference: ReferenceBatch,
    /// Which timelines the positions refer to (version 4, after the message).
    #[serde(skip)]
    pub lineage: Lineage,
}

/// One message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Box to hub.
    Push(Push),
    /// Hub to box.
    Pull(Pull),
}

/// Why bytes are not a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("the message has {0} bytes, more than accepted")]
    TooLarge(usize),
    /// Shorter than its header.
    #[error("the message is truncated")]
    Truncated,
    /// Not a Simpul sync message.
    #[error("not a Simpul sync message")]
    NotSync,
    /// A version this build does not speak.
    #[error("sync message version {0} is not supported (this box speaks {VERSION})")]
    Version(u8),
    /// The compressed payload is damaged or its size is not what the header says.
    #[error("the message payload is damaged")]
    Damaged,
    /// The payload decodes but breaks a limit or a rule.
    #[error("the message is not valid: {0}")]
    Invalid(&'static str),
}

/// Bytes of a message on the wire.
pub fn encode(message: &Message) -> Vec<u8> {
    encode_version(message, VERSION)
}

/// Bytes of a message in layout `version` (a version this build reads; anything older than
/// the current one drops what that version cannot carry).
pub fn encode_version(message: &Message, version: u8) -> Vec<u8> {
    // Serialising plain owned data into a Vec cannot fail.
    let payload = if version < 3 {
        postcard::to_stdvec(&MessageV2::from(message.clone())).unwrap_or_default()
    } else {
        let mut payload = postcard::to_stdvec(message).unwrap_or_default();
        if version >= 4 {
            let lineage = match message {
                Message::Push(p) => p.lineage,
                Message::Pull(p) => p.lineage,
            };
            payload.extend(postcard::to_stdvec(&lineage).unwrap_or_default());
        }
        payload
    };
    let version = version.clamp(OLDEST_VERSION, VERSION);
    let compressed = zstd::bulk::compress(&payload, 3).unwrap_or_default();
    let mut out = Vec::with_capacity(compressed.len() + 9);
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&compressed);
    out
}

/// A message from the wire, checked against every limit.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode_versioned(bytes).map(|(message, _)| message)
}

/// A message from the wire and the layout version it came in.
pub fn decode_versioned(bytes: &[u8]) -> Result<(Message, u8), DecodeError> {
    if bytes.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(bytes.len()));
    }
    if bytes.len() < 9 {
        return Err(DecodeError::Truncated);
    }
    if bytes[..4] != MAGIC {
        return Err(DecodeError::NotSync);
    }
    let version = bytes[4];
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(DecodeError::Version(version));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(&bytes[5..9]);
    let raw_len = u32::from_le_bytes(len) as usize;
    if raw_len > MAX_PAYLOAD_BYTES {
        return Err(DecodeError::TooLarge(raw_len));
    }
    let payload = zstd::bulk::decompress(&bytes[9..], raw_len).map_err(|_| DecodeError::Damaged)?;
    if payload.len() != raw_len {
        return Err(DecodeError::Damaged);
    }
    let undecodable = |_| DecodeError::Invalid("the payload does not decode");
    let (mut message, mut rest): (Message, &[u8]) = if version < 3 {
        let (old, rest): (MessageV2, &[u8]) = postcard::take_from_bytes(&payload).map_err(undecodable)?;
        (Message::from(old), rest)
    } else {
        postcard::take_from_bytes(&payload).map_err(undecodable)?
    };
    if version >= 4 {
        let (lineage, after): (Lineage, &[u8]) = postcard::take_from_bytes(rest).map_err(undecodable)?;
        match &mut message {
            Message::Push(p) => p.lineage = lineage,
            Message::Pull(p) => p.lineage = lineage,
        }
        rest = after;
    }
    if !rest.is_empty() {
        return Err(DecodeError::Invalid("bytes after the message"));
    }
    validate(&message)?;
    Ok((message, version))
}

fn validate(message: &Message) -> Result<(), DecodeError> {
    let changes = match message {
        Message::Push(p) => {
            if p.upto < p.after {
                return Err(DecodeError::Invalid("the batch ends before it starts"));
            }
            if p.credentials.len() > MAX_CREDENTIALS_PER_PUSH {
                return Err(DecodeError::Invalid("too many password changes in one push"));
            }
            if p.credentials.iter().any(|c| c.password_hash.len() > 512) {
                return Err(DecodeError::Invalid("a password hash is too long"));
            }
            &p.changes
        }
        Message::Pull(p) => {
            if p.reference.rows.len() > MAX_ROWS_PER_BATCH {
                return Err(DecodeError::Invalid("too many reference rows in one batch"));
            }
            &p.changes
        }
    };
    if changes.len() > MAX_DOCS_PER_BATCH {
        return Err(DecodeError::Invalid("too many documents in one batch"));
    }
    let mut seen = std::collections::HashSet::with_capacity(changes.len());
    for c in changes {
        if c.heads.len() > MAX_HEADS {
            return Err(DecodeError::Invalid("too many heads"));
        }
        if c.bytes.len() > crate::MAX_DOCUMENT_BYTES {
            return Err(DecodeError::Invalid("a document's changes are too large"));
        }
        if !seen.insert(c.doc) {
            return Err(DecodeError::Invalid("a document appears twice in one batch"));
        }
    }
    Ok(())
}

/// Byte vectors as postcard byte strings (one length prefix, not one per byte).
mod serde_bytes_compat {
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(Bytes)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample() -> Message {
        Message::Push(Push {
            sent_at: 1_790_000_000,
            after: Cursor(4),
            upto: Cursor(9),
            applied_hub: Cursor(2),
            changes: vec![DocChanges {
                doc: DocumentId(uuid::Uuid::from_u128(7)),
                kind: DocKind::Application,
                bytes: vec![1, 2, 3, 4, 5],
                heads: vec![[9; 32]],
            }],
            more: false,
            reference_applied: Revision(3),
            credentials: vec![CredentialChange {
                staff: uuid::Uuid::from_u128(5),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                changed_at: 1_790_000_000,
            }],
            lineage: Lineage { epoch: LogEpoch { id: 77, parent: 76, start: Cursor(3) }, peer_epoch: 12 },
        })
    }

    #[test]
    fn a_message_survives_the_wire() {
        let m = sample();
        assert_eq!(decode(&encode(&m)).unwrap(), m);
    }

    #[test]
    fn damaged_messages_are_refused_with_a_reason() {
        let good = encode(&sample());
        assert_eq!(decode(&good[..5]), Err(DecodeError::Truncated));
        assert_eq!(decode(b"GET / HTTP/1.1\r\n"), Err(DecodeError::NotSync));
        let mut v2 = good.clone();
        v2[4] = 9;
        assert_eq!(decode(&v2), Err(DecodeError::Version(9)));
        let mut huge = good.clone();
        huge[5..9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(&huge), Err(DecodeError::TooLarge(_))));
        let mut short = good.clone();
        short[5..9].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(decode(&short), Err(DecodeError::Damaged));
        assert!(decode(&good[..good.len() - 2]).is_err());
        assert!(matches!(decode(&vec![0u8; MAX_FRAME_BYTES + 1]), Err(DecodeError::TooLarge(_))));
    }

    #[test]
    fn a_version_2_peer_is_still_understood_and_answered_in_its_version() {
        let Message::Push(p) = sample() else { unreachable!() };
        let old = encode_version(&Message::Push(p.clone()), 2);
        assert_eq!(old[4], 2);
        let (message, version) = decode_versioned(&old).unwrap();
        assert_eq!(version, 2);
        // Version 2 cannot carry password changes: they are dropped, nothing else is.
        assert_eq!(message, Message::Push(Push { credentials: Vec::new(), lineage: Lineage::default(), ..p.clone() }));
        // Version 3 carries them, but not the timelines.
        let (message, version) = decode_versioned(&encode_version(&Message::Push(p.clone()), 3)).unwrap();
        assert_eq!(version, 3);
        assert_eq!(message, Message::Push(Push { lineage: Lineage::default(), ..p.clone() }));
        assert_eq!(decode_versioned(&encode(&Message::Push(p))).unwrap().1, VERSION);
        let mut v1 = old;
        v1[4] = 1;
        assert_eq!(decode(&v1), Err(DecodeError::Version(1)));
    }

    #[test]
    fn too_many_or_oversized_password_changes_are_refused() {
        let Message::Push(mut p) = sample() else { unreachable!() };
        p.credentials[0].password_hash = "x".repeat(600);
        assert_eq!(
            decode(&encode(&Message::Push(p.clone()))),
            Err(DecodeError::Invalid("a password hash is too long"))
        );
        p.credentials =
            vec![
                CredentialChange { staff: uuid::Uuid::from_u128(1), password_hash: String::new(), changed_at: 0 };
                MAX_CREDENTIALS_PER_PUSH + 1
            ];
        assert!(matches!(decode(&encode(&Message::Push(p))), Err(DecodeError::Invalid(_))));
    }

    #[test]
    fn a_document_twice_in_a_batch_is_refused() {
        let Message::Push(mut p) = sample() else { unreachable!() };
        p.changes.push(p.changes[0].clone());
        assert_eq!(
            decode(&encode(&Message::Push(p))),
            Err(DecodeError::Invalid("a document appears twice in one batch"))
        );
    }

    #[test]
    fn a_batch_that_ends_before_it_starts_is_refused() {
        let Message::Push(mut p) = sample() else { unreachable!() };
        p.upto = Cursor(1);
        assert!(matches!(decode(&encode(&Message::Push(p))), Err(DecodeError::Invalid(_))));
    }

    #[test]
    fn bytes_are_sent_once_not_per_element() {
        let Message::Push(mut p) = sample() else { unreachable!() };
        p.changes[0].bytes = vec![0xAB; 10_000];
        let payload = postcard::to_stdvec(&Message::Push(p)).unwrap();
        assert!(payload.len() < 10_200, "payload {} bytes", payload.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn arbitrary_payloads_behind_a_valid_header_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
            let compressed = zstd::bulk::compress(&payload, 1).unwrap();
            let mut frame = MAGIC.to_vec();
            frame.push(VERSION);
            frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            frame.extend_from_slice(&compressed);
            let _ = decode(&frame);
        }
    }
}
