#!/usr/bin/env bash
# Builds the WebAssembly package (build.sh), type-checks a TypeScript app against its
# declarations, and runs the Node 20 suite against the emulator on a free loopback port.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh

bash "$here/build.sh"
tools="$(tvpass_cache_dir)/tools/npm"
[ -x "$tools/node_modules/.bin/tsc" ] ||
  npm install --silent --no-audit --no-fund --prefix "$tools" typescript@5.9.3
"$tools/node_modules/.bin/tsc" --noEmit --strict --target es2022 --module es2022 \
  --moduleResolution bundler --lib es2022,dom "$here/test/types.ts"
echo "TypeScript declarations: test/types.ts type-checks"
cargo build -q -p tvpass-emulator --locked
cd "$here"
bash "$root/scripts/with-emulator.sh" node --test test/
