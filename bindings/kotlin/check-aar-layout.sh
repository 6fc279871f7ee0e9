#!/usr/bin/env bash
# What can be checked of the Android AAR without an Android toolchain: assembles an AAR with the
# layout the Gradle build produces (AndroidManifest.xml, classes.jar with the compiled Kotlin
# bindings and Android classes, jni/<abi>/libtvpass.so, proguard.txt, R.txt, res/xml backup rules) around the host library built with the
# size profile in its mobile variant (no HTTP stack of its own: the app passes
# HttpUrlConnectionTransport), and verifies its entries and that every .so is linked for 16 KB
# pages. The real AAR comes from android/build-aar.sh, which checks it with this script:
# `check-aar-layout.sh AAR` verifies a given AAR (all three ABIs).
# Without an argument, run after run-tests.sh (which generates the Kotlin sources).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Entries, classes, and 16 KB alignment of every packaged .so; ABIS lists the jni folders wanted.
verify() { # aar abis...
  local aar="$1"
  shift
  local entries classes tmp
  entries="$(jar --list --file "$aar")"
  for want in AndroidManifest.xml classes.jar proguard.txt R.txt res/xml/tvpass_backup_rules.xml res/xml/tvpass_data_extraction_rules.xml; do
    grep -qx "$want" <<<"$entries" || { echo "AAR lacks $want" >&2; return 1; }
  done
  for abi in "$@"; do
    grep -qx "jni/$abi/libtvpass.so" <<<"$entries" || { echo "AAR lacks jni/$abi/libtvpass.so" >&2; return 1; }
  done
  tmp="$(mktemp -d)"
  (cd "$tmp" && jar --extract --file "$aar")
  classes="$(jar --list --file "$tmp/classes.jar")"
  for want in dev/tvpass/PassClient.class dev/tvpass/Storage.class dev/tvpass/Decision.class dev/tvpass/HttpUrlConnectionTransport.class dev/tvpass/android/KeystoreStorage.class dev/tvpass/android/LogcatLogger.class; do
    grep -qx "$want" <<<"$classes" || { echo "classes.jar lacks $want" >&2; rm -rf "$tmp"; return 1; }
  done
  local status=0
  bash "$here/check-so-alignment.sh" "$tmp"/jni/*/*.so || status=1
  rm -rf "$tmp"
  [ "$status" = 0 ] || return 1
  echo "AAR ok: $aar: $(wc -l <<<"$entries") entries, classes.jar with the bindings, $(grep -c '^jni/.*\.so$' <<<"$entries") native libraries, 16 KB aligned"
}

if [ "$#" -gt 0 ]; then
  verify "$1" arm64-v8a armeabi-v7a x86_64
  exit
fi

cd "$root"
# shellcheck source=../../scripts/cross-env.sh
source scripts/cross-env.sh
lib="$(build_mobile_cdylib)"

# The Android library's classes (bindings, transport, KeystoreStorage, LogcatLogger), compiled
# against android-all by android/pom.xml.
version="$(workspace_field version "$root")"
jar="android/target/tvpass-android-jvm-$version.jar"
cd "$here"
# run-tests.sh packages the jar after the Robolectric suite; it is built again only when a source
# (the generated bindings among them) is newer.
if ! [ -f "$jar" ] || [ -n "$(find src android/src android/pom.xml target/generated-sources -newer "$jar" -type f -print -quit)" ]; then
  (cd android && mvn -B -q --no-transfer-progress package -DskipTests -Dtvpass.generated="$here/target/generated-sources/uniffi")
fi
stage="$here/target/aar"
rm -rf "$stage" && mkdir -p "$stage/jni/x86_64"
cp android/src/main/AndroidManifest.xml "$stage/"
cp -r android/src/main/res "$stage/res"
cp "$jar" "$stage/classes.jar"
cp "$root/$lib" "$stage/jni/x86_64/libtvpass.so"
cp android/consumer-rules.pro "$stage/proguard.txt"
: > "$stage/R.txt"
aar="$here/target/tvpass-layout-check.aar"
rm -f "$aar"
(cd "$stage" && jar --create --file "$aar" --no-manifest .)
verify "$aar" x86_64

echo "== a library linked for 4 KB pages is refused"
bash "$here/check-so-alignment.sh" --self-test
