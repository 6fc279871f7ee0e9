#!/usr/bin/env bash
# Builds TVPassFFI.xcframework and its release zip, on Linux or macOS, without Xcode:
#   1. the mobile library (the app's HTTP stack through the FFI; no reqwest or rustls) as a
#      static library for every slice that xcframework.py plans: iOS arm64, iOS simulator arm64 +
#      x86_64, tvOS arm64, tvOS simulator arm64 + x86_64, macOS arm64 + x86_64, with the
#      deployment targets that Package.swift declares. A target whose standard library rustup
#      serves builds on stable; the others (tvOS, and the iOS simulator where rustup has no std
#      for it) on nightly with -Zbuild-std and rust-src;
#   2. the C header, the module map and Sources/TVPass/TVPass.swift, generated from the iOS
#      device library itself;
#   3. the XCFramework (Info.plist as xcodebuild writes it, fat libraries made with llvm-lipo);
#   4. dist/TVPassFFI.xcframework.zip, its SHA-256 (what `swift package compute-checksum`
#      prints) and dist/TVPass/, the release form of the package (binaryTarget url + checksum);
#   5. the check (xcframework.py check) and its self-test.
# Environment:
#   TVPASS_RELEASE_URL   the folder URL the zip is published under, for the release manifest
#                        (default: the repository's release download URL for the version)
#   TVPASS_NIGHTLY       the nightly toolchain for build-std (default: nightly)
#   TVPASS_CACHE_DIR     cross-build target directories, kept between runs
#                        (default: /var/cache/tvpass when writable, else target/cache)
# Output: bindings/swift/TVPassFFI.xcframework (what the local Package.swift uses) and
# target/apple/dist/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh

nightly="${TVPASS_NIGHTLY:-nightly}"
profile=release-small
metadata="$(cargo metadata --no-deps --format-version 1 --locked)"
version="$(python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "tvpass"))' <<<"$metadata")"
repository="$(python3 -c 'import json,sys; print(next(p["repository"] for p in json.load(sys.stdin)["packages"] if p["name"] == "tvpass"))' <<<"$metadata")"
# Where the release's assets are downloaded from: the repository's release of this version.
url="${TVPASS_RELEASE_URL:-$repository/releases/download/v$version}/TVPassFFI.xcframework.zip"
out="$root/target/apple"
libs="$out/libs"
rm -rf "$libs" && mkdir -p "$libs"

build_slice() { # toolchain triple env_var min
  local toolchain="$1" triple="$2" env_var="$3" min="$4" t0=$SECONDS dir
  dir="$(cross_target_dir "$toolchain")"
  if [ "$toolchain" = stable ]; then
    env "$env_var=$min" CARGO_TARGET_DIR="$dir" cargo rustc -q -p tvpass --lib --no-default-features \
      --features ffi --crate-type staticlib --profile "$profile" --target "$triple" --locked
  else
    # panic_unwind: uniffi turns a panic into an error at the boundary, which needs unwinding.
    env "$env_var=$min" CARGO_TARGET_DIR="$dir" cargo "+$nightly" rustc -q -Zbuild-std=std,panic_unwind \
      -p tvpass --lib --no-default-features --features ffi --crate-type staticlib --profile "$profile" \
      --target "$triple" --locked
  fi
  mkdir -p "$libs/$triple"
  cp "$dir/$triple/$profile/libtvpass.a" "$libs/$triple/"
  local how=stable
  [ "$toolchain" = stable ] || how="nightly, build-std"
  echo "built $triple ($how, $env_var=$min) in $((SECONDS - t0)) s"
}

# Slices whose std rustup serves build on stable; the others on the nightly with build-std. The
# two groups have target directories of their own, so they build side by side: each slice ends
# in one LTO codegen unit, which keeps one core busy.
stable=()
built_std=()
while read -r triple env_var min; do
  if rust_std_available "$triple"; then stable+=("$triple $env_var $min"); else built_std+=("$triple $env_var $min"); fi
done < <(python3 "$here/xcframework.py" targets)
[ "${#built_std[@]}" = 0 ] || ensure_rust_src "$nightly"
start=$SECONDS
nightly_log="$out/nightly-slices.log"
(
  for slice in "${built_std[@]}"; do
    # shellcheck disable=SC2086 # a slice is three words
    build_slice nightly $slice
  done
) > "$nightly_log" 2>&1 &
nightly_pid=$!
for slice in "${stable[@]}"; do
  # shellcheck disable=SC2086
  build_slice stable $slice
done
nightly_status=0
wait "$nightly_pid" || nightly_status=$?
cat "$nightly_log"
[ "$nightly_status" = 0 ] || { echo "a nightly (build-std) slice failed" >&2; exit 1; }
echo "all Apple slices in $((SECONDS - start)) s"

gen="$out/gen"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library "$libs/aarch64-apple-ios/libtvpass.a" \
  --language swift --out-dir "$gen" --no-format
cp "$gen/TVPass.swift" "$here/Sources/TVPass/TVPass.swift"
cp "$gen/TVPassFFI.h" "$here/Sources/TVPassFFILinux/TVPassFFI.h"

python3 "$here/xcframework.py" assemble "$here/TVPassFFI.xcframework" "$gen/TVPassFFI.h" \
  "$gen/TVPassFFI.modulemap" "$libs"
python3 "$here/xcframework.py" package "$here/TVPassFFI.xcframework" "$out/dist" "$url"
python3 "$here/xcframework.py" check "$here/TVPassFFI.xcframework" "$out/dist"
python3 "$here/xcframework.py" self-test "$here/TVPassFFI.xcframework" "$out/dist"
python3 "$here/xcframework.py" compare-self-test "$here/TVPassFFI.xcframework"
