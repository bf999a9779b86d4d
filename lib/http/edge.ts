/**
 * Policies every request passes before it reaches a route: the Host check
 * (DNS rebinding), the Fetch Metadata check (cross-site reads, and recorded
 * `<img src="/api/…">` tags inside a replay), a cap on one client's in-flight
 * requests, and HEAD without a body. Ingest and the recorder script are the
 * public surface and skip the first two: they are meant to be reached from
 * any site.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { clientKey } from "./client.ts";
import { jsonError } from "./errors.ts";

/**
 * Answers only to the configured host names and to IP addresses (any port),
 * with 421 otherwise. DNS rebinding makes a browser send the attacker's own
 * name as Host; a browser sends an IP address only to a page of that address.
 */
export function hostGuard(allowedHosts: string[], isPublic: (c: Context) => boolean): MiddlewareHandler {
  const allowed = new Set(allowedHosts);
  return async (c, next) => {
    const host = hostName(c.req.header("host")) ?? "";
    if (isPublic(c) || allowed.has(host) || isIpLiteral(host)) return await next();
    return jsonError(
      c,
      421,
      "unknown_host",
      "this server does not answer to that host name; set REPLAYA_PUBLIC_URL to the URL the dashboard is served under",
    );
  };
}

/** The host name of a Host header, lowercase, without the port. */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
}

/** What an API may be fetched as: by script (`empty`) or as a download or link (`document`). */
const API_DESTINATIONS = new Set(["empty", "document"]);
/**
 * A cached asset (`/api/assets/<sha256>`) is also loaded as an image or a
 * font: by the replay's sandboxed iframe, which shares the dashboard's
 * origin. Content-addressed, read-only and login-bound, it answers nothing a
 * recorded `<img>` could abuse; every other API still refuses `<img>`.
 */
const ASSET_PATH = /^\/api\/assets\/[0-9a-f]{64}$/;
const ASSET_DESTINATIONS = new Set([...API_DESTINATIONS, "image", "font"]);

/**
 * Fetch Metadata resource isolation. Browsers say where a request comes from
 * (`Sec-Fetch-Site`) and what it is for (`Sec-Fetch-Dest`); clients that send
 * neither (curl, scrapers, old browsers) pass, as SameSite cookies and CSRF
 * tokens still guard them.
 *
 * - APIs: same-origin (or typed into the address bar) only, and only as a
 *   fetch or a document: an `<img>`, `<script>`, `<link>` or `<iframe>`
 *   pointing at an API — say, in a recorded page being replayed — is refused.
 *   Cached assets are the one exception: same-origin images and fonts too.
 * - Pages: anything same-origin; from other sites only a top-level GET
 *   navigation, so a link to a session shared in chat still opens.
 */
export function fetchMetadataGuard(isPublic: (c: Context) => boolean): MiddlewareHandler {
  return async (c, next) => {
    const site = c.req.header("sec-fetch-site");
    if (!site || isPublic(c)) return await next();
    const dest = c.req.header("sec-fetch-dest") ?? "";
    const path = new URL(c.req.url).pathname;
    const sameOrigin = site === "same-origin" || site === "none";
    if (path.startsWith("/api/") || path === "/metrics") {
      const allowed = ASSET_PATH.test(path) ? ASSET_DESTINATIONS : API_DESTINATIONS;
      if (sameOrigin && allowed.has(dest)) return await next();
    } else {
      const navigation = (c.req.method === "GET" || c.req.method === "HEAD") &&
        c.req.header("sec-fetch-mode") === "navigate" && dest === "document";
      if (sameOrigin || navigation) return await next();
    }
    return jsonError(c, 403, "cross_site_request", `refused a ${site} request (as ${dest || "unknown"}) to ${path}`);
  };
}

/**
 * Caps the requests one client address has in flight, open streams included
 * (Deno's `completed` promise says when a response is fully sent or its
 * connection is gone). A flood of slow uploads or idle streams from one
 * address is refused with 429 instead of holding memory and sockets.
 */
export function concurrencyLimit(max: number, proxyHops: number): MiddlewareHandler {
  const inFlight = new Map<string, number>();
  const release = (key: string) => {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) inFlight.set(key, left);
    else inFlight.delete(key);
  };
  return async (c, next) => {
    const key = clientKey(c, proxyHops);
    const count = inFlight.get(key) ?? 0;
    if (count >= max) {
      c.header("Retry-After", "5");
      return jsonError(c, 429, "too_many_requests", `at most ${max} requests at once from one client`);
    }
    inFlight.set(key, count + 1);
    const completed = (c.env as { completed?: Promise<void> } | undefined)?.completed;
    if (!completed) {
      try {
        return await next();
      } finally {
        release(key);
      }
    }
    completed.finally(() => release(key)).catch(() => {});
    await next();
  };
}

/**
 * HEAD gets the GET handler's headers and no body. Hono drops that body
 * without cancelling it, so a stream (SSE, NDJSON) would keep running, and
 * holding watchers, for nobody; cancelling it ends the stream at once.
 */
export const headWithoutBody: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.req.method !== "HEAD" || !c.res.body) return;
  await c.res.body.cancel().catch(() => {});
  c.res = new Response(null, c.res);
};
