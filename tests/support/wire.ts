/**
 * Raw HTTP responses, bytes as sent: `fetch` decodes `Content-Encoding`
 * itself (whatever `Accept-Encoding` says), so tests and benches that look at
 * what went over the wire use node:http, which does not.
 *
 * @module
 */

import { request } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

/** A response as it came over the wire. */
export interface WireResponse {
  status: number;
  headers: Headers;
  /** The body's bytes, still encoded. */
  body: Uint8Array;
}

/** Sends one request and reads the whole response without decoding it. */
export function wireFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<WireResponse> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port: Number(port),
        path: pathname + search,
        method: init.method ?? "GET",
        headers: init.headers ?? {},
        signal: init.signal,
      },
      (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : [value]) {
              if (v !== undefined) headers.append(name, String(v));
            }
          }
          const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
          let at = 0;
          for (const chunk of chunks) body.set(chunk, (at += chunk.length) - chunk.length);
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** The body decoded per its `Content-Encoding`. */
export function decodeBody(res: WireResponse): Uint8Array {
  const encoding = res.headers.get("content-encoding");
  if (!encoding) return res.body;
  if (encoding === "br") return new Uint8Array(brotliDecompressSync(res.body));
  if (encoding === "gzip") return new Uint8Array(gunzipSync(res.body));
  throw new Error(`unexpected Content-Encoding: ${encoding}`);
}
