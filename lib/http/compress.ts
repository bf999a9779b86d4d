/**
 * Response compression: choosing `br`, `gzip` or none from `Accept-Encoding`
 * (q-values honoured), compressing bytes with node:zlib, and the middleware
 * that compresses server-rendered HTML per response. Static files are
 * compressed once (at build time, see `static_files.ts`), never per request;
 * event streams and anything not HTML pass through this middleware untouched.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { parseAccept } from "hono/utils/accept";
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from "node:zlib";
import { promisify } from "node:util";

/** What a response may be encoded as. */
export type Encoding = "br" | "gzip" | "identity";

/** Bodies smaller than this go out as they are: compression would save a packet at best. */
export const MIN_COMPRESS_BYTES = 1024;

/**
 * The encoding to send for an `Accept-Encoding` header: the acceptable one
 * with the highest q-value (`*` stands for any not named), `br` before `gzip`
 * before `identity` on a tie; identity not named ranks below every named coding. No header, or nothing compressed acceptable,
 * means `identity` — also when the client refused it (`identity;q=0`) and
 * accepts nothing else, since an uncompressed body beats a 406 (RFC 9110 §12.5.3).
 */
export function chooseEncoding(header: string | null | undefined): Encoding {
  if (!header) return "identity";
  const accepts = parseAccept(header);
  const q = (name: string) => {
    const named = accepts.find((a) => a.type.toLowerCase() === name);
    if (named) return named.q;
    const any = accepts.find((a) => a.type === "*");
    // Identity is acceptable unless refused, but below any coding the client names.
    return any ? any.q : name === "identity" ? Number.MIN_VALUE : 0;
  };
  let best: Encoding = "identity";
  let bestQ = 0;
  for (const encoding of ["br", "gzip", "identity"] as const) {
    const value = q(encoding);
    if (value > bestQ) [best, bestQ] = [encoding, value];
  }
  return best;
}

/** Adds `Accept-Encoding` to a `Vary` header value. */
export function varyOnEncoding(headers: Headers): void {
  const current = headers.get("Vary");
  if (current === "*" || (current && /(^|,)\s*accept-encoding\s*(,|$)/i.test(current))) return;
  headers.set("Vary", current ? `${current}, Accept-Encoding` : "Accept-Encoding");
}

/** Brotli quality: 11 is the smallest and ~50x slower than 5, which is already smaller than gzip 9. */
const BROTLI_QUALITY = { best: 11, fast: 5 } as const;

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Compresses a file's bytes once, off the main thread (zlib's thread pool):
 * `best` for `deno task build`, `fast` where someone waits for it (a
 * development server's first build, a variant made at first request).
 */
export async function compressOnce(
  bytes: Uint8Array,
  encoding: "br" | "gzip",
  effort: "best" | "fast" = "best",
): Promise<Uint8Array> {
  const out = encoding === "br"
    ? await brotliAsync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY[effort],
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    })
    : await gzipAsync(bytes, { level: 9 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Compresses one response body, quickly. */
export function compressResponse(bytes: Uint8Array, encoding: "br" | "gzip"): Uint8Array {
  const out = encoding === "br"
    ? brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY.fast,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      },
    })
    : gzipSync(bytes, { level: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Compresses server-rendered HTML (`text/html` bodies of at least
 * {@link MIN_COMPRESS_BYTES}) as the client asks. Only HTML: pages are
 * rendered to a string whole, so reading the body here never holds up a
 * stream (SSE, exports and ingest replies are other types and pass through).
 * Registered after `headWithoutBody`, so HEAD gets the same headers as GET.
 */
export const compressPages: MiddlewareHandler = async (c, next) => {
  await next();
  const res = c.res;
  if (!/^text\/html(;|$)/i.test(res.headers.get("Content-Type") ?? "") || !res.body) return;
  if (
    res.headers.has("Content-Encoding") || /(^|,)\s*no-transform\s*(,|$)/i.test(res.headers.get("Cache-Control") ?? "")
  ) {
    return;
  }
  const body = new Uint8Array(await res.arrayBuffer());
  const encoding = body.length < MIN_COMPRESS_BYTES ? "identity" : chooseEncoding(c.req.header("Accept-Encoding"));
  const out = encoding === "identity" ? body : compressResponse(body, encoding);
  // A fresh response: Hono's `c.res` setter would copy the old headers (a stale length) over the new ones.
  const headers = new Headers(res.headers);
  if (body.length >= MIN_COMPRESS_BYTES) varyOnEncoding(headers);
  if (encoding !== "identity") headers.set("Content-Encoding", encoding);
  headers.set("Content-Length", String(out.length));
  const etag = headers.get("ETag");
  if (etag && encoding !== "identity" && !etag.startsWith("W/")) headers.set("ETag", `W/${etag}`);
  c.res = undefined;
  c.res = new Response(out as Uint8Array<ArrayBuffer>, { status: res.status, statusText: res.statusText, headers });
};
