# Shared environment for the project scripts (sourced, not run).
# Puts the npm-installed wasm-opt first on PATH, uses mold as linker when present and keeps one
# shared target directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
if command -v mold >/dev/null 2>&1; then
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=mold"
fi
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
