#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, docs, the Rust suites (the
# server-to-server fleet against a real redis-server), the Kotlin and Swift binding suites against
# the emulator, the device builds (every Apple slice in a
# checked XCFramework zip, the Android ABIs, the Rust suites on ARM64 under qemu), the AAR
# layout, and the library size targets.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's time, printed as it ends and again as a table at the end (pass or fail).
step_name=""
step_start=$SECONDS
timings=()
end_step() {
  [ -n "$step_name" ] || return 0
  local took=$((SECONDS - step_start))
  timings+=("$(printf '%3dm %02ds  %s' $((took / 60)) $((took % 60)) "${step_name:0:100}")")
  printf '   (%dm %02ds)\n' $((took / 60)) $((took % 60))
  step_name=""
}
step() {
  end_step
  step_name="$1"
  step_start=$SECONDS
  echo "== $1"
}
report() {
  local status=$?
  end_step
  echo "== step times"
  printf '%s\n' "${timings[@]}"
  printf '%3dm %02ds  in all (exit %d)\n' $((SECONDS / 60)) $((SECONDS % 60)) "$status"
  report_disk
}
trap report EXIT

# Disk: the target directory and the build cache grow to tens of GB on a cold run. A full disk
# shows up as a linker's bus error, far from its cause, so the free space is printed at the start
# and its lowest point (sampled every 10 s) with the step times.
free_kib() { df -Pk . | awk 'NR == 2 { print $4 }'; }
echo "== $(( $(free_kib) / 1048576 )) GiB free on the disk of $PWD"
low_water="$(mktemp)"
free_kib > "$low_water"
( while sleep 10; do
    now="$(free_kib)"
    [ "$now" -lt "$(cat "$low_water")" ] && echo "$now" > "$low_water"
  done ) &
sampler=$!
report_disk() {
  kill "$sampler" 2>/dev/null || true
  printf '%7.1f GiB  the least free disk space during the run\n' "$(awk '{ print $1 / 1048576 }' "$low_water")"
  rm -f "$low_water"
}
# A run builds each thing once: incremental state would only take disk space.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

# The contract tests: the suites below that talk to the emulator run with its exchange record on
# (TVPASS_EMULATOR_EXCHANGES, named by suite); the last step holds every exchange to
# tests/contract/contract.json. Benchmarks never run with it.
exchanges="$PWD/target/contract-exchanges"
rm -rf "$exchanges"
recorded() { # suite command...
  local suite="$1"
  shift
  TVPASS_EMULATOR_EXCHANGES="$exchanges" TVPASS_EMULATOR_SUITE="$suite" "$@"
}

step "cargo fmt"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The FFI layer and the fleet in one build (the test step builds the same feature set).
cargo clippy -p tvpass --all-targets --features ffi,redis --locked -- -D warnings
step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
step "one version everywhere; the published crates on their declared rust-version; cargo publish --dry-run in dependency order"
python3 scripts/check-version.py --self-test
# shellcheck source=cross-env.sh
source scripts/cross-env.sh
msrv="$(workspace_field rust-version)"
CARGO_TARGET_DIR="$(tvpass_cache_dir)/msrv" cargo "+$msrv" check -q -p tvpass -p tvpass-emulator -p tvpass-cli --locked
echo "tvpass, tvpass-emulator and tvpass-cli build with Rust $msrv, their rust-version"
publish_log="$(mktemp)"
if ! cargo publish --dry-run -p tvpass-emulator -p tvpass -p tvpass-cli --locked --allow-dirty > "$publish_log" 2>&1; then
  cat "$publish_log" >&2
  exit 1
fi
grep -E '^ *(Packaged|Verifying)' "$publish_log"
rm -f "$publish_log"
step "the core compiles for wasm32 (the web TV platforms) with the JavaScript event loop's clock"
cargo check -q -p tvpass --target wasm32-unknown-unknown --no-default-features --locked
step "a Rust user without the ffi feature compiles no uniffi code"
if cargo tree -p tvpass -e normal --locked | grep -q uniffi; then
  echo "uniffi is in the default dependency tree" >&2
  exit 1
fi
step "the layers of src/ as docs/architecture.md lists them: no arrow up, no circle, no file over 600 lines"
python3 scripts/check-layers.py
# Its self-test: a crate of two files that name each other, and one in no layer, is refused.
layers_test="$(mktemp -d)"
mkdir -p "$layers_test/src" "$layers_test/docs"
printf 'use crate::b::B;\npub struct A;\n' > "$layers_test/src/a.rs"
printf 'pub struct B(crate::a::A);\n' > "$layers_test/src/b.rs"
: > "$layers_test/src/lib.rs"
: > "$layers_test/src/c.rs"
printf '## Layers\n\n| layer | files | what |\n|---|---|---|\n| 1. low | `a`, `b` | x |\n| 2. top | `lib` | y |\n' \
  > "$layers_test/docs/architecture.md"
if python3 scripts/check-layers.py "$layers_test" > /dev/null 2> "$layers_test/out" ||
  ! grep -q 'src/a.rs -> src/b.rs' "$layers_test/out" || ! grep -q 'src/c.rs stands in no layer' "$layers_test/out"; then
  echo "the layer check let a circle or an unlisted file through" >&2
  exit 1
