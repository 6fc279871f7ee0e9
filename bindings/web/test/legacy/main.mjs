// The journey suite (../journey.mjs) in the Node of an older TV engine: Node 10.24 (V8 6.8,
// about Chromium 68), 8.17 (V8 6.2, about Chromium 62) and 6.17 (V8 5.1, about Chromium 51,
// without WebAssembly: the JavaScript build). bundle.mjs lowers this suite and the harness to
// the engine and bundles them with the package as it ships, untouched. The harness goes first:
// the package finds its globals in place, as on a TV.
//   TVPASS_EMULATOR       the emulator's base URL
//   TVPASS_WASM           the path of tvpass_web_bg.wasm
//   TVPASS_EXPECT_ENGINE  the build init() must load here: wasm or js
import { absent } from "./harness.mjs";
import assert from "assert";
import { readFileSync } from "fs";
import { init } from "@tvpass/web";
import { journey } from "../journey.mjs";

const tests = [];
journey((name, fn) => tests.push({ name, fn }), process.env.TVPASS_EMULATOR, true);

async function main() {
  const engine = await init(readFileSync(process.env.TVPASS_WASM));
  const label = `node${process.versions.node.split(".")[0]}`;
  console.log(`# Node ${process.versions.node} (V8 ${process.versions.v8}), without ${absent.join(", ") || "nothing"}: the ${engine} build`);
  assert.strictEqual(engine, process.env.TVPASS_EXPECT_ENGINE, "the build init() loaded");
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await t.fn();
      passed++;
      console.log(`ok - ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${t.name}\n  ${String((e && e.stack) || e).split("\n").join("\n  ")}`);
    }
  }
  console.log(`${label}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed === tests.length ? 0 : 1;
}

main().catch((e) => {
  console.log(String((e && e.stack) || e));
  process.exit(1);
});
