/**
 * The client's address, for rate limits and login throttling: the socket
 * peer, or, behind `hops` trusted reverse proxies, the X-Forwarded-For entry
 * that many hops from the right. Entries further left are whatever the client
 * sent, so they are never trusted.
 *
 * @module
 */

import type { Context } from "hono";
import { getConnInfo } from "hono/deno";

/** The address requests from this client are counted under. */
export function clientAddress(c: Context, hops: number): string {
  if (hops > 0) {
    const forwarded = forwardedFor(c.req.header("x-forwarded-for"), hops);
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown"; // not served by Deno.serve (e.g. app.request in tests)
  }
}

/**
 * The entry `hops` from the right of an X-Forwarded-For header: each trusted
 * proxy appended the address it saw, so that one was seen by the outermost
 * proxy we trust. Undefined when the header is shorter than the chain.
 */
export function forwardedFor(header: string | undefined, hops: number): string | undefined {
  const entries = (header ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return entries.length >= hops ? entries[entries.length - hops] : undefined;
}

/** Whether the request came over HTTPS (directly, or as a trusted proxy says). */
export function isHttps(c: Context, hops: number): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return hops > 0 && c.req.header("x-forwarded-proto")?.split(",").at(-1)?.trim() === "https";
}
