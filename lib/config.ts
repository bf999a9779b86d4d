/**
 * One typed config object from the environment. Every variable is documented
 * in the README's configuration table; nothing else reads the environment.
 *
 * @module
 */

import type { StoreTarget } from "./store/mod.ts";
import type { ProjectBudgetLimits } from "./http/project_budgets.ts";
import { DEFAULT_FRICTION, type FrictionConfig } from "./sessions/friction.ts";
import { MAX_PATTERNS, type RedactPattern, validatePattern } from "./sessions/redact.ts";

/** Where streams are stored. */
export type StoreConfig = StoreTarget;

/** The server's configuration. */
export interface Config {
  hostname: string;
  port: number;
  /** "production" refuses insecure defaults; "development" allows them. */
  mode: "production" | "development";
  store: StoreConfig;
  /** Prefix of every stream name, so deployments can share a basin ("" = none). */
  streamPrefix: string;
  retentionDays: number;
  deleteEmptyAfterHours: number;
  /** Where the embedded store and the development secret live. */
  dataDir: string;
  /** Log lines as text or JSON; whether each request gets one. */
  log: { format: "text" | "json"; requests: boolean };
  /** Friction signal thresholds (REPLAYA_FRICTION_*; lib/sessions/friction.ts). */
  friction: FrictionConfig;
  ingest: IngestConfig;
  dashboard: DashboardConfig;
  http: HttpConfig;
  assets: AssetCacheConfig;
  privacy: PrivacyConfig;
  /** Things that are allowed but probably mistakes (unknown REPLAYA_* variables); printed at start. */
  warnings: string[];
}

/** Limits and trust at the HTTP edge, for every route. */
export interface HttpConfig {
  /**
   * Host names the dashboard answers to besides IP addresses (lowercase, no
   * port): "localhost" plus the hosts of REPLAYA_PUBLIC_URL. Anything else
   * gets 421, which defeats DNS rebinding.
   */
  allowedHosts: string[];
  /** How many reverse proxies in front append to X-Forwarded-For; 0 = trust no forwarded header. */
  trustProxyHops: number;
  /** A request body must arrive within this long (slow uploads are cut off with 408). */
  bodyTimeoutMs: number;
  /** In-flight requests (open streams included) one client address may hold. */
  maxConcurrentPerClient: number;
  /** Open response streams: per read token, per process, and how long a client may take nothing (lib/http/streams.ts). */
  streams: { perToken: number; total: number; stallMs: number };
}

/** The opt-in server-side cache of the images and fonts recordings reference (REPLAYA_ASSET_*). */
export interface AssetCacheConfig {
  enabled: boolean;
  /** Largest asset fetched and stored. */
  maxBytes: number;
  /** Content types fetched, `type/subtype` or `type/*`. */
  types: string[];
  /** Fetch from loopback, private and link-local addresses too (off: refused after DNS resolution). */
  allowPrivate: boolean;
}

/** Server-side redaction (lib/sessions/redact.ts) and encryption at rest (lib/store/encrypted.ts). */
export interface PrivacyConfig {
  /** Redact PII before it is stored (REPLAYA_REDACTION, default on). */
  redaction: boolean;
  /** Project names (from REPLAYA_PROJECT_KEYS) recorded without redaction. */
  redactionOffProjects: string[];
  /** Extra patterns, each replaced with `[redacted:<name>]`. */
  redactPatterns: RedactPattern[];
  /** The 32-byte master key that wraps every stream's data key; undefined = not encrypted. */
  encryptionKey?: Uint8Array;
}

/** Read-side access control. */
export interface DashboardConfig {
  /** The admin token for the login form; undefined = no login (loopback only). */
  adminToken?: string;
  /** Serve /api/health and /metrics without login (for load balancers and scrapers). */
  publicOps: boolean;
  /**
   * Where replays may load images, fonts and media from: "recorded" (where
   * the recording points, or the asset cache's copy) or "cached-only" (the
   * dashboard's own origin: the cache's copies, data: and blob: URLs; the
   * pages' CSP says so).
   */
  replayAssets: "recorded" | "cached-only";
}

