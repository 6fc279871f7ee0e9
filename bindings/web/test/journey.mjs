// The web package's journey suite against the emulator that scripts/with-emulator.sh started
// (base URL in TVPASS_EMULATOR): the whole journey with request counts, Deny as data, TempPass
// with a hashed identity, a warm restart, a call ended by an AbortSignal, typed errors, pacing,
// retries and polling on the event loop. The same suite runs in Node 20 (journey.test.mjs) and,
// lowered and bundled, in the Node of older TVs' engines (legacy/main.mjs: Node 10, 8 and 6).
// So it uses only what those engines have (no Array.prototype.at, flatMap or matchAll, no
// assert.rejects), and it takes the package by its name, as an app does.
import assert from "assert";
import { createHash } from "crypto";
import { PassClient, PassError, InvalidConfigurationError, TimeoutError, setLogger } from "@tvpass/web";

const last = (list) => list[list.length - 1];

/** Resolves when `promise` rejects with an error `check` accepts; fails if it resolves. */
async function rejects(promise, check, message) {
  let outcome;
  try {
    outcome = await promise;
  } catch (e) {
    assert.ok(check(e), `${message || "the error"}: ${e && e.name} ${e && e.message}`);
    return;
  }
  assert.fail(`expected a rejection, got ${JSON.stringify(outcome)}`);
}

/**
 * Registers the suite's tests with `test(name, fn)`; `base` is the emulator's URL.
 * `ownFetch`: the harness's fetch stands in for the engine's, so AbortController can be taken
 * away as on Chromium before 66 (Node 20's own fetch needs it).
 */
