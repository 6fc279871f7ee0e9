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

cd "$here"
bash "$root/scripts/with-emulator.sh" mvn -B --no-transfer-progress test \
  -Dtvpass.lib.dir="$root/target/debug" -Dtvpass.generated="$gen"
