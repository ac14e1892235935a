//! The UI bundle (WASM, JavaScript, CSS, icons and their gzip variants) built by
//! `scripts/build-site.sh` into `target/site`, embedded at compile time so that `simpul` runs
//! from any directory with nothing beside it.
//!
//! Only the binary depends on this crate: the server library takes the bundle as a value, so
//! everything but this small crate compiles while the browser bundle is still being built.

#![forbid(unsafe_code)]

use rust_embed::RustEmbed;

/// The site built by `scripts/build-site.sh`.
#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../../target/site/"]
struct Site;

/// One embedded file by its path in the site (`pkg/simpul.js`).
pub fn get(name: &str) -> Option<rust_embed::EmbeddedFile> {
    Site::get(name)
}
