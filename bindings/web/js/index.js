// tvpass for the web TV platforms (Samsung Tizen, LG webOS) and other JavaScript hosts: the Rust
// SDK in WebAssembly, or, on engines without WebAssembly, the same SDK compiled to JavaScript.
// Call `init()` once, then use `PassClient`. Every method returns a Promise and takes
// `{ signal }`, an AbortSignal that ends the call at once.
// The package is lowered to what Chromium 53 runs (webOS TV 4.x); see docs/web.md.
import initWasm, {
  initSync as initWasmSync,
  __wbg_get_imports as wasmImports,
  __wbg_finalize_init as finishInit,
  PassClient as WasmClient,
  setLogger as wasmSetLogger,
} from "./tvpass_web.js";

/** Every error of a call; a Deny is a value, never an error. */
export class PassError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = "PassError";
    this.code = details.code ?? "other";
    for (const key of ["setting", "status", "errorCode", "action", "retryAfterMs"]) {
      if (details[key] !== undefined) this[key] = details[key];
    }
  }
}
export class InvalidConfigurationError extends PassError {}
export class NetworkError extends PassError {}
export class TimeoutError extends PassError {}
export class ThrottledError extends PassError {}
export class ServerError extends PassError {}
export class ProtocolError extends PassError {}
export class RegistrationRejectedError extends PassError {}
export class AuthenticationExpiredError extends PassError {}
export class SessionReplacedError extends PassError {}
export class StorageError extends PassError {}
export class UnavailableError extends PassError {}

const classes = {
  invalidConfiguration: InvalidConfigurationError,
  network: NetworkError,
  timeout: TimeoutError,
  throttled: ThrottledError,
  server: ServerError,
  protocol: ProtocolError,
  registrationRejected: RegistrationRejectedError,
  authenticationExpired: AuthenticationExpiredError,
  sessionReplaced: SessionReplacedError,
  storage: StorageError,
  unavailable: UnavailableError,
};

/** The SDK's errors as PassError subclasses; an abort's reason (AbortError) stays as it is. */
function lift(e) {
  if (e instanceof Error && e.name === "PassError" && !(e instanceof PassError)) {
    const Class = classes[e.code] ?? PassError;
    return new Class(e.message, e);
  }
  return e;
}

const wrap = (promise) => promise.catch((e) => { throw lift(e); });
const sync = (f) => { try { return f(); } catch (e) { throw lift(e); } };

let engine; // "wasm" or "js", once loaded
let loading;

const hasWebAssembly = () =>
  typeof WebAssembly === "object" && WebAssembly !== null && typeof WebAssembly.instantiate === "function";

const invalid = (setting, message) => new InvalidConfigurationError(message, { code: "invalidConfiguration", setting });

/**
 * Node: a file: URL is read from disk, since its fetch reads no files. Through
 * process.getBuiltinModule (Node 20.16 and later), so that no import() of a Node module stands in
 * the package for bundlers to trip on or old engines to fail to parse.
 */
function readFile(where) {
  const node = typeof process === "object" && process !== null ? process : undefined;
  if (!node || typeof node.getBuiltinModule !== "function") {
    return Promise.reject(invalid("input", "this runtime cannot read tvpass_web_bg.wasm from a file: URL: give init() its bytes"));
  }
  return node.getBuiltinModule("fs/promises").readFile(new URL(String(where)));
}

function loadWasm(input) {
  const location = input !== undefined
    ? Promise.resolve(input)
    : import("./wasm-url.js").then((m) => m.default, () => {
      throw invalid("input", "this engine cannot locate tvpass_web_bg.wasm by itself: give init() its URL");
    });
  return location
    .then((where) => (String(where).indexOf("file:") === 0 ? readFile(where) : where))
    .then((module) => initWasm({ module_or_path: module }))
    .then(() => "wasm");
}

function loadJs() {
  return import("./tvpass_web_fallback.js").then((build) => {
    finishInit({ exports: build.instantiate(wasmImports()) }, undefined);
    return "js";
  });
}

function load(input, choice) {
  if (choice === "js") return loadJs();
  if (!hasWebAssembly()) {
    return choice === "wasm" ? Promise.reject(invalid("engine", "this engine has no WebAssembly")) : loadJs();
  }
  return loadWasm(input).catch((e) => {
    // The engine's WebAssembly cannot compile the module (an early, partial implementation).
    if (choice === "auto" && e instanceof WebAssembly.CompileError) return loadJs();
    throw e;
  });
}

/**
 * Loads the SDK once; later calls resolve with the same build. Where the engine runs
 * WebAssembly, the module comes from `input` (its URL, a Response, its bytes or a compiled
 * WebAssembly.Module) or by default from beside this file. Where the engine has no WebAssembly
 * or cannot compile the module (webOS TV 4.x, Tizen 4.0), the JavaScript build is loaded
 * instead. `options.engine`: "auto" (default), "wasm" (never the JavaScript build), or "js"
 * (always). Resolves with the build in use: "wasm" or "js".
 */
export function init(input, options) {
  if (engine !== undefined) return Promise.resolve(engine);
  if (loading === undefined) {
    const choice = (options && options.engine) || "auto";
    if (choice !== "auto" && choice !== "wasm" && choice !== "js") {
      return Promise.reject(invalid("engine", `engine is "auto", "wasm" or "js", not ${String(choice)}`));
    }
    loading = load(input, choice).then(
      (loaded) => (engine = loaded),
      (e) => {
        loading = undefined;
        throw e;
      },
    );
  }
  return loading;
}

/** Loads the WebAssembly module from its bytes or a compiled module (Node, tests). */
export function initSync(bytes) {
  if (engine !== undefined) return;
  initWasmSync({ module: bytes });
  engine = "wasm";
}

/** The SDK's client. */
export class PassClient {
  #client;
  constructor(options) { this.#client = sync(() => new WasmClient(options)); }
  configuration(options) { return wrap(this.#client.configuration(options)); }
  createSession(mvpd, options) { return wrap(this.#client.createSession(mvpd, options)); }
  authenticationUrl(code) { return this.#client.authenticationUrl(code); }
  awaitProfile(session, options) { return wrap(this.#client.awaitProfile(session, options)); }
  profiles(options) { return wrap(this.#client.profiles(options)); }
  preauthorize(mvpd, resources, options) { return wrap(this.#client.preauthorize(mvpd, resources, options)); }
  authorize(mvpd, resource, options) { return wrap(this.#client.authorize(mvpd, resource, options)); }
  authorizeTempPass(mvpd, resource, options) { return wrap(this.#client.authorizeTempPass(mvpd, resource, options)); }
  logout(mvpd, options) { return wrap(this.#client.logout(mvpd, options)); }
  setSubjectToken(token) { sync(() => this.#client.setSubjectToken(token ?? undefined)); }
  setServiceToken(token) { sync(() => this.#client.setServiceToken(token ?? undefined)); }
  setVisitorId(ecid) { sync(() => this.#client.setVisitorId(ecid ?? undefined)); }
}

/** The SDK's log lines (never a secret) to `callback(level, target, message)`; call once. */
export function setLogger(callback, level = "info") {
  wasmSetLogger(callback, level);
}