/**
 * Whether an IP address is a loopback address (127.0.0.0/8, ::1 or
 * ::ffff:127.x). Names are not addresses: "127.0.0.1.nip.io" is not loopback.
 */
export function isLoopbackAddress(address: string): boolean {
  const ip = address.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const v4 = ip.replace(/^::ffff:/, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v4)) return v4.split(".").every((n) => Number(n) <= 255) && v4.startsWith("127.");
  return /^(0{0,4}:){2,7}0{0,3}1$/.test(ip) || ip === "::1";
}

/** Host names the dashboard always answers to (besides IP addresses, which DNS rebinding cannot forge). */
export const LOOPBACK_HOSTS = ["localhost"];

/** Limits and keys of the public ingest API. */
export interface IngestConfig {
  /** Public, write-only project keys: key → project name. Empty = one derived key. */
  projectKeys: Map<string, string>;
  /** Origins allowed to send recordings; empty = any origin. */
  allowedOrigins: string[];
  /** HMAC secret for append tokens; undefined = generated and kept in the data dir (development only). */
  appendTokenSecret?: string;
  /** A session quiet for this long shows as disconnected. */
  leaseSecs: number;
  /** A session quiet for this long is stopped: the outage a recorder can buffer through. */
  fenceAfterSecs: number;
  maxBodyBytes: number;
  maxInflatedBytes: number;
  maxEventsPerBatch: number;
  /** Requests per minute from one client address. */
  clientRatePerMinute: number;
  /** Requests per second to one session. */
  sessionRatePerSecond: number;
  /** What one project's public key may cost (lib/http/project_budgets.ts; 0 = no limit). */
  projectBudgets: ProjectBudgetLimits;
}

/** Integers that may be 0 (a budget of 0 is no limit). */
const ZERO_UP = { min: 0, max: Number.MAX_SAFE_INTEGER };
const MIB = 1024 * 1024;

