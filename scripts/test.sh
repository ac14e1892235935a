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
# The browser bundle (wasm) builds in its own target directory beside the native build: only
# the binary embeds it (server/assets), so everything else compiles meanwhile, and each build's
# single-threaded stretches (linking, the bundle's LTO, wasm-opt) leave the other core to the
# other build.
log "building the browser bundle, beside the native build"
mkdir -p "$CARGO_TARGET_DIR"
SIMPUL_SITE_TARGET_DIR="$CARGO_TARGET_DIR/site-build" bash scripts/build-site.sh > "$CARGO_TARGET_DIR/site-build.log" 2>&1 &
site=$!
log "building every crate and test (release profile)"
if ! cargo test --release --no-run; then
  wait "$site" || true
  exit 1
fi
if ! wait "$site"; then
  cat "$CARGO_TARGET_DIR/site-build.log" >&2
  log "the browser bundle did not build"
  exit 1
fi
grep '==>' "$CARGO_TARGET_DIR/site-build.log" >&2 || true
log "embedding the browser bundle in the simpul binary"
cargo build --release -p simpul --bin simpul
log "cargo test (every crate but the wasm entry point, release profile)"
cargo test --release --no-fail-fast
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
