#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, docs, the Rust suites, the Kotlin
# and Swift binding suites against the emulator, the AAR layout, and the library size target.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p tvpass --all-targets --features ffi --locked -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
echo "== a Rust user without the ffi feature compiles no uniffi code"
if cargo tree -p tvpass -e normal --locked | grep -q uniffi; then
  echo "uniffi is in the default dependency tree" >&2
  exit 1
fi
echo "== cargo test"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
echo "== the fault matrix through the FFI's foreign transport (same outcomes, same request counts)"
cargo test -p tvpass --features ffi --test fault_matrix --locked
echo "== Kotlin bindings (JVM) against the emulator"
bash bindings/kotlin/run-tests.sh
echo "== foreign transport figures (Kotlin host transport vs direct HttpURLConnection)"
TVPASS_BENCH_CALLS=300 bash bindings/kotlin/bench-transport.sh
echo "== Android AAR layout"
bash bindings/kotlin/check-aar-layout.sh
echo "== Swift bindings (Linux, Debian trixie root) against the emulator"
bash bindings/swift/run-tests.sh
echo "== benchmarks, quick mode (request counts, throttling and memory targets enforced)"
TVPASS_BENCH_QUICK=1 cargo bench --bench sdk --locked
echo "== library size, full and mobile (no HTTP or TLS stack in the mobile dependency tree)"
bash scripts/library-size.sh
