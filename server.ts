/**
 * Wires config → store → sessions → app, and serves it. Used by `main.ts`
 * and by the tests, which start the real server on a free port.
 *
 * @module
 */

import { type Config, ConfigError, isLoopbackAddress } from "./lib/config.ts";
import type { Hono } from "hono";
import { createApp } from "./app.ts";
import { StreamPolicy } from "./lib/http/streams.ts";
import { AppendTokens } from "./lib/auth/append_tokens.ts";
import { COOKIE_MAX_AGE_SECS, DashboardAuth } from "./lib/auth/dashboard.ts";
import { Revocations } from "./lib/auth/revocations.ts";
import { ReadTokens } from "./lib/auth/read_tokens.ts";
import { fixedManifest, type ManifestSource, readManifest, startManifest } from "./lib/islands/manifest.ts";
import { derivedProjectKey, resolveSecret } from "./lib/auth/secrets.ts";
import { instrumentStore, Metrics } from "./lib/metrics.ts";
import { configureLog, log } from "./lib/log.ts";
import { VERSION } from "./lib/version.ts";
import { Sessions } from "./lib/sessions/service.ts";
import { createRedactor } from "./lib/sessions/redact.ts";
import { SEALED_HEADERS } from "./lib/sessions/codec.ts";
import { EncryptionError, withEncryption } from "./lib/store/encrypted.ts";
import { runUserBackfill } from "./lib/sessions/user_backfill.ts";
import { openStore, type StreamStore, withPrefix } from "./lib/store/mod.ts";
import { AssetCache } from "./lib/assets/cache.ts";
import { AssetStore } from "./lib/assets/store.ts";

/** A running server. */
export interface RunningServer {
  url: string;
  /** The Hono app (its `routes` are what the OpenAPI test checks). */
  app: Hono;
  store: StreamStore;
  sessions: Sessions;
  projectKeys: Map<string, string>;
  /** The asset cache, when REPLAYA_ASSET_CACHE is on. */
  assets?: AssetCache;
  /**
   * Ends every open stream, stops accepting, waits (at most `graceMs`) for
   * requests in flight, then closes the store.
   */
  close(graceMs?: number): Promise<void>;
}

/** How long a shutdown waits for requests in flight by default. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Opens the configured store; an embedded store this process may not write is a configuration error. */
async function openConfiguredStore(config: Config): Promise<StreamStore> {
  try {
    return await openStore(config.store, {
      retentionAgeSecs: config.retentionDays * 86_400,
      deleteOnEmptyMinAgeSecs: config.deleteEmptyAfterHours * 3_600,
    });
  } catch (error) {
    const denied = error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
    if (!denied || config.store.backend !== "sqlite") throw error;
    throw new ConfigError(
      `the embedded store needs to write ${config.store.path} (${(error as Error).message}): give the process write ` +
        `access to REPLAYA_DATA_DIR (${config.dataDir}; \`deno task serve\` allows ./data only), or set the S2_* variables`,
    );
  }
}

/**
 * Opens the store (or uses `store`) and serves the app on the configured
 * address (port 0 = any free port).
 */
export async function startServer(
  config: Config,
  options: { store?: StreamStore; quiet?: boolean; build?: boolean } = {},
): Promise<RunningServer> {
  // Production (or a process that may not build) only reads `deno task build`'s output; development builds when
  // bundles are missing or stale, in the background while it already serves; tests build once up front instead.
  const manifest: ManifestSource = options.build === false
    ? fixedManifest(await readManifest() ?? { sourceHash: "", islands: {}, recorder: "/recorder.js" })
    : await startManifest({ production: config.mode === "production" });
  const opened = options.store ?? withPrefix(await openConfiguredStore(config), config.streamPrefix);
  // Encryption at rest sits above the prefix, so key streams are prefixed too; a wrong key stops the start here.
  const rawStore = config.privacy.encryptionKey
    ? await withEncryption(opened, {
      masterKey: config.privacy.encryptionKey,
      retentionAgeSecs: config.retentionDays * 86_400,
      sealHeaders: SEALED_HEADERS,
    }).catch(async (error) => {
      if (!options.store) await opened.close();
      throw error instanceof EncryptionError ? new ConfigError(error.message) : error;
    })
    : opened;
  configureLog({ format: config.log.format, requests: config.log.requests && !options.quiet });
  const metrics = new Metrics();
  const store = instrumentStore(rawStore, metrics);
  const secret = await resolveSecret(config.ingest.appendTokenSecret, config.dataDir);
  const projectKeys = config.ingest.projectKeys.size > 0
    ? config.ingest.projectKeys
    : new Map([[await derivedProjectKey(secret), "default"]]);
  const assets = config.assets.enabled
    ? new AssetCache({
      store,
      fetch: { maxBytes: config.assets.maxBytes, types: config.assets.types, allowPrivate: config.assets.allowPrivate },
      retentionSecs: config.retentionDays * 86_400,
      deleteOnEmptySecs: config.deleteEmptyAfterHours * 3_600,
    })
    : undefined;
  // A deleted session's asset map goes with it, whether or not the cache is on now.
  const assetStore = assets?.assets ?? new AssetStore(store);
  const sessions = new Sessions({
    onDelete: (id) => assets ? assets.deleteSession(id) : assetStore.deleteSession(id),
    store,
    leaseMs: config.ingest.leaseSecs * 1000,
    fenceAfterMs: config.ingest.fenceAfterSecs * 1000,
    friction: config.friction,
    redaction: config.privacy.redaction
      ? {
        redactor: createRedactor(config.privacy.redactPatterns),
        skipProjects: new Set(config.privacy.redactionOffProjects),
      }
      : undefined,
  });
  metrics.gauges({ activeSessions: () => sessions.activeCount, liveViewers: () => sessions.viewerCount });
  const tokens = new AppendTokens({ secret });
  const shutdown = new AbortController();
  const streams = new StreamPolicy(shutdown.signal, config.http.streams);
  metrics.streamGauges(streams);
  const revocations = new Revocations(store, { retentionSecs: COOKIE_MAX_AGE_SECS });
  await revocations.start(shutdown.signal);
  await sessions.watchers.start(shutdown.signal);
  const readTokens = new ReadTokens(store);
  await readTokens.start(shutdown.signal);
  const auth = new DashboardAuth({
    readTokens,
    adminToken: config.dashboard.adminToken,
    secret,
    proxyHops: config.http.trustProxyHops,
    revocations,
  });
  const app = createApp({
    assets,
    config,
    sessions,
    tokens,
    auth,
    readTokens,
    projectKeys,
    metrics,
    manifest: manifest.current,
    streams,
  });
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ hostname: config.hostname, port: config.port, onListen: resolve }, app.fetch);
  const addr = await listening;
  // Sessions recorded before the user index: brought into it once per store (prefix), in the background.
  const backfill = runUserBackfill({ store, signal: shutdown.signal });
  const close = async (graceMs = SHUTDOWN_GRACE_MS) => {
    shutdown.abort();
    const grace = AbortSignal.timeout(graceMs);
    await Promise.race([server.shutdown(), new Promise((r) => grace.addEventListener("abort", r, { once: true }))]);
    await assets?.close();
    await backfill;
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
    log.info(`RePlaya listening on ${url} (set up recording: ${url}/setup)`, {
      store: rawStore.info.backend,
      location: where,
      version: VERSION,
    });
  }
  return { url, app, store: rawStore, sessions, projectKeys, assets, close };
}
