#!/usr/bin/env bash
# Generates the Kotlin bindings, starts the emulator on a free loopback port and runs the JVM test
# suite (JUnit, coroutines, JNA) on the library the JVM jar ships (the full library, release-small
# profile), then packages the jar; then the Android library's suite under Robolectric
# (KeystoreStorage, LogcatLogger, the journey from a Context, the packaging rules), its jar, and
# its compile against the android-all jar of minSdk 23.
#   TVPASS_JVM_LIB       the full library to test, when already built (default: built here)
#   TVPASS_BENCH_CALLS   also run the foreign-transport benchmark (bench-transport.sh) in the
#                        same JVM run, with this many calls, and print its figures
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh

# The debug library carries the uniffi metadata the generator reads (release builds are
# stripped); the Robolectric suite loads it too.
cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --locked
cargo build -q -p tvpass-emulator --locked
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library target/debug/libtvpass.so \
  --language kotlin --out-dir "$gen" --no-format
jvm_lib="${TVPASS_JVM_LIB:-$(build_full_cdylib)}"
lib_dir="$root/target/jvm-lib"
mkdir -p "$lib_dir" && cp "$jvm_lib" "$lib_dir/libtvpass.so"
bench=()
[ -z "${TVPASS_BENCH_CALLS:-}" ] || bench=(-Dtvpass.bench=true "-Dtvpass.bench.calls=$TVPASS_BENCH_CALLS")

cd "$here"
bash "$root/scripts/with-emulator.sh" mvn -B --no-transfer-progress package \
  -Dtvpass.lib.dir="$lib_dir" -Dtvpass.generated="$gen" "${bench[@]}"

cd "$here/android"
bash "$root/scripts/with-emulator.sh" mvn -B --no-transfer-progress package \
  -Dtvpass.lib.dir="$root/target/debug" -Dtvpass.generated="$gen"
mvn -B -q --no-transfer-progress -Pmin-sdk compile -Dtvpass.generated="$gen"
echo "the Android library compiles against android-all of minSdk 23"
