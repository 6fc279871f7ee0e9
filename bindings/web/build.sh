#!/usr/bin/env bash
# Builds the WebAssembly package into bindings/web/pkg: the SDK for wasm32 (size profile), the
# JavaScript glue and TypeScript declarations from wasm-bindgen (the CLI at the version of the
# crate in Cargo.lock, installed from crates.io into the cache), and prints the .wasm size,
# raw and gzipped. Target directory and tools are kept in the cache (scripts/cross-env.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh

rust_std_available wasm32-unknown-unknown || { echo "rustup serves no std for wasm32" >&2; exit 1; }
version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
tools="$(tvpass_cache_dir)/tools"
bindgen="$tools/bin/wasm-bindgen"
if ! [ -x "$bindgen" ] || [ "$("$bindgen" --version | awk '{print $2}')" != "$version" ]; then
  cargo install -q --root "$tools" wasm-bindgen-cli --version "$version"
fi

dir="$(cross_target_dir stable)"
CARGO_TARGET_DIR="$dir" cargo build -q -p tvpass-web --target wasm32-unknown-unknown \
  --profile release-web --locked
rm -rf "$here/pkg"
"$bindgen" --target web --out-dir "$here/pkg" "$dir/wasm32-unknown-unknown/release-web/tvpass_web.wasm"
wasm="$here/pkg/tvpass_web_bg.wasm"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
awk -v r="$raw" -v g="$gz" 'BEGIN { printf "tvpass_web_bg.wasm (release-web, no wasm-opt): %d bytes = %.0f KiB, gzip -9: %d bytes = %.0f KiB\n", r, r / 1024, g, g / 1024 }'
