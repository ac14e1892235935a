//! Merging received changes into a stored document, and finding the concurrent values a
//! person must settle.

use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::{LoadError, MergePolicy, apply_changes, load_document};

/// Why received changes could not be merged. Nothing is applied in any of these cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The stored document or the received changes do not decode.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Changes refer to earlier changes this side does not have.
    #[error("the changes depend on {0} change(s) this side does not have")]
    MissingDeps(usize),
    /// The sender announced heads that the merged document does not hold.
    #[error("the changes do not reach the heads the sender announced")]
    HeadsNotReached,
}

/// The result of a merge.
#[derive(Debug)]
pub struct Merged {
    /// The merged document.
    pub doc: AutoCommit,
    /// Its full state, to store.
    pub state: Vec<u8>,
    /// Only the changes this side did not have before, to append to the local log (empty when
    /// everything received was known: a replay).
    pub new_changes: Vec<u8>,
    /// Heads after the merge.
    pub heads: Vec<ChangeHash>,
}

/// Merges `incoming` change bytes into the stored `existing` document (or a new one).
pub fn merge(existing: Option<&[u8]>, incoming: &[u8], announced: &[[u8; 32]]) -> Result<Merged, MergeError> {
    let mut doc = match existing {
        Some(bytes) => load_document(bytes)?,
        None => AutoCommit::new(),
    };
    let before = doc.get_heads();
    apply_changes(&mut doc, incoming)?;
    let missing = doc.get_missing_deps(&[]);
    if !missing.is_empty() {
        return Err(MergeError::MissingDeps(missing.len()));
    }
    for head in announced {
        if doc.get_change_by_hash(&ChangeHash(*head)).is_none() {
            return Err(MergeError::HeadsNotReached);
        }
    }
    let heads = doc.get_heads();
    let new_changes = if heads == before { Vec::new() } else { doc.save_after(&before) };
    let state = doc.save();
    Ok(Merged { doc, state, new_changes, heads })
}

/// Heads as plain bytes, for messages.
pub fn heads_bytes(heads: &[ChangeHash]) -> Vec<[u8; 32]> {
    heads.iter().map(|h| h.0).collect()
}

/// The string at a top-level key (such as the owning office of a record).
pub fn root_text(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).ok().flatten()? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// A field a merge left with more than one value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// Dotted path, e.g. `applicant.nik`.
    pub field: String,
    /// Every concurrent value, in Automerge's order (the first is the one shown until decided).
    pub values: Vec<ConflictValue>,
}

/// One of the concurrent values and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictValue {
    /// The value as text (`null` for an absent optional value, `(object)` for a nested record).
    pub value: String,
    /// Hex hash of the change that wrote it.
    pub change: String,
    /// Hex actor id of the box that wrote it.
    pub actor: String,
    /// Device time of that change (Unix seconds).
    pub time: i64,
    /// Who made the change (the commit message holds the staff id).
    pub by: Option<String>,
}

fn describe(value: &Value<'_>) -> String {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            ScalarValue::Null => "null".into(),
            other => other.to_string(),
        },
        Value::Object(_) => "(object)".into(),
    }
}

fn object_at(doc: &AutoCommit, path: &[&str]) -> Option<ObjId> {
    let mut obj = automerge::ROOT;
    for key in path {
        match doc.get(&obj, *key).ok().flatten()? {
            (Value::Object(ObjType::Map), id) => obj = id,
            _ => return None,
        }
    }
    Some(obj)
}

/// Fields under the [`MergePolicy::Person`] policy that hold concurrent values.
pub fn conflicts(doc: &mut AutoCommit, fields: &[(&[&str], MergePolicy)]) -> Vec<Conflict> {
    let mut found = Vec::new();
    for (path, policy) in fields {
        if *policy != MergePolicy::Person {
            continue;
        }
        let Some((key, parents)) = path.split_last() else { continue };
        let Some(obj) = object_at(doc, parents) else { continue };
        let Ok(all) = doc.get_all(&obj, *key) else { continue };
        if all.len() < 2 {
            continue;
        }
        let described: Vec<(String, automerge::ObjId)> = all.iter().map(|(v, id)| (describe(v), id.clone())).collect();
        let values = described
            .into_iter()
            .map(|(text, id)| {
                let hash = doc.hash_for_opid(&id);
                let change = hash.and_then(|h| doc.get_change_by_hash(&h));
                ConflictValue {
                    value: text,
                    change: hash.map(|h| h.to_string()).unwrap_or_default(),
                    actor: change.as_ref().map(|c| c.actor_id().to_hex_string()).unwrap_or_default(),
                    time: change.as_ref().map(|c| c.timestamp()).unwrap_or_default(),
                    by: change.as_ref().and_then(|c| c.message().map(str::to_string)),
                }
            })
            .collect();
        found.push(Conflict { field: path.join("."), values });
    }
    found
}

