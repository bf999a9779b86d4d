/**
 * The client's address, for rate limits: the socket peer, or the first
 * X-Forwarded-For hop when the server sits behind a trusted proxy.
 *
 * @module
 */

import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/** The address requests from this client are counted under. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by Deno.serve (e.g. app.request in tests)
  }
}
