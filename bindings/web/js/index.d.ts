// tvpass for the web TV platforms (Samsung Tizen, LG webOS): types of the JavaScript API.

/** What the device says about itself (`X-Device-Info`); restricted values as the API documents them. */
export interface DeviceInfo {
  primaryHardwareType?: string; model?: string; version?: string; manufacturer?: string; vendor?: string;
  osName?: string; osFamily?: string; osVendor?: string; osVersion?: string;
  browserName?: string; browserVendor?: string; browserVersion?: string; userAgent?: string;
}

/** Where the SDK keeps credentials, the token, profiles and the device id. */
export interface StorageLike {
  get(key: string): string | null | undefined;
  set(key: string, value: string): void;
  remove(key: string): void;
}

export interface ClientOptions {
  baseUrl: string;
  serviceProvider: string;
  softwareStatement: string;
  deviceInfo?: DeviceInfo;
  /** A stable device id; by default one is generated once and kept in storage. */
  deviceId?: string;
  /** Default: `localStorage`. */
  storage?: StorageLike;
  /** Pace requests to the service's limit (default true). */
  paceRequests?: boolean;
  /** Time allowed for one request, in ms (default 10000); a call retries within 30 s in all. */
  requestTimeoutMs?: number;
}

export interface CallOptions { signal?: AbortSignal }

export interface MediaToken { serialized: string; notBefore: number; notAfter: number }

export interface EnhancedError {
  code: string; message: string; status: number; action: string; details?: string; helpUrl?: string;
}

export type DenyReason =
  | "deniedByMvpd" | "preauthorizationDeniedByMvpd" | "parentalControls" | "degradationRule"
  | "tempPassDurationExceeded" | "tempPassResourcesExceeded" | "tempPassIdentityInvalid"
  | "profileMissing" | "profileExpired" | "profileInvalidated" | "hbaPolicies" | "sessionInvalidated"
  | "identityNotRecognized" | "partnerUnavailable" | "misconfigured" | "partnerStatus" | "other";

export type DecisionSource = "mvpd" | "degradation" | "tempPass" | "dummy" | "other";

export type Decision =
  | { kind: "permit"; resource: string; mvpd: string; source: DecisionSource; mediaToken?: MediaToken }
  | { kind: "deny"; resource: string; mvpd: string; source: DecisionSource; reason: DenyReason; error: EnhancedError };

export interface TempPassInfo { remainingResources?: number; expiration?: number; usedAssets: string[] }

export interface Profile {
  mvpd: string;
  type: "regular" | "degraded" | "temporary" | "appleSso" | "platformSso" | "serviceTokenSso" | "other";
  issuer: string; notBefore: number; notAfter: number;
  attributes: Record<string, string>;
  tempPass?: TempPassInfo;
}

export interface Mvpd { id: string; displayName: string; logoUrl?: string; isTempPass: boolean }
export interface Configuration { serviceProvider: string; name: string; mvpds: Mvpd[]; pickerMvpds: string[] }

/** An authentication session; show `code` (or open `url`), then `awaitProfile`. */
export interface AuthSession {
  readonly action: "authenticate" | "resume" | "authorize" | "partnerProfile" | "other";
  readonly code?: string; readonly mvpd?: string; readonly url?: string;
}

export type LogoutAction =
  | { kind: "openUrl"; url: string }
  | { kind: "complete" | "partnerLogout" | "noProfile" | "other" };

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

export class PassError extends Error {
  readonly code: string; readonly setting?: string; readonly status?: number;
  readonly errorCode?: string; readonly action?: string;
  /** `UnavailableError`: milliseconds until a failing-fast service probes again. */
  readonly retryAfterMs?: number;
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
/** A service failing fast while Adobe Pass is down (a device's client never is). */
export class UnavailableError extends PassError {}

/**
 * Loads the SDK once: the WebAssembly module (from `input`, or by default from beside the package),
 * or on engines without WebAssembly the JavaScript build. Resolves with the build in use.
 */
export function init(
  input?: string | URL | Request | Response | BufferSource | WebAssembly.Module,
  options?: { engine?: "auto" | "wasm" | "js" },
): Promise<"wasm" | "js">;
export function initSync(bytes: BufferSource | WebAssembly.Module): void;
export function setLogger(callback: (level: LogLevel, target: string, message: string) => void, level?: LogLevel): void;

export class PassClient {
  constructor(options: ClientOptions);
  configuration(options?: CallOptions): Promise<Configuration>;
  createSession(mvpd: string, options?: CallOptions): Promise<AuthSession>;
  authenticationUrl(code: string): string;
  awaitProfile(session: AuthSession, options?: CallOptions): Promise<Profile>;
  profiles(options?: CallOptions): Promise<Profile[]>;
  preauthorize(mvpd: string, resources: string[], options?: CallOptions): Promise<Decision[]>;
  authorize(mvpd: string, resource: string, options?: CallOptions): Promise<Decision>;
  authorizeTempPass(mvpd: string, resource: string, options?: CallOptions & { email?: string }): Promise<Decision>;
  logout(mvpd: string, options?: CallOptions): Promise<LogoutAction>;
  setSubjectToken(token: string | null): void;
  setServiceToken(token: string | null): void;
  setVisitorId(ecid: string | null): void;
}
