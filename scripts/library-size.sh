#!/usr/bin/env bash
# Prints the size of the stripped cdylib with the FFI layer (release-small profile: LTO,
# opt-level z, one codegen unit) in its two variants and fails above their targets:
#   full stack (built-in reqwest + rustls transport): 3.0 MiB
#   mobile (the host's HTTP stack through the FFI; no reqwest, rustls, ring or hyper): 1.5 MiB
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== the mobile library has no HTTP stack of its own" >&2
if cargo tree -p tvpass --no-default-features --features ffi -e normal --locked \
  | grep -E '^[^a-z]*(reqwest|rustls|ring|hyper|hyper-util|hyper-rustls) v'; then
  echo "the mobile feature set pulls in an HTTP or TLS stack" >&2
  exit 1
fi

measure() { # name, limit in bytes, cargo features...
  local name="$1" limit="$2"
  shift 2
  cargo rustc -p tvpass --lib "$@" --crate-type cdylib --profile release-small --locked >&2
  local bytes
  bytes=$(stat -c %s target/release-small/libtvpass.so)
  cp target/release-small/libtvpass.so "target/release-small/libtvpass-$name.so"
  awk -v n="$name" -v b="$bytes" -v l="$limit" 'BEGIN { printf "libtvpass.so (%s, ffi, release-small, stripped, x86_64 Linux): %d bytes = %.2f MiB (target %.2f MiB)\n", n, b, b / 1048576, l / 1048576 }'
  [ "$bytes" -le "$limit" ] || { echo "$name: over the size target" >&2; return 1; }
}

measure full $((3 * 1024 * 1024)) --features ffi
measure mobile $((3 * 1024 * 1024 / 2)) --no-default-features --features ffi
