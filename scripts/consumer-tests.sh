#!/usr/bin/env bash
# Installs the release artifacts (target/release-artifacts/<version>/, from release.sh) the way a
# user of each ecosystem does, each into a fresh project outside the workspace, and runs a
# journey against the emulator:
#   - Rust: a new cargo project whose dependencies are the packaged crates, unpacked as a
#     registry would deliver them (never the workspace's paths): login, authorize, Deny as data,
#     with the emulator in-process from the packaged tvpass-emulator;
#   - npm: a new npm project that installs the tarball, type-checks a TypeScript file with
#     `tsc --strict` against the package's declarations, and runs the journey in Node, importing
#     the package by its name; then the same package in a web app bundled by webpack 5 (what
#     webOS's Enact and most Tizen templates build with), served with its emitted .wasm asset
#     to headless Chromium, where `init()` finds the module by itself and the JavaScript build
#     loads as its own chunk;
#   - Kotlin: a new Maven project resolving dev.tvpass:tvpass-jvm from the release's Maven
#     repository as a file:// repository, compiling a Kotlin main and running the journey as a
#     plain JVM program, the native library loaded from the jar;
#   - the command line: each archive unpacked into a fresh directory; `tvpass --version`, then
#     login, a Permit and a Deny (exit status 3) against its in-process emulator; the aarch64
#     binary under qemu-aarch64, the musl one checked to name no dynamic loader;
#   - Swift: a new SwiftPM package that depends on the released Swift package (unzipped) and
#     runs the journey with `import TVPass`, built in the Debian trixie root (linux-toolchain.sh)
#     against the host library, as the Swift suite is. Needs root.
# Usage: consumer-tests.sh [VERSION]   (default: the workspace's)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=cross-env.sh
source scripts/cross-env.sh
version="${1:-$(workspace_field version)}"
artifacts="$root/target/release-artifacts/$version"
[ -f "$artifacts/SHA256SUMS" ] || { echo "no artifacts for $version: run scripts/release.sh first" >&2; exit 1; }
(cd "$artifacts" && sha256sum -c --quiet SHA256SUMS)
work="$(mktemp -d /tmp/tvpass-consumer.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "== Rust: a new cargo project on the packaged crates"
mkdir -p "$work/crates"
for crate in tvpass tvpass-emulator; do
  tar -xzf "$artifacts/$crate-$version.crate" -C "$work/crates"
done
app="$work/rust-app"
mkdir -p "$app/src"
cat > "$app/Cargo.toml" <<EOF
[package]
name = "rust-app"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tvpass = { path = "$work/crates/tvpass-$version" }
tvpass-emulator = { path = "$work/crates/tvpass-emulator-$version" }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
serde_json = "1"

[workspace]
EOF
cat > "$app/src/main.rs" <<'EOF'
use std::sync::Arc;
use tvpass::{Decision, DenyReason, DeviceInfo, Environment, MemoryStorage, PassClient};
use tvpass_emulator::{Emulator, EmulatorConfig, DEFAULT_SERVICE_PROVIDER, DEFAULT_SOFTWARE_STATEMENT};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    let client = PassClient::builder()
        .environment(Environment::Custom(emulator.base_url()))
        .service_provider(DEFAULT_SERVICE_PROVIDER)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo { primary_hardware_type: Some("SetTopBox".into()), ..Default::default() })
        .storage(Arc::new(MemoryStorage::new()))
        .build()?;
    let session = client.create_session("Cablevision").await?;
    let code = session.code.clone().ok_or("no code")?;
    emulator.complete_authentication(&code, serde_json::Map::new())?;
    let profile = client.await_profile(&session).await?;
    assert_eq!(profile.mvpd, "Cablevision");
    match client.authorize("Cablevision", "news").await? {
        Decision::Permit { media_token: Some(t), .. } => assert!(!t.serialized.expose().is_empty()),
        other => panic!("expected a Permit with a media token, got {other:?}"),
    }
    match client.authorize("Cablevision", "late-night").await? {
        Decision::Deny { reason, .. } => assert_eq!(reason, DenyReason::ParentalControls),
        other => panic!("expected a Deny, got {other:?}"),
    }
    println!("rust consumer: login, a Permit with a media token, a Deny as data, from the packaged crates");
    Ok(())
}
EOF
cp Cargo.lock "$app/Cargo.lock" # the versions the workspace tested; cargo drops what is unused
# The workspace's target directory: dependencies built for the tests are reused, while tvpass
# and tvpass-emulator are compiled from the unpacked crates.
(cd "$app" && CARGO_TARGET_DIR="$root/target" cargo run -q)

