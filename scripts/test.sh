#!/usr/bin/env bash
# Runs every test: unit, property and integration tests of all crates (release profile, the same
# build as the binary), the process scenarios, and the Playwright suite in Chromium against the
# release binary. Installs what it needs first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
start=$(date +%s)
bash scripts/setup.sh --with-test-deps
log "rustfmt"
cargo fmt --all -- --check
bash scripts/build-site.sh
log "building the simpul binary (release)"
cargo build --release -p simpul-server --bin simpul
log "cargo test (every crate but the wasm entry point, release profile)"
cargo test --release
log "Playwright (Chromium) against target/release/simpul"
(cd end2end && SIMPUL_BIN="$CARGO_TARGET_DIR/release/simpul" npx playwright test)
log "clippy (warnings are errors)"
# In the release profile: build scripts (SQLite's C, ring's) and proc macros built above are
# reused, which takes this step from about 8 minutes to a few.
cargo clippy --release --all-targets -- -D warnings
# The browser-side lint checks every dependency again for wasm32 (about 3 minutes here): run it
# with SIMPUL_LINT_WASM=1 before changing hydrate-only code.
if [ "${SIMPUL_LINT_WASM:-0}" = 1 ]; then
  cargo clippy -p simpul-wasm --target wasm32-unknown-unknown -- -D warnings
fi
log "all tests passed in $(( $(date +%s) - start )) s"