fi
rm -rf "$layers_test"
step "inside the crate, items come from their modules, never back through the crate root"
if grep -rnE '^[^/]*(\bcrate::[A-Z]|use crate( as |::\{))' src; then
  echo "import these from the module that defines them (crate::error::PassError, ...)" >&2
  exit 1
fi
step "the workflows (actionlint, with shellcheck on their scripts)"
tools_bin="$(tvpass_cache_dir)/tools/bin"
if ! "$tools_bin/actionlint" -version 2>/dev/null | grep -qx 'v1.7.12'; then
  GOBIN="$tools_bin" go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
fi
"$tools_bin/actionlint" .github/workflows/*.yml
echo "actionlint: .github/workflows/ci.yml and release.yml pass"
step "the guides: every Rust, Swift and Kotlin block stands in a test"
python3 scripts/check-guides.py
step "the quickstart reads as the CLI does (dates with time left, no Debug forms)"
quickstart="$(cargo run -q --example quickstart --locked)"
if grep -nE '[0-9]{12,} ?ms|Some\(|None\b|\[\]' <<<"$quickstart"; then
  echo "the quickstart prints raw milliseconds or Rust Debug forms" >&2
  exit 1
fi
step "cargo test (with the gateway's processes and attack suite, a redis-server per fleet test, the outage of 500 devices)"
# Each test binary names its suite (package/binary) in the record.
TVPASS_EMULATOR_EXCHANGES="$exchanges" cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
step "the fault matrix through the FFI's foreign transport (same outcomes, same request counts)"
# The workspace's tests above already ran with the redis feature (the gateway turns it on): the
# fleets of services and of gateway processes, each with a redis-server of its own, the outage,
# the sealing and the metrics. This build adds the FFI.
TVPASS_EMULATOR_EXCHANGES="$exchanges" cargo test -p tvpass --features redis,ffi --test fault_matrix --locked
step "library size, full and mobile (no HTTP or TLS stack in the mobile dependency tree)"
bash scripts/library-size.sh
step "Kotlin bindings (JVM, on the full library the jar ships) against the emulator, with the foreign transport figures; the Android library under Robolectric"
TVPASS_JVM_LIB=target/release-small/libtvpass-full.so TVPASS_BENCH_CALLS=300 recorded kotlin bash bindings/kotlin/run-tests.sh
step "the web package (web TV platforms): the MVP module and the JavaScript build, its TypeScript declarations, the journey in Node 20, headless Chromium and the Node of 2018-2020 TV engines (10, 8, 6)"
recorded web bash bindings/web/run-tests.sh
step "Android AAR layout (16 KB aligned native libraries)"
bash bindings/kotlin/check-aar-layout.sh
step "Swift bindings (Linux, Debian trixie root) against the emulator"
recorded swift bash bindings/swift/run-tests.sh
step "device builds side by side: the Android ABIs (arm64-v8a, armeabi-v7a, x86_64), every FFI function defined; the Apple slices, TVPassFFI.xcframework and its release zip, checked without Xcode"
# Three lanes on two cores: the Android ABIs and the Apple slices of rustup's std share the
# stable cross directory (one after the other), the build-std slices have the nightly's.
abis_log="$(mktemp)"
bash bindings/kotlin/android/compile-abis.sh > "$abis_log" 2>&1 &
abis_pid=$!
bash bindings/swift/build-xcframework.sh
abis_status=0
wait "$abis_pid" || abis_status=$?
cat "$abis_log" && rm -f "$abis_log"
[ "$abis_status" = 0 ] || { echo "the Android ABIs failed" >&2; exit 1; }
step "the release package as SwiftPM reads it (checksum, binary target)"
bash bindings/swift/check-release-package.sh
step "ARM64: the SDK's and the emulator's tests under qemu-aarch64, the mobile library's size"
bash scripts/test-arm64.sh
step "benchmarks, quick mode (request counts, throttling and memory targets enforced; a 30 s soak of 200 devices, its live heap at most 5 % over the warm-up)"
# One build of both benches (the SDK's figures do not depend on the redis feature).
TVPASS_BENCH_QUICK=1 cargo bench --bench sdk --bench service --features redis --locked
step "fuzzing: every target of fuzz/ (answers, X-Device-Info, device contexts, packed state, Redis values, storage, the emulator's requests) for 20 s on its seed corpus, two at a time; a crash fails with its input"
bash fuzz/run.sh
bash fuzz/run.sh --self-test
step "the release: every artifact scripts/release.sh builds (reusing the test command's builds), its bad input refused, each artifact installed as its users install it"
for bad in 1.2 v0.1.0 9.9.9; do
  if bash scripts/release.sh --allow-dirty "$bad" > /dev/null 2>&1; then
    echo "release.sh accepted the version $bad" >&2
    exit 1
  fi
done
echo "release.sh refuses a version that is not semver or not the workspace's"
TVPASS_RELEASE_REUSE=1 bash scripts/release.sh --allow-dirty
recorded consumers bash scripts/consumer-tests.sh
step "the contract: every exchange of the suites above held to Adobe's documented API (tests/contract)"
python3 tests/contract/check.py --self-test
python3 tests/contract/check.py "$exchanges"
