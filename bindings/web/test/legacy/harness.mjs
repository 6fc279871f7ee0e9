// What the TVs' engines have and the Node of their years lacks, installed as globals before the
// package loads: fetch with Headers, Request and Response (over Node's http, loopback only),
// AbortController (as Chromium 66 to 97 had it: a signal without a `reason`),
// crypto.getRandomValues, performance.now and the global TextEncoder and TextDecoder. Only
// what is missing is added. Never globalThis, queueMicrotask, BigInt or
// Promise.prototype.finally: the package must run without them, as it must on those TVs.
import http from "http";
import nodeCrypto from "crypto";
import util from "util";
import { parse } from "url";

const g = global;

class Headers {
  constructor(init) {
    this._map = new Map();
    if (init instanceof Headers) init.forEach((v, k) => this.append(k, v));
    else if (Array.isArray(init)) init.forEach((pair) => this.append(pair[0], pair[1]));
    else if (init) Object.keys(init).forEach((k) => this.append(k, init[k]));
  }
  append(name, value) {
    const key = String(name).toLowerCase();
    const v = String(value);
    this._map.set(key, this._map.has(key) ? `${this._map.get(key)}, ${v}` : v);
  }
  set(name, value) { this._map.set(String(name).toLowerCase(), String(value)); }
  get(name) {
    const key = String(name).toLowerCase();
    return this._map.has(key) ? this._map.get(key) : null;
  }
  has(name) { return this._map.has(String(name).toLowerCase()); }
  delete(name) { this._map.delete(String(name).toLowerCase()); }
  forEach(f) { this._map.forEach((v, k) => f(v, k, this)); }
  entries() { return this._map.entries(); }
  keys() { return this._map.keys(); }
  values() { return this._map.values(); }
  [Symbol.iterator]() { return this._map.entries(); }
}

const bytes = (body) => {
  if (body === undefined || body === null) return null;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  if (ArrayBuffer.isView(body)) return Buffer.from(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  throw new TypeError("unsupported body");
};

class Request {
  constructor(input, init) {
    const options = init || {};
    const from = input instanceof Request ? input : null;
    this.url = from ? from.url : String(input);
    this.method = String(options.method || (from ? from.method : "GET")).toUpperCase();
    this.headers = new Headers(options.headers || (from ? from.headers : undefined));
    this.body = bytes(options.body !== undefined ? options.body : from ? from.body : undefined);
    this.signal = options.signal || (from ? from.signal : null);
    this.redirect = options.redirect || (from ? from.redirect : "follow");
  }
}

class Response {
  constructor(body, init) {
    const options = init || {};
    this._body = bytes(body) || Buffer.alloc(0);
    this.status = options.status === undefined ? 200 : options.status;
    this.statusText = options.statusText || "";
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new Headers(options.headers);
    this.type = "basic";
    this.url = options.url || "";
  }
  arrayBuffer() {
    const b = this._body;
    return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  text() { return Promise.resolve(this._body.toString("utf8")); }
  json() { return this.text().then(JSON.parse); }
}

const abortError = () => {
  const e = new Error("The operation was aborted.");
  e.name = "AbortError";
  return e;
};

function fetch(input, init) {
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  return new Promise((resolve, reject) => {
    const signal = request.signal;
    if (signal && signal.aborted) {
      reject(abortError());
      return;
    }
    const url = parse(request.url);
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
      reject(new TypeError(`the harness fetches from loopback only, not ${url.hostname}`));
      return;
    }
    const headers = {};
    request.headers.forEach((v, k) => { headers[k] = v; });
    let done = false;
    const settle = (f, value) => {
      if (done) return;
      done = true;
      if (signal) signal.removeEventListener("abort", onAbort);
      f(value);
    };
    const req = http.request({ method: request.method, hostname: url.hostname, port: url.port, path: url.path, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", (e) => settle(reject, new TypeError(`fetch failed: ${e.message}`)));
      res.on("end", () => {
        const pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        settle(resolve, new Response(Buffer.concat(chunks), {
          status: res.statusCode, statusText: res.statusMessage, headers: pairs, url: request.url,
        }));
      });
    });
    function onAbort() {
      req.abort();
      settle(reject, abortError());
    }
    if (signal) signal.addEventListener("abort", onAbort);
    req.on("error", (e) => settle(reject, new TypeError(`fetch failed: ${e.message}`)));
    if (request.body) req.write(request.body);
    req.end();
  });
}

class AbortSignal {
  constructor() {
    this.aborted = false;
    this.onabort = null;
    this._listeners = [];
  }
  addEventListener(type, f) { if (type === "abort") this._listeners.push(f); }
  removeEventListener(type, f) { this._listeners = this._listeners.filter((l) => l !== f); }
}

class AbortController {
  constructor() { this.signal = new AbortSignal(); }
  abort() {
    const s = this.signal;
    if (s.aborted) return;
    s.aborted = true;
    const event = { type: "abort", target: s };
    if (typeof s.onabort === "function") s.onabort(event);
    s._listeners.slice().forEach((f) => f(event));
  }
}

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(text) { return new Uint8Array(Buffer.from(text === undefined ? "" : String(text), "utf8")); }
}

class TextDecoder {
  get encoding() { return "utf-8"; }
  decode(view) {
    if (view === undefined) return "";
    const b = ArrayBuffer.isView(view) ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : Buffer.from(view);
    return b.toString("utf8");
  }
}

const start = process.hrtime();
const performance = {
  timeOrigin: Date.now(),
  now() {
    const t = process.hrtime(start);
    return t[0] * 1e3 + t[1] / 1e6;
  },
};

const add = (name, value) => {
  if (typeof g[name] === "undefined") g[name] = value;
};
add("fetch", fetch);
add("Headers", Headers);
add("Request", Request);
add("Response", Response);
add("AbortController", AbortController);
add("AbortSignal", AbortSignal);
// Node's own where it has them (Node 8.3 and later).
add("TextEncoder", util.TextEncoder || TextEncoder);
add("TextDecoder", util.TextDecoder || TextDecoder);
add("performance", performance);
add("crypto", {
  getRandomValues(array) {
    const target = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    target.set(nodeCrypto.randomBytes(target.length));
    return array;
  },
});

/** What this engine is missing among the APIs the package must not need. */
export const absent = ["globalThis", "queueMicrotask", "BigInt"].filter((name) => typeof g[name] === "undefined")
  .concat(typeof Promise.prototype.finally === "function" ? [] : ["Promise.prototype.finally"]);
