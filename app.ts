/**
 * Builds the Hono app from its route groups. `server.ts` wires the
 * dependencies and serves it; tests do the same on a random port.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import { healthRoutes, healthzRoute } from "./routes/api/health.ts";
import { openapiRoute } from "./routes/api/openapi.ts";
import { ingestRoutes } from "./routes/api/ingest.ts";
import { sessionReadRoutes } from "./routes/api/sessions.ts";
import { wallRoutes } from "./routes/api/wall.ts";
import { ASSET_CSP, assetRoutes } from "./routes/api/assets.ts";
import { pageRoutes } from "./routes/pages.tsx";
import { tokenPageRoutes } from "./routes/tokens.tsx";
import { mcpRoutes } from "./routes/mcp.ts";
import type { ReadTokens } from "./lib/auth/read_tokens.ts";
import { staticRoutes } from "./routes/static.ts";
import type { Config } from "./lib/config.ts";
import type { AppendTokens } from "./lib/auth/append_tokens.ts";
import { type DashboardAuth, requireViewer } from "./lib/auth/dashboard.ts";
import { jsonError } from "./lib/http/errors.ts";
import { compressPages } from "./lib/http/compress.ts";
import { log } from "./lib/log.ts";
import { concurrencyLimit, fetchMetadataGuard, headWithoutBody, hostGuard } from "./lib/http/edge.ts";
import type { StreamPolicy } from "./lib/http/streams.ts";
import type { Manifest } from "./lib/islands/manifest.ts";
import type { Metrics } from "./lib/metrics.ts";
import type { Sessions } from "./lib/sessions/service.ts";
import type { AssetCache } from "./lib/assets/cache.ts";
import { AssetStore } from "./lib/assets/store.ts";

/** What the app needs to run. */
export interface AppDeps {
  config: Pick<Config, "ingest" | "dashboard" | "mode" | "http">;
  sessions: Sessions;
  tokens: AppendTokens;
  auth: DashboardAuth;
  /** Named read tokens for the CLI, MCP and scrapers (minted on /settings/tokens). */
  readTokens: ReadTokens;
  projectKeys: Map<string, string>;
  metrics: Metrics;
  manifest: () => Manifest;
  /** The process's open response streams: their limits, and the shutdown that ends them all. */
  streams: StreamPolicy;
  /** The asset cache, when REPLAYA_ASSET_CACHE is on. */
  assets?: AssetCache;
}

/** The dashboard's small forms (login, logout, delete) are never bigger than this. */
const FORM_MAX_BYTES = 16 * 1024;
/** The three ingest routes: POST (and their CORS preflight) from visitors' sites. */
const INGEST_PATH = /^\/api\/sessions(\/[^/]+\/(events|stop))?\/?$/;

/**
 * The Content-Security-Policy of every response: no inline or foreign
 * scripts. Styles, images and fonts may come from anywhere because replays
 * show the recorded site's own assets inside rrweb's sandboxed iframe.
 */
export const CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'", "https:"],
  imgSrc: ["'self'", "data:", "blob:", "https:", "http:"],
  fontSrc: ["'self'", "data:", "https:"],
  connectSrc: ["'self'"],
  frameSrc: ["'self'", "blob:", "about:"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
};

/**
 * The CSP with `REPLAYA_REPLAY_ASSETS=cached-only`: replays load images,
 * fonts and media from the dashboard's origin only (the asset cache's copies
 * at `/api/assets/…`), so no recording makes the viewer's browser contact
 * another host. Stylesheets rrweb did not inline still load.
 */
export const CACHED_ONLY_CSP = {
  ...CSP,
  imgSrc: ["'self'", "data:", "blob:"],
  fontSrc: ["'self'", "data:", "blob:"],
  mediaSrc: ["'self'", "data:", "blob:"],
};

