#!/usr/bin/env bash
# Reads the release package that build-xcframework.sh wrote (target/apple/dist) with SwiftPM
# itself, in the Debian trixie root (see linux-toolchain.sh; needs root):
#   - `swift package compute-checksum` of TVPassFFI.xcframework.zip equals the recorded checksum;
#   - `swift package dump-package` of the release Package.swift, read as on Apple platforms,
#     declares TVPassFFI as a binary target with the zip's URL and that checksum.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="$root/target/apple/dist"
[ -f "$dist/TVPassFFI.xcframework.zip" ] || { echo "run build-xcframework.sh first" >&2; exit 1; }

swift_root="$(bash "$here/linux-toolchain.sh")"
work="$swift_root/tvpass-release"
cleanup() {
  umount "$work" 2>/dev/null || true
  umount "$swift_root/proc" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$work"
mountpoint -q "$swift_root/proc" || mount -t proc proc "$swift_root/proc"
mount --bind "$dist" "$work"
# The manifest as Apple platforms read it: the Linux branch (a system library for CI) switched off.
apple="$dist/apple-manifest"
rm -rf "$apple" && mkdir -p "$apple"
sed 's/^#if os(Linux)$/#if false/' "$dist/TVPass/Package.swift" > "$apple/Package.swift"
cp -r "$dist/TVPass/Sources" "$dist/TVPass/Tests" "$apple/"

swift_in_root() {
  bash "$here/in-root.sh" "$swift_root" "" "$1"
}
computed="$(swift_in_root 'swift package compute-checksum /tvpass-release/TVPassFFI.xcframework.zip' | tail -n1)"
recorded="$(cat "$dist/TVPassFFI.xcframework.zip.sha256")"
[ "$computed" = "$recorded" ] || { echo "swift computes $computed, recorded $recorded" >&2; exit 1; }
echo "swift package compute-checksum: $computed (as recorded)"

swift_in_root 'cd /tvpass-release/apple-manifest && swift package dump-package' > "$dist/dump-package.json"
python3 - "$dist/dump-package.json" "$recorded" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
target = next((t for t in manifest["targets"] if t["name"] == "TVPassFFI"), None)
assert target, "no TVPassFFI target"
assert target["type"] == "binary", f"TVPassFFI is a {target['type']} target"
assert target.get("url", "").endswith("/TVPassFFI.xcframework.zip"), target.get("url")
assert target.get("checksum") == sys.argv[2], f"checksum {target.get('checksum')}"
platforms = {p["platformName"]: p["version"] for p in manifest["platforms"]}
print(f"swift package dump-package: TVPassFFI binary target at {target['url']}, platforms {platforms}")
PY
rm -rf "$apple"
