#!/usr/bin/env bash
# Prints the foreign-transport figures: authorize through the SDK with the Kotlin host transport
# (HttpUrlConnectionTransport) vs the same request sent by Kotlin directly with
# HttpURLConnection, and vs the SDK's built-in transport, medians of interleaved calls in one
# run against the emulator, on the library the JVM jar ships (release-small). The test command
# runs the same benchmark inside the JVM suite (run-tests.sh with TVPASS_BENCH_CALLS).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh
cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --locked >&2
cargo build -q -p tvpass-emulator --locked >&2
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library target/debug/libtvpass.so \
  --language kotlin --out-dir "$gen" --no-format
lib_dir="$root/target/jvm-lib"
mkdir -p "$lib_dir" && cp "$(build_full_cdylib)" "$lib_dir/libtvpass.so"
cd "$here"
bash "$root/scripts/with-emulator.sh" mvn -B -q --no-transfer-progress test \
  -Dtest=TransportBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dtvpass.bench=true \
  -Dtvpass.bench.calls="${TVPASS_BENCH_CALLS:-1000}" \
  -Dtvpass.lib.dir="$lib_dir" -Dtvpass.generated="$gen" | grep 'foreign transport:'
