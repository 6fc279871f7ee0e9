#!/usr/bin/env bash
# Compiles the mobile library (size profile) for the three Android ABIs the AAR ships,
# arm64-v8a, armeabi-v7a and x86_64, as static libraries (no NDK is needed to compile; linking
# the .so files is build-aar.sh's work, with the NDK), and checks that each defines every FFI
# function that the host's mobile library exports: the functions the Kotlin bindings call.
# Target directories are kept in the cache (see scripts/cross-env.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"
# shellcheck source=../../../scripts/cross-env.sh
source scripts/cross-env.sh

want="$(ffi_functions "$(build_mobile_cdylib)")"
[ "$(wc -l <<<"$want")" -gt 50 ] || { echo "the host library exports too few FFI functions" >&2; exit 1; }
dir="$(cross_target_dir stable)"
declare -A abis=([aarch64-linux-android]=arm64-v8a [armv7-linux-androideabi]=armeabi-v7a [x86_64-linux-android]=x86_64)
for triple in aarch64-linux-android armv7-linux-androideabi x86_64-linux-android; do
  t0=$SECONDS
  rust_std_available "$triple" || { echo "rustup serves no std for $triple" >&2; exit 1; }
  CARGO_TARGET_DIR="$dir" cargo rustc -q -p tvpass --lib --no-default-features --features ffi \
    --crate-type staticlib --profile release-small --target "$triple" --locked
  have="$(ffi_functions "$dir/$triple/release-small/libtvpass.a")"
  missing="$(comm -23 <(echo "$want") <(echo "$have"))"
  if [ -n "$missing" ]; then
    echo "${abis[$triple]} ($triple) lacks $(wc -l <<<"$missing") FFI functions, e.g. $(head -n1 <<<"$missing")" >&2
    exit 1
  fi
  echo "${abis[$triple]} ($triple): compiled in $((SECONDS - t0)) s, defines all $(wc -l <<<"$want") FFI functions"
done
