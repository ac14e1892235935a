//! The hub's rule across records: one person (the same NIK, or the same passport) with open
//! applications at two or more offices. A machine cannot tell a duplicate from a legitimate
//! second request, so the regency admin decides, in the conflict inbox.
//!
//! One situation is one case, whichever of its records synced last: the case is kept on the
//! group's first record (the smallest id) and lists every record of the group. A decision
//! stands while the group stays the same; a group that changed (another application joined, one
//! was handed over or cancelled) is a new situation, and a case whose group fell apart is closed
//! by the rule, not by a person, and says so.

use std::collections::BTreeSet;

use simpul_store::applications::PersonKey;
use simpul_store::audit::{self, Actor};
use simpul_store::conflicts as inbox;
use simpul_store::{self as store, Connection, StoreError};
use simpul_sync::merge::ConflictValue;
use simpul_sync::records::ApplicationDoc;
use time::OffsetDateTime;

/// The inbox field name of this rule (kept from the first version, which matched on NIK only).
pub const FIELD: &str = "applicant.nik@other_office";

/// Who closes a case whose group fell apart.
const CLOSED_BY: &str = "rule";

/// After a record was merged or settled at the hub: opens, refreshes or closes the case of its
/// group, and of the groups it left.
pub fn review(conn: &Connection, id: &str, doc: &ApplicationDoc, now: OffsetDateTime) -> Result<(), StoreError> {
    let group = group_of(conn, id, doc)?;
    if let Some(group) = &group {
        settle_group(conn, group, now)?;
    }
    // A case that lists this record but no longer describes its group (it left, or the group
    // changed) is closed, and its other records are looked at again from their side.
    for case in inbox::open_mentioning(conn, FIELD, &value_of(doc))? {
        let current =
            group.as_ref().is_some_and(|g| g.holder().change == case.doc_id && g.values() == values(&case.candidates));
        if current {
            continue;
        }
        close(conn, case.id, &case.doc_id, now)?;
        for other in case.candidates.iter().map(|c| c.change.as_str()) {
            if other == id || group.as_ref().is_some_and(|g| g.holds(other)) {
                continue;
            }
            let regrouped = match simpul_store::applications::readable(conn, other)? {
                Some(record) => group_of(conn, other, &record)?,
                None => None,
            };
            if let Some(g) = regrouped {
                settle_group(conn, &g, now)?;
            }
        }
    }
    Ok(())
}

/// Records of one person open at more than one office, as the case lists them (each member's
/// `change` is its record's id, its `actor` its office), sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    members: Vec<ConflictValue>,
}

impl Group {
    /// The record that holds the group's case.
    fn holder(&self) -> &ConflictValue {
        &self.members[0]
    }

    fn holds(&self, id: &str) -> bool {
        self.members.iter().any(|m| m.change == id)
    }

    fn values(&self) -> BTreeSet<String> {
        values(&self.members)
    }
}

fn values(candidates: &[ConflictValue]) -> BTreeSet<String> {
    candidates.iter().map(|c| c.value.clone()).collect()
}

fn value_of(doc: &ApplicationDoc) -> String {
    format!("{} ({})", doc.number, doc.office)
}

/// The open records of the same person, with this one, when they are at more than one office;
/// none when this record is closed or the person's records are all at its office.
fn group_of(conn: &Connection, id: &str, doc: &ApplicationDoc) -> Result<Option<Group>, StoreError> {
    if doc.status().ok().is_none_or(|s| s.is_final()) {
        return Ok(None);
    }
    let nik = doc.applicant.nik.trim();
    let passport = doc.applicant.passport_key();
    let mut members: Vec<ConflictValue> = Vec::new();
    let keys = [(!nik.is_empty()).then_some(PersonKey::Nik(nik)), passport.as_deref().map(PersonKey::Passport)];
    for key in keys.into_iter().flatten() {
        for r in store::applications::open_of_person(conn, key, id)? {
            if members.iter().any(|m| m.change == r.id) {
                continue;
            }
            members.push(ConflictValue {
                value: format!("{} ({})", r.number, r.office),
                time: store::parse_stamp(&r.created_at).map_or(0, |t| t.unix_timestamp()),
                // The record's id: a case names its records.
                change: r.id,
                actor: r.office,
                by: Some(r.created_by),
            });
        }
    }
    // The same group whichever of its records looks: every open record of the person, the
    // office's own included, and a case only when they are at more than one office.
    if members.iter().all(|m| m.actor == doc.office) {
        return Ok(None);
    }
    members.push(ConflictValue {
        value: value_of(doc),
        change: id.to_string(),
        actor: doc.office.clone(),
        time: simpul_store::parse_stamp(&doc.created_at).map_or(0, |t| t.unix_timestamp()),
        by: Some(doc.created_by.clone()),
    });
    members.sort_by(|a, b| a.change.cmp(&b.change));
    Ok(Some(Group { members }))
}