/** A configuration mistake, reported before the server starts. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads the configuration from an environment map.
 *
 * @example
 * const config = loadConfig(Deno.env.toObject());
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const read = new Set<string>();
  const get = (name: string) => {
    read.add(name);
    return env[name]?.trim() || undefined;
  };
  const dataDir = get("REPLAYA_DATA_DIR") ?? "./data";
  const s2Configured = ["S2_ACCESS_TOKEN", "S2_ACCOUNT_ENDPOINT", "S2_BASIN_ENDPOINT", "S2_BASIN"].map(get).some(
    Boolean,
  );
  const store: StoreConfig = s2Configured
    ? {
      backend: "s2",
      accessToken: get("S2_ACCESS_TOKEN") ?? "",
      basin: get("S2_BASIN") ?? "replaya-sessions",
      accountEndpoint: get("S2_ACCOUNT_ENDPOINT") ?? get("S2_BASIN_ENDPOINT"),
      basinEndpoint: get("S2_BASIN_ENDPOINT") ?? get("S2_ACCOUNT_ENDPOINT"),
    }
    : { backend: "sqlite", path: `${dataDir.replace(/\/+$/, "")}/replaya.db` };
  if (store.backend === "s2") {
    if (!store.accessToken && !store.accountEndpoint) {
      throw new ConfigError("S2_ACCESS_TOKEN is required for S2 Cloud (or set S2_ACCOUNT_ENDPOINT for s2-lite)");
    }
    if (!/^[a-z0-9][a-z0-9-]{6,46}[a-z0-9]$/.test(store.basin)) {
      throw new ConfigError(`S2_BASIN "${store.basin}" must be 8–48 lowercase letters, digits or hyphens`);
    }
    store.accessToken ||= "unused-by-s2-lite";
  }
  const streamPrefix = get("REPLAYA_STREAM_PREFIX") ?? "";
  if (streamPrefix && !/^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,99}$/.test(streamPrefix)) {
    throw new ConfigError(
      `REPLAYA_STREAM_PREFIX "${streamPrefix}" must be up to 100 letters, digits, ".", "_", "-" or "/" (e.g. "staging/")`,
    );
  }
  const mode = oneOf(get("REPLAYA_ENV"), ["development", "production"], "development", "REPLAYA_ENV");
  const secret = get("REPLAYA_APPEND_TOKEN_SECRET");
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError("REPLAYA_APPEND_TOKEN_SECRET must be at least 32 characters");
  }
  if (mode === "production" && secret === undefined) {
    throw new ConfigError(
      "REPLAYA_APPEND_TOKEN_SECRET is required in production (a stable secret of at least 32 characters, e.g. `openssl rand -hex 32`)",
    );
  }
  const hostname = get("REPLAYA_HOST") ?? "127.0.0.1";
  const adminToken = get("REPLAYA_ADMIN_TOKEN");
  // Only an address or "localhost" counts as loopback here; server.ts checks the address actually bound.
  if (!adminToken && hostname !== "localhost" && !isLoopbackAddress(hostname)) {
    throw new ConfigError(
      `REPLAYA_ADMIN_TOKEN is required to listen on ${hostname}: the dashboard shows your visitors' sessions. Set it, or listen on 127.0.0.1.`,
    );
  }
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError("REPLAYA_ADMIN_TOKEN must be at least 16 characters");
  }
  const publicHosts = list(get("REPLAYA_PUBLIC_URL")).map(publicHost);
  const port = get("REPLAYA_PORT");
  const leaseSecs = integer(get("REPLAYA_LEASE_SECS"), 45, "REPLAYA_LEASE_SECS");
  const fenceAfterSecs = integer(get("REPLAYA_FENCE_AFTER_SECS"), 360, "REPLAYA_FENCE_AFTER_SECS");
  if (fenceAfterSecs < leaseSecs) {
    throw new ConfigError(
      `REPLAYA_FENCE_AFTER_SECS (${fenceAfterSecs}) must be at least REPLAYA_LEASE_SECS (${leaseSecs})`,
    );
  }
  const config: Config = {
    dataDir,
    dashboard: {
      adminToken,
      publicOps: boolean(get("REPLAYA_PUBLIC_OPS"), false, "REPLAYA_PUBLIC_OPS"),
      replayAssets: oneOf(
        get("REPLAYA_REPLAY_ASSETS"),
        ["recorded", "cached-only"],
        "recorded",
        "REPLAYA_REPLAY_ASSETS",
      ),
    },
    hostname,
    port: integer(get("PORT") ?? port, 8080, "PORT", { min: 0, max: 65_535 }),
    mode,
    store,
    streamPrefix,
    log: {
      format: oneOf(get("REPLAYA_LOG_FORMAT"), ["text", "json"], "text", "REPLAYA_LOG_FORMAT"),
      requests: boolean(get("REPLAYA_LOG_REQUESTS"), true, "REPLAYA_LOG_REQUESTS"),
    },
    friction: frictionConfig(get),
    retentionDays: integer(get("REPLAYA_RETENTION_DAYS"), 28, "REPLAYA_RETENTION_DAYS"),
    deleteEmptyAfterHours: integer(get("REPLAYA_DELETE_EMPTY_AFTER_HOURS"), 24, "REPLAYA_DELETE_EMPTY_AFTER_HOURS"),
    ingest: {
      projectKeys: projectKeys(get("REPLAYA_PROJECT_KEYS")),
      allowedOrigins: list(get("REPLAYA_ALLOWED_ORIGINS")).map(origin),
      appendTokenSecret: secret,
      leaseSecs,
      fenceAfterSecs,
      maxBodyBytes: integer(get("REPLAYA_MAX_BODY_BYTES"), 4 * 1024 * 1024, "REPLAYA_MAX_BODY_BYTES"),
      maxInflatedBytes: integer(get("REPLAYA_MAX_INFLATED_BYTES"), 16 * 1024 * 1024, "REPLAYA_MAX_INFLATED_BYTES"),
      maxEventsPerBatch: integer(get("REPLAYA_MAX_EVENTS_PER_BATCH"), 5000, "REPLAYA_MAX_EVENTS_PER_BATCH"),
      clientRatePerMinute: integer(get("REPLAYA_CLIENT_RATE_PER_MINUTE"), 1200, "REPLAYA_CLIENT_RATE_PER_MINUTE"),
      sessionRatePerSecond: integer(get("REPLAYA_SESSION_RATE_PER_SECOND"), 20, "REPLAYA_SESSION_RATE_PER_SECOND"),
      projectBudgets: projectBudgets(get),
    },
    http: {
      allowedHosts: [...new Set([...LOOPBACK_HOSTS, ...publicHosts])],
      trustProxyHops: proxyHops(get("REPLAYA_TRUST_PROXY")),
      bodyTimeoutMs: integer(get("REPLAYA_BODY_TIMEOUT_SECS"), 20, "REPLAYA_BODY_TIMEOUT_SECS") * 1000,
      maxConcurrentPerClient: integer(
        get("REPLAYA_MAX_CONCURRENT_PER_CLIENT"),
        64,
        "REPLAYA_MAX_CONCURRENT_PER_CLIENT",
      ),
      streams: streamLimits(get),
    },
    assets: assetCacheConfig(get),
    privacy: {
      redaction: boolean(get("REPLAYA_REDACTION"), true, "REPLAYA_REDACTION"),
      redactionOffProjects: list(get("REPLAYA_REDACTION_OFF_PROJECTS")),
      redactPatterns: redactPatterns(get("REPLAYA_REDACT_PATTERNS")),
      encryptionKey: encryptionKey(get("REPLAYA_ENCRYPTION_KEY")),
    },
    warnings: [],
  };
  const projects = new Set(config.ingest.projectKeys.size ? config.ingest.projectKeys.values() : ["default"]);
  for (const name of config.privacy.redactionOffProjects) {
    if (!projects.has(name)) {
      throw new ConfigError(
        `REPLAYA_REDACTION_OFF_PROJECTS: "${name}" is not a project of REPLAYA_PROJECT_KEYS (${
          [...projects].join(", ")
        })`,
      );
    }
  }
  const unknown = Object.keys(env).filter((name) => name.startsWith("REPLAYA_") && !read.has(name));
  config.warnings = unknown.map((name) => `${name} is not a RePlaya setting and is ignored (see the README)`);
  if (publicHosts.length === 0 && hostname !== "localhost" && !isLoopbackAddress(hostname)) {
    config.warnings.push(
      `REPLAYA_PUBLIC_URL is not set: the dashboard answers only to localhost and IP addresses, not to a domain name`,
    );
  }
  return config;
}

type Get = (name: string) => string | undefined;

/** What one project's public key may cost (REPLAYA_PROJECT_*). */
function projectBudgets(get: Get): ProjectBudgetLimits {
  return {
    startsPerSec: integer(get("REPLAYA_PROJECT_STARTS_PER_SEC"), 50, "REPLAYA_PROJECT_STARTS_PER_SEC", ZERO_UP),
    startsPerDay: integer(
      get("REPLAYA_PROJECT_STARTS_PER_DAY"),
      200_000,
      "REPLAYA_PROJECT_STARTS_PER_DAY",
      ZERO_UP,
    ),
    inflatedBytesPerSec: MIB *
      integer(get("REPLAYA_PROJECT_INFLATED_MB_PER_SEC"), 32, "REPLAYA_PROJECT_INFLATED_MB_PER_SEC", ZERO_UP),
    storedBytesPerDay: MIB *
      integer(get("REPLAYA_PROJECT_STORED_MB_PER_DAY"), 0, "REPLAYA_PROJECT_STORED_MB_PER_DAY", ZERO_UP),
  };
}