echo "== npm: a new project installing the tarball"
tools="$(tvpass_cache_dir)/tools/npm"
web="$work/web-app"
mkdir -p "$web"
cat > "$web/package.json" <<'EOF'
{ "name": "web-app", "version": "0.0.0", "private": true, "type": "module" }
EOF
(cd "$web" && npm install --silent --no-audit --no-fund "$artifacts/tvpass-web-$version.tgz")
[ -f "$web/node_modules/@tvpass/web/dist/tvpass_web_bg.wasm" ] || { echo "the tarball has no .wasm" >&2; exit 1; }
cat > "$web/app.ts" <<'EOF'
import { init, PassClient, PassError, type Decision, type StorageLike } from "@tvpass/web";

export async function run(baseUrl: string, storage: StorageLike): Promise<string> {
  // No argument: in Node the module is read from beside the installed package.
  const build: "wasm" | "js" = await init();
  const client = new PassClient({
    baseUrl,
    serviceProvider: "REF30",
    softwareStatement: "tvpass-emulator-software-statement",
    deviceInfo: { primaryHardwareType: "TV", osName: "webOS", osVendor: "LG" },
    storage,
    paceRequests: false,
  });
  try {
    const decision: Decision = await client.authorize("Cablevision", "news");
    return decision.kind === "deny" ? `${build} ${decision.reason}` : `${build} permit`;
  } catch (e) {
    if (e instanceof PassError) return e.code;
    throw e;
  }
}
EOF
cat > "$web/tsconfig.json" <<'EOF'
{ "compilerOptions": { "strict": true, "target": "es2022", "module": "nodenext", "moduleResolution": "nodenext",
  "lib": ["es2022", "dom"], "outDir": "out", "skipLibCheck": false }, "files": ["app.ts"] }
EOF
(cd "$web" && "$tools/node_modules/.bin/tsc" -p tsconfig.json)
cat > "$web/journey.mjs" <<'EOF'
import assert from "node:assert/strict";
import { run } from "./out/app.js";

const base = process.env.TVPASS_EMULATOR;
const values = new Map();
const storage = { get: (k) => values.get(k) ?? null, set: (k, v) => values.set(k, v), remove: (k) => values.delete(k) };
// No profile yet: authorize answers a Deny, as data.
assert.equal(await run(base, storage), "wasm profileMissing");
const requests = await (await fetch(`${base}/__emulator/requests`)).json();
assert.deepEqual(requests.map((r) => r.path.split("/").slice(0, 4).join("/")),
  ["/o/client/register", "/o/client/token", "/api/v2/REF30"]);
console.log("npm consumer: the installed package type-checks under tsc --strict; in Node, init() finds its module by itself and a Deny comes as data");
EOF
cargo build -q -p tvpass-emulator --locked
(cd "$web" && bash "$root/scripts/with-emulator.sh" node journey.mjs)

echo "== a web app bundled by webpack, in headless Chromium"
chromium="$(command -v chromium || true)"
[ -n "$chromium" ] || { echo "chromium is missing (apt: chromium)" >&2; exit 1; }
(cd "$web" && npm install --silent --no-audit --no-fund webpack@5.103.0 webpack-cli@6.0.1)
mkdir -p "$web/src"
cat > "$web/src/app.js" <<'EOF'
import { init, PassClient } from "@tvpass/web";

