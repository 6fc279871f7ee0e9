#!/usr/bin/env bash
# Fails unless every LOAD segment of each given shared library is aligned to 16 KB or more:
# Google Play requires 16 KB page support of apps that target Android 15, and a library linked
# for 4 KB pages does not load on a 16 KB device. `--self-test` links two small libraries (4 KB
# and 16 KB pages) and shows that the first is caught and the second passes.
# Usage: check-so-alignment.sh LIB.so... | --self-test
set -euo pipefail
min=16384

readelf_cmd() {
  if command -v llvm-readelf >/dev/null; then llvm-readelf "$@"; else readelf "$@"; fi
}

check() { # lib.so
  local lib="$1" aligns bad=0
  aligns="$(readelf_cmd -lW "$lib" | awk '$1 == "LOAD" { print $NF }')"
  [ -n "$aligns" ] || { echo "$lib: no LOAD segments (not a shared library?)" >&2; return 1; }
  while read -r a; do
    if (( a < min || a % min != 0 )); then
      printf '%s: LOAD segment aligned to %d bytes, needs %d (link with -z max-page-size=16384)\n' \
        "$lib" "$a" "$min" >&2
      bad=1
    fi
  done <<<"$aligns"
  [ "$bad" = 0 ] && echo "$lib: $(wc -l <<<"$aligns") LOAD segments, 16 KB aligned"
  return "$bad"
}

if [ "${1:-}" = "--self-test" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo 'int tvpass_probe(void) { return 1; }' > "$tmp/probe.c"
  cc -shared -fPIC -Wl,-z,max-page-size=4096 -Wl,-z,common-page-size=4096 -o "$tmp/p4k.so" "$tmp/probe.c"
  cc -shared -fPIC -Wl,-z,max-page-size=16384 -o "$tmp/p16k.so" "$tmp/probe.c"
  if check "$tmp/p4k.so" 2>"$tmp/err"; then
    echo "self-test FAILED: a library linked for 4 KB pages passed" >&2
    exit 1
  fi
  echo "self-test: caught $(head -n1 "$tmp/err")"
  check "$tmp/p16k.so" >/dev/null || { echo "self-test FAILED: a 16 KB library was refused" >&2; exit 1; }
  echo "self-test ok"
  exit 0
fi
[ "$#" -gt 0 ] || { echo "usage: check-so-alignment.sh LIB.so... | --self-test" >&2; exit 2; }
status=0
for lib in "$@"; do check "$lib" || status=1; done
exit "$status"
