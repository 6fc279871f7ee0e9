// tvpass for the web TV platforms (Samsung Tizen, LG webOS) and other JavaScript hosts: the Rust
// SDK in WebAssembly. Call `init()` once (in Node: `initSync(bytes)`), then use `PassClient`.
// Every method returns a Promise and takes `{ signal }`, an AbortSignal that ends the call at once.
import initWasm, {
  initSync as initWasmSync,
  PassClient as WasmClient,
  setLogger as wasmSetLogger,
} from "./tvpass_web.js";

/** Every error of a call; a Deny is a value, never an error. */
export class PassError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = "PassError";
    this.code = details.code ?? "other";
    for (const key of ["setting", "status", "errorCode", "action"]) {
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

/** Loads the WebAssembly module: by default from beside this file (browsers, packaged apps). */
export async function init(input) {
  await initWasm(input === undefined ? undefined : { module_or_path: input });
}

/** Loads the WebAssembly module from its bytes or a compiled module (Node, tests). */
export function initSync(bytes) {
  initWasmSync({ module: bytes });
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
