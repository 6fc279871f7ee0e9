#!/usr/bin/env bash
# Prints the size of the stripped cdylib with the FFI layer (release-small profile: LTO,
# opt-level z, one codegen unit) and fails above the 3.0 MiB target.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo rustc -p tvpass --lib --features ffi --crate-type cdylib --profile release-small --locked >&2
lib=target/release-small/libtvpass.so
bytes=$(stat -c %s "$lib")
limit=$((3 * 1024 * 1024))
awk -v b="$bytes" 'BEGIN { printf "libtvpass.so (ffi, release-small, stripped, x86_64 Linux): %d bytes = %.2f MiB (target 3.00 MiB)\n", b, b / 1048576 }'
[ "$bytes" -le "$limit" ] || { echo "over the size target" >&2; exit 1; }
