#!/usr/bin/env bash
# Runs a shell command in the Swift root (linux-toolchain.sh): a clean environment with Swift on
# PATH, TVPASS_EMULATOR passed on when set, and the given library directories (paths inside the
# root, colon-separated, may be empty) first on LD_LIBRARY_PATH. Needs root.
# Usage: in-root.sh ROOT LIBDIRS COMMAND
set -euo pipefail
root="$1" libs="$2" command="$3"
exec chroot "$root" /usr/bin/env -i PATH=/usr/libexec/swift/bin:/usr/bin:/bin HOME=/tmp \
  TVPASS_EMULATOR="${TVPASS_EMULATOR:-}" LD_LIBRARY_PATH="${libs:+$libs:}/usr/libexec/swift/lib/swift/linux" \
  /bin/sh -c "$command"
