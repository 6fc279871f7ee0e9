#!/usr/bin/env bash
# Installs what the test command and the release build need on a Debian or Ubuntu machine (as
# root): Debian's packages, the Rust components and targets, the nightly with rust-src, and the
# toolchain of the crates' declared rust-version. Run by .ci/run and the release workflow.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jdk-headless)
# Device builds: ARM64 tests under qemu, the cross linker and libc, and an LLVM recent enough to
# read the Apple archives (llvm-lipo, llvm-objdump, llvm-nm).
command -v qemu-aarch64 >/dev/null 2>&1 || need_apt+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_apt+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need_apt+=(libc6-dev-arm64-cross)
command -v llvm-lipo-22 >/dev/null 2>&1 || need_apt+=(llvm-22)
# The web package's browser test.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The gateway's nginx.conf runs in front of three gateway processes in their suite.
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
# redis-cli reads the fleet's Redis in the sealing test; openssl makes the TLS test's certificates.
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# The static CLI (x86_64-unknown-linux-musl): ring's C is compiled with musl-gcc.
command -v musl-gcc >/dev/null 2>&1 || need_apt+=(musl-tools)
# actionlint checks the workflows' scripts with it.
command -v shellcheck >/dev/null 2>&1 || need_apt+=(shellcheck)
if [ "${#need_apt[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# Targets whose standard library rustup serves; the others (tvOS, the iOS simulator) are built
# with nightly -Zbuild-std, which needs rust-src.
rustup target add aarch64-apple-ios aarch64-apple-darwin x86_64-apple-darwin aarch64-linux-android \
  armv7-linux-androideabi x86_64-linux-android aarch64-unknown-linux-gnu wasm32-unknown-unknown \
  x86_64-unknown-linux-musl
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# The oldest toolchain the crates declare (rust-version): the test command checks them with it.
# shellcheck source=cross-env.sh
source scripts/cross-env.sh
msrv="$(workspace_field rust-version)"
rustup toolchain list | grep -q "^$msrv" || rustup toolchain install "$msrv" --profile minimal
rustup component add rust-src --toolchain nightly
# The contract tests' JSON Schema validator (tests/contract/check.py).
python3 -c 'import jsonschema, referencing' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'jsonschema==4.26.0'