/// One case for the group, on its holder: left alone when a decision on exactly this group
/// stands; other open cases of the group's records are superseded by it.
fn settle_group(conn: &Connection, group: &Group, now: OffsetDateTime) -> Result<(), StoreError> {
    let wanted = group.values();
    let mut decided = false;
    let mut held_open = None;
    let mut superseded = Vec::new();
    for member in &group.members {
        for case in inbox::list_for(conn, &member.change, false)?.into_iter().filter(|c| c.field == FIELD) {
            match (&case.resolved_at, member.change == group.holder().change) {
                // Only a person's decision stands; a case the rule closed decided nothing.
                (Some(_), _) => {
                    decided |= values(&case.candidates) == wanted
                        && case.resolved_by.as_deref().is_some_and(|by| by != CLOSED_BY && by != inbox::CLOSED_BY_MERGE)
                }
                (None, true) => held_open = Some(case.id),
                (None, false) => superseded.push((case.id, case.doc_id.clone())),
            }
        }
    }
    if decided {
        superseded.extend(held_open.map(|case| (case, group.holder().change.clone())));
    } else {
        // Opens the case, or refreshes the holder's open one to the group as it is now.
        let holder = group.holder();
        inbox::open(conn, &holder.change, &holder.actor, FIELD, &group.members, now)?;
        tracing::info!(document = %holder.change, records = group.members.len(), "one person has open applications at several offices");
    }
    for (case, doc_id) in superseded {
        close(conn, case, &doc_id, now)?;
    }
    Ok(())
}

fn close(conn: &Connection, case: i64, doc_id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    inbox::close(conn, case, CLOSED_BY, "the records no longer form this group", now)?;
    audit::record(conn, now, &Actor::System, "conflict_closed_by_rule", Some(doc_id), Some(FIELD))
}

#[cfg(test)]
mod tests {
    use simpul_domain::application::Status;
    use simpul_tests::samples as tests_support;

    use super::*;
    use crate::sync::exchange::{Decision, resolve};
    use simpul_store::documents;

    const A: &str = "00000000-0000-4000-8000-00000000000a";
    const B: &str = "00000000-0000-4000-8000-00000000000b";
    const C: &str = "00000000-0000-4000-8000-00000000000c";

    fn hub() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = simpul_store::db::open_sync(
            &dir.path().join("hub.sqlite"),
            &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        (dir, conn)
    }

    /// Stores a record of `office` numbered `n` as a merge at the hub would, and reviews it.
    fn arrive(conn: &Connection, id: &str, office: &str, n: u32, edit: impl Fn(&mut ApplicationDoc)) {
        let mut doc = tests_support::application();
        doc.office = office.into();
        doc.number = format!("{}-20261121-{n:04}", office.replace('.', ""));
        edit(&mut doc);
        let now = OffsetDateTime::now_utc();
        if documents::load::<ApplicationDoc>(conn, id).unwrap().is_some() {
            documents::update(conn, id, now, "staff", |d: &mut ApplicationDoc| {
                *d = doc.clone();
                Ok::<_, ()>(())
            })
            .unwrap();
        } else {
            documents::create(conn, documents::DocKind::Application, id, &doc, now, "staff").unwrap();
        }
        crate::office::applications::project_current(conn, id, &doc).unwrap();
        review(conn, id, &doc, now).unwrap();
    }

