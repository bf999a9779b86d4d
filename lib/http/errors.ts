/**
 * The one error shape every client sees: `{ "error": { "code", "message" } }`.
 *
 * @module
 */

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Responds with a JSON error.
 *
 * @example
 * return jsonError(c, 409, "session_stopped", "this session has ended");
 */
export function jsonError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): Response {
  return c.json({ error: { ...details, code, message } }, status);
}
