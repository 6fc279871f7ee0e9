#!/usr/bin/env bash
# Builds the release artifacts of one version into target/release-artifacts/<version>/ and writes
# SHA256SUMS over them:
#   - tvpass-<v>.crate, tvpass-emulator-<v>.crate, tvpass-cli-<v>.crate (cargo package; the
#     consumer test builds the packaged crate, so it is not verified twice here);
#   - tvpass-web-<v>.tgz (npm pack of bindings/web: the .wasm, the JavaScript build, the API
#     module and its types);
#   - TVPassFFI.xcframework.zip and TVPassFFI.xcframework.zip.sha256, and
#     TVPass-<v>-swift.zip: the Swift package with its release Package.swift, whose binary target
#     is downloaded from $TVPASS_RELEASE_URL (default: the repository's release of v<version>).
# Usage: release.sh [--allow-dirty] [VERSION]
#   VERSION defaults to the workspace's; one that is not semver, or differs from the workspace's
#   (which every package takes: scripts/check-version.py), stops it before anything is built, as
#   does a work tree with changes (unless --allow-dirty).
#   TVPASS_RELEASE_REUSE=1  take the web package and the XCFramework as the test command built
#                           them (bindings/web/dist, bindings/swift/TVPassFFI.xcframework)
#                           instead of building them again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

allow_dirty=""
version=""
for arg in "$@"; do
  case "$arg" in
    --allow-dirty) allow_dirty=1 ;;
    -*) echo "release.sh: unknown option $arg (usage: release.sh [--allow-dirty] [VERSION])" >&2; exit 2 ;;
    *) [ -z "$version" ] || { echo "release.sh: one version at most" >&2; exit 2; }; version="$arg" ;;
  esac
done
workspace="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')"
version="${version:-$workspace}"
if ! [[ "$version" =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release.sh: $version is not a semver version (MAJOR.MINOR.PATCH[-PRERELEASE])" >&2
  exit 2
fi
if [ "$version" != "$workspace" ]; then
  echo "release.sh: $version is not the workspace's version ($workspace): set it in Cargo.toml and every package first" >&2
  exit 2
fi
python3 scripts/check-version.py >/dev/null || { echo "release.sh: the packages' versions disagree" >&2; exit 2; }
if [ -z "$allow_dirty" ] && [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  echo "release.sh: the work tree has changes (commit them, or pass --allow-dirty)" >&2
  git status --short >&2
  exit 2
fi

out="$root/target/release-artifacts/$version"
rm -rf "$out" && mkdir -p "$out"
reuse="${TVPASS_RELEASE_REUSE:-0}"
dirty=()
[ -z "$allow_dirty" ] || dirty=(--allow-dirty)

echo "== crates"
cargo package -q --no-verify --locked "${dirty[@]}" -p tvpass-emulator -p tvpass -p tvpass-cli
for crate in tvpass tvpass-emulator tvpass-cli; do
  cp "target/package/$crate-$version.crate" "$out/"
done

echo "== the web package"
if [ "$reuse" != 1 ] || ! [ -f bindings/web/dist/tvpass_web_bg.wasm ]; then
  bash bindings/web/build.sh
fi
(cd bindings/web && npm pack --silent --pack-destination "$out" >/dev/null)
[ -f "$out/tvpass-web-$version.tgz" ] || { echo "npm pack wrote no tvpass-web-$version.tgz" >&2; ls "$out" >&2; exit 1; }

echo "== the Swift package and its XCFramework"
repository="$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["repository"])')"
release_url="${TVPASS_RELEASE_URL:-$repository/releases/download/v$version}"
if [ "$reuse" != 1 ] || ! [ -d bindings/swift/TVPassFFI.xcframework ]; then
  TVPASS_RELEASE_URL="$release_url" bash bindings/swift/build-xcframework.sh
fi
swift_dist="$(mktemp -d)"
trap 'rm -rf "$swift_dist"' EXIT
python3 bindings/swift/xcframework.py package bindings/swift/TVPassFFI.xcframework "$swift_dist" \
  "$release_url/TVPassFFI.xcframework.zip" >/dev/null
python3 bindings/swift/xcframework.py check bindings/swift/TVPassFFI.xcframework "$swift_dist" >/dev/null
cp "$swift_dist/TVPassFFI.xcframework.zip" "$swift_dist/TVPassFFI.xcframework.zip.sha256" "$out/"
(cd "$swift_dist" && mv TVPass "TVPass-$version" && python3 - "TVPass-$version" "$out/TVPass-$version-swift.zip" <<'EOF'
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            info = zipfile.ZipInfo(path, date_time=(2000, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with open(path, "rb") as f:
                z.writestr(info, f.read(), zipfile.ZIP_DEFLATED)
EOF
)

(cd "$out" && sha256sum -- * | grep -v ' SHA256SUMS$' > SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
echo "== $out"
for f in "$out"/*; do printf '%12d  %s\n' "$(stat -c %s "$f")" "${f##*/}"; done