/** Creates the app. */
export function createApp(deps: AppDeps): Hono {
  const { sessions, metrics, auth, config } = deps;
  const formLimits = { maxBytes: FORM_MAX_BYTES, timeoutMs: config.http.bodyTimeoutMs };
  const app = new Hono();
  /** What visitors' sites reach: ingest, the recorder script, and static assets. */
  const isPublic = (c: Context) => {
    const path = c.req.path;
    // /healthz tells nothing but up or down, and probes come with whatever Host the orchestrator uses.
    if (path === "/recorder.js" || path === "/healthz" || path.startsWith("/static/")) return true;
    if (path.startsWith("/recorder/")) return true; // the recorder's versioned URL
    if (config.dashboard.publicOps && (path === "/api/health" || path === "/metrics")) return true;
    return (c.req.method === "POST" || c.req.method === "OPTIONS") && INGEST_PATH.test(path);
  };
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath;
    metrics.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    const length = c.res.headers.get("content-length");
    log.request({
      method: c.req.method,
      route,
      status: c.res.status,
      ms: performance.now() - started,
      bytes: length === null ? undefined : Number(length),
    });
  });
  app.use("*", concurrencyLimit(config.http.maxConcurrentPerClient, config.http.trustProxyHops));
  // Registered before secureHeaders so it runs after it: sites on other origins load the recorder.
  const crossOrigin = async (c: Context, next: () => Promise<void>) => {
    await next();
    c.res.headers.set("Cross-Origin-Resource-Policy", "cross-origin");
  };
  app.use("/recorder.js", crossOrigin);
  app.use("/recorder/*", crossOrigin);
  // Likewise: a cached asset (an SVG opened on its own, say) gets a policy under which nothing runs.
  app.use("/api/assets/*", async (c, next) => {
    await next();
    c.res.headers.set("Content-Security-Policy", ASSET_CSP);
  });
  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: config.dashboard.replayAssets === "cached-only" ? CACHED_ONLY_CSP : CSP,
      xFrameOptions: "DENY",
      referrerPolicy: "same-origin",
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use("*", hostGuard(config.http.allowedHosts, isPublic));
  app.use("*", fetchMetadataGuard(isPublic));
  app.use("*", headWithoutBody);
  app.use("*", compressPages); // after headWithoutBody, so HEAD gets GET's headers

  if (!config.dashboard.publicOps) {
    // The admin, or a token of the ops scope (a scraper's: it reads no recording).
    app.use("/api/health", requireViewer(auth, "ops"));
    app.use("/metrics", requireViewer(auth, "ops"));
  }
  app.route("/api/health", healthRoutes(sessions.store));
  app.route("/healthz", healthzRoute(sessions.store));
  app.route("/api/openapi.json", openapiRoute());
  app.get("/metrics", async (c) => {
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(await metrics.text());
  });

  app.route("/", staticRoutes());
  const assetStore = deps.assets?.assets ?? new AssetStore(sessions.store);
  app.route("/api/sessions", ingestRoutes({ ...deps, config: config.ingest, http: config.http }));
  app.route("/api/sessions", sessionReadRoutes(sessions, auth, deps.streams));
  app.route("/api", assetRoutes(assetStore, deps.assets, auth));
  app.route("/api/wall", wallRoutes(sessions, auth, deps.streams));
  // The MCP tools are clients of the JSON API: they call this app in-process with the caller's own credentials.
  app.route("/mcp", mcpRoutes(auth, (request, env) => app.fetch(request, env), config.http.bodyTimeoutMs));
  app.notFound((c) =>
    c.req.path.startsWith("/api/") ? jsonError(c, 404, "not_found", "no such route") : c.text("Not found", 404)
  );
  app.route("/settings/tokens", tokenPageRoutes({ auth, readTokens: deps.readTokens, formLimits }));
  app.route(
    "/",
    pageRoutes({
      sessions,
      auth,
      manifest: deps.manifest,
      projectKey: deps.projectKeys.keys().next().value!,
      mode: config.mode,
      formLimits,
    }),
  );
  app.onError((error, c) => {
    log.error("request failed", { method: c.req.method, route: c.req.routePath }, error);
    return jsonError(c, 500, "internal", "internal error");
  });
  return app;
}
