/**
 * Reads a JSON request body safely: content type and encoding checked, the
 * compressed size capped while reading, and gzip inflated with its own cap so
 * a gzip bomb is refused without being inflated.
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { gunzip, InflateError, InflateLimitError } from "../sessions/gzip.ts";

/** A request body problem, mapped straight to an HTTP error. */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(readonly status: 400 | 413 | 415, readonly code: string, message: string) {
    super(message);
  }
}

/** Limits for {@link readJsonBody}. */
export interface BodyLimits {
  maxBytes: number;
  maxInflatedBytes: number;
}

/**
 * Parses a JSON body sent as `application/json` or, for keepalive requests
 * that must avoid a CORS preflight, `text/plain`; optionally
 * `Content-Encoding: gzip`.
 */
export async function readJsonBody(request: Request, limits: BodyLimits): Promise<unknown> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json" && type !== "text/plain") {
    throw new BodyError(415, "unsupported_media_type", "send application/json (or text/plain for keepalive requests)");
  }
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw new BodyError(415, "unsupported_encoding", "Content-Encoding must be gzip or absent");
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const raw = await readCapped(request, limits.maxBytes);
  let bytes = raw;
  if (encoding === "gzip") {
    try {
      bytes = await gunzip(raw, limits.maxInflatedBytes);
    } catch (error) {
      if (error instanceof InflateLimitError) {
        throw new BodyError(413, "payload_too_large", `inflated body exceeds ${limits.maxInflatedBytes} bytes`);
      }
      if (error instanceof InflateError) throw new BodyError(400, "invalid_gzip", "body is not valid gzip");
      throw error;
    }
  } else if (raw.length > limits.maxInflatedBytes) {
    throw new BodyError(413, "payload_too_large", `body exceeds ${limits.maxInflatedBytes} bytes`);
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new BodyError(400, "malformed_json", "body is not valid JSON");
  }
}

async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, "payload_too_large", `body exceeds ${maxBytes} bytes`);
}
