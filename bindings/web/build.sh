#!/usr/bin/env bash
# Builds the web package into bindings/web/dist: the SDK for wasm32 with MVP features only (std
# built for the MVP by the nightly), the JavaScript glue from wasm-bindgen (the CLI at the
# version of the crate in Cargo.lock, installed from crates.io into the cache), the .wasm
# optimised by wasm-opt -Oz and checked to be MVP-only (binaryen, from the npm registry), the
# JavaScript build of the same module for engines without WebAssembly (wasm2js), and the API
# module js/index.js with its TypeScript declarations, every file lowered to Chromium 53
# (esbuild, finish.mjs). Prints the sizes, raw and gzipped. Target directory and tools are kept
# in the cache (scripts/cross-env.sh).
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

# The module runs on the WebAssembly of 2019 TVs (Chromium 63: the MVP, without the sign-ext,
# bulk-memory, reference-types and multivalue features rustc enables by default): std and the
# crate are built for the MVP CPU with the nightly's -Zbuild-std.
ensure_rust_src nightly
dir="$(cross_target_dir nightly)"
CARGO_TARGET_DIR="$dir" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Ctarget-cpu=mvp" \
  cargo +nightly build -q -p tvpass-web --target wasm32-unknown-unknown --profile release-web \
  -Zbuild-std=std,panic_abort --locked
out="$here/dist"
raw="$(mktemp -d)"
trap 'rm -rf "$raw"' EXIT
rm -rf "$out" "$here/pkg"
mkdir -p "$out"
"$bindgen" --target web --no-typescript --out-dir "$raw" \
  "$dir/wasm32-unknown-unknown/release-web/tvpass_web.wasm"
wasm="$out/tvpass_web_bg.wasm"
binaryen=132.0.0
esbuild=0.28.2
npm_tools="$tools/npm"
if ! grep -qs "\"version\": \"$binaryen\"" "$npm_tools/node_modules/binaryen/package.json" ||
  ! grep -qs "\"version\": \"$esbuild\"" "$npm_tools/node_modules/esbuild/package.json"; then
  npm install --silent --no-audit --no-fund --prefix "$npm_tools" "binaryen@$binaryen" "esbuild@$esbuild"
fi
bin="$npm_tools/node_modules/.bin"
"$bin/wasm-opt" -Oz --mvp-features --strip-target-features "$raw/tvpass_web_bg.wasm" -o "$wasm"
# MVP only: binaryen's validator, with no feature beyond the MVP allowed, refuses any instruction
# or type of a later proposal. Its self-test: a module with one sign-ext instruction is refused.
"$bin/wasm-opt" --mvp-features "$wasm" -o /dev/null 2>"$raw/validate.log" ||
  { cat "$raw/validate.log" >&2; echo "tvpass_web_bg.wasm uses a post-MVP feature" >&2; exit 1; }
printf '(module (func (export "f") (param i32) (result i32) (i32.extend8_s (local.get 0))))' > "$raw/s.wat"
"$bin/wasm-as" --enable-sign-ext "$raw/s.wat" -o "$raw/s.wasm"
if "$bin/wasm-opt" --mvp-features "$raw/s.wasm" -o /dev/null 2>/dev/null; then
  echo "the MVP check accepted a sign-ext module: it checks nothing" >&2
  exit 1
fi
echo "tvpass_web_bg.wasm validates with the MVP feature set only (a sign-ext module is refused)"
# The JavaScript build for engines without WebAssembly (webOS TV 4.x, Tizen 4.0).
"$bin/wasm2js" -Oz "$wasm" -o "$raw/fallback.js"
node "$here/finish.mjs" "$npm_tools/node_modules" "$raw/tvpass_web.js" "$raw/fallback.js" "$here/js" "$out"
cp "$here/js/index.d.ts" "$out/"
size() { # label file target-KiB
  local r g
  r=$(stat -c %s "$2")
  g=$(gzip -9 -c "$2" | wc -c)
  awk -v l="$1" -v r="$r" -v g="$g" -v t="$3" 'BEGIN { printf "%s: %d bytes = %.0f KiB, gzip -9: %d bytes = %.0f KiB (target %d KiB gzip)\n", l, r, r / 1024, g, g / 1024, t }'
  [ "$g" -le $(($3 * 1024)) ] || { echo "$1 is over its size target" >&2; exit 1; }
}
size "tvpass_web_bg.wasm (MVP, release-web, wasm-opt -Oz)" "$wasm" 600
size "tvpass_web_fallback.js (wasm2js, lowered and minified)" "$out/tvpass_web_fallback.js" 600
