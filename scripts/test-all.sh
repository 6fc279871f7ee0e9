#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, docs, the Rust suites (the
# server-to-server fleet against a real redis-server), the Kotlin and Swift binding suites against
# the emulator, the device builds (every Apple slice in a
# checked XCFramework zip, the Android ABIs, the Rust suites on ARM64 under qemu), the AAR
# layout, and the library size targets.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p tvpass --all-targets --features ffi --locked -- -D warnings
cargo clippy -p tvpass --all-targets --features redis --locked -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
echo "== the core compiles for wasm32 (the web TV platforms) with the JavaScript event loop's clock"
cargo check -q -p tvpass --target wasm32-unknown-unknown --no-default-features --locked
echo "== a Rust user without the ffi feature compiles no uniffi code"
if cargo tree -p tvpass -e normal --locked | grep -q uniffi; then
  echo "uniffi is in the default dependency tree" >&2
  exit 1
fi
echo "== inside the crate, items come from their modules, never back through the crate root"
if grep -rnE '^[^/]*(\bcrate::[A-Z]|use crate( as |::\{))' src; then
  echo "import these from the module that defines them (crate::error::PassError, ...)" >&2
  exit 1
fi
echo "== the guides: every Rust, Swift and Kotlin block stands in a test"
python3 scripts/check-guides.py
echo "== the quickstart reads as the CLI does (dates with time left, no Debug forms)"
quickstart="$(cargo run -q --example quickstart --locked)"
if grep -nE '[0-9]{12,} ?ms|Some\(|None\b|\[\]' <<<"$quickstart"; then
  echo "the quickstart prints raw milliseconds or Rust Debug forms" >&2
  exit 1
fi
echo "== cargo test"
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
echo "== server to server: a fleet of three services sharing Redis (a redis-server of its own on a free loopback port), killed and restarted mid-run"
cargo test -p tvpass --features redis --test fleet --test guide --test service --locked
echo "== the fault matrix through the FFI's foreign transport (same outcomes, same request counts)"
cargo test -p tvpass --features ffi --test fault_matrix --locked
echo "== Kotlin bindings (JVM) against the emulator"
bash bindings/kotlin/run-tests.sh
echo "== foreign transport figures (Kotlin host transport vs direct HttpURLConnection)"
TVPASS_BENCH_CALLS=300 bash bindings/kotlin/bench-transport.sh
echo "== the WebAssembly package (web TV platforms): built, its TypeScript declarations checked, its suites in Node 20 and headless Chromium against the emulator"
bash bindings/web/run-tests.sh
echo "== Android AAR layout (16 KB aligned native libraries)"
bash bindings/kotlin/check-aar-layout.sh
echo "== Android ABIs (arm64-v8a, armeabi-v7a, x86_64) compiled, every FFI function defined"
bash bindings/kotlin/android/compile-abis.sh
echo "== Swift bindings (Linux, Debian trixie root) against the emulator"
bash bindings/swift/run-tests.sh
echo "== Apple slices, TVPassFFI.xcframework and its release zip, built and checked without Xcode"
bash bindings/swift/build-xcframework.sh
echo "== the release package as SwiftPM reads it (checksum, binary target)"
bash bindings/swift/check-release-package.sh
echo "== ARM64: the SDK's and the emulator's tests under qemu-aarch64, the mobile library's size"
bash scripts/test-arm64.sh
echo "== benchmarks, quick mode (request counts, throttling and memory targets enforced)"
TVPASS_BENCH_QUICK=1 cargo bench --bench sdk --locked
TVPASS_BENCH_QUICK=1 cargo bench --bench service --features redis --locked
echo "== library size, full and mobile (no HTTP or TLS stack in the mobile dependency tree)"
bash scripts/library-size.sh
