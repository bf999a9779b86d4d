/**
 * Builds the Hono app from its route groups. `lib/server.ts` wires the
 * dependencies and serves it; tests do the same on a random port.
 *
 * @module
 */

import { Hono } from "hono";
import { healthRoutes } from "../routes/api/health.ts";
import { ingestRoutes } from "../routes/api/ingest.ts";
import { sessionReadRoutes } from "../routes/api/sessions.ts";
import type { IngestConfig } from "./config.ts";
import type { AppendTokens } from "./auth/append_tokens.ts";
import { jsonError } from "./http/errors.ts";
import type { Metrics } from "./metrics.ts";
import type { Sessions } from "./sessions/service.ts";

/** What the app needs to run. */
export interface AppDeps {
  sessions: Sessions;
  tokens: AppendTokens;
  projectKeys: Map<string, string>;
  ingest: IngestConfig;
  metrics: Metrics;
}

/** Creates the app. */
export function createApp(deps: AppDeps): Hono {
  const { sessions, metrics } = deps;
  const app = new Hono();
  app.use("*", async (c, next) => {
    await next();
    metrics.requests.inc({ route: c.req.routePath, method: c.req.method, status: String(c.res.status) });
  });
  app.route("/api/health", healthRoutes(sessions.store));
  app.route("/api/sessions", ingestRoutes({ ...deps, config: deps.ingest }));
  app.route("/api/sessions", sessionReadRoutes(sessions));
  app.notFound((c) => jsonError(c, 404, "not_found", "no such route"));
  app.onError((error, c) => {
    console.error(error);
    return jsonError(c, 500, "internal", "internal error");
  });
  return app;
}
