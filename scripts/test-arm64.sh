#!/usr/bin/env bash
# Runs the SDK's and the emulator's tests (unit and integration) cross-built for
# aarch64-unknown-linux-gnu under qemu-aarch64, and measures the stripped mobile cdylib for that
# target (linked with 16 KB pages, as Android 15 requires): the stand-in for Android arm64,
# whose own .so needs the NDK. Limit 1.5 MiB.
# Needs: qemu-user, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross (apt) and the Rust target
# (rustup); the target directory is kept in the cache (see cross-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=cross-env.sh
source scripts/cross-env.sh

triple=aarch64-unknown-linux-gnu
rust_std_available "$triple" || { echo "rustup serves no std for $triple" >&2; exit 1; }
for cmd in qemu-aarch64 aarch64-linux-gnu-gcc; do
  command -v "$cmd" >/dev/null || { echo "$cmd is missing (apt: qemu-user gcc-aarch64-linux-gnu)" >&2; exit 1; }
done
export CARGO_TARGET_DIR="$(cross_target_dir stable)"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

echo "== tests on $triple under qemu-aarch64"
t0=$SECONDS
cargo test -p tvpass -p tvpass-emulator --target "$triple" --lib --tests --locked
echo "ARM64 tests built and run in $((SECONDS - t0)) s"

echo "== mobile cdylib for $triple (release-small, stripped, 16 KB pages)"
so="$(build_mobile_cdylib --target "$triple")"
bytes=$(stat -c %s "$so")
limit=$((3 * 1024 * 1024 / 2))
awk -v b="$bytes" -v l="$limit" 'BEGIN { printf "libtvpass.so (mobile, ffi, release-small, stripped, aarch64 Linux): %d bytes = %.2f MiB (target %.2f MiB)\n", b, b / 1048576, l / 1048576 }'
[ "$bytes" -le "$limit" ] || { echo "aarch64 mobile library over the size target" >&2; exit 1; }
bash bindings/kotlin/check-so-alignment.sh "$so"
