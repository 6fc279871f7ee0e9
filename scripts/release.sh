#!/usr/bin/env bash
# Builds the release artifacts of one version into target/release-artifacts/<version>/ and writes
# SHA256SUMS over them:
#   - tvpass-<v>.crate, tvpass-emulator-<v>.crate, tvpass-cli-<v>.crate (cargo package; the
#     consumer test builds the packaged crate, so it is not verified twice here);
#   - tvpass-web-<v>.tgz (npm pack of bindings/web: the .wasm, the JavaScript build, the API
#     module and its types);
#   - TVPassFFI.xcframework.zip and TVPassFFI.xcframework.zip.sha256, and
#     TVPass-<v>-swift.zip: the Swift package with its release Package.swift, whose binary target
#     is downloaded from $TVPASS_RELEASE_URL (default: the repository's release of v<version>);
#   - maven/: a Maven repository layout with dev.tvpass:tvpass-jvm (the Kotlin bindings for the
#     JVM with the native library for Linux x86_64 and aarch64 as JNA resources, a sources jar,
#     its POM, .md5/.sha1/.sha256 of each), and dev.tvpass:tvpass (the Android AAR) when the NDK
#     is there (ANDROID_NDK_HOME); without it, it says so and builds no AAR;
#   - tvpass-<v>-x86_64-unknown-linux-gnu.tar.gz, tvpass-<v>-aarch64-unknown-linux-gnu.tar.gz and,
#     where rustup serves musl's std and musl-gcc is there, tvpass-<v>-x86_64-unknown-linux-musl
#     (static): the CLI (release-small) with its README, the license and completions for bash,
#     zsh and fish.
# Usage: release.sh [--allow-dirty] [--no-cli] [VERSION]
#   --no-cli leaves out the CLI archives (three more release builds), for a quicker local run.
#   VERSION defaults to the workspace's; one that is not semver, or differs from the workspace's
#   (which every package takes: scripts/check-version.py), stops it before anything is built, as
#   does a work tree with changes (unless --allow-dirty).
#   TVPASS_RELEASE_REUSE=1  take the web package and the XCFramework as the test command built
#                           them (bindings/web/dist, bindings/swift/TVPassFFI.xcframework, the
#                           size check's target/release-small/libtvpass-full.so) instead of
#                           building them again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

allow_dirty=""
cli=1
version=""
for arg in "$@"; do
  case "$arg" in
    --allow-dirty) allow_dirty=1 ;;
    --no-cli) cli="" ;;
    -*) echo "release.sh: unknown option $arg (usage: release.sh [--allow-dirty] [--no-cli] [VERSION])" >&2; exit 2 ;;
    *) [ -z "$version" ] || { echo "release.sh: one version at most" >&2; exit 2; }; version="$arg" ;;
  esac
done
# shellcheck source=cross-env.sh
source scripts/cross-env.sh
workspace="$(workspace_field version)"
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
repository="$(workspace_field repository)"
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

echo "== Maven: the Kotlin JVM library, with the Linux x86_64 and aarch64 libraries"
# The full library (the built-in HTTPS transport, release-small): the size check's x86_64 build
# when the test command made it, and the same build cross-linked for aarch64.
full_x86="target/release-small/libtvpass-full.so"
[ "$reuse" = 1 ] && [ -f "$full_x86" ] || full_x86="$(build_full_cdylib)"
cross="$(cross_target_dir stable)"
CARGO_TARGET_DIR="$cross" CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
  cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --profile release-small \
  --target aarch64-unknown-linux-gnu --locked
full_arm="$cross/aarch64-unknown-linux-gnu/release-small/libtvpass.so"
gen="$(mktemp -d)"
artifact=tvpass-jvm
# The bindings are generated from the host library with its symbols (the stripped release
# libraries carry no uniffi metadata); the interface is the same in every build. The test
# command's Kotlin step (bindings/kotlin/run-tests.sh) generated them and packaged the jar after
# the JVM suite passed on this full library.
kotlin_gen=bindings/kotlin/target/generated-sources/uniffi
if [ "$reuse" != 1 ] || ! [ -f "bindings/kotlin/target/$artifact-$version.jar" ]; then
  cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --locked
  rm -rf "$kotlin_gen" && mkdir -p "$kotlin_gen"
  cargo run -q -p uniffi-bindgen --locked -- generate --library target/debug/libtvpass.so --language kotlin \
    --out-dir "$kotlin_gen" --no-format
  (cd bindings/kotlin && mvn -B -q --no-transfer-progress package -DskipTests -Dtvpass.generated="$root/$kotlin_gen")
fi
repo="$out/maven/dev/tvpass/$artifact/$version"
mkdir -p "$repo" "$gen/native/linux-x86-64" "$gen/native/linux-aarch64"
cp "bindings/kotlin/target/$artifact-$version.jar" "$repo/$artifact-$version.jar"
# JNA finds a library in the jar by its platform prefix.
cp "$full_x86" "$gen/native/linux-x86-64/libtvpass.so"
cp "$full_arm" "$gen/native/linux-aarch64/libtvpass.so"
(cd "$gen/native" && jar uf "$repo/$artifact-$version.jar" linux-x86-64/libtvpass.so linux-aarch64/libtvpass.so)
(cd "$kotlin_gen" && jar cf "$repo/$artifact-$version-sources.jar" .)
(cd bindings/kotlin/src/main/kotlin && jar uf "$repo/$artifact-$version-sources.jar" .)
python3 - "$repo/$artifact-$version.pom" "$version" bindings/kotlin/pom.xml <<'EOF'
import re, sys
import xml.etree.ElementTree as ET
out, version, build = sys.argv[1:]
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
props = {p.tag.split("}")[1]: p.text for p in ET.parse(build).getroot().find("m:properties", ns)}
deps = [("org.jetbrains.kotlin", "kotlin-stdlib", props["kotlin.version"]),
        ("org.jetbrains.kotlinx", "kotlinx-coroutines-core-jvm", props["coroutines.version"]),
        ("net.java.dev.jna", "jna", props["jna.version"])]
