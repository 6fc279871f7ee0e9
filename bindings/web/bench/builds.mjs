// The two builds side by side in Node 20 against the emulator (TVPASS_EMULATOR): the time of a
// warm authorize (token cached, paceRequests off, the emulator on loopback), the median of
// TVPASS_BENCH_CALLS (default 500) sequential calls, and the time init() takes. One build per
// process, since init() loads once:
//   bash scripts/with-emulator.sh node bindings/web/bench/builds.mjs wasm
//   bash scripts/with-emulator.sh node bindings/web/bench/builds.mjs js
import { readFile } from "node:fs/promises";
import { init, PassClient } from "@tvpass/web";

const engine = process.argv[2] || "wasm";
const calls = Number(process.env.TVPASS_BENCH_CALLS || 500);
const bytes = await readFile(new URL("../dist/tvpass_web_bg.wasm", import.meta.url));
let started = performance.now();
await init(bytes, { engine });
const initMs = performance.now() - started;
const values = new Map();
const client = new PassClient({
  baseUrl: process.env.TVPASS_EMULATOR,
  serviceProvider: "REF30",
  softwareStatement: "tvpass-emulator-software-statement",
  deviceInfo: { primaryHardwareType: "TV", osName: "webOS" },
  storage: { get: (k) => values.get(k) ?? null, set: (k, v) => values.set(k, v), remove: (k) => values.delete(k) },
  paceRequests: false,
});
for (let i = 0; i < 20; i++) await client.authorize("Cablevision", "news"); // warm-up
const times = [];
for (let i = 0; i < calls; i++) {
  started = performance.now();
  await client.authorize("Cablevision", "news");
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`${engine}: init ${initMs.toFixed(0)} ms, warm authorize median ${(median * 1000).toFixed(0)} µs over ${calls} calls`);
