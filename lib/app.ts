/**
 * Builds the Hono app from its route groups. `main.ts` serves it; tests
 * serve it on a random port.
 *
 * @module
 */

import { Hono } from "hono";
import type { StreamStore } from "./store/mod.ts";
import { healthRoutes } from "../routes/api/health.ts";
import { jsonError } from "./http/errors.ts";

/** What the app needs to run. */
export interface AppDeps {
  store: StreamStore;
}

/** Creates the app. */
export function createApp({ store }: AppDeps): Hono {
  const app = new Hono();
  app.route("/api/health", healthRoutes(store));
  app.notFound((c) => jsonError(c, 404, "not_found", "no such route"));
  app.onError((error, c) => {
    console.error(error);
    return jsonError(c, 500, "internal", "internal error");
  });
  return app;
}