/// Settles a field: writes `value` over every concurrent value, as a new change by `by` at
/// `time`. The change's dependencies include every conflicting write, so it wins on every box.
pub fn settle(doc: &mut AutoCommit, path: &[&str], value: Option<&str>, by: &str, time: i64) -> Result<(), MergeError> {
    use automerge::transaction::Transactable;
    let Some((key, parents)) = path.split_last() else { return Err(MergeError::HeadsNotReached) };
    let obj = object_at(doc, parents).ok_or(MergeError::HeadsNotReached)?;
    let result = match value {
        Some(v) => doc.put(&obj, *key, v),
        None => doc.put(&obj, *key, ScalarValue::Null),
    };
    result.map_err(|e| MergeError::Load(LoadError::Invalid(e.to_string())))?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(by.to_string()).with_time(time));
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;

    use super::*;

    fn base() -> AutoCommit {
        let mut doc = AutoCommit::new();
        let applicant = doc.put_object(automerge::ROOT, "applicant", ObjType::Map).unwrap();
        doc.put(&applicant, "name", "Ni Made Ayu").unwrap();
        doc.put(automerge::ROOT, "status", "draft").unwrap();
        doc.put(automerge::ROOT, "office", "51.03.02").unwrap();
        doc.commit();
        doc
    }

    const FIELDS: &[(&[&str], MergePolicy)] = &[
        (&["applicant", "name"], MergePolicy::Person),
        (&["status"], MergePolicy::Person),
        (&["note"], MergePolicy::Rule),
    ];

    #[test]
    fn concurrent_identity_edits_become_a_conflict_and_settling_clears_it() {
        let mut a = base().with_actor(automerge::ActorId::from(vec![1; 16]));
        let mut b = a.fork().with_actor(automerge::ActorId::from(vec![2; 16]));
        let applicant_a = object_at(&a, &["applicant"]).unwrap();
        a.put(&applicant_a, "name", "Ni Made Ayu Lestari").unwrap();
        a.put(automerge::ROOT, "note", "a").unwrap();
        a.commit_with(
            automerge::transaction::CommitOptions::default().with_message("staff-a".to_string()).with_time(100),
        );
        let applicant_b = object_at(&b, &["applicant"]).unwrap();
        b.put(&applicant_b, "name", "Ni Made Ayu Lestary").unwrap();
        b.put(automerge::ROOT, "note", "b").unwrap();
        b.commit_with(
            automerge::transaction::CommitOptions::default().with_message("staff-b".to_string()).with_time(200),
        );

        let merged = merge(Some(&a.save()), &b.save(), &heads_bytes(&b.get_heads())).unwrap();
        let mut doc = merged.doc;
        let found = conflicts(&mut doc, FIELDS);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "applicant.name");
        let mut values: Vec<_> = found[0].values.iter().map(|v| (v.value.as_str(), v.by.as_deref(), v.time)).collect();
        values.sort();
        assert_eq!(
            values,
            vec![("Ni Made Ayu Lestari", Some("staff-a"), 100), ("Ni Made Ayu Lestary", Some("staff-b"), 200)]
        );

        settle(&mut doc, &["applicant", "name"], Some("Ni Made Ayu Lestari"), "admin", 300).unwrap();
        assert!(conflicts(&mut doc, FIELDS).is_empty());
        // The settlement reaches the other side and wins there too.
        let mut other = b.fork();
        apply_changes(&mut other, &doc.save()).unwrap();
        assert!(conflicts(&mut other, FIELDS).is_empty());
        assert_eq!(root_text(&other, "office").as_deref(), Some("51.03.02"));
    }

    #[test]
    fn a_replay_adds_nothing_and_a_gap_is_refused() {
        let mut a = base();
        let first = a.save();
        a.put(automerge::ROOT, "status", "submitted").unwrap();
        a.commit();
        let second = a.save_after(&automerge::AutoCommit::load(&first).unwrap().get_heads());
        let merged = merge(Some(&a.save()), &first, &[]).unwrap();
        assert!(merged.new_changes.is_empty());
        // Only the second change, without the first: a gap.
        assert_eq!(merge(None, &second, &[]).unwrap_err(), MergeError::MissingDeps(1));
        // Announced heads that the bytes do not reach.
        assert_eq!(merge(None, &first, &heads_bytes(&a.get_heads())).unwrap_err(), MergeError::HeadsNotReached);
    }
}