const query = new URL(location.href).searchParams;
const emulator = query.get("emulator");
async function journey() {
  // No argument: the module is found where the bundler put it.
  const engine = await init(undefined, { engine: query.get("engine") });
  localStorage.clear();
  const client = new PassClient({
    baseUrl: emulator,
    serviceProvider: "REF30",
    softwareStatement: "tvpass-emulator-software-statement",
    deviceInfo: { primaryHardwareType: "TV", osName: "Linux", osFamily: "Tizen", osVendor: "Samsung" },
    paceRequests: false,
  });
  const session = await client.createSession("Cablevision");
  await fetch(`${emulator}/__emulator/sessions/${session.code}/complete`, {
    method: "POST", headers: { "content-type": "application/json" }, body: "{}",
  });
  const profile = await client.awaitProfile(session);
  const permit = await client.authorize("Cablevision", "news");
  const deny = await client.authorize("Cablevision", "late-night");
  return { engine, mvpd: profile.mvpd, permit: permit.kind, deny: deny.reason };
}
journey().then((r) => { window.result = r; }, (e) => { window.result = { error: `${e.name}: ${e.message}` }; });
EOF
cat > "$web/webpack.config.cjs" <<'EOF'
module.exports = {
  mode: "production",
  entry: "./src/app.js",
  output: { path: __dirname + "/bundle", filename: "app.js", publicPath: "auto", clean: true },
  // Not minified: the test is where the bundler puts the module and the JavaScript build.
  optimization: { minimize: false },
  performance: { hints: false },
};
EOF
(cd "$web" && ./node_modules/.bin/webpack --config webpack.config.cjs > webpack.log 2>&1) || { cat "$web/webpack.log" >&2; exit 1; }
ls "$web/bundle"/*.wasm > /dev/null || { echo "webpack emitted no .wasm asset" >&2; ls "$web/bundle" >&2; exit 1; }
printf '<!doctype html><meta charset="utf-8"><script src="app.js"></script>\n' > "$web/bundle/index.html"
cat > "$web/browser.mjs" <<'EOF'
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import assert from "node:assert/strict";

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const dir = new URL("./bundle/", import.meta.url).pathname;
const server = createServer(async (req, res) => {
  const path = join(dir, new URL(req.url, "http://x").pathname);
  let body;
  try {
    body = await readFile(path);
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": types[extname(path)] || "application/octet-stream" }).end(body);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const { chromium } = createRequire(process.env.TVPASS_PLAYWRIGHT + "/")("playwright-core");
const browser = await chromium.launch({ executablePath: process.env.TVPASS_CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
try {
  for (const engine of ["auto", "js"]) {
    const page = await browser.newPage();
    const loaded = [];
    page.on("request", (r) => loaded.push(new URL(r.url()).pathname));
    const origin = `http://127.0.0.1:${server.address().port}`;
    await page.goto(`${origin}/index.html?emulator=${encodeURIComponent(process.env.TVPASS_EMULATOR)}&engine=${engine}`);
    await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30000 });
    const result = await page.evaluate(() => window.result);
    assert.deepEqual(result, { engine: engine === "auto" ? "wasm" : "js", mvpd: "Cablevision", permit: "permit", deny: "parentalControls" });
    const wasm = loaded.some((p) => p.endsWith(".wasm"));
    assert.equal(wasm, engine === "auto", `the .wasm is fetched only by the WebAssembly build: ${loaded.join(" ")}`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log("webpack consumer: init() finds the bundled .wasm by itself; the JavaScript build loads as its own chunk; login, a Permit and a Deny in Chromium");
EOF
(cd "$web" && TVPASS_EMULATOR_ARGS=--cors-loopback TVPASS_CHROMIUM="$chromium" TVPASS_PLAYWRIGHT="$tools/node_modules" \
  bash "$root/scripts/with-emulator.sh" node browser.mjs)

echo "== Kotlin: a new Maven project on the release's Maven repository (file://)"
kapp="$work/kotlin-app"
mkdir -p "$kapp/src/main/kotlin"
kotlin_version="$(python3 -c 'import sys, xml.etree.ElementTree as ET; print(ET.parse(sys.argv[1]).getroot().find("{http://maven.apache.org/POM/4.0.0}properties/{http://maven.apache.org/POM/4.0.0}kotlin.version").text)' bindings/kotlin/pom.xml)"
cat > "$kapp/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>kotlin-app</artifactId>
  <version>0.0.0</version>
  <properties>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <kotlin.compiler.jvmTarget>17</kotlin.compiler.jvmTarget>
  </properties>
  <repositories>
    <repository>
      <id>release</id>
      <url>file://$artifacts/maven</url>
    </repository>
  </repositories>
  <dependencies>
    <dependency>
      <groupId>dev.tvpass</groupId>
      <artifactId>tvpass-jvm</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
  <build>
    <sourceDirectory>src/main/kotlin</sourceDirectory>
    <plugins>
      <plugin>
        <groupId>org.jetbrains.kotlin</groupId>
        <artifactId>kotlin-maven-plugin</artifactId>
        <version>$kotlin_version</version>
        <executions>
          <execution>
            <id>compile</id>
            <goals><goal>compile</goal></goals>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
EOF
cat > "$kapp/src/main/kotlin/Main.kt" <<'EOF'
import dev.tvpass.ClientConfig
import dev.tvpass.Decision
import dev.tvpass.DenyReason
import dev.tvpass.DeviceInfo
import dev.tvpass.PassClient
import dev.tvpass.Redacted
import dev.tvpass.Storage
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.runBlocking

class MapStorage : Storage {
    private val values = ConcurrentHashMap<String, String>()
    override fun get(key: String): String? = values[key]
    override fun set(key: String, value: String) { values[key] = value }
    override fun remove(key: String) { values.remove(key) }
}

fun main() = runBlocking {
    val base = System.getenv("TVPASS_EMULATOR")
    val client = PassClient(
        ClientConfig(
            baseUrl = base,
            serviceProvider = "REF30",
            softwareStatement = Redacted("tvpass-emulator-software-statement"),
            deviceInfo = DeviceInfo(primaryHardwareType = "SetTopBox", osName = "Android"),
            paceRequests = false,
        ),
        MapStorage(),
    )
    val session = client.createSession("Cablevision")
    val complete = HttpRequest.newBuilder(URI.create("$base/__emulator/sessions/${session.code}/complete"))
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build()
    check(HttpClient.newHttpClient().send(complete, HttpResponse.BodyHandlers.ofString()).statusCode() < 300)
    check(client.awaitProfile(session).mvpd == "Cablevision")
    val permit = client.authorize("Cablevision", "news")
    check(permit is Decision.Permit && !permit.mediaToken?.serialized?.value.isNullOrEmpty()) { "a Permit with a media token: $permit" }
    val deny = client.authorize("Cablevision", "late-night")
    check(deny is Decision.Deny && deny.reason == DenyReason.ParentalControls) { "a Deny as data: $deny" }
    println("kotlin consumer: dev.tvpass:tvpass-jvm from the release's Maven repository, its native library from the jar: login, a Permit, a Deny")
}
EOF
# A copy of this version that an earlier run left in the local repository would shadow the
# release's: it goes first, so the app resolves what this release ships.
m2_repo="$(printf '%s\n' "${MAVEN_OPTS:-}" | grep -o -- '-Dmaven.repo.local=[^ ]*' | cut -d= -f2 || true)"
rm -rf "${m2_repo:-$HOME/.m2/repository}/dev/tvpass/tvpass-jvm/$version"
(cd "$kapp" && mvn -B -q --no-transfer-progress compile dependency:build-classpath -Dmdep.outputFile=classpath.txt)
# A plain JVM program: the native library comes out of the jar (JNA), not from a library path.
(cd "$kapp" && bash "$root/scripts/with-emulator.sh" java -cp "target/classes:$(cat classpath.txt)" MainKt)

echo "== the command line: each archive unpacked and run (aarch64 under qemu-aarch64; the musl one checked static)"
triples=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
for triple in "${triples[@]}"; do
  [ -f "$artifacts/tvpass-$version-$triple.tar.gz" ] ||
    { echo "no CLI archive for $triple among the artifacts (release.sh --no-cli leaves them out)" >&2; exit 1; }
done
# The static one exists where rustup serves musl's std.
[ ! -f "$artifacts/tvpass-$version-x86_64-unknown-linux-musl.tar.gz" ] || triples+=(x86_64-unknown-linux-musl)
for triple in "${triples[@]}"; do
  dir="$work/cli-$triple"
  mkdir -p "$dir"
  tar -xzf "$artifacts/tvpass-$version-$triple.tar.gz" -C "$dir"
  bin="$dir/tvpass-$version-$triple/tvpass"
  run=("$bin")
  case "$triple" in aarch64-*) run=(qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin") ;; esac
  [ -s "$dir/tvpass-$version-$triple/completions/tvpass.bash" ] || { echo "$triple: no bash completions" >&2; exit 1; }
  if [ "$triple" = x86_64-unknown-linux-musl ] && readelf -l "$bin" | grep -q INTERP; then
    echo "the musl binary is not static: it names a dynamic loader" >&2
    exit 1
  fi
  shown="$("${run[@]}" --version)"
  [ "$shown" = "tvpass $version" ] || { echo "$triple: --version printed '$shown', not 'tvpass $version'" >&2; exit 1; }
  state="$dir/state"
  "${run[@]}" --state-dir "$state" login --mvpd Cablevision > "$dir/login.txt"
  "${run[@]}" --state-dir "$state" authorize --mvpd Cablevision news > "$dir/permit.txt"
  grep -q 'news: permit' "$dir/permit.txt" || { echo "$triple: no Permit" >&2; cat "$dir/permit.txt" >&2; exit 1; }
  status=0
  "${run[@]}" --state-dir "$state" authorize --mvpd Cablevision late-night > "$dir/deny.txt" || status=$?
  [ "$status" = 3 ] || { echo "$triple: a Deny exits with $status, not 3" >&2; exit 1; }
  echo "cli consumer ($triple): $shown; login, a Permit, a Deny (exit status 3), against its in-process emulator"
done

echo "== Swift: a new SwiftPM package on the released Swift package, in the Linux root"
# On Linux the released manifest takes the host library as a system library (its Linux branch),
# as the Swift suite does: the one run-tests.sh built (target/debug, the FFI layer).
[ -f target/debug/libtvpass.so ] || cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --locked
swift_root="$(bash bindings/swift/linux-toolchain.sh)"
swift_work="$swift_root/tvpass-consumer"
swift_unmount() {
  umount "$swift_work/pkg" 2>/dev/null || true
  umount "$swift_work/lib" 2>/dev/null || true
  umount "$swift_root/proc" 2>/dev/null || true
}
trap 'swift_unmount; rm -rf "$work"' EXIT
mkdir -p "$work/swift" && (cd "$work/swift" && python3 -m zipfile -e "$artifacts/TVPass-$version-swift.zip" .)
mv "$work/swift/TVPass-$version" "$work/swift/TVPass"
mkdir -p "$work/swift/App/Sources/App"
cat > "$work/swift/App/Package.swift" <<'EOF'
// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "App",
    platforms: [.macOS(.v12)],
    dependencies: [.package(path: "../TVPass")],
    targets: [.executableTarget(name: "App", dependencies: [.product(name: "TVPass", package: "TVPass")], path: "Sources/App")]
)
EOF
cat > "$work/swift/App/Sources/App/main.swift" <<'EOF'
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TVPass

final class Store: Storage, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: String] = [:]
    func get(key: String) -> String? { lock.lock(); defer { lock.unlock() }; return values[key] }
    func set(key: String, value: String) { lock.lock(); values[key] = value; lock.unlock() }
    func remove(key: String) { lock.lock(); values[key] = nil; lock.unlock() }
}

let base = ProcessInfo.processInfo.environment["TVPASS_EMULATOR"]!
let client = try PassClient(
    config: ClientConfig(
        baseUrl: base,
        serviceProvider: "REF30",
        softwareStatement: "tvpass-emulator-software-statement",
        deviceInfo: DeviceInfo(primaryHardwareType: "SetTopBox", osName: "tvOS"),
        paceRequests: false
    ),
    storage: Store()
)
let session = try await client.createSession(mvpd: "Cablevision")
var request = URLRequest(url: URL(string: "\(base)/__emulator/sessions/\(session.code!)/complete")!)
request.httpMethod = "POST"
request.setValue("application/json", forHTTPHeaderField: "content-type")
request.httpBody = Data("{}".utf8)
_ = try await URLSession.shared.data(for: request)
let profile = try await client.awaitProfile(session: session)
precondition(profile.mvpd == "Cablevision", "logged in with \(profile.mvpd)")
let permit = try await client.authorize(mvpd: "Cablevision", resource: "news")
precondition(permit.mediaToken != nil, "a Permit with a media token")
let deny = try await client.authorize(mvpd: "Cablevision", resource: "late-night")
precondition(deny.denyReason == .parentalControls, "a Deny as data")
print("swift consumer: import TVPass from the released package: login, a Permit with a media token, a Deny as data")
EOF
mkdir -p "$swift_work/pkg" "$swift_work/lib"
mountpoint -q "$swift_root/proc" || mount -t proc proc "$swift_root/proc"
mount --bind "$work/swift" "$swift_work/pkg"
mount --bind "$root/target/debug" "$swift_work/lib"
bash "$root/scripts/with-emulator.sh" bash bindings/swift/in-root.sh "$swift_root" /tvpass-consumer/lib \
  "cd /tvpass-consumer/pkg/App && swift build -q --scratch-path /tmp/tvpass-consumer-build \
    -Xlinker -L/tvpass-consumer/lib -Xlinker -rpath -Xlinker /tvpass-consumer/lib && /tmp/tvpass-consumer-build/debug/App"
swift_unmount
