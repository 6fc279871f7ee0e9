#!/usr/bin/env bash
# Builds the WebAssembly package (build.sh), type-checks a TypeScript app against its
# declarations, and runs the Node 20 suite and the headless Chromium test (Debian's chromium,
# driven by playwright-core from the npm registry; no browser is downloaded) against the
# emulator on a free loopback port, with CORS for loopback origins on.
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
  TVPASS_PLAYWRIGHT="$tools/node_modules" bash "$root/scripts/with-emulator.sh" node --test test/
