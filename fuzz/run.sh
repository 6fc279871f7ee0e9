#!/usr/bin/env bash
# Runs every fuzz target (cargo-fuzz, libFuzzer, on the nightly) for a bounded time on a copy of
# its checked-in seed corpus (fuzz/corpus/<target>), the answer decoders with the JSON dictionary
# (fuzz/json.dict). A crash fails the run and prints its input, as text and base64, and the
# command that replays it.
#   TVPASS_FUZZ_SECONDS   seconds per target (default 20)
#   TVPASS_CACHE_DIR      where cargo-fuzz and the instrumented builds are kept between runs
# Usage: fuzz/run.sh [TARGET...]   (default: every target `cargo fuzz list` shows)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/cross-env.sh
source scripts/cross-env.sh
cache="$(tvpass_cache_dir)"
export PATH="$cache/tools/bin:$PATH"
if ! cargo fuzz --version 2>/dev/null | grep -q '^cargo-fuzz 0.13.2$'; then
  cargo install -q cargo-fuzz --version 0.13.2 --locked --root "$cache/tools"
fi
seconds="${TVPASS_FUZZ_SECONDS:-20}"
target_dir="$cache/fuzz"
cd "$here"
cargo +nightly fuzz build -O --target-dir "$target_dir" >&2
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
failed=0
for t in "${targets[@]}"; do
  corpus="$artifacts/corpus-$t"
  mkdir -p "$corpus" "$artifacts/$t"
  cp corpus/"$t"/* "$corpus/"
  dict=()
  [ "$t" = device_info ] || dict=(-dict="$here/json.dict")
  log="$artifacts/$t.log"
  if cargo +nightly fuzz run -O --target-dir "$target_dir" "$t" "$corpus" -- \
    -max_total_time="$seconds" -artifact_prefix="$artifacts/$t/" "${dict[@]}" > "$log" 2>&1; then
    echo "fuzz $t: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1), no crash ($(ls "$corpus" | wc -l) inputs in its corpus at the end)"
  else
    failed=1
    echo "fuzz $t: CRASH" >&2
    grep -E 'panicked|ERROR|SUMMARY' "$log" | head -n 5 >&2 || true
    for crash in "$artifacts/$t"/*; do
      [ -f "$crash" ] || continue
      echo "input (text): $(head -c 2000 "$crash")" >&2
      echo "input (base64): $(base64 -w0 "$crash" | head -c 4000)" >&2
      cp "$crash" "$here/" 2>/dev/null || true
      echo "replay: cargo +nightly fuzz run -O $t fuzz/$(basename "$crash")" >&2
    done
  fi
done
[ "$failed" = 0 ] || { echo "a fuzz target crashed" >&2; exit 1; }
