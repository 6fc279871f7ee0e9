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

log="$(mktemp)"
target/debug/tvpass-emulator --port 0 --no-throttling > "$log" 2>&1 &
emu=$!
work="$swift_root/tvpass-work"
cleanup() {
  kill "$emu" 2>/dev/null || true
  rm -f "$log"
  umount "$work/src" 2>/dev/null || true
  umount "$work/lib" 2>/dev/null || true
  umount "$swift_root/proc" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" && break
  sleep 0.1
done
url="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$log" | head -n1)"
[ -n "$url" ] || { echo "the emulator did not start" >&2; cat "$log" >&2; exit 1; }

mkdir -p "$work/src" "$work/lib"
mountpoint -q "$swift_root/proc" || mount -t proc proc "$swift_root/proc"
mount --bind "$here" "$work/src"
mount --bind "$root/target/debug" "$work/lib"
chroot "$swift_root" /usr/bin/env -i \
  PATH=/usr/libexec/swift/bin:/usr/bin:/bin HOME=/tmp TVPASS_EMULATOR="$url" \
  LD_LIBRARY_PATH=/tvpass-work/lib:/usr/libexec/swift/lib/swift/linux \
  /bin/sh -c 'cd /tvpass-work/src && swift test --disable-swift-testing --scratch-path /tmp/tvpass-swift-build \
    -Xlinker -L/tvpass-work/lib -Xlinker -rpath -Xlinker /tvpass-work/lib'
