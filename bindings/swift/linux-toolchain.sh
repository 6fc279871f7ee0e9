#!/usr/bin/env bash
# Prepares a Debian trixie root with Swift 6 (Debian's swiftlang) for building and testing the
# Swift bindings on Linux, where the host (Debian bookworm) has no Swift package.
# The root is cached outside the repository and reused by later runs.
# Usage: linux-toolchain.sh [ROOT]   (default: $TVPASS_SWIFT_ROOT, else swift-trixie in the cache
#                                     directory: $TVPASS_CACHE_DIR or /var/cache/tvpass)
set -euo pipefail
ROOT="${1:-${TVPASS_SWIFT_ROOT:-${TVPASS_CACHE_DIR:-/var/cache/tvpass}/swift-trixie}}"

if [ -x "$ROOT/usr/libexec/swift/bin/swiftc" ] && [ -f "$ROOT/.tvpass-ready" ]; then
  echo "$ROOT"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get install -y -qq debootstrap >&2
fi
mkdir -p "$(dirname "$ROOT")"
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  rm -rf "$ROOT"
  debootstrap --variant=minbase trixie "$ROOT" >&2
fi
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >&2
touch "$ROOT/.tvpass-ready"
echo "$ROOT"
