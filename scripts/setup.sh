#!/usr/bin/env bash
# Installs what building and testing Simpul needs, skipping what is already there:
# the wasm32 target, wasm-bindgen-cli at the version in Cargo.lock, Debian packages (Chromium
# for Playwright, mold, test peers) and the npm packages of tools/ and end2end/.
# Usage: scripts/setup.sh [--with-test-deps]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

want_test_deps=0
[ "${1:-}" = "--with-test-deps" ] && want_test_deps=1

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ -z "$wb_version" ]; then echo "wasm-bindgen not found in Cargo.lock" >&2; exit 1; fi
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb_version\$"; then
  log "installing wasm-bindgen-cli $wb_version (a few minutes)"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

# The appliance itself: poppler's pdftoppm rasterises documents for printers without PDF,
# sane-utils' scanimage drives USB scanners, systemd's systemd-creds seals the data key.
apt_packages=(mold gzip poppler-utils sane-utils systemd)
if [ "$want_test_deps" = 1 ]; then
  # Real device peers: an IPP printer (ippeveprinter) with the private D-Bus and Avahi it
  # needs, and SANE's test backend (scanimage); avahi-publish announces the other devices and
  # iproute2 makes the test LAN's network namespaces for discovery; openssl makes the RSA device
  # certificate an SBI signature test verifies; swtpm and tpm2-tools seal the data key in a
  # software TPM (this machine has no TPM driver).
  apt_packages+=(chromium sqlite3 cups-ipp-utils avahi-daemon avahi-utils dbus-daemon iproute2 openssl)
  apt_packages+=(swtpm swtpm-tools tpm2-tools)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm_install() {
  local dir="$1"
  local stamp="$dir/node_modules/.simpul-lock-hash"
  local hash
  hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    log "installing npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$hash" > "$stamp"
  fi
}
npm_install "$ROOT/tools"
if [ "$want_test_deps" = 1 ]; then
  npm_install "$ROOT/end2end"
fi
