#!/usr/bin/env bash
# Builds the WebAssembly package into bindings/web/dist: the SDK for wasm32 (size profile), the
# JavaScript glue from wasm-bindgen (the CLI at the version of the crate in Cargo.lock, installed
# from crates.io into the cache), the .wasm optimised by wasm-opt -Oz (binaryen, from the npm
# registry), the API module js/index.js with its TypeScript declarations; prints the .wasm
# size, raw and gzipped. Target directory and tools are kept in the cache (scripts/cross-env.sh).
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
out="$here/dist"
rm -rf "$out" "$here/pkg"
"$bindgen" --target web --no-typescript --out-dir "$out" \
  "$dir/wasm32-unknown-unknown/release-web/tvpass_web.wasm"
wasm="$out/tvpass_web_bg.wasm"
binaryen=132.0.0
opt="$tools/npm/node_modules/.bin/wasm-opt"
if ! [ -x "$opt" ] || ! grep -q "\"version\": \"$binaryen\"" "$tools/npm/node_modules/binaryen/package.json"; then
  npm install --silent --no-audit --no-fund --prefix "$tools/npm" "binaryen@$binaryen"
fi
# The features rustc enables by default for wasm32-unknown-unknown.
"$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue "$wasm" -o "$wasm.opt"
mv "$wasm.opt" "$wasm"
cp "$here/js/index.js" "$here/js/index.d.ts" "$out/"
raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
awk -v r="$raw" -v g="$gz" 'BEGIN { printf "tvpass_web_bg.wasm (release-web, wasm-opt -Oz): %d bytes = %.0f KiB, gzip -9: %d bytes = %.0f KiB (target 600 KiB gzip)\n", r, r / 1024, g, g / 1024 }'
[ "$gz" -le $((600 * 1024)) ] || { echo "the .wasm is over its size target" >&2; exit 1; }
