// The WebAssembly package in Node 20 (global fetch) against the emulator that
// scripts/with-emulator.sh started (TVPASS_EMULATOR): the whole journey with request counts,
// Deny as data, TempPass with a hashed identity, and a call ended by an AbortSignal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { initSync, PassClient, PassError, InvalidConfigurationError, TimeoutError, setLogger } from "../dist/index.js";

const base = process.env.TVPASS_EMULATOR;
assert.ok(base, "set TVPASS_EMULATOR to the emulator's base URL");
initSync(await readFile(new URL("../dist/tvpass_web_bg.wasm", import.meta.url)));

const admin = async (method, path, body) => {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status < 300, `admin ${path} answered ${res.status}`);
  return res.status === 204 ? null : res.json();
};
const requests = async () => admin("GET", "/__emulator/requests");
const count = async (prefix) => (await requests()).filter((r) => r.path.startsWith(prefix)).length;

/** A storage object as a Tizen or webOS app keeps one. */
const mapStorage = () => {
  const values = new Map();
  return { values, get: (k) => values.get(k) ?? null, set: (k, v) => values.set(k, v), remove: (k) => values.delete(k) };
};

const client = (storage) =>
  new PassClient({
    baseUrl: base,
    serviceProvider: "REF30",
    softwareStatement: "tvpass-emulator-software-statement",
    deviceInfo: { primaryHardwareType: "TV", osName: "Linux", osFamily: "Tizen", osVendor: "Samsung" },
    storage,
    paceRequests: false,
  });

test("the whole journey, Deny as data, TempPass and logout", async () => {
  await admin("POST", "/__emulator/reset");
  const storage = mapStorage();
  const c = client(storage);
  const configuration = await c.configuration();
  assert.deepEqual(configuration.pickerMvpds, ["Cablevision", "Spectrum"]);

  const session = await c.createSession("Cablevision");
  assert.equal(session.action, "authenticate");
  assert.ok(c.authenticationUrl(session.code).endsWith(session.code));
  await admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: { zip: "10001" } });
  const profile = await c.awaitProfile(session);
  assert.equal(profile.mvpd, "Cablevision");
  assert.equal(profile.attributes.zip, "10001");

  const pre = await c.preauthorize("Cablevision", ["news", "sports", "movies", "kids", "late-night", "cooking"]);
  assert.deepEqual(pre.map((d) => d.kind), ["permit", "permit", "permit", "permit", "deny", "deny"]);
  assert.equal(pre[4].reason, "parentalControls");

  const permit = await c.authorize("Cablevision", "news");
  assert.equal(permit.kind, "permit");
  assert.ok(permit.mediaToken.serialized.length > 0);
  const deny = await c.authorize("Cablevision", "late-night");
  assert.equal(deny.kind, "deny");
  assert.equal(deny.error.code, "authorization_denied_by_parental_controls");

  const promo = await c.authorizeTempPass("TempPass_Promo", "movies", { email: "Viewer@Example.com" });
  assert.equal(promo.kind, "permit");
  const sent = (await requests()).find((r) => r.path.includes("/decisions/authorize/TempPass_Promo"));
  const identity = sent.headers.find(([name]) => name === "ap-temppass-identity")[1];
  const hashed = JSON.parse(Buffer.from(identity, "base64").toString());
  // trimmed, lower-cased and hashed on the device (Node's own SHA-256 as the reference)
  assert.equal(hashed.email, createHash("sha256").update("viewer@example.com").digest("hex"));
  assert.ok(!JSON.stringify(await requests()).toLowerCase().includes("viewer@example.com"), "the raw identifier is never sent");

  const logout = await c.logout("Cablevision");
  assert.equal(logout.kind, "openUrl");
  // register, token, configuration, session, 1 poll, 2 preauthorize batches, 2 authorize,
  // TempPass authorize, logout
  assert.equal(await count("/o/client/register"), 1);
  assert.equal((await requests()).length, 11);

});

test("a warm restart needs one request to authorize", async () => {
  await admin("POST", "/__emulator/reset");
  const storage = mapStorage();
  const first = client(storage);
  const session = await first.createSession("Spectrum");
  await admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: {} });
  await first.awaitProfile(session);
  await admin("DELETE", "/__emulator/requests");
  const second = client(storage);
  assert.equal((await second.authorize("Spectrum", "news")).kind, "permit");
  assert.equal((await requests()).length, 1);
});

test("an AbortSignal ends a call at once, and the next call works", async () => {
  await admin("POST", "/__emulator/reset");
  const c = client(mapStorage());
  await c.configuration();
  await admin("POST", "/__emulator/faults", {
    path: "/api/v2/REF30/decisions",
    fault: { kind: "delay", ms: 3000 },
    remaining: 1,
  });
  const controller = new AbortController();
  const call = c.authorize("Cablevision", "news", { signal: controller.signal });
  await new Promise((r) => setTimeout(r, 200));
  const abortedAt = performance.now();
  controller.abort();
  await assert.rejects(call, (e) => e.name === "AbortError");
  const took = performance.now() - abortedAt;
  assert.ok(took < 100, `ended ${took} ms after the abort`);
  const next = await c.authorize("Cablevision", "news");
  assert.equal(next.kind, "deny");
  assert.equal(next.reason, "profileMissing");
});

