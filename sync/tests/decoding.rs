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

/// The containing sites are the only place a decoder panic is expected: a damaged document that
/// makes automerge panic comes back as `Corrupt`, and while it panicked the thread was marked as
/// containing it (what the server's panic hook asks before it reports a panic as a defect).
#[test]
fn a_decoder_panic_is_contained_and_marked_as_such() {
    use std::cell::Cell;
    // Counted on the panicking thread: the other tests of this binary run beside this one.
    thread_local! {
        static CONTAINED: Cell<usize> = const { Cell::new(0) };
        static OTHER: Cell<usize> = const { Cell::new(0) };
    }
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, application()).unwrap();
    let damaged = simpul_tests::samples::panicking_document(&doc.save());
    let damaged = damaged.expect("a damaged document the decoder panics on: is the containment still needed?");
    // The helper found it with its own silent hook; this one counts.
    let default = {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {
            let count = if simpul_sync::containing_decoder_panic() { &CONTAINED } else { &OTHER };
            count.with(|c| c.set(c.get() + 1));
        }));
        previous
    };
    let corrupt = usize::from(matches!(load_document(&damaged), Err(simpul_sync::LoadError::Corrupt)));
    let mut target = AutoCommit::new();
    let corrupt =
        corrupt + usize::from(matches!(apply_changes(&mut target, &damaged), Err(simpul_sync::LoadError::Corrupt)));
    std::panic::set_hook(default);
    assert!(corrupt > 0, "the decoder panicked on the damaged document");
    assert_eq!(CONTAINED.with(Cell::get), corrupt, "each decoder panic happened inside a containing site");
    assert_eq!(OTHER.with(Cell::get), 0);
    assert!(!simpul_sync::containing_decoder_panic(), "the mark is gone once the site returns");
}