dep_xml = "".join(f"""
    <dependency>
      <groupId>{g}</groupId>
      <artifactId>{a}</artifactId>
      <version>{v}</version>
    </dependency>""" for g, a, v in deps)
open(out, "w").write(f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tvpass</groupId>
  <artifactId>tvpass-jvm</artifactId>
  <version>{version}</version>
  <packaging>jar</packaging>
  <name>tvpass-jvm</name>
  <description>The tvpass SDK for the JVM (Kotlin): the Adobe Pass Authentication REST API V2 client, with its native library for Linux x86_64 and aarch64</description>
  <url>https://github.com/tvpass/tvpass</url>
  <licenses>
    <license>
      <name>Apache-2.0</name>
      <url>https://www.apache.org/licenses/LICENSE-2.0.txt</url>
    </license>
  </licenses>
  <developers>
    <developer>
      <id>tvpass</id>
      <name>The tvpass developers</name>
    </developer>
  </developers>
  <scm>
    <url>https://github.com/tvpass/tvpass</url>
    <connection>scm:git:https://github.com/tvpass/tvpass.git</connection>
  </scm>
  <dependencies>{dep_xml}
  </dependencies>
</project>
""")
EOF
for f in "$repo"/*; do
  md5sum "$f" | cut -d' ' -f1 > "$f.md5"
  sha1sum "$f" | cut -d' ' -f1 > "$f.sha1"
  sha256sum "$f" | cut -d' ' -f1 > "$f.sha256"
done
rm -rf "$gen"
if [ -n "${ANDROID_NDK_HOME:-}" ]; then
  echo "== the Android AAR (the NDK is at $ANDROID_NDK_HOME)"
  bash bindings/kotlin/android/build-aar.sh
  aar_repo="$out/maven/dev/tvpass/tvpass/$version"
  mkdir -p "$aar_repo"
  cp bindings/kotlin/android/build/outputs/aar/tvpass-android-release.aar "$aar_repo/tvpass-$version.aar"
else
  echo "== the Android AAR is not built: it needs the Android NDK (set ANDROID_NDK_HOME); the release workflow's android job builds it"
fi

if [ -n "$cli" ]; then
  echo "== the command-line tool for Linux x86_64 and aarch64"
  # release-small (LTO, opt-level z, stripped): its dependencies are mostly those of the libraries
  # built above, with the same profile. The host's build (target/) and the cross builds (the cross
  # target directory) run side by side: each ends in one LTO codegen unit on one core.
  host_log="$(mktemp)"
  cargo build -q -p tvpass-cli --profile release-small --locked > "$host_log" 2>&1 &
  host_pid=$!
  CARGO_TARGET_DIR="$cross" CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
    cargo build -q -p tvpass-cli --profile release-small --target aarch64-unknown-linux-gnu --locked
  host_cli="target/release-small/tvpass"
  builds=("x86_64-unknown-linux-gnu:$host_cli" "aarch64-unknown-linux-gnu:$cross/aarch64-unknown-linux-gnu/release-small/tvpass")
  # A static binary for any distribution, where rustup serves musl's std (ring's C needs musl-gcc).
  if rust_std_available x86_64-unknown-linux-musl && command -v musl-gcc >/dev/null; then
    CARGO_TARGET_DIR="$cross" CC_x86_64_unknown_linux_musl=musl-gcc \
      cargo build -q -p tvpass-cli --profile release-small --target x86_64-unknown-linux-musl --locked
    builds+=("x86_64-unknown-linux-musl:$cross/x86_64-unknown-linux-musl/release-small/tvpass")
  else
    echo "== no x86_64-unknown-linux-musl archive: it needs rustup's musl std and musl-gcc (apt: musl-tools)"
  fi
  host_status=0
  wait "$host_pid" || host_status=$?
  cat "$host_log" && rm -f "$host_log"
  [ "$host_status" = 0 ] || { echo "release.sh: the host's CLI build failed" >&2; exit 1; }
  stage="$(mktemp -d)"
  for entry in "${builds[@]}"; do
    triple="${entry%%:*}"
    name="tvpass-$version-$triple"
    mkdir -p "$stage/$name/completions"
    cp "${entry#*:}" "$stage/$name/tvpass"
    cp cli/README.md LICENSE "$stage/$name/"
    # The completion scripts are the same on every platform: the host's binary writes them.
    for shell in bash zsh fish; do
      "$host_cli" completions "$shell" > "$stage/$name/completions/tvpass.$shell"
    done
    tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -czf "$out/$name.tar.gz" "$name"
  done
  rm -rf "$stage"
else
  echo "== no CLI archives (--no-cli)"
fi

sums="$(cd "$out" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum --)"
printf '%s\n' "$sums" > "$out/SHA256SUMS"
(cd "$out" && sha256sum -c --quiet SHA256SUMS)
echo "== $out"
(cd "$out" && find . -type f ! -name '*.md5' ! -name '*.sha1' ! -name '*.sha256' | sed 's|^\./||' | LC_ALL=C sort |
  while read -r f; do printf '%12d  %s\n' "$(stat -c %s "$f")" "$f"; done)
