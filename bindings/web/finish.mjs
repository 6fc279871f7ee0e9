// Finishes the web package (called by build.sh with Node 20): makes wasm-bindgen's glue and the
// wasm2js build of the module fit the engines of older TVs, and lowers every JavaScript file of
// the package to what Chromium 53 parses and runs (webOS TV 4.x, the oldest engine the
// JavaScript build serves), as ES modules.
//
//   node finish.mjs ESBUILD_DIR GLUE WASM2JS_OUTPUT API_DIR OUT_DIR
//
// - The glue's cached views of the module's memory are renewed whenever the memory's buffer is
//   a new one. wasm-bindgen renews them only when the old buffer was detached, which a grown
//   WebAssembly memory is, but the JavaScript build's memory (a plain ArrayBuffer replaced on
//   growth) is not.
// - The glue exports what the JavaScript build needs to be instantiated in place of the
//   WebAssembly module (`__wbg_get_imports`, `__wbg_finalize_init`), and carries no
//   `import.meta` (Chromium 64): the module's default location is in `wasm-url.js`, imported
//   only when `init()` is given none.
// - wasm2js's output becomes a module exporting `instantiate(imports)`, which returns what a
//   WebAssembly instance's `exports` would be.
// Every rewrite checks that it found what it rewrites, so a new wasm-bindgen or binaryen that
// changes its output fails the build instead of shipping an unpatched package.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [esbuildDir, gluePath, asmPath, apiDir, out] = process.argv.slice(2);
const { transformSync } = createRequire(join(esbuildDir, "/"))("esbuild");

const fail = (message) => {
  console.error(`finish.mjs: ${message}`);
  process.exit(1);
};

/** Replaces `pattern` in `text`, failing unless it matched `expected` times (or at least once). */
function rewrite(text, pattern, replacement, what, expected) {
  let count = 0;
  const result = text.replace(pattern, (...args) => {
    count++;
    return typeof replacement === "function" ? replacement(...args) : replacement;
  });
  if (count === 0 || (expected !== undefined && count !== expected)) {
    fail(`${what}: expected ${expected ?? "a match"}, found ${count}`);
  }
  return result;
}

let glue = readFileSync(gluePath, "utf8");
const caches = glue.match(/^let cached\w+Memory0 = null;$/gm) || [];
glue = rewrite(
  glue,
  /if \((cached\w+Memory0) === null \|\|[^{]*\{/g,
  (_, cache) => `if (${cache} === null || ${cache}.buffer !== wasm.memory.buffer) {`,
  "the memory view caches",
  caches.length,
);
glue = rewrite(
  glue,
  /module_or_path = new URL\('tvpass_web_bg\.wasm', import\.meta\.url\);/,
  'throw new Error("init() needs the location of tvpass_web_bg.wasm");',
  "the default module location",
  1,
);
if (glue.includes("import.meta")) fail("the glue still uses import.meta");
glue += "\nexport { __wbg_get_imports, __wbg_finalize_init };\n";

let asm = readFileSync(asmPath, "utf8");
asm = rewrite(asm, /^import \* as \S+ from '\.\/tvpass_web_bg\.js';$/m, "", "wasm2js's import", 1);
const tail = asm.indexOf("\nvar retasmFunc = asmFunc(");
if (tail < 0) fail("wasm2js's instantiation was not found");
asm = asm.slice(0, tail) +
  "\n/** What a WebAssembly instance of tvpass_web_bg.wasm exports, from the same imports. */\n" +
  "export function instantiate(imports) { return asmFunc(imports); }\n";

const wasmUrl =
  "// The module's default location, for init() without arguments: beside this file, which\n" +
  "// bundlers (webpack 5, Vite) follow to ship the .wasm as an asset.\n" +
  'export default new URL("./tvpass_web_bg.wasm", import.meta.url);\n';

const files = {
  "index.js": [readFileSync(join(apiDir, "index.js"), "utf8"), {}],
  "tvpass_web.js": [glue, {}],
  "tvpass_web_fallback.js": [asm, { minify: true }],
  "wasm-url.js": [wasmUrl, { supported: { "import-meta": true } }],
};
for (const [name, [source, options]] of Object.entries(files)) {
  const result = transformSync(source, {
    format: "esm",
    target: "chrome53",
    charset: "utf8",
    legalComments: "none",
    ...options,
    // init() loads the module's location and the JavaScript build only when it needs them:
    // Chromium 63 and bundlers understand import(), and bundlers resolve it for older engines.
    supported: { "dynamic-import": true, ...options.supported },
    sourcefile: name,
  });
  for (const w of result.warnings) fail(`${name}: ${w.text}`);
  writeFileSync(join(out, name), result.code);
}
