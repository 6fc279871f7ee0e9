#!/usr/bin/env bash
# Prints the foreign-transport figures: authorize through the SDK with the Kotlin host transport
# (HttpUrlConnectionTransport) vs the same request sent by Kotlin directly with
# HttpURLConnection, and vs the SDK's built-in transport, medians of interleaved calls in one
# run against the emulator. Uses the release build of the library.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
cargo rustc -p tvpass --lib --features ffi --crate-type cdylib --release --locked >&2
cargo build -p tvpass-emulator --locked >&2
gen="$here/target/generated-sources/uniffi"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library target/release/libtvpass.so \
  --language kotlin --out-dir "$gen" --no-format
cd "$here"
bash "$root/scripts/with-emulator.sh" mvn -B -q --no-transfer-progress test \
  -Dtest=TransportBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dtvpass.bench=true \
  -Dtvpass.bench.calls="${TVPASS_BENCH_CALLS:-1000}" \
  -Dtvpass.lib.dir="$root/target/release" -Dtvpass.generated="$gen" | grep 'foreign transport:'