    fn open_cases(conn: &Connection) -> Vec<(String, BTreeSet<String>)> {
        inbox::list_open(conn, 100)
            .unwrap()
            .into_iter()
            .filter(|c| c.field == FIELD)
            .map(|c| (c.doc_id, values(&c.candidates)))
            .collect()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const AT_02: &str = "510302-20261121-0001 (51.03.02)";
    const AT_03: &str = "510303-20261121-0001 (51.03.03)";
    const AT_04: &str = "510304-20261121-0001 (51.03.04)";

    #[test]
    fn one_passport_typed_differently_at_two_offices_is_one_case_whichever_syncs_last() {
        let (_dir, conn) = hub();
        // Another NIK (none yet, say), the same passport written another way.
        arrive(&conn, B, "51.03.03", 1, |d| {
            d.applicant.nik = String::new();
            d.applicant.passport_number = Some("pa 123 4567".into());
        });
        assert!(open_cases(&conn).is_empty(), "one record alone is no case");
        arrive(&conn, A, "51.03.02", 1, |_| {});
        assert_eq!(open_cases(&conn), vec![(A.to_string(), set(&[AT_02, AT_03]))]);
        // Either record syncing again leaves one case.
        arrive(&conn, B, "51.03.03", 1, |d| {
            d.applicant.nik = String::new();
            d.applicant.passport_number = Some("PA1234567".into());
        });
        arrive(&conn, A, "51.03.02", 1, |d| d.applicant.phone = Some("0812".into()));
        assert_eq!(open_cases(&conn).len(), 1);
        // Same number, another country: another passport.
        let (_dir, conn) = hub();
        arrive(&conn, A, "51.03.02", 1, |d| d.applicant.nik = String::new());
        arrive(&conn, B, "51.03.03", 1, |d| {
            d.applicant.nik = String::new();
            d.applicant.nationality = "NZL".into();
        });
        assert!(open_cases(&conn).is_empty());
    }

    #[test]
    fn the_same_nik_at_the_same_office_or_on_a_closed_record_is_no_case() {
        let (_dir, conn) = hub();
        arrive(&conn, A, "51.03.02", 1, |_| {});
        arrive(&conn, B, "51.03.02", 2, |_| {});
        assert!(open_cases(&conn).is_empty(), "one office sees its own records");
        arrive(&conn, C, "51.03.03", 1, |d| d.status = Status::HandedOver.code().into());
        assert!(open_cases(&conn).is_empty(), "a handed-over record is done");
    }

    #[test]
    fn a_decision_stands_until_the_group_changes_and_a_group_that_fell_apart_closes_its_case() {
        let (_dir, mut conn) = hub();
        arrive(&conn, A, "51.03.02", 1, |_| {});
        arrive(&conn, B, "51.03.03", 1, |_| {});
        let case = inbox::list_open(&conn, 10).unwrap().pop().unwrap();
        resolve(
            &mut conn,
            case.id,
            &Decision::Keep(0),
            None,
            "dua permohonan sah",
            "admin-1",
            OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(open_cases(&conn).is_empty());
        // Both records sync again (a phone number, a note): decided, nothing reopens.
        arrive(&conn, B, "51.03.03", 1, |d| d.applicant.phone = Some("0812".into()));
        arrive(&conn, A, "51.03.02", 1, |d| d.applicant.phone = Some("0813".into()));
        assert!(open_cases(&conn).is_empty(), "a decided group stays decided");
        // A third office: a new situation, one case listing all three.
        arrive(&conn, C, "51.03.04", 1, |_| {});
        assert_eq!(open_cases(&conn), vec![(A.to_string(), set(&[AT_02, AT_03, AT_04]))]);
        // The third is handed over: the group is back to the decided pair, the case closes by
        // rule and says so.
        arrive(&conn, C, "51.03.04", 1, |d| d.status = Status::HandedOver.code().into());
        assert!(open_cases(&conn).is_empty());
        let closed = inbox::list_for(&conn, A, false).unwrap().pop().unwrap();
        assert_eq!(closed.resolved_by.as_deref(), Some(CLOSED_BY));
        // The first is cancelled while a fresh case is open: closed, since it no longer applies.
        arrive(&conn, C, "51.03.04", 2, |_| {});
        assert_eq!(open_cases(&conn).len(), 1);
        arrive(&conn, A, "51.03.02", 1, |d| d.status = Status::Cancelled.code().into());
        assert_eq!(open_cases(&conn), vec![(B.to_string(), set(&[AT_03, "510304-20261121-0002 (51.03.04)"]))]);
        let audit: i64 = conn
            .query_row("SELECT count(*) FROM audit_log WHERE action = 'conflict_closed_by_rule'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(audit, 2);
    }

    #[test]
    fn a_group_the_rule_closed_is_not_taken_for_decided_and_one_office_twice_is_one_group() {
        let (_dir, conn) = hub();
        // B and C at two offices: a case. A late, older record A joins: the case moves to A.
        arrive(&conn, B, "51.03.03", 1, |_| {});
        arrive(&conn, C, "51.03.04", 1, |_| {});
        assert_eq!(open_cases(&conn), vec![(B.to_string(), set(&[AT_03, AT_04]))]);
        arrive(&conn, A, "51.03.02", 1, |_| {});
        assert_eq!(open_cases(&conn), vec![(A.to_string(), set(&[AT_02, AT_03, AT_04]))]);
        // A was a duplicate and is cancelled: B and C are still a case nobody decided.
        arrive(&conn, A, "51.03.02", 1, |d| d.status = Status::Cancelled.code().into());
        assert_eq!(open_cases(&conn), vec![(B.to_string(), set(&[AT_03, AT_04]))]);

        // Two services at one office and one at another: one group, seen alike from each.
        let (_dir, conn) = hub();
        arrive(&conn, A, "51.03.02", 1, |_| {});
        arrive(&conn, B, "51.03.02", 2, |_| {});
        arrive(&conn, C, "51.03.03", 1, |_| {});
        let group = set(&[AT_02, "510302-20261121-0002 (51.03.02)", AT_03]);
        assert_eq!(open_cases(&conn), vec![(A.to_string(), group.clone())]);
        arrive(&conn, B, "51.03.02", 2, |d| d.applicant.phone = Some("0812".into()));
        assert_eq!(open_cases(&conn), vec![(A.to_string(), group)], "unchanged when a member syncs again");
    }

    #[test]
    fn older_projections_get_their_passport_once() {
        let (_dir, conn) = hub();
        arrive(&conn, A, "51.03.02", 1, |_| {});
        conn.execute("UPDATE applications SET passport = NULL", []).unwrap();
        assert_eq!(simpul_store::applications::index_passports_once(&conn).unwrap(), 1);
        let key: Option<String> = conn.query_row("SELECT passport FROM applications", [], |r| r.get(0)).unwrap();
        assert_eq!(key.as_deref(), Some("AUS:PA1234567"));
        assert_eq!(simpul_store::applications::index_passports_once(&conn).unwrap(), 0, "once");
    }
}
