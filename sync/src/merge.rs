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
    /// The field to settle is not in the document.
    #[error("the document has no field {0}")]
    NoField(String),
    /// The value chosen is no longer one of the field's values (a later change replaced it).
    #[error("the chosen value is no longer one of the field's values")]
    CandidateGone,
    /// A corrected value was typed for a field that holds a nested record: only one of its
    /// values can be kept.
    #[error("the field holds a nested record: keep one of its values")]
    NotText,
    /// Writing the settlement failed.
    #[error("the settlement could not be written: {0}")]
    Write(String),
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
    /// The value as text (`null` for an absent optional value, `key: value; …` for a nested
    /// record).
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

/// A nested record as a person reads it: its scalar fields as `key: value`, in key order,
/// nested records as `key: (…)`, at most 240 characters.
fn describe_object(doc: &AutoCommit, obj: &ObjId) -> String {
    let mut parts = Vec::new();
    for key in doc.keys(obj) {
        let Ok(Some((value, _))) = doc.get(obj, key.as_str()) else { continue };
        let text = match &value {
            Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Null) => continue,
            Value::Scalar(_) => describe(&value),
            Value::Object(_) => "(…)".into(),
        };
        parts.push(format!("{key}: {text}"));
    }
    let all = parts.join("; ");
    if all.chars().count() > 240 { format!("{}…", all.chars().take(239).collect::<String>()) } else { all }
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
        // The same value written on both sides (two nulls where an older document lacked the
        // field, or the same correction) leaves nothing to decide.
        let same = all.iter().all(|(v, _)| match (v, &all[0].0) {
            (Value::Scalar(a), Value::Scalar(b)) => a == b,
            _ => false,
        });
        if same {
            continue;
        }
        let described: Vec<(String, automerge::ObjId)> = all
            .iter()
            .map(|(v, id)| match v {
                Value::Object(_) => (describe_object(doc, id), id.clone()),
                _ => (describe(v), id.clone()),
            })
            .collect();
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

/// How a person settles a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement<'a> {
    /// Keep the value written by this change (hex hash, as in [`ConflictValue::change`]),
    /// exactly as written: a nested record is copied whole.
    Keep(&'a str),
    /// A corrected text value typed by the person; `None` leaves an optional field empty. The
    /// caller checks it against the field's rules.
    Corrected(Option<&'a str>),
}

/// Settles a field: writes the chosen or corrected value over every concurrent value, as a new
/// change by `by` at `time`. The change's dependencies include every conflicting write, so it
/// wins on every box. Returns the value written, as text (`None` for empty).
pub fn settle(
    doc: &mut AutoCommit,
    path: &[&str],
    settlement: Settlement<'_>,
    by: &str,
    time: i64,
) -> Result<Option<String>, MergeError> {
    use automerge::transaction::Transactable;
    let missing = || MergeError::NoField(path.join("."));
    let (key, parents) = path.split_last().ok_or_else(missing)?;
    let obj = object_at(doc, parents).ok_or_else(missing)?;
    let write = |e: automerge::AutomergeError| MergeError::Write(e.to_string());
    let written = match settlement {
        Settlement::Keep(change) => {
            let (value, id) = doc
                .get_all(&obj, *key)
                .map_err(write)?
                .into_iter()
                .find(|(_, id)| doc.hash_for_opid(id).is_some_and(|h| h.to_string() == change))
                .ok_or(MergeError::CandidateGone)?;
            match value {
                Value::Scalar(s) => {
                    let text = shown(&Value::Scalar(s.clone()));
                    doc.put(&obj, *key, s.into_owned()).map_err(write)?;
                    text
                }
                Value::Object(ty) => {
                    let text = describe_object(doc, &id);
                    let copy = doc.put_object(&obj, *key, ty).map_err(write)?;
                    copy_object(doc, &id, &copy, ty).map_err(write)?;
                    Some(text)
                }
            }
        }
        Settlement::Corrected(value) => {
            let nested = doc.get_all(&obj, *key).map_err(write)?.iter().any(|(v, _)| matches!(v, Value::Object(_)));
            if nested {
                return Err(MergeError::NotText);
            }
            match value {
                Some(v) => doc.put(&obj, *key, v).map_err(write)?,
                None => doc.put(&obj, *key, ScalarValue::Null).map_err(write)?,
            }
            value.map(str::to_string)
        }
    };
    doc.commit_with(automerge::transaction::CommitOptions::default().with_message(by.to_string()).with_time(time));
    Ok(written)
}

/// A value as a person reads it: `None` for an empty optional value, the fields of a nested
/// record as `key: value` pairs.
fn shown(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Scalar(s) if matches!(s.as_ref(), ScalarValue::Null) => None,
        other => Some(describe(other)),
    }
}