export function journey(test, base, ownFetch) {
  assert.ok(base, "set TVPASS_EMULATOR to the emulator's base URL");

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
  const count = async (prefix) => (await requests()).filter((r) => r.path.indexOf(prefix) === 0).length;

  /** A storage object as a Tizen or webOS app keeps one. */
  const mapStorage = () => {
    const values = new Map();
    return {
      values,
      get: (k) => (values.has(k) ? values.get(k) : null),
      set: (k, v) => values.set(k, v),
      remove: (k) => values.delete(k),
    };
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
    assert.deepStrictEqual(configuration.pickerMvpds, ["Cablevision", "Spectrum"]);

    const session = await c.createSession("Cablevision");
    assert.strictEqual(session.action, "authenticate");
    const url = c.authenticationUrl(session.code);
    assert.strictEqual(url.slice(-session.code.length), session.code);
    await admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: { zip: "10001" } });
    const profile = await c.awaitProfile(session);
    assert.strictEqual(profile.mvpd, "Cablevision");
    assert.strictEqual(profile.attributes.zip, "10001");

    const pre = await c.preauthorize("Cablevision", ["news", "sports", "movies", "kids", "late-night", "cooking"]);
    assert.deepStrictEqual(pre.map((d) => d.kind), ["permit", "permit", "permit", "permit", "deny", "deny"]);
    assert.strictEqual(pre[4].reason, "parentalControls");

    const permit = await c.authorize("Cablevision", "news");
    assert.strictEqual(permit.kind, "permit");
    assert.ok(permit.mediaToken.serialized.length > 0);
    const deny = await c.authorize("Cablevision", "late-night");
    assert.strictEqual(deny.kind, "deny");
    assert.strictEqual(deny.error.code, "authorization_denied_by_parental_controls");

    const promo = await c.authorizeTempPass("TempPass_Promo", "movies", { email: "Viewer@Example.com" });
    assert.strictEqual(promo.kind, "permit");
    const sent = (await requests()).find((r) => r.path.indexOf("/decisions/authorize/TempPass_Promo") >= 0);
    const identity = sent.headers.find((h) => h[0] === "ap-temppass-identity")[1];
    const hashed = JSON.parse(Buffer.from(identity, "base64").toString());
    // trimmed, lower-cased and hashed on the device (Node's own SHA-256 as the reference)
    assert.strictEqual(hashed.email, createHash("sha256").update("viewer@example.com").digest("hex"));
    assert.ok(JSON.stringify(await requests()).toLowerCase().indexOf("viewer@example.com") < 0, "the raw identifier is never sent");

    const logout = await c.logout("Cablevision");
    assert.strictEqual(logout.kind, "openUrl");
    // register, token, configuration, session, 1 poll, 2 preauthorize batches, 2 authorize,
    // TempPass authorize, logout
    assert.strictEqual(await count("/o/client/register"), 1);
    assert.strictEqual((await requests()).length, 11);
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
    assert.strictEqual((await second.authorize("Spectrum", "news")).kind, "permit");
    assert.strictEqual((await requests()).length, 1);
  });

  // A resource as the decisions page defines one: an MRSS document with a rating, on lines.
  const rated = [
    '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">',
    "    <channel>",
    "        <title>REF30</title>",
    '        <media:rating scheme="urn:mpaa">pg</media:rating>',
    "    </channel>",
    "</rss>",
  ].join("\n");
  /** An episode of `bytes` bytes: an item with its guid and a v-chip rating, padded with spaces. */
  const episode = (channel, bytes) => {
    const head =
      '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">\r\n\t<channel>\r\n' +
      `\t\t<title>${channel}</title>\r\n\t\t<item>\r\n\t\t\t<title>The Pilot</title>\r\n` +
      `\t\t\t<guid>urn:${channel}:episode:1</guid>\r\n` +
      '\t\t\t<media:rating scheme="urn:v-chip">tv-14</media:rating>\r\n\t\t</item>\r\n';
    const tail = "\t</channel>\r\n</rss>";
    return head + " ".repeat(bytes - head.length - tail.length) + tail;
  };

  test("a device clock an hour or a day off still logs in and keeps what is valid", async () => {
    const hour = 3600000;
    const offsets = [hour, 24 * hour, -hour, -24 * hour];
    for (let i = 0; i < offsets.length; i++) {
      await admin("POST", "/__emulator/reset");
      await admin("PUT", "/__emulator/clock/skew", { ms: -offsets[i] });
      const c = client(mapStorage());
      const session = await c.createSession("Cablevision");
      await admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: {} });
      const profile = await c.awaitProfile(session);
      assert.strictEqual(profile.mvpd, "Cablevision");
      const asked = await count("/api/v2/REF30/profiles");
      assert.strictEqual((await c.profiles()).length, 1);
      assert.strictEqual(await count("/api/v2/REF30/profiles"), asked, `the profile is kept (${offsets[i]} ms)`);
      await c.preauthorize("Cablevision", ["news", "sports"]);
      const before = await count("/api/v2/REF30/decisions");
      const again = await c.preauthorize("Cablevision", ["news", "sports"]);
      assert.deepStrictEqual(again.map((d) => d.kind), ["permit", "permit"]);
      assert.strictEqual(await count("/api/v2/REF30/decisions"), before, `the Permits are kept (${offsets[i]} ms)`);
      assert.strictEqual((await c.authorize("Cablevision", "news")).kind, "permit");
    }
    await admin("POST", "/__emulator/reset");
  });

  test("MRSS resources are authorized and preauthorized as written", async () => {
    await admin("POST", "/__emulator/reset");
    const c = client(mapStorage());
    const session = await c.createSession("Cablevision");
    await admin("POST", `/__emulator/sessions/${session.code}/complete`, { attributes: {} });
    await c.awaitProfile(session);
    const large = episode("REF30", 4096);
    const resources = [rated, episode("REF30", 289), large];
    for (let i = 0; i < resources.length; i++) {
      const d = await c.authorize("Cablevision", resources[i]);
      assert.strictEqual(d.kind, "permit", resources[i]);
      assert.strictEqual(d.resource, resources[i]);
      const sent = last((await requests()).filter((r) => r.path.indexOf("/decisions/authorize/") >= 0));
      assert.deepStrictEqual(JSON.parse(sent.body).resources, [resources[i]]);
    }
    const late = episode("late-night", 400);
    const pre = await c.preauthorize("Cablevision", [rated, large, late]);
    assert.deepStrictEqual(pre.map((d) => d.resource), [rated, large, late]);
    assert.deepStrictEqual(pre.map((d) => d.kind), ["permit", "permit", "deny"]);
    assert.strictEqual(pre[2].reason, "parentalControls");
    assert.strictEqual((await c.authorizeTempPass("TempPass_10min", rated)).kind, "permit");
    const promo = await c.authorizeTempPass("TempPass_Promo", large, { email: "viewer@example.com" });
    assert.strictEqual(promo.kind, "permit");
    await rejects(
      c.authorize("Cablevision", episode("REF30", 8 * 1024 + 1)),
      (e) => e instanceof InvalidConfigurationError && e.setting === "resource",
      "a resource over 8 KiB"
    );
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
    await rejects(call, (e) => e.name === "AbortError", "an aborted call");
    const took = performance.now() - abortedAt;
    assert.ok(took < 100, `ended ${took} ms after the abort`);
    const next = await c.authorize("Cablevision", "news");
    assert.strictEqual(next.kind, "deny");
    assert.strictEqual(next.reason, "profileMissing");
  });

  if (ownFetch) test("requests go out on an engine without AbortController (Chromium before 66)", async () => {
    await admin("POST", "/__emulator/reset");
    const saved = global.AbortController;
    delete global.AbortController;
    try {
      assert.strictEqual(typeof AbortController, "undefined");
      const c = client(mapStorage());
      assert.strictEqual((await c.authorize("Cablevision", "news")).reason, "profileMissing");
      assert.strictEqual((await requests()).length, 3, "register, token and the decision");
    } finally {
      global.AbortController = saved;
    }
  });

  test("bad settings are typed errors", () => {
    assert.throws(
      () => new PassClient({ baseUrl: base }),
      (e) => e instanceof InvalidConfigurationError && e instanceof PassError && e.code === "invalidConfiguration" && e.setting === "storage",
    );
    assert.throws(
      () => new PassClient({ baseUrl: "http://example.com", serviceProvider: "REF30", softwareStatement: "x", storage: mapStorage() }),
      (e) => e.name === "PassError" && e.setting === "environment" && e.message.indexOf("http") >= 0,
    );
  });

  test("pacing, retries and single flight run on the JavaScript event loop", async () => {
    await admin("POST", "/__emulator/reset");
    // Single flight: ten concurrent cold calls register and fetch a token once.
    const cold = client(mapStorage());
    const calls = [];
    for (let i = 0; i < 10; i++) calls.push(cold.authorize("Cablevision", "news"));
    const all = await Promise.all(calls);
    assert.ok(all.every((d) => d.kind === "deny" && d.reason === "profileMissing"));
    assert.strictEqual(await count("/o/client/register"), 1);
    assert.strictEqual(await count("/o/client/token"), 1);

    // Retries: two 500s, then the answer; the backoff waits on JS timers.
    await admin("POST", "/__emulator/faults", {
      path: "/api/v2/REF30/decisions",
      fault: { kind: "status", status: 500 },
      remaining: 2,
    });
    await admin("DELETE", "/__emulator/requests");
    assert.strictEqual((await cold.authorize("Cablevision", "news")).kind, "deny");
    assert.strictEqual((await requests()).length, 3, "two failures and the answer");

    // The same Deny when the error comes at top level (403) instead of inside the item, unretried.
    await admin("POST", "/__emulator/faults", {
      path: "/api/v2/REF30/decisions",
      fault: { kind: "top_level_error", code: "authenticated_profile_missing" },
      remaining: 1,
    });
    await admin("DELETE", "/__emulator/requests");
    const topLevel = await cold.authorize("Cablevision", "news");
    assert.strictEqual(topLevel.reason, "profileMissing");
    assert.strictEqual(topLevel.error.status, 403);
    assert.strictEqual((await requests()).length, 1, "one request");

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
    assert.strictEqual(sent.length, 14, "register, token and 12 decisions");
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
    assert.strictEqual(profile.mvpd, "Spectrum");
    assert.ok(performance.now() - started >= 2500, "the second poll waited for the polling interval");
    assert.strictEqual(await count("/api/v2/REF30/profiles/code/"), 2);

    // A platform identity goes on the documented calls.
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWItdXNlciIsImV4cCI6NDAwMDAwMDAwMH0.c2ln";
    c.setSubjectToken(token);
    await c.profiles();
    const asked = last((await requests()).filter((r) => r.path === "/api/v2/REF30/profiles"));
    assert.ok(asked.headers.some((h) => h[0] === "adobe-subject-token" && h[1] === token));
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
    await rejects(slow.authorize("Spectrum", "news"), (e) => e instanceof TimeoutError && e.code === "timeout", "timeouts");

    // The SDK's lines reached the callback, and no secret did.
    assert.ok(lines.some((l) => l.indexOf("debug tvpass") === 0), `log lines: ${lines.length}`);
    const secrets = [token];
    storage.values.forEach((v) => {
      const pattern = /"(client_secret|access_token)":"([^"]+)"/g;
      for (let m = pattern.exec(v); m; m = pattern.exec(v)) secrets.push(m[2]);
    });
    assert.ok(secrets.length >= 3);
    for (const s of secrets) assert.ok(!lines.some((l) => l.indexOf(s) >= 0), "a secret reached the log");
  });
}
