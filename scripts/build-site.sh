#!/usr/bin/env bash
# Builds the browser bundle into target/site/pkg, which the server embeds:
# hydrate library (wasm32, size-optimised release) -> wasm-bindgen --target web -> wasm-opt -Oz
# -> CSS and icons -> .gz variants. Skips the slow steps when the wasm did not change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

site="$ROOT/target/site"
pkg="$site/pkg"
mkdir -p "$pkg"

# SIMPUL_SITE_TARGET_DIR gives the wasm build a target directory of its own, so that it can run
# beside a native build (cargo locks its target directory for the whole build).
site_target="${SIMPUL_SITE_TARGET_DIR:-$CARGO_TARGET_DIR}"
log "building the hydrate bundle (wasm32, profile wasm-release)"
CARGO_TARGET_DIR="$site_target" cargo build -p simpul-wasm --lib --target wasm32-unknown-unknown --profile wasm-release
wasm_in="$site_target/wasm32-unknown-unknown/wasm-release/simpul_wasm.wasm"

stamp="$pkg/.source-hash"
hash=$(sha256sum "$wasm_in" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ] || [ ! -f "$pkg/simpul_bg.wasm" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  log "wasm-bindgen"
  wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name simpul "$wasm_in"
  log "wasm-opt -Oz ($(wasm-opt --version))"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$tmp/simpul_bg.wasm" -o "$tmp/simpul_bg.opt.wasm"
  mv "$tmp/simpul_bg.opt.wasm" "$pkg/simpul_bg.wasm"
  mv "$tmp/simpul.js" "$pkg/simpul.js"
  echo "$hash" > "$stamp"
fi

cp app/style/main.css "$pkg/simpul.css.new" && mv "$pkg/simpul.css.new" "$pkg/simpul.css"
cp app/style/favicon.svg "$pkg/favicon.svg.new" && mv "$pkg/favicon.svg.new" "$pkg/favicon.svg"
for f in simpul_bg.wasm simpul.js simpul.css; do
  if [ ! -f "$pkg/$f.gz" ] || [ "$pkg/$f" -nt "$pkg/$f.gz" ]; then
    gzip -9 -n -c "$pkg/$f" > "$pkg/$f.gz.new" && mv "$pkg/$f.gz.new" "$pkg/$f.gz"
  fi
done
raw=$(stat -c %s "$pkg/simpul_bg.wasm")
gz=$(stat -c %s "$pkg/simpul_bg.wasm.gz")
log "site ready: simpul_bg.wasm $((raw / 1024)) KiB, gzip $((gz / 1024)) KiB"
