/**
 * Fetches one asset for the cache, defensively: `http:`/`https:` only, no
 * credentials in the URL, every address of the host checked before each
 * request (redirects are followed by hand, at most three, and re-checked),
 * plain-HTTP connections pinned to the address that was checked, one
 * deadline for the whole exchange, the body cut off at the size cap, and
 * only allowed content types kept (a missing or generic type is sniffed from
 * the first bytes).
 *
 * @module
 */

import { readCapped, ReadDeadlineError, SizeLimitError } from "../bytes.ts";
import { AddressRefusedError, checkedAddresses, parseIpv4, resolveDns, type Resolver } from "./address.ts";
import type { AssetKind } from "./extract.ts";

/** Why an asset was not fetched. */
export type FetchFailure =
  | "invalid_url"
  | "private_address"
  | "unresolvable"
  | "too_many_redirects"
  | "http_error"
  | "type_not_allowed"
  | "too_large"
  | "timeout"
  | "network";

/** A fetched asset, or why not. */
export type FetchResult =
  | { ok: true; bytes: Uint8Array; type: string }
  | { ok: false; reason: FetchFailure; detail: string };

/** Limits and policy of one fetch. */
export interface FetchAssetOptions {
  maxBytes: number;
  /** Allowed content types: `type/subtype` or `type/*`. */
  types: readonly string[];
  /** Loopback, private and link-local addresses are refused unless this is set. */
  allowPrivate: boolean;
  /** Deadline for the whole exchange, redirects and body included (default 10 s). */
  timeoutMs?: number;
  maxRedirects?: number;
  resolve?: Resolver;
  /** Which addresses count as public (tests only; default: not `isPrivateAddress`). */
  isPublic?: (address: string) => boolean;
  /** Ends the fetch early (shutdown). */
  signal?: AbortSignal;
}

const ACCEPT: Record<AssetKind, string> = {
  image: "image/avif,image/webp,image/apng,image/svg+xml,image/*;q=0.8",
  font: "font/woff2,font/woff,font/*;q=0.8,application/font-woff;q=0.5",
};

/**
 * Fetches `url` under `options`; never throws.
 *
 * @example
 * const result = await fetchAsset("https://shop.example/logo.png", "image", {
 *   maxBytes: 5 << 20, types: ["image/*"], allowPrivate: false,
 * });
 */
export async function fetchAsset(url: string, kind: AssetKind, options: FetchAssetOptions): Promise<FetchResult> {
  const deadline = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const maxRedirects = options.maxRedirects ?? 3;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return fail("invalid_url", "not a URL");
  }
  for (let hop = 0; hop <= maxRedirects; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:") {
      return fail("invalid_url", `${current.protocol} URLs are not fetched`);
    }
    if (current.username || current.password) return fail("invalid_url", "URLs with credentials are not fetched");
    let client: Deno.HttpClient | undefined;
    try {
      const addresses = await checkedAddresses(current.hostname, {
        allowPrivate: options.allowPrivate,
        resolve: options.resolve ?? resolveDns,
        isPublic: options.isPublic,
      });
      // Plain HTTP goes to the very address checked, so a second DNS answer cannot swap it (DNS rebinding).
      // HTTPS cannot be pinned this way (Deno's TCP transport speaks no TLS); see SECURITY.md.
      if (!options.allowPrivate && current.protocol === "http:") client = pinnedClient(addresses, current);
      const init: RequestInit & { client?: Deno.HttpClient } = {
        client,
        redirect: "manual",
        signal,
        headers: { accept: ACCEPT[kind], "user-agent": "RePlaya-asset-cache" },
      };
      const response = await fetch(current, init);
      if (response.status >= 300 && response.status < 400 && response.headers.has("location")) {
        await response.body?.cancel();
        current = new URL(response.headers.get("location")!, current);
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel();
        return fail("http_error", `HTTP ${response.status}`);
      }
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      if (length > options.maxBytes) {
        await response.body?.cancel();
        return fail("too_large", `${length} bytes is over ${options.maxBytes}`);
      }
      const bytes = response.body ? await readCapped(response.body, options.maxBytes, signal) : new Uint8Array();
      const type = contentType(response.headers.get("content-type"), bytes);
      if (!type || !typeAllowed(type, options.types)) {
        return fail("type_not_allowed", `${type || "unknown type"} is not an allowed content type`);
      }
      return { ok: true, bytes, type };
    } catch (error) {
      if (error instanceof AddressRefusedError) return fail(error.reason, error.message);
      if (error instanceof SizeLimitError) return fail("too_large", `over ${options.maxBytes} bytes`);
      if (error instanceof ReadDeadlineError || signal.aborted) return fail("timeout", "no answer in time");
      return fail("network", error instanceof Error ? error.message : String(error));
    } finally {
      client?.close();
    }
  }
  return fail("too_many_redirects", `more than ${maxRedirects} redirects`);
}

