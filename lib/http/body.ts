/**
 * Reads a JSON request body safely: content type and encoding checked, the
 * compressed size capped while reading, a deadline for slow senders, and gzip
 * inflated in small steps with its own cap, so a gzip bomb is refused having
 * cost at most the cap.
 *
 * @module
 */

import { gunzip, InflateError, InflateLimitError, readCapped, ReadDeadlineError, SizeLimitError } from "../bytes.ts";

/** A request body problem, mapped straight to an HTTP error. */
export class BodyError extends Error {
  override name = "BodyError";
  constructor(readonly status: 400 | 408 | 413 | 415, readonly code: string, message: string) {
    super(message);
  }
}

/** Limits for {@link readJsonBody}. */
export interface BodyLimits {
  maxBytes: number;
  maxInflatedBytes: number;
  /** The whole body must arrive within this long. */
  timeoutMs: number;
}

/**
 * Reads a body of at most `maxBytes`, within `timeoutMs`; a slow or oversized
 * sender gets a {@link BodyError} and its stream is cancelled.
 */
export async function readBody(request: Request, limits: Omit<BodyLimits, "maxInflatedBytes">): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (!request.body) return new Uint8Array(0);
  try {
    return await readCapped(request.body, limits.maxBytes, AbortSignal.timeout(limits.timeoutMs));
  } catch (error) {
    if (error instanceof SizeLimitError) throw tooLarge(limits.maxBytes);
    if (error instanceof ReadDeadlineError) {
      throw new BodyError(408, "request_timeout", `the body did not arrive within ${limits.timeoutMs / 1000} s`);
    }
    // The client went away mid-body (or sent a broken chunked encoding): nothing to answer, nothing written.
    throw new BodyError(400, "body_unreadable", "the request body could not be read to its end");
  }
}

/**
 * Parses a JSON body sent as `application/json` or, for keepalive requests
 * that must avoid a CORS preflight, `text/plain`; optionally
 * `Content-Encoding: gzip`.
 */
export async function readJsonBody(request: Request, limits: BodyLimits): Promise<unknown> {
  return (await readJsonBodySized(request, limits)).value;
}

/** {@link readJsonBody}, with the bytes of JSON it parsed (after inflating): what the body really cost. */
export async function readJsonBodySized(
  request: Request,
  limits: BodyLimits,
): Promise<{ value: unknown; bytes: number }> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json" && type !== "text/plain") {
    throw new BodyError(415, "unsupported_media_type", "send application/json (or text/plain for keepalive requests)");
  }
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "gzip" && encoding !== "identity") {
    throw new BodyError(415, "unsupported_encoding", "Content-Encoding must be gzip or absent");
  }
  const raw = await readBody(request, limits);
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
    return { value: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)), bytes: bytes.length };
  } catch {
    throw new BodyError(400, "malformed_json", "body is not valid JSON");
  }
}

/** Reads a small HTML form (`application/x-www-form-urlencoded`) within the same kind of limits. */
export async function readFormBody(request: Request, limits: Omit<BodyLimits, "maxInflatedBytes">) {
  const type = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new BodyError(415, "unsupported_media_type", "send an HTML form (application/x-www-form-urlencoded)");
  }
  return new URLSearchParams(new TextDecoder().decode(await readBody(request, limits)));
}

function tooLarge(maxBytes: number): BodyError {
  return new BodyError(413, "payload_too_large", `body exceeds ${maxBytes} bytes`);
}
