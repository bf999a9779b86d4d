/**
 * Read side of the sessions API (behind the dashboard login):
 *
 * - `GET /api/sessions/:id/events` streams a session back in order as NDJSON,
 *   one line per meta, events batch, or stop record: reassembled and
 *   deduplicated, written as it is read so the player starts early.
 *
 * @module
 */

import { Hono } from "hono";
import { stream } from "hono/streaming";
import { jsonError } from "../../lib/http/errors.ts";
import { isSessionId } from "../../lib/sessions/ids.ts";
import { SessionNotFoundError, type Sessions } from "../../lib/sessions/service.ts";
import type { SessionItem } from "../../lib/sessions/codec.ts";

/** Read routes, mounted at `/api/sessions`. */
export function sessionReadRoutes(sessions: Sessions): Hono {
  const app = new Hono();

  app.get("/:id/events", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return jsonError(c, 400, "invalid_session_id", "not a session id");
    const items = sessions.read(id)[Symbol.asyncIterator]();
    // Pull the first item before answering, so a missing session is a clean 404.
    let first: IteratorResult<SessionItem>;
    try {
      first = await items.next();
    } catch (error) {
      if (error instanceof SessionNotFoundError) return jsonError(c, 404, "session_not_found", "no such session");
      throw error;
    }
    c.header("Content-Type", "application/x-ndjson; charset=utf-8");
    c.header("Cache-Control", "no-store");
    return stream(c, async (out) => {
      for (let next = first; !next.done; next = await items.next()) {
        await out.write(JSON.stringify(publicItem(next.value)) + "\n");
      }
    }, async (error, out) => {
      console.error("session read failed", error);
      await out.write(JSON.stringify({ kind: "error", message: "the session could not be read to the end" }) + "\n");
    });
  });

  return app;
}

/** What clients see of an item (internal counters stay inside). */
function publicItem(item: SessionItem) {
  if (item.kind !== "events") return item;
  const { stats: _stats, ...rest } = item;
  return rest;
}
