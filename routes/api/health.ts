/**
 * Health for operators and orchestrators:
 * - `GET /healthz` (no login, no details): 200 when the store answers a cheap
 *   call within 2 s, 503 otherwise; for load balancers, Docker's HEALTHCHECK
 *   and Kubernetes probes.
 * - `GET /api/health` (the admin or an ops token, unless `REPLAYA_PUBLIC_OPS`):
 *   the store backend (and S2 basin), the version and uptime; never where the
 *   data is (no file path, no endpoint), which tells an intruder more than it
 *   tells an operator.
 *
 * @module
 */

import { Hono } from "hono";
import type { StreamStore } from "../../lib/store/mod.ts";
import { VERSION } from "../../lib/version.ts";

/** How long `/healthz` waits for the store. */
const PROBE_TIMEOUT_MS = 2_000;

/** Health routes for a store. */
export function healthRoutes(store: StreamStore): Hono {
  const startedAt = Date.now();
  return new Hono().get("/", (c) =>
    c.json({
      status: "ok",
      version: VERSION,
      uptimeSecs: Math.round((Date.now() - startedAt) / 1000),
      store: { backend: store.info.backend, ...(store.info.basin ? { basin: store.info.basin } : {}) },
    }));
}

/** `/healthz`: can this process reach its store right now? */
export function healthzRoute(store: StreamStore): Hono {
  return new Hono().get("/", async (c) => {
    c.header("Cache-Control", "no-store");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS));
    const probe = store.listStreams({ limit: 1 }).then(() => true, () => false);
    const reachable = await Promise.race([probe, timedOut]).finally(() => clearTimeout(timer));
    return c.json({ status: reachable ? "ok" : "unavailable" }, reachable ? 200 : 503);
  });
}
