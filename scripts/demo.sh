#!/usr/bin/env bash
# Builds Simpul (release, UI embedded) and starts it with demo data on the embedded SQLite.
# Data goes to ./simpul-data (SIMPUL_DATA_DIR); the UI listens on SIMPUL_LISTEN (127.0.0.1:3000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/build-site.sh
log "building the simpul binary (release)"
cargo build --release -p simpul --bin simpul
log "starting simpul (Ctrl-C to stop)"
exec "$CARGO_TARGET_DIR/release/simpul" serve "$@"
