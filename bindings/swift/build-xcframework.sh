#!/usr/bin/env bash
# Builds TVPassFFI.xcframework (iOS, iOS simulator, tvOS, tvOS simulator, macOS) and generates
# Sources/TVPass/TVPass.swift, so that Package.swift can be used from Xcode or SwiftPM.
# Needs macOS with Xcode. tvOS targets are tier 3 in Rust: they are built with a nightly
# toolchain and -Zbuild-std (set TVPASS_NIGHTLY to the toolchain, default "nightly").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
[ "$(uname)" = "Darwin" ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }

nightly="${TVPASS_NIGHTLY:-nightly}"
profile=release-small
tier2=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
tier3=(aarch64-apple-tvos aarch64-apple-tvos-sim x86_64-apple-tvos)
rustup target add "${tier2[@]}"
rustup toolchain install "$nightly" --component rust-src

build() { # target toolchain-args...
  local target="$1"; shift
  cargo "$@" rustc -p tvpass --lib --no-default-features --features ffi --crate-type staticlib --profile "$profile" --target "$target" --locked
}
for t in "${tier2[@]}"; do build "$t"; done
for t in "${tier3[@]}"; do build "$t" "+$nightly" -Zbuild-std=std,panic_unwind; done

lib() { echo "target/$1/$profile/libtvpass.a"; }
out="$here/build"
rm -rf "$out" "$here/TVPassFFI.xcframework"
mkdir -p "$out/headers" "$out/ios-sim" "$out/tvos-sim" "$out/macos"

# Swift sources and the C header/modulemap, generated from the host build of the same code.
cargo rustc -p tvpass --lib --no-default-features --features ffi --crate-type cdylib --profile "$profile" --locked
cargo run -q -p uniffi-bindgen --locked -- generate --library "target/$profile/libtvpass.dylib" \
  --language swift --out-dir "$out/gen"
cp "$out/gen/TVPass.swift" "$here/Sources/TVPass/TVPass.swift"
cp "$out/gen/TVPassFFI.h" "$out/headers/"
cp "$out/gen/TVPassFFI.modulemap" "$out/headers/module.modulemap"

# Fat libraries for the simulator and macOS slices.
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" -output "$out/ios-sim/libtvpass.a"
lipo -create "$(lib aarch64-apple-tvos-sim)" "$(lib x86_64-apple-tvos)" -output "$out/tvos-sim/libtvpass.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" -output "$out/macos/libtvpass.a"

xcodebuild -create-xcframework \
  -library "$(lib aarch64-apple-ios)" -headers "$out/headers" \
  -library "$out/ios-sim/libtvpass.a" -headers "$out/headers" \
  -library "$(lib aarch64-apple-tvos)" -headers "$out/headers" \
  -library "$out/tvos-sim/libtvpass.a" -headers "$out/headers" \
  -library "$out/macos/libtvpass.a" -headers "$out/headers" \
  -output "$here/TVPassFFI.xcframework"
echo "built $here/TVPassFFI.xcframework"
