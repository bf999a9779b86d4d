/**
 * GET /api/health: liveness plus the store backend and where it keeps data.
 *
 * @module
 */

import { Hono } from "hono";
import type { StreamStore } from "../../lib/store/mod.ts";
import { VERSION } from "../../lib/version.ts";

/** Health routes for a store. */
export function healthRoutes(store: StreamStore): Hono {
  const startedAt = Date.now();
  return new Hono().get("/", (c) =>
    c.json({
      status: "ok",
      version: VERSION,
      uptimeSecs: Math.round((Date.now() - startedAt) / 1000),
      store: store.info,
    }));
}
