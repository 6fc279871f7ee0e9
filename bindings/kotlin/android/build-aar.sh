#!/usr/bin/env bash
# Builds the Android AAR: the native library for arm64-v8a, armeabi-v7a and x86_64 with
# cargo-ndk (size profile, linked with the NDK for 16 KB pages, which Google Play requires of apps
# targeting Android 15), the Kotlin bindings generated from it, then the Gradle library build,
# and checks the AAR (entries, classes, every .so 16 KB aligned) with ../check-aar-layout.sh.
# Needs the Android SDK and NDK (ANDROID_HOME / ANDROID_NDK_HOME), cargo-ndk, and the Rust
# targets aarch64-linux-android, armv7-linux-androideabi, x86_64-linux-android.
# Output: build/outputs/aar/tvpass-android-release.aar; `./gradlew publishReleasePublicationToLocalRepository`
# publishes it to build/repo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to the Android NDK}"
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --locked
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android

jni="$here/build/generated/jniLibs"
rm -rf "$jni"
declare -A triples=([arm64-v8a]=aarch64-linux-android [armeabi-v7a]=armv7-linux-androideabi [x86_64]=x86_64-linux-android)
for abi in arm64-v8a armeabi-v7a x86_64; do
  cargo ndk --platform 23 -t "$abi" -- rustc -p tvpass --lib --no-default-features --features ffi --crate-type cdylib \
    --profile release-small --locked -- -C link-arg=-Wl,-z,max-page-size=16384
  mkdir -p "$jni/$abi"
  cp "target/${triples[$abi]}/release-small/libtvpass.so" "$jni/$abi/"
done

# Kotlin sources generated from the arm64 library itself (the interface is the same on every ABI).
gen="$here/build/generated/uniffi"
rm -rf "$gen" && mkdir -p "$gen"
cargo run -q -p uniffi-bindgen --locked -- generate --library "$jni/arm64-v8a/libtvpass.so" \
  --language kotlin --out-dir "$gen" --no-format

cd "$here"
if [ -x ./gradlew ]; then ./gradlew assembleRelease; else gradle assembleRelease; fi
aar=build/outputs/aar/tvpass-android-release.aar
bash "$here/../check-aar-layout.sh" "$aar"
ls -l build/outputs/aar/
