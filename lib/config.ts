/**
 * One typed config object from the environment. Every variable is documented
 * in the README's configuration table; nothing else reads the environment.
 *
 * @module
 */

/** Where streams are stored. */
export type StoreConfig =
  | { backend: "sqlite"; path: string }
  | {
    backend: "s2";
    accessToken: string;
    basin: string;
    accountEndpoint?: string;
    basinEndpoint?: string;
  };

/** The server's configuration. */
export interface Config {
  hostname: string;
  port: number;
  /** "production" refuses insecure defaults; "development" allows them. */
  mode: "production" | "development";
  store: StoreConfig;
  retentionDays: number;
  deleteEmptyAfterHours: number;
  /** Where the embedded store and the development secret live. */
  dataDir: string;
  ingest: IngestConfig;
  dashboard: DashboardConfig;
}

/** Read-side access control. */
export interface DashboardConfig {
  /** The admin token for the login form; undefined = no login (loopback only). */
  adminToken?: string;
  /** Serve /api/health and /metrics without login (for load balancers and scrapers). */
  publicOps: boolean;
}

/** Whether a listen address is reachable only from this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname === "[::1]" || /^127\./.test(hostname);
}

/** Limits and keys of the public ingest API. */
export interface IngestConfig {
  /** Public, write-only project keys: key → project name. Empty = one derived key. */
  projectKeys: Map<string, string>;
  /** Origins allowed to send recordings; empty = any origin. */
  allowedOrigins: string[];
  /** HMAC secret for append tokens; undefined = generated and kept in the data dir (development only). */
  appendTokenSecret?: string;
  leaseSecs: number;
  maxBodyBytes: number;
  maxInflatedBytes: number;
  maxEventsPerBatch: number;
  /** Requests per minute from one client address. */
  clientRatePerMinute: number;
  /** Requests per second to one session. */
  sessionRatePerSecond: number;
  /** Trust X-Forwarded-For for the client address (behind a reverse proxy). */
  trustProxy: boolean;
}

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
  const get = (name: string) => env[name]?.trim() || undefined;
  const dataDir = get("REPLAYA_DATA_DIR") ?? "./data";
  const s2Configured = ["S2_ACCESS_TOKEN", "S2_ACCOUNT_ENDPOINT", "S2_BASIN_ENDPOINT", "S2_BASIN"].some(get);
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
  const mode = get("REPLAYA_ENV") === "production" ? "production" : "development";
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
  if (!adminToken && !isLoopback(hostname)) {
    throw new ConfigError(
      `REPLAYA_ADMIN_TOKEN is required to listen on ${hostname}: the dashboard shows your visitors' sessions. Set it, or listen on 127.0.0.1.`,
    );
  }
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError("REPLAYA_ADMIN_TOKEN must be at least 16 characters");
  }
  return {
    dataDir,
    dashboard: { adminToken, publicOps: get("REPLAYA_PUBLIC_OPS") === "true" },
    hostname,
    port: integer(get("PORT") ?? get("REPLAYA_PORT"), 8080, "PORT"),
    mode,
    store,
    retentionDays: integer(get("REPLAYA_RETENTION_DAYS"), 28, "REPLAYA_RETENTION_DAYS"),
    deleteEmptyAfterHours: integer(get("REPLAYA_DELETE_EMPTY_AFTER_HOURS"), 24, "REPLAYA_DELETE_EMPTY_AFTER_HOURS"),
    ingest: {
      projectKeys: projectKeys(get("REPLAYA_PROJECT_KEYS")),
      allowedOrigins: list(get("REPLAYA_ALLOWED_ORIGINS")).map(origin),
      appendTokenSecret: secret,
      leaseSecs: integer(get("REPLAYA_LEASE_SECS"), 45, "REPLAYA_LEASE_SECS"),
      maxBodyBytes: integer(get("REPLAYA_MAX_BODY_BYTES"), 4 * 1024 * 1024, "REPLAYA_MAX_BODY_BYTES"),
      maxInflatedBytes: integer(get("REPLAYA_MAX_INFLATED_BYTES"), 32 * 1024 * 1024, "REPLAYA_MAX_INFLATED_BYTES"),
      maxEventsPerBatch: integer(get("REPLAYA_MAX_EVENTS_PER_BATCH"), 5000, "REPLAYA_MAX_EVENTS_PER_BATCH"),
      clientRatePerMinute: integer(get("REPLAYA_CLIENT_RATE_PER_MINUTE"), 1200, "REPLAYA_CLIENT_RATE_PER_MINUTE"),
      sessionRatePerSecond: integer(get("REPLAYA_SESSION_RATE_PER_SECOND"), 20, "REPLAYA_SESSION_RATE_PER_SECOND"),
      trustProxy: get("REPLAYA_TRUST_PROXY") === "true",
    },
  };
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
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

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${value}"`);
  return n;
}
