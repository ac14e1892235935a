//! The application document: every field has a merge policy, older documents still load,
//! applicants round-trip, concurrent steps both survive a merge, bad fields are named.

use automerge::AutoCommit;

use simpul_domain::application::Status;
use simpul_sync::records::*;
use simpul_tests::samples::{applicant, application};

/// Every leaf key the document holds (maps walked, lists and optional records as one).
fn leaf_paths(doc: &AutoCommit, obj: &automerge::ObjId, prefix: &mut Vec<String>, out: &mut Vec<String>) {
    use automerge::{ObjType, ReadDoc, Value};
    for key in doc.keys(obj) {
        prefix.push(key.clone());
        match doc.get(obj, key.as_str()).unwrap() {
            Some((Value::Object(ObjType::Map), id)) if prefix.len() == 1 && key == "applicant" => {
                leaf_paths(doc, &id, prefix, out)
            }
            _ => out.push(prefix.join(".")),
        }
        prefix.pop();
    }
}

#[test]
fn every_field_has_a_merge_policy() {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, application()).unwrap();
    let mut paths = Vec::new();
    leaf_paths(&doc, &automerge::ROOT, &mut Vec::new(), &mut paths);
    let declared: Vec<String> = APPLICATION_FIELDS.iter().map(|(p, _)| p.join(".")).collect();
    for path in &paths {
        assert!(declared.contains(path), "field {path} has no merge policy");
    }
    for path in &declared {
        assert!(paths.contains(path), "policy for {path}, which the document does not hold");
    }
}

#[test]
fn documents_written_before_resolutions_existed_still_load() {
    use automerge::transaction::Transactable;
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, application()).unwrap();
    doc.delete(automerge::ROOT, "resolutions").unwrap();
    let back: ApplicationDoc = autosurgeon::hydrate(&doc).unwrap();
    assert!(back.resolutions.is_empty());
}

#[test]
fn applicants_round_trip_through_a_document() {
    let a = applicant();
    assert_eq!(ApplicantDoc::from(&a).to_domain().unwrap(), a);
    let mut doc = AutoCommit::new();
    let app = application();
    autosurgeon::reconcile(&mut doc, &app).unwrap();
    let saved = doc.save();
    let loaded = AutoCommit::load(&saved).unwrap();
    let back: ApplicationDoc = autosurgeon::hydrate(&loaded).unwrap();
    assert_eq!(back, app);
    assert_eq!(back.applicant.to_domain().unwrap(), a);
    assert_eq!(back.status().unwrap(), Status::Draft);
}

#[test]
fn concurrent_step_appends_both_survive_a_merge() {
    let mut base = AutoCommit::new();
    autosurgeon::reconcile(&mut base, application()).unwrap();
    let mut office = base.fork();
    let mut hub = base.fork();
    let step = |by: &str| StepDoc {
        from: "draft".into(),
        to: "submitted".into(),
        action: "submit".into(),
        by: by.into(),
        at: "2026-11-21T09:05:00+08:00".into(),
        office: "51.03.02".into(),
        note: None,
    };
    let mut a: ApplicationDoc = autosurgeon::hydrate(&office).unwrap();
    a.steps.push(step("office"));
    autosurgeon::reconcile(&mut office, &a).unwrap();
    let mut b: ApplicationDoc = autosurgeon::hydrate(&hub).unwrap();
    b.steps.push(step("hub"));
    autosurgeon::reconcile(&mut hub, &b).unwrap();
    office.merge(&mut hub).unwrap();
    let merged: ApplicationDoc = autosurgeon::hydrate(&office).unwrap();
    let by: Vec<&str> = merged.steps.iter().map(|s| s.by.as_str()).collect();
    assert_eq!(by.len(), 2);
    assert!(by.contains(&"office") && by.contains(&"hub"));
}

#[test]
fn bad_fields_are_named() {
    let mut doc = ApplicantDoc::from(&applicant());
    doc.birth_date = "12-05-1990".into();
    assert_eq!(doc.to_domain().unwrap_err().field, "birth_date");
    doc.birth_date = "1990-05-12".into();
    doc.sex = "x".into();
    assert_eq!(doc.to_domain().unwrap_err().field, "sex");
}