test("bad settings are typed errors", () => {
  assert.throws(
    () => new PassClient({ baseUrl: base }),
    (e) => e instanceof InvalidConfigurationError && e instanceof PassError && e.code === "invalidConfiguration" && e.setting === "storage",
  );
  assert.throws(
    () => new PassClient({ baseUrl: "http://example.com", serviceProvider: "REF30", softwareStatement: "x", storage: mapStorage() }),
    (e) => e.name === "PassError" && e.setting === "environment",
  );
});

test("pacing, retries and single flight run on the JavaScript event loop", async () => {
  await admin("POST", "/__emulator/reset");
  // Single flight: ten concurrent cold calls register and fetch a token once.
  const cold = client(mapStorage());
  const all = await Promise.all(Array.from({ length: 10 }, () => cold.authorize("Cablevision", "news")));
  assert.ok(all.every((d) => d.kind === "deny" && d.reason === "profileMissing"));
  assert.equal(await count("/o/client/register"), 1);
  assert.equal(await count("/o/client/token"), 1);

  // Retries: two 500s, then the answer; the backoff waits on JS timers.
  await admin("POST", "/__emulator/faults", {
    path: "/api/v2/REF30/decisions",
    fault: { kind: "status", status: 500 },
    remaining: 2,
  });
  await admin("DELETE", "/__emulator/requests");
  assert.equal((await cold.authorize("Cablevision", "news")).kind, "deny");
  assert.equal((await requests()).length, 3, "two failures and the answer");

  // Pacing (on by default): 1 request per second after a burst of 10.
  await admin("POST", "/__emulator/reset");
  const paced = new PassClient({
    baseUrl: base,
    serviceProvider: "REF30",
    softwareStatement: "tvpass-emulator-software-statement",
    deviceInfo: { primaryHardwareType: "TV", osName: "webOS", osVendor: "LG" },
    storage: mapStorage(),
  });
  const started = performance.now();
  for (let i = 0; i < 12; i++) await paced.authorize("Cablevision", "news");
  const took = performance.now() - started;
  const sent = await requests();
  assert.equal(sent.length, 14, "register, token and 12 decisions");
  assert.ok(sent.every((r) => r.status !== 429));
  assert.ok(took >= 3000, `14 requests after a burst of 10 take about 4 s, took ${took} ms`);
});

test("polling waits on JS timers, a request timeout ends in TimeoutError, SSO headers and logs", async () => {
  await admin("POST", "/__emulator/reset");
  const lines = [];
  setLogger((level, target, message) => lines.push(`${level} ${target} ${message}`), "debug");
  const storage = mapStorage();
  const c = client(storage);
  // The user finishes after the first poll: the next one comes 3 s later.
  const session = await c.createSession("Spectrum");
  setTimeout(() => admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: {} }), 500);
  const started = performance.now();
  const profile = await c.awaitProfile(session);
  assert.equal(profile.mvpd, "Spectrum");
  assert.ok(performance.now() - started >= 2500, "the second poll waited for the polling interval");
  assert.equal(await count("/api/v2/REF30/profiles/code/"), 2);

  // A platform identity goes on the documented calls.
  const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWItdXNlciIsImV4cCI6NDAwMDAwMDAwMH0.c2ln";
  c.setSubjectToken(token);
  await c.profiles();
  const asked = (await requests()).filter((r) => r.path === "/api/v2/REF30/profiles").at(-1);
  assert.ok(asked.headers.some(([n, v]) => n === "adobe-subject-token" && v === token));
  c.setSubjectToken(null);

  // Every request times out: three attempts, then a TimeoutError.
  const slow = new PassClient({
    baseUrl: base,
    serviceProvider: "REF30",
    softwareStatement: "tvpass-emulator-software-statement",
    deviceInfo: { primaryHardwareType: "TV", osName: "webOS" },
    storage,
    paceRequests: false,
    requestTimeoutMs: 200,
  });
  await admin("POST", "/__emulator/faults", {
    path: "/api/v2/REF30/decisions",
    fault: { kind: "delay", ms: 1500 },
    remaining: 3,
  });
  await assert.rejects(slow.authorize("Spectrum", "news"), (e) => e instanceof TimeoutError && e.code === "timeout");

  // The SDK's lines reached the callback, and no secret did.
  assert.ok(lines.some((l) => l.startsWith("debug tvpass")), `log lines: ${lines.length}`);
  const secrets = [...storage.values.values()].flatMap((v) =>
    [...v.matchAll(/"(client_secret|access_token)":"([^"]+)"/g)].map((m) => m[2]));
  assert.ok(secrets.length >= 2);
  for (const s of [...secrets, token]) assert.ok(!lines.some((l) => l.includes(s)), "a secret reached the log");
});
