/**
 * Reads a JSON request body safely: content type and encoding checked, the
 * compressed size capped while reading, and gzip inflated with its own cap so
 * a gzip bomb is refused without being inflated.
 *
 * @module
 */

import { readCapped, SizeLimitError } from "../bytes.ts";
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
  let raw: Uint8Array = new Uint8Array(0);
  try {
    if (request.body) raw = await readCapped(request.body, limits.maxBytes);
  } catch (error) {
    if (error instanceof SizeLimitError) throw tooLarge(limits.maxBytes);
    throw error;
  }
  let bytes: Uint8Array = raw;
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

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, "payload_too_large", `body exceeds ${maxBytes} bytes`);
}
