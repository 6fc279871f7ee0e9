#!/usr/bin/env bash
# Builds the host library with the FFI layer, generates the Kotlin bindings from it, starts the
# emulator on a free loopback port and runs the JVM test suite (JUnit, coroutines, JNA); then the
# Android library's suite under Robolectric (KeystoreStorage, LogcatLogger, the journey from a
# Context, the packaging rules) and its compile against the android-all jar of minSdk 23.
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

cd "$here/android"
bash "$root/scripts/with-emulator.sh" mvn -B --no-transfer-progress test \
  -Dtvpass.lib.dir="$root/target/debug" -Dtvpass.generated="$gen"
mvn -B -q --no-transfer-progress -Pmin-sdk compile -Dtvpass.generated="$gen"
echo "the Android library compiles against android-all of minSdk 23"
