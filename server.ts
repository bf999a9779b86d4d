/**
 * Wires config → store → sessions → app, and serves it. Used by `main.ts`
 * and by the tests, which start the real server on a free port.
 *
 * @module
 */

import { type Config, ConfigError, isLoopbackAddress } from "./lib/config.ts";
import type { Hono } from "hono";
import { createApp } from "./app.ts";
import { AppendTokens } from "./lib/auth/append_tokens.ts";
import { COOKIE_MAX_AGE_SECS, DashboardAuth } from "./lib/auth/dashboard.ts";
import { Revocations } from "./lib/auth/revocations.ts";
import { ensureBuilt, type Manifest, readManifest } from "./lib/islands/build.ts";
import { derivedProjectKey, resolveSecret } from "./lib/auth/secrets.ts";
import { instrumentStore, Metrics } from "./lib/metrics.ts";
import { configureLog, log } from "./lib/log.ts";
import { VERSION } from "./lib/version.ts";
import { Sessions } from "./lib/sessions/service.ts";
import { openStore, type StreamStore, withPrefix } from "./lib/store/mod.ts";

/** A running server. */
export interface RunningServer {
  url: string;
  /** The Hono app (its `routes` are what the OpenAPI test checks). */
  app: Hono;
  store: StreamStore;
  sessions: Sessions;
  projectKeys: Map<string, string>;
  /**
   * Ends every open stream, stops accepting, waits (at most `graceMs`) for
   * requests in flight, then closes the store.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long a shutdown waits for requests in flight by default. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Opens the store (or uses `store`) and serves the app on the configured
 * address (port 0 = any free port).
 */
export async function startServer(
  config: Config,
  options: { store?: StreamStore; quiet?: boolean; build?: boolean } = {},
): Promise<RunningServer> {
  // Bundles are built when missing or stale; tests build once up front instead.
  const manifest: Manifest = options.build === false
    ? await readManifest() ?? { sourceHash: "", islands: {}, recorder: "/recorder.js" }
    : await ensureBuilt();
  const rawStore = options.store ?? withPrefix(
    await openStore(config.store, {
      retentionAgeSecs: config.retentionDays * 86_400,
      deleteOnEmptyMinAgeSecs: config.deleteEmptyAfterHours * 3_600,
    }),
    config.streamPrefix,
  );
  configureLog({ format: config.log.format, requests: config.log.requests && !options.quiet });
  const metrics = new Metrics();
  const store = instrumentStore(rawStore, metrics);
  const secret = await resolveSecret(config.ingest.appendTokenSecret, config.dataDir);
  const projectKeys = config.ingest.projectKeys.size > 0
    ? config.ingest.projectKeys
    : new Map([[await derivedProjectKey(secret), "default"]]);
  const sessions = new Sessions({
    store,
    leaseMs: config.ingest.leaseSecs * 1000,
    fenceAfterMs: config.ingest.fenceAfterSecs * 1000,
  });
  metrics.gauges({ activeSessions: () => sessions.activeCount, liveViewers: () => sessions.viewerCount });
  const tokens = new AppendTokens({ secret });
  const shutdown = new AbortController();
  const revocations = new Revocations(store, { retentionSecs: COOKIE_MAX_AGE_SECS });
  await revocations.start(shutdown.signal);
  await sessions.watchers.start(shutdown.signal);
  const auth = new DashboardAuth({
    adminToken: config.dashboard.adminToken,
    secret,
    proxyHops: config.http.trustProxyHops,
    revocations,
  });
  const app = createApp({
    config,
    sessions,
    tokens,
    auth,
    projectKeys,
    metrics,
    manifest: () => manifest,
    shutdown: shutdown.signal,
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: config.hostname, port: config.port, onListen: resolve }, app.fetch);
  const addr = await listening;
  const close = async (graceMs = SHUTDOWN_GRACE_MS) => {
    shutdown.abort();
    const grace = AbortSignal.timeout(graceMs);
    await Promise.race([server.shutdown(), new Promise((r) => grace.addEventListener("abort", r, { once: true }))]);
    if (!options.store) await rawStore.close();
  };
  // Decided on the address actually bound, not on the name asked for.
  if (!config.dashboard.adminToken && !isLoopbackAddress(addr.hostname)) {
    await close(0);
    throw new ConfigError(
      `REPLAYA_HOST=${config.hostname} bound ${addr.hostname}, which is not a loopback address: set REPLAYA_ADMIN_TOKEN`,
    );
  }
  const url = `http://${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
  if (!options.quiet) {
    for (const warning of config.warnings) log.warn(warning);
    const where = rawStore.info.backend === "sqlite"
      ? rawStore.info.location
      : `${rawStore.info.location} (basin ${rawStore.info.basin})`;
    log.info(`RePlaya listening on ${url}`, { store: rawStore.info.backend, location: where, version: VERSION });
  }
  return { url, app, store: rawStore, sessions, projectKeys, close };
}
