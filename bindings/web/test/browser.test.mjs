// The package in headless Chromium (Debian's chromium, driven by playwright-core): a page served
// from a loopback origin loads it and runs login -> authorize against the emulator, which answers
// CORS for loopback origins (--cors-loopback), once with the WebAssembly module found by init()
// beside the package and once with the JavaScript build (as a TV without WebAssembly loads it).
// Skipped unless TVPASS_CHROMIUM names a browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname } from "node:path";

const chromiumPath = process.env.TVPASS_CHROMIUM;
const base = process.env.TVPASS_EMULATOR;

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const files = {
  "/page.html": new URL("./page.html", import.meta.url),
  "/index.js": new URL("../dist/index.js", import.meta.url),
  "/tvpass_web.js": new URL("../dist/tvpass_web.js", import.meta.url),
  "/tvpass_web_bg.wasm": new URL("../dist/tvpass_web_bg.wasm", import.meta.url),
  "/wasm-url.js": new URL("../dist/wasm-url.js", import.meta.url),
  "/tvpass_web_fallback.js": new URL("../dist/tvpass_web_fallback.js", import.meta.url),
};

test("a page loads the package and runs login and authorize, with either build", { skip: !chromiumPath && "TVPASS_CHROMIUM is not set" }, async () => {
  assert.ok(base, "set TVPASS_EMULATOR");
  const server = createServer(async (req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": types[extname(file.pathname)] }).end(await readFile(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { chromium } = createRequire(process.env.TVPASS_PLAYWRIGHT + "/")("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    for (const engine of ["auto", "js"]) {
      const page = await browser.newPage();
      const origin = `http://127.0.0.1:${server.address().port}`;
      await page.goto(`${origin}/page.html?emulator=${encodeURIComponent(base)}&engine=${engine}`);
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
      const result = await page.evaluate(() => window.result);
      assert.deepEqual(result, {
        engine: engine === "auto" ? "wasm" : "js",
        mvpd: "Cablevision",
        decision: "permit",
        mediaToken: true,
        storedKeys: result.storedKeys,
        bad: { isPassError: true, code: "invalidConfiguration", setting: "environment" },
      });
      assert.ok(result.storedKeys >= 3, `credentials, token, device id and profile in localStorage: ${result.storedKeys}`);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});
