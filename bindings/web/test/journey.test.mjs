// The journey suite (journey.mjs) in Node 20 with its own fetch, against the emulator that
// scripts/with-emulator.sh started; the module loaded from its bytes, as a Node app does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { init } from "@tvpass/web";
import { journey } from "./journey.mjs";

const bytes = await readFile(new URL("../dist/tvpass_web_bg.wasm", import.meta.url));
assert.equal(await init(bytes), "wasm");
assert.equal(await init(), "wasm", "init() twice resolves with the build loaded first");
journey(test, process.env.TVPASS_EMULATOR);
