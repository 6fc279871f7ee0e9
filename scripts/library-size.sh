#!/usr/bin/env bash
# Prints the size of the stripped cdylib with the FFI layer (release-small profile: LTO,
# opt-level z, one codegen unit) in its two variants and fails above their targets:
#   full stack (built-in reqwest + rustls transport): 3.0 MiB
#   mobile (the host's HTTP stack through the FFI; no reqwest, rustls, ring or hyper; linked for
#   16 KB pages as on Android): 1.5 MiB
# The aarch64 figure of the mobile library comes from scripts/test-arm64.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== the mobile library has no HTTP stack of its own" >&2
if cargo tree -p tvpass --no-default-features --features ffi -e normal --locked \
  | grep -E '^[^a-z]*(reqwest|rustls|ring|hyper|hyper-util|hyper-rustls) v'; then
  echo "the mobile feature set pulls in an HTTP or TLS stack" >&2
  exit 1
fi

# shellcheck source=cross-env.sh
source scripts/cross-env.sh

measure() { # name, limit in bytes, library
  local name="$1" limit="$2" lib="$3"
  local bytes
  bytes=$(stat -c %s "$lib")
  [ "$lib" -ef "target/release-small/libtvpass-$name.so" ] || cp "$lib" "target/release-small/libtvpass-$name.so"
  awk -v n="$name" -v b="$bytes" -v l="$limit" 'BEGIN { printf "libtvpass.so (%s, ffi, release-small, stripped, x86_64 Linux): %d bytes = %.2f MiB (target %.2f MiB)\n", n, b, b / 1048576, l / 1048576 }'
  [ "$bytes" -le "$limit" ] || { echo "$name: over the size target" >&2; return 1; }
}

measure full $((3 * 1024 * 1024)) "$(build_full_cdylib)"
measure mobile $((3 * 1024 * 1024 / 2)) "$(build_mobile_cdylib)"
