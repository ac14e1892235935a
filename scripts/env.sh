# Shared environment for the project scripts (sourced, not run).
# Puts the npm-installed wasm-opt first on PATH, uses mold as linker when present and keeps one
# shared target directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$ROOT/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# Type-erased Leptos components, on both sides so that server HTML and browser hydration agree:
# a smaller WASM bundle and faster builds.
host_flags="--cfg erase_components"
if command -v mold >/dev/null 2>&1; then
  host_flags="$host_flags -C link-arg=-fuse-ld=mold"
fi
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$host_flags"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components"
# Every message carries the time since the first script of this run started, so CI logs show
# what each phase costs.
export SIMPUL_T0="${SIMPUL_T0:-$(date +%s)}"
log() { printf '\033[1m==> [%4ss] %s\033[0m\n' "$(( $(date +%s) - SIMPUL_T0 ))" "$*" >&2; }
