#!/usr/bin/env bash
# Builds the host library with the FFI layer, generates the Swift bindings, and runs the XCTest
# suite inside a Debian trixie root with Debian's Swift 6 (see linux-toolchain.sh) against the
# emulator on a free loopback port. Needs root (chroot, mount).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

swift_root="$(bash "$here/linux-toolchain.sh")"

cargo rustc -p tvpass --lib --features ffi --crate-type cdylib --locked
cargo build -p tvpass-emulator --locked
gen="$(mktemp -d)"
cargo run -q -p uniffi-bindgen --locked -- generate --library target/debug/libtvpass.so \
  --language swift --out-dir "$gen" --no-format
cp "$gen/TVPass.swift" "$here/Sources/TVPass/TVPass.swift"
cp "$gen/TVPassFFI.h" "$here/Sources/TVPassFFILinux/TVPassFFI.h"
rm -rf "$gen"

work="$swift_root/tvpass-work"
cleanup() {
  umount "$work/src" 2>/dev/null || true
  umount "$work/lib" 2>/dev/null || true
  umount "$swift_root/proc" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$work/src" "$work/lib"
mountpoint -q "$swift_root/proc" || mount -t proc proc "$swift_root/proc"
mount --bind "$here" "$work/src"
mount --bind "$root/target/debug" "$work/lib"
bash "$root/scripts/with-emulator.sh" bash "$here/in-root.sh" "$swift_root" /tvpass-work/lib \
  "cd /tvpass-work/src && swift test --disable-swift-testing --scratch-path /tmp/tvpass-swift-build \
    -Xlinker -L/tvpass-work/lib -Xlinker -rpath -Xlinker /tvpass-work/lib"