/// Copies every entry of object `from` into the empty object `to` of the same type.
fn copy_object(doc: &mut AutoCommit, from: &ObjId, to: &ObjId, ty: ObjType) -> Result<(), automerge::AutomergeError> {
    use automerge::transaction::Transactable;
    match ty {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = doc.keys(from).collect();
            for key in keys {
                let Some((value, id)) = doc.get(from, key.as_str())? else { continue };
                match value {
                    Value::Scalar(s) => doc.put(to, key.as_str(), s.into_owned())?,
                    Value::Object(t) => {
                        let child = doc.put_object(to, key.as_str(), t)?;
                        copy_object(doc, &id, &child, t)?;
                    }
                }
            }
        }
        ObjType::List => {
            for i in 0..doc.length(from) {
                let Some((value, id)) = doc.get(from, i)? else { continue };
                match value {
                    Value::Scalar(s) => doc.insert(to, i, s.into_owned())?,
                    Value::Object(t) => {
                        let child = doc.insert_object(to, i, t)?;
                        copy_object(doc, &id, &child, t)?;
                    }
                }
            }
        }
        ObjType::Text => {
            let text = doc.text(from)?;
            doc.splice_text(to, 0, 0, &text)?;
        }
    }
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

        let lestari = found[0].values.iter().find(|v| v.value == "Ni Made Ayu Lestari").unwrap().change.clone();
        assert_eq!(
            settle(&mut doc, &["applicant", "name"], Settlement::Keep(&lestari), "admin", 300).unwrap().as_deref(),
            Some("Ni Made Ayu Lestari")
        );
        assert_eq!(
            settle(&mut doc, &["applicant", "name"], Settlement::Keep(&lestari), "admin", 301).unwrap_err(),
            MergeError::CandidateGone,
            "a value already replaced cannot be kept again"
        );
        assert!(conflicts(&mut doc, FIELDS).is_empty());
        // The settlement reaches the other side and wins there too.
        let mut other = b.fork();
        apply_changes(&mut other, &doc.save()).unwrap();
        assert!(conflicts(&mut other, FIELDS).is_empty());
        assert_eq!(root_text(&other, "office").as_deref(), Some("51.03.02"));
    }

    #[test]
    fn the_same_value_written_on_both_sides_is_no_conflict() {
        let mut a = base().with_actor(automerge::ActorId::from(vec![1; 16]));
        let mut b = a.fork().with_actor(automerge::ActorId::from(vec![2; 16]));
        for doc in [&mut a, &mut b] {
            doc.put(automerge::ROOT, "status", "submitted").unwrap();
            doc.commit();
        }
        let merged = merge(Some(&a.save()), &b.save(), &heads_bytes(&b.get_heads())).unwrap();
        let mut doc = merged.doc;
        assert_eq!(doc.get_all(automerge::ROOT, "status").unwrap().len(), 2, "both writes are kept");
        assert!(conflicts(&mut doc, FIELDS).is_empty());
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

    #[test]
    fn a_nested_record_is_kept_whole_and_cannot_be_typed_over() {
        let mut a = base().with_actor(automerge::ActorId::from(vec![1; 16]));
        let mut b = a.fork().with_actor(automerge::ActorId::from(vec![2; 16]));
        for (doc, name, copies) in [(&mut a, "Wayan", 2_i64), (&mut b, "Ketut", 3)] {
            let handover = doc.put_object(automerge::ROOT, "handover", ObjType::Map).unwrap();
            doc.put(&handover, "to", name).unwrap();
            doc.put(&handover, "copies", copies).unwrap();
            doc.put(&handover, "note", ScalarValue::Null).unwrap();
            let serials = doc.put_object(&handover, "serials", ObjType::List).unwrap();
            doc.insert(&serials, 0, format!("{name}-1")).unwrap();
            let inner = doc.insert_object(&serials, 1, ObjType::Map).unwrap();
            doc.put(&inner, "serial", format!("{name}-2")).unwrap();
            doc.commit();
        }
        let fields: &[(&[&str], MergePolicy)] = &[(&["handover"], MergePolicy::Person)];
        let merged = merge(Some(&a.save()), &b.save(), &heads_bytes(&b.get_heads())).unwrap();
        let mut doc = merged.doc;
        let found = conflicts(&mut doc, fields);
        let ketut = found[0].values.iter().find(|v| v.value.contains("to: Ketut")).expect("described by its fields");
        assert_eq!(ketut.value, "copies: 3; serials: (…); to: Ketut");
        assert_eq!(
            settle(&mut doc, &["handover"], Settlement::Corrected(Some("Ketut")), "admin", 5).unwrap_err(),
            MergeError::NotText
        );
        let change = ketut.change.clone();
        settle(&mut doc, &["handover"], Settlement::Keep(&change), "admin", 5).unwrap();
        assert!(conflicts(&mut doc, fields).is_empty());
        let handover = object_at(&doc, &["handover"]).unwrap();
        let get = |doc: &AutoCommit, obj: &ObjId, key: &str| doc.get(obj, key).unwrap().unwrap().0.to_string();
        assert_eq!(get(&doc, &handover, "to"), "\"Ketut\"");
        assert_eq!(get(&doc, &handover, "copies"), "3");
        assert_eq!(get(&doc, &handover, "note"), "null");
        let (_, serials) = doc.get(&handover, "serials").unwrap().unwrap();
        assert_eq!(doc.length(&serials), 2);
        assert_eq!(doc.get(&serials, 0).unwrap().unwrap().0.to_string(), "\"Ketut-1\"");
        let (_, inner) = doc.get(&serials, 1).unwrap().unwrap();
        assert_eq!(get(&doc, &inner, "serial"), "\"Ketut-2\"");
        // An empty value for a text field is written as empty, and read back as such.
        assert_eq!(settle(&mut doc, &["status"], Settlement::Corrected(None), "admin", 6).unwrap(), None);
    }
}
