#!/usr/bin/env bash
# Runs a command with the emulator (target/debug/tvpass-emulator, built beforehand) listening on
# a free loopback port, throttling off; its base URL is in TVPASS_EMULATOR. Stops it afterwards.
# TVPASS_EMULATOR_ARGS adds options (e.g. --cors-loopback).
# Usage: with-emulator.sh COMMAND [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
log="$(mktemp)"
# shellcheck disable=SC2086
"$root/target/debug/tvpass-emulator" --port 0 --no-throttling ${TVPASS_EMULATOR_ARGS:-} > "$log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$log" && break
  sleep 0.1
done
TVPASS_EMULATOR="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$log" | head -n1)"
[ -n "$TVPASS_EMULATOR" ] || { echo "the emulator did not start" >&2; cat "$log" >&2; exit 1; }
export TVPASS_EMULATOR
"$@"
