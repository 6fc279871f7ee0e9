// Type-checked against dist/index.d.ts by the test command (tsc --noEmit): the API as a
// TypeScript app uses it, including the Decision union narrowed by `kind`.
import {
  PassClient, PassError, ThrottledError, UnavailableError, init, setLogger, type Decision,
} from "../dist/index.js";

/** The app's own screen: the code and the page where the user logs in. */
declare function showCode(code: string, url: string): void;

export async function journey(signal: AbortSignal): Promise<string> {
  // guide: journey
  await init(); // loads tvpass_web_bg.wasm from beside index.js
  setLogger((level, target, message) => console.log(level, target, message), "info");
  const client = new PassClient({
    baseUrl: "https://api.auth.adobe.com",
    serviceProvider: "REF30",
    softwareStatement: "...",
    deviceInfo: { primaryHardwareType: "TV", osName: "webOS", osVendor: "LG" },
  });
  const session = await client.createSession("Cablevision", { signal });
  if (session.code) {
    showCode(session.code, client.authenticationUrl(session.code)); // a second screen
    await client.awaitProfile(session, { signal }); // polls every 3 s; abort to stop
  }
  const decision: Decision = await client.authorize("Cablevision", "news", { signal });
  try {
    await client.preauthorize("Cablevision", ["news", "sports"]);
  } catch (e) {
    if (e instanceof ThrottledError) return "later";
    if (e instanceof PassError) return e.code;
  }
  switch (decision.kind) {
    case "permit":
      return decision.mediaToken?.serialized ?? "";
    case "deny":
      return `${decision.reason}: ${decision.error.message}`;
  }
  // end guide
}

/** A server's failing-fast error, as an app that shares code with its backend reads it. */
export function nextProbe(e: unknown): number | undefined {
  return e instanceof UnavailableError ? e.retryAfterMs : undefined;
}

export async function loadOnAnOldTv(): Promise<"wasm" | "js"> {
  // guide: old engines
  // TVs without WebAssembly get the JavaScript build; the URL serves engines without import.meta.
  const build = await init("tvpass_web_bg.wasm"); // "wasm" or "js"
  // end guide
  return build;
}
