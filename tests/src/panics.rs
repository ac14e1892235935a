//! Panics of the product inside a test process (a server started in-process, its background
//! tasks, its database thread), which the test harness does not see: a panic in a spawned task
//! or another thread does not fail the test that caused it. [`watch`] installs a hook that
//! records every panic located in product code (a test's own failed assertion is located in a
//! test file and is left to the harness); [`assert_none`] fails the test when any was recorded.
//! Panics automerge's decoder raises inside the sites of `simpul_sync` that contain them are
//! expected and not recorded.

use std::sync::{Mutex, Once};

static INSTALL: Once = Once::new();
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Whether a panic's location is test code.
pub fn is_test_location(file: &str) -> bool {
    let file = file.replace('\\', "/");
    file.starts_with("tests/") || file.contains("/tests/") || file.ends_with("/tests.rs")
}

/// Installs the recording hook (once per process); the default hook still prints every panic.
pub fn watch() {
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if simpul_sync::containing_decoder_panic() {
                return;
            }
            if let Some(location) = info.location().filter(|l| !is_test_location(l.file())) {
                let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let entry = format!("thread '{thread}' at {}:{}: {message}", location.file(), location.line());
                RECORDED.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
            }
            default(info);
        }));
    });
}

/// Fails when product code panicked anywhere in this process since it started.
pub fn assert_none() {
    let recorded = RECORDED.lock().unwrap_or_else(|e| e.into_inner());
    assert!(recorded.is_empty(), "the product panicked: {recorded:#?}");
}
