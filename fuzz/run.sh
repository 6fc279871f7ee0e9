#!/usr/bin/env bash
# Runs every fuzz target (cargo-fuzz, libFuzzer, on the nightly) for a bounded time on a copy of
# its checked-in seed corpus (fuzz/corpus/<target>), the JSON inputs with the JSON dictionary
# (fuzz/json.dict), two targets at a time. A crash fails the run and prints its input, as text
# and base64, and the command that replays it.
#   TVPASS_FUZZ_SECONDS   seconds per target (default 20)
#   TVPASS_FUZZ_JOBS      targets run at once (default 2)
#   TVPASS_CACHE_DIR      where cargo-fuzz and the instrumented builds are kept between runs
# Usage: fuzz/run.sh [TARGET...]   (default: every target `cargo fuzz list` shows)
#        fuzz/run.sh --self-test   (plants a crash in device_info and checks that the run fails
#                                   and prints the crashing input and its replay command)
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
target_dir="$cache/fuzz"
cd "$here"

if [ "${1:-}" = --self-test ]; then
  out="$(mktemp)"
  trap 'rm -f "$out" "$here"/crash-*' EXIT
  # Every seed of device_info is base64 of a JSON object: "eyJ".
  if TVPASS_FUZZ_CANARY=eyJ TVPASS_FUZZ_SECONDS=10 bash "$here/run.sh" device_info > "$out" 2>&1; then
    cat "$out" >&2
    echo "self-test: a crashing target did not fail the run" >&2
    exit 1
  fi
  for want in "fuzz device_info: CRASH" "the planted canary" "input (base64): ZXlK" \
    "replay: cargo +nightly fuzz run -O device_info fuzz/crash-"; do
    grep -qF "$want" "$out" || { cat "$out" >&2; echo "self-test: no \"$want\" in the output" >&2; exit 1; }
  done
  rm -f "$here"/crash-*
  echo "fuzz self-test: a planted crash failed the run and printed its input and replay command"
  exit 0
fi

seconds="${TVPASS_FUZZ_SECONDS:-20}"
jobs="${TVPASS_FUZZ_JOBS:-2}"
cargo +nightly fuzz build -O --target-dir "$target_dir" >&2
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs one target; prints its one-line result, or the crash and its reproducer on stderr.
fuzz_one() {
  local t="$1" corpus="$work/corpus-$1" log="$work/$1.log" dict=()
  mkdir -p "$corpus" "$work/$t"
  cp corpus/"$t"/* "$corpus/"
  case "$t" in
    device_info | packed_device | storage | device_context | emulator_request) ;;
    *) dict=(-dict="$here/json.dict") ;;
  esac
  if cargo +nightly fuzz run -O --target-dir "$target_dir" "$t" "$corpus" -- \
    -max_total_time="$seconds" -artifact_prefix="$work/$t/" "${dict[@]}" > "$log" 2>&1; then
    echo "fuzz $t: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n1), no crash ($(ls "$corpus" | wc -l) inputs in its corpus at the end)"
    return 0
  fi
  {
    echo "fuzz $t: CRASH"
    grep -E -A1 'panicked|ERROR|SUMMARY' "$log" | head -n 8 || true
    for crash in "$work/$t"/*; do
      [ -f "$crash" ] || continue
      echo "input (text): $(head -c 2000 "$crash")"
      echo "input (base64): $(base64 -w0 "$crash" | head -c 4000)"
      cp "$crash" "$here/" 2>/dev/null || true
      echo "replay: cargo +nightly fuzz run -O $t fuzz/$(basename "$crash")"
    done
  } >&2
  return 1
}

failed=0
running=0
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" = 0 ] || { echo "a fuzz target crashed" >&2; exit 1; }