function fail(reason: FetchFailure, detail: string): FetchResult {
  return { ok: false, reason, detail };
}

/** An HTTP client whose every connection goes to `addresses[0]` (IPv4 first) at the URL's port. */
export function pinnedClient(addresses: string[], url: URL): Deno.HttpClient {
  const address = addresses.find((a) => parseIpv4(a) !== undefined) ?? addresses[0];
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return Deno.createHttpClient({ proxy: { transport: "tcp", hostname: address, port } });
}

/** Legacy and alternative names of the types browsers use, to their standard names. */
const ALIASES: Record<string, string> = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/vnd.microsoft.icon": "image/x-icon",
  "application/font-woff": "font/woff",
  "application/x-font-woff": "font/woff",
  "application/font-woff2": "font/woff2",
  "application/x-font-ttf": "font/ttf",
  "application/x-font-truetype": "font/ttf",
  "font/truetype": "font/ttf",
  "application/font-sfnt": "font/ttf",
  "font/sfnt": "font/ttf",
  "application/x-font-opentype": "font/otf",
  "font/opentype": "font/otf",
  "application/vnd.ms-fontobject": "font/eot",
};

/** Types that say nothing: the bytes decide. */
const GENERIC = new Set(["", "application/octet-stream", "binary/octet-stream", "application/unknown"]);

/**
 * The content type to store and serve: the response's (parameters dropped,
 * aliases normalized), or, when it is missing or generic, the one the first
 * bytes show (PNG, JPEG, GIF, WebP, AVIF, ICO, WOFF, WOFF2, TrueType,
 * OpenType). Undefined when neither says.
 */
export function contentType(header: string | null, bytes: Uint8Array): string | undefined {
  const declared = (header ?? "").split(";")[0].trim().toLowerCase();
  if (!GENERIC.has(declared)) return ALIASES[declared] ?? declared;
  return sniff(bytes);
}

function sniff(b: Uint8Array): string | undefined {
  const ascii = (start: number, text: string) =>
    b.length >= start + text.length && [...text].every((ch, i) => b[start + i] === ch.charCodeAt(0));
  const bytes = (...values: number[]) => values.every((v, i) => b[i] === v);
  if (bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (bytes(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "image/gif";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "image/webp";
  if (ascii(4, "ftypavif") || ascii(4, "ftypavis")) return "image/avif";
  if (bytes(0, 0, 1, 0) && b.length > 6) return "image/x-icon";
  if (ascii(0, "wOFF")) return "font/woff";
  if (ascii(0, "wOF2")) return "font/woff2";
  if (bytes(0, 1, 0, 0) && b.length > 12) return "font/ttf";
  if (ascii(0, "OTTO")) return "font/otf";
  return undefined;
}

/** Whether `type` matches one of `patterns` (`image/png`, or `image/*`). */
export function typeAllowed(type: string, patterns: readonly string[]): boolean {
  const [major] = type.split("/");
  return patterns.some((p) => p === type || (p.endsWith("/*") && p.slice(0, -2) === major));
}