/** Open response streams (REPLAYA_MAX_STREAMS*, REPLAYA_STREAM_STALL_SECS). */
function streamLimits(get: Get): HttpConfig["streams"] {
  return {
    perToken: integer(get("REPLAYA_MAX_STREAMS_PER_TOKEN"), 16, "REPLAYA_MAX_STREAMS_PER_TOKEN"),
    total: integer(get("REPLAYA_MAX_STREAMS"), 1024, "REPLAYA_MAX_STREAMS"),
    stallMs: integer(get("REPLAYA_STREAM_STALL_SECS"), 30, "REPLAYA_STREAM_STALL_SECS") * 1000,
  };
}

/** The opt-in asset cache (REPLAYA_ASSET_*). */
function assetCacheConfig(get: Get): AssetCacheConfig {
  return {
    enabled: boolean(get("REPLAYA_ASSET_CACHE"), false, "REPLAYA_ASSET_CACHE"),
    maxBytes: integer(get("REPLAYA_ASSET_MAX_BYTES"), 5 * 1024 * 1024, "REPLAYA_ASSET_MAX_BYTES", {
      min: 1,
      max: 64 * 1024 * 1024,
    }),
    types: assetTypes(get("REPLAYA_ASSET_TYPES")),
    allowPrivate: boolean(get("REPLAYA_ASSET_ALLOW_PRIVATE"), false, "REPLAYA_ASSET_ALLOW_PRIVATE"),
  };
}

