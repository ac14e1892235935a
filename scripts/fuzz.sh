#!/usr/bin/env bash
# Fuzzes the sync message decoder for SECONDS (default 120) and keeps what it learns in
# sync/fuzz/corpus/decode (replayed by `cargo test -p simpul-sync --test fuzz_corpus`).
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on stable.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-120}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd sync
RUSTC_BOOTSTRAP=1 cargo fuzz run decode fuzz/corpus/decode -- -max_total_time="$seconds" -max_len=4096
# Keep the corpus small enough to commit: only the inputs that add coverage.
RUSTC_BOOTSTRAP=1 cargo fuzz cmin decode fuzz/corpus/decode >/dev/null 2>&1
echo "corpus: $(ls fuzz/corpus/decode | wc -l) inputs"
