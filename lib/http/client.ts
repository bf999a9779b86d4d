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
 * The key a client's requests are limited under: its address, but for IPv6
 * its /64 (one host usually holds a whole /64, so a per-address limit would
 * let it rotate through 2^64 buckets); an IPv4-mapped address is its IPv4.
 */
export function clientKey(c: Context, hops: number): string {
  return limitKey(clientAddress(c, hops));
}

/** {@link clientKey} of an address: IPv4 as it is, IPv6 as its /64 prefix (`2001:db8:0:1::/64`). */
export function limitKey(address: string): string {
  const ip = address.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "").toLowerCase();
  if (!ip.includes(":")) return ip;
  const mapped = ip.match(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/);
  if (mapped) return mapped[1];
  const hextets = expandIpv6(ip);
  if (!hextets) return ip;
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 read); undefined if malformed. */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip;
  const v4 = text.match(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((h) => /^[0-9a-f]{1,4}$/.test(h) ? parseInt(h, 16) : NaN);
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.some(Number.isNaN) ? undefined : groups;
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