/** `{"name": "regex", …}`: each validated (length, compiles, no nested quantifiers or backreferences). */
function redactPatterns(value: string | undefined): RedactPattern[] {
  if (value === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`REPLAYA_REDACT_PATTERNS must be a JSON object of name → regex, e.g. {"order":"ORD-\\d{8}"}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`REPLAYA_REDACT_PATTERNS must be a JSON object of name → regex`);
  }
  const entries = Object.entries(parsed);
  if (entries.length > MAX_PATTERNS) throw new ConfigError(`REPLAYA_REDACT_PATTERNS: at most ${MAX_PATTERNS} patterns`);
  return entries.map(([name, source]) => {
    if (!/^[a-z0-9_-]{1,32}$/.test(name)) {
      throw new ConfigError(`REPLAYA_REDACT_PATTERNS: name "${name}" must be 1–32 lowercase letters, digits, _ or -`);
    }
    const problem = typeof source === "string" ? validatePattern(source) : "must be a string";
    if (problem) throw new ConfigError(`REPLAYA_REDACT_PATTERNS: pattern "${name}" ${problem}`);
    return { name, source: source as string };
  });
}

/** Base64 of exactly 32 random bytes (`openssl rand -base64 32`). */
function encryptionKey(value: string | undefined): Uint8Array | undefined {
  if (value === undefined) return undefined;
  let bytes: Uint8Array | undefined;
  try {
    bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Uint8Array.from(atob(value), (c) => c.charCodeAt(0)) : undefined;
  } catch {
    bytes = undefined;
  }
  if (bytes?.length !== 32) {
    throw new ConfigError("REPLAYA_ENCRYPTION_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)");
  }
  return bytes;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

/** Content types the asset cache may store: images and fonts by default; never a document type. */
function assetTypes(value: string | undefined): string[] {
  const types = list(value ?? "image/*,font/*").map((t) => t.toLowerCase());
  for (const type of types) {
    if (!/^[a-z]+\/([a-z0-9.+-]+|\*)$/.test(type) || /^(\*|text\/html|application\/xhtml\+xml|text\/\*)/.test(type)) {
      throw new ConfigError(
        `REPLAYA_ASSET_TYPES: "${type}" must be a content type like image/png or image/* (documents are never cached)`,
      );
    }
  }
  return types;
}

function origin(value: string): string {
  try {
    const url = new URL(value);
    if (url.origin === "null") throw new Error();
    return url.origin;
  } catch {
    throw new ConfigError(`REPLAYA_ALLOWED_ORIGINS: "${value}" is not an origin like https://www.example.com`);
  }
}

/** `name=pk_…` or bare `pk_…`, comma-separated. */
function projectKeys(value: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const entry of list(value)) {
    const [name, key] = entry.includes("=") ? entry.split("=", 2) : ["default", entry];
    if (!/^pk_[A-Za-z0-9_-]{8,64}$/.test(key)) {
      throw new ConfigError(`REPLAYA_PROJECT_KEYS: "${key}" must look like pk_ followed by 8–64 letters or digits`);
    }
    keys.set(key, name.trim() || "default");
  }
  return keys;
}

/** Allowed range of each friction threshold: wide enough to tune, narrow enough that no value disables a signal. */
const FRICTION_RANGES: Record<keyof FrictionConfig, { min: number; max: number }> = {
  rageClicks: { min: 2, max: 20 },
  rageRadiusPx: { min: 1, max: 2_000 },
  rageWindowMs: { min: 100, max: 60_000 },
  deadWindowMs: { min: 100, max: 60_000 },
  errorWindowMs: { min: 100, max: 60_000 },
  scrollReversals: { min: 2, max: 20 },
  scrollWindowMs: { min: 100, max: 60_000 },
  scrollMinPx: { min: 1, max: 10_000 },
  focusRepeats: { min: 2, max: 50 },
  focusWindowMs: { min: 100, max: 600_000 },
};

/** `REPLAYA_FRICTION_RAGE_CLICKS` … `REPLAYA_FRICTION_FOCUS_WINDOW_MS`: one variable per threshold. */
export function frictionVariable(key: keyof FrictionConfig): string {
  return `REPLAYA_FRICTION_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function frictionConfig(get: (name: string) => string | undefined): FrictionConfig {
  const config = { ...DEFAULT_FRICTION };
  for (const key of Object.keys(FRICTION_RANGES) as Array<keyof FrictionConfig>) {
    const name = frictionVariable(key);
    config[key] = integer(get(name), DEFAULT_FRICTION[key], name, FRICTION_RANGES[key]);
  }
  return config;
}

function integer(
  value: string | undefined,
  fallback: number,
  name: string,
  range: { min: number; max: number } = { min: 1, max: Number.MAX_SAFE_INTEGER },
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    const what = range.max === Number.MAX_SAFE_INTEGER
      ? (range.min === 1 ? "a positive integer" : `an integer of at least ${range.min}`)
      : `an integer from ${range.min} to ${range.max}`;
    throw new ConfigError(`${name} must be ${what}, got "${value}"`);
  }
  return n;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/** The usual boolean spellings; anything else is a mistake worth stopping for. */
function boolean(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new ConfigError(`${name} must be true or false (1/0, yes/no, on/off), got "${value}"`);
}

/** A boolean (true = one proxy) or the number of trusted proxies in front. */
function proxyHops(value: string | undefined): number {
  if (value !== undefined && /^\d+$/.test(value)) return integer(value, 0, "REPLAYA_TRUST_PROXY", { min: 0, max: 10 });
  try {
    return boolean(value, false, "REPLAYA_TRUST_PROXY") ? 1 : 0;
  } catch {
    throw new ConfigError(
      `REPLAYA_TRUST_PROXY must be false, true (one proxy) or the number of proxies in front, got "${value}"`,
    );
  }
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${value}"`);
}

/** The host name of a public URL the dashboard is served under. */
function publicHost(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    return url.hostname.toLowerCase();
  } catch {
    throw new ConfigError(`REPLAYA_PUBLIC_URL: "${value}" is not a URL like https://replay.example.com`);
  }
}
