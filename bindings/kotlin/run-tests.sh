#!/usr/bin/env bash
# Builds the host library with the FFI layer, generates the Kotlin bindings from it, starts the
# emulator on a free loopback port and runs the JVM test suite (JUnit, coroutines, JNA).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo rustc -p tvpass --lib --features ffi --crate-type cdylib --locked
cargo build -p tvpass-emulator --locked
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library target/debug/libtvpass.so \
  --language kotlin --out-dir "$gen" --no-format

log="$(mktemp)"
target/debug/tvpass-emulator --port 0 --no-throttling > "$log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" && break
  sleep 0.1
done
url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$log" | head -n1)"
[ -n "$url" ] || { echo "the emulator did not start" >&2; cat "$log" >&2; exit 1; }

cd "$here"
mvn -B --no-transfer-progress test -Dtvpass.emulator="$url" -Dtvpass.lib.dir="$root/target/debug" -Dtvpass.generated="$gen"
