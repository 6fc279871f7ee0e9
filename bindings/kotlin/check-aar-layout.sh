#!/usr/bin/env bash
# What can be checked of the Android AAR without an Android toolchain: assembles an AAR with the
# layout the Gradle build produces (AndroidManifest.xml, classes.jar with the compiled Kotlin
# bindings, jni/<abi>/libtvpass.so, proguard.txt, R.txt) around the host library built with the
# size profile in its mobile variant (no HTTP stack of its own: the app passes
# HttpUrlConnectionTransport), and verifies its entries. The real AAR comes from android/build-aar.sh.
# Run after run-tests.sh (which generates the Kotlin sources).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo rustc -p tvpass --lib --no-default-features --features ffi --crate-type cdylib --profile release-small --locked
lib="target/release-small/libtvpass.so"

cd "$here"
mvn -B -q --no-transfer-progress package -DskipTests -Dtvpass.generated="$here/target/generated-sources/uniffi"
stage="$here/target/aar"
rm -rf "$stage" && mkdir -p "$stage/jni/x86_64"
cp android/src/main/AndroidManifest.xml "$stage/"
cp target/tvpass-jvm-0.1.0.jar "$stage/classes.jar"
cp "$root/$lib" "$stage/jni/x86_64/libtvpass.so"
cp android/consumer-rules.pro "$stage/proguard.txt"
: > "$stage/R.txt"
aar="$here/target/tvpass-layout-check.aar"
rm -f "$aar"
(cd "$stage" && jar --create --file "$aar" --no-manifest .)

entries="$(jar --list --file "$aar")"
for want in AndroidManifest.xml classes.jar jni/x86_64/libtvpass.so proguard.txt R.txt; do
  grep -qx "$want" <<<"$entries" || { echo "AAR lacks $want" >&2; exit 1; }
done
classes="$(jar --list --file "$stage/classes.jar")"
for want in dev/tvpass/PassClient.class dev/tvpass/Storage.class dev/tvpass/Decision.class dev/tvpass/HttpUrlConnectionTransport.class; do
  grep -qx "$want" <<<"$classes" || { echo "classes.jar lacks $want" >&2; exit 1; }
done
echo "AAR layout ok: $(wc -l <<<"$entries") entries, classes.jar with the bindings, jni/x86_64/libtvpass.so"
