//! Loading stored or received document bytes: a saved document loads, garbage and damage
//! come back as errors, never as a panic.

use proptest::prelude::*;

use automerge::AutoCommit;
use simpul_sync::{apply_changes, load_document};
use simpul_tests::samples::application;

#[test]
fn a_saved_document_loads_and_garbage_does_not() {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, application()).unwrap();
    let bytes = doc.save();
    assert!(load_document(&bytes).is_ok());
    assert!(load_document(&[0u8; 48]).is_err());
    let mut corrupt = bytes.clone();
    let n = corrupt.len();
    corrupt[n / 2] ^= 0xFF;
    assert!(load_document(&corrupt).is_err());
    let mut target = AutoCommit::new();
    assert!(apply_changes(&mut target, &bytes).is_ok());
    assert!(apply_changes(&mut target, b"definitely not automerge").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn arbitrary_bytes_never_escape_as_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = load_document(&bytes);
    }

    #[test]
    fn damaged_documents_never_escape_as_a_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut doc = AutoCommit::new();
        autosurgeon::reconcile(&mut doc, application()).unwrap();
        let mut bytes = doc.save();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] ^= b | 1;
        }
        let _ = load_document(&bytes);
    }
}
