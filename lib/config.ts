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
  return {
    hostname: get("REPLAYA_HOST") ?? "127.0.0.1",
    port: integer(get("PORT") ?? get("REPLAYA_PORT"), 8080, "PORT"),
    mode,
    store,
    retentionDays: integer(get("REPLAYA_RETENTION_DAYS"), 28, "REPLAYA_RETENTION_DAYS"),
    deleteEmptyAfterHours: integer(get("REPLAYA_DELETE_EMPTY_AFTER_HOURS"), 24, "REPLAYA_DELETE_EMPTY_AFTER_HOURS"),
  };
}

function integer(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer, got "${value}"`);
  return n;
}
