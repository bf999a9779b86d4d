/**
 * Static files served compressed without compressing per request: each
 * file's `br` and `gzip` variants are the `.br` and `.gz` files the build
 * wrote beside it (`lib/islands/build.ts`), read once and kept in memory with
 * the file, each with its own strong ETag. A variant that is missing, or whose
 * content is not the file's (the file was edited after the build), is made
 * once in memory instead, so a stale variant is never served.
 *
 * @module
 */

import type { Context } from "hono";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { base64url } from "../bytes.ts";
import { chooseEncoding, compressOnce, type Encoding, MIN_COMPRESS_BYTES } from "./compress.ts";

/** The suffix of each precompressed variant's file. */
export const VARIANT_SUFFIX = { br: ".br", gzip: ".gz" } as const;

/** Content types by extension; the compressible ones get variants. */
const TYPES: Record<string, { type: string; compressible: boolean }> = {
  js: { type: "application/javascript; charset=utf-8", compressible: true },
  mjs: { type: "application/javascript; charset=utf-8", compressible: true },
  css: { type: "text/css; charset=utf-8", compressible: true },
  json: { type: "application/json; charset=utf-8", compressible: true },
  map: { type: "application/json; charset=utf-8", compressible: true },
  svg: { type: "image/svg+xml", compressible: true },
  txt: { type: "text/plain; charset=utf-8", compressible: true },
  png: { type: "image/png", compressible: false },
  ico: { type: "image/x-icon", compressible: true },
  woff2: { type: "font/woff2", compressible: false },
};

/** Whether a file of this name gets `.br`/`.gz` variants. */
export function compressible(name: string): boolean {
  return TYPES[extension(name)]?.compressible ?? false;
}

function extension(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1).toLowerCase();
}

/** One file as served: its bytes and those of its variants, each with an ETag. */
export interface StaticFile {
  type: string;
  /** A hash of the file's bytes (`assetHash`). */
  hash: string;
  variants: Partial<Record<Encoding, { bytes: Uint8Array; etag: string }>>;
}

/** A short content hash, URL- and file-name-safe: the build's bundle names and the recorder's version. */
export async function assetHash(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return base64url(new Uint8Array(digest)).replace(/[^A-Za-z0-9]/g, "").slice(0, 10);
}

/**
 * The files served, by path, kept while their size and mtime stay the same.
 * Only paths of files that exist are kept (a removed file's entry goes when it
 * is next asked for), so the cache is bounded by the static folders.
 */
export class StaticFiles {
  #files = new Map<string, { key: string; file: Promise<StaticFile> }>();

  /** The file at `path` (absolute), or undefined when there is no such file. */
  async get(path: string): Promise<StaticFile | undefined> {
    const stat = await Deno.stat(path).catch(() => undefined);
    if (!stat?.isFile) {
      this.#files.delete(path);
      return undefined;
    }
    const key = `${stat.size}:${stat.mtime?.getTime()}`;
    let entry = this.#files.get(path);
    if (entry?.key !== key) {
      entry = { key, file: load(path) };
      this.#files.set(path, entry);
      entry.file.catch(() => this.#files.get(path) === entry && this.#files.delete(path));
    }
    return await entry.file.catch(() => undefined);
  }
}

async function load(path: string): Promise<StaticFile> {
  const bytes = await Deno.readFile(path);
  const hash = await assetHash(bytes);
  const { type, compressible } = TYPES[extension(path)] ?? { type: "application/octet-stream", compressible: false };
  const file: StaticFile = { type, hash, variants: { identity: { bytes, etag: `"${hash}"` } } };
  if (!compressible || bytes.length < MIN_COMPRESS_BYTES) return file;
  for (const encoding of ["br", "gzip"] as const) {
    const built = await Deno.readFile(path + VARIANT_SUFFIX[encoding]).catch(() => undefined);
    const variant = built && sameBytes(decode(built, encoding), bytes)
      ? built
      : await compressOnce(bytes, encoding, "fast");
    // Only when it saves something (an already compressed SVG font, say, may not).
    if (variant.length < bytes.length) file.variants[encoding] = { bytes: variant, etag: `"${hash}-${encoding}"` };
  }
  return file;
}

function decode(bytes: Uint8Array, encoding: "br" | "gzip"): Uint8Array | undefined {
  try {
    return encoding === "br" ? brotliDecompressSync(bytes) : gunzipSync(bytes);
  } catch {
    return undefined; // corrupt: compressed again instead
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 §13.1.2 asks). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === bare;
  });
}

/**
 * The response for a file: the variant the client accepts best, with its
 * length, ETag, `Vary: Accept-Encoding` and `cacheControl`; 304 when the
 * client has that variant already. HEAD is answered by the app's
 * `headWithoutBody`, which keeps these headers.
 */
export function fileResponse(
  c: Context,
  file: StaticFile,
  cacheControl: string,
  extra: Record<string, string> = {},
): Response {
  const asked = chooseEncoding(c.req.header("Accept-Encoding"));
  const encoding = file.variants[asked] ? asked : "identity";
  const variant = file.variants[encoding]!;
  const headers = new Headers({
    "Content-Type": file.type,
    "Cache-Control": cacheControl,
    "ETag": variant.etag,
    "Vary": "Accept-Encoding",
    ...extra,
  });
  if (encoding !== "identity") headers.set("Content-Encoding", encoding);
  if (matchesEtag(c.req.header("If-None-Match"), variant.etag)) return new Response(null, { status: 304, headers });
  headers.set("Content-Length", String(variant.bytes.length));
  return new Response(variant.bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
}
