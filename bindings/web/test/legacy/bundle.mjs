// Bundles the journey suite for an old Node (run with Node 20):
//   node bundle.mjs ESBUILD_NODE_MODULES PACKAGE_DIR TARGET OUT
// The suite and the harness are lowered to TARGET (e.g. node6); the package's files are taken
// as they ship, with nothing lowered (the bundle's own target is esnext), so a syntax or API the
// package should not use fails on the old engine as it would on a TV. The package is resolved
// by its name, from PACKAGE_DIR, as a bundler resolves an installed dependency.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [modules, pkg, target, out] = process.argv.slice(2);
const esbuild = createRequire(join(modules, "/"))("esbuild");
const tests = dirname(dirname(fileURLToPath(import.meta.url)));

const lowerTests = {
  name: "lower-the-tests",
  setup(build) {
    build.onLoad({ filter: /\.mjs$/ }, (args) => {
      if (!args.path.startsWith(tests + "/")) return undefined;
      const source = readFileSync(args.path, "utf8");
      const { code } = esbuild.transformSync(source, { target, format: "esm", loader: "js", sourcefile: args.path });
      return { contents: code, loader: "js" };
    });
  },
};

await esbuild.build({
  entryPoints: [join(tests, "legacy", "main.mjs")],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "esnext",
  outfile: out,
  alias: { "@tvpass/web": join(pkg, "dist", "index.js") },
  plugins: [lowerTests],
  logLevel: "warning",
  // wasm-url.js is not loaded here: the suite gives init() the module's bytes.
  logOverride: { "empty-import-meta": "silent" },
});
