/**
 * Read side of the sessions API, behind the dashboard login (described in
 * `openapi.ts`, served at `/api/openapi.json`):
 *
 * - `GET /api/sessions`             the list as JSON: rows newest first, filters as on the list page, a cursor
 * - `GET /api/sessions/:id`         one session's metadata and status (its summary once ended)
 * - `GET /api/sessions/:id/events`  the session as NDJSON (meta, event batches, stop), streamed
 * - `GET /api/sessions/:id/live`    SSE: replays, then follows a live session; resumable with Last-Event-ID
 * - `GET /api/sessions/:id/export`  a JSON download: metadata plus every rrweb event
 * - `GET /api/sessions/:id/report`  the friction report as JSON (`report.md`: the same as Markdown)
 * - `DELETE /api/sessions/:id`      deletes a session (needs the X-CSRF-Token header)
 * - `GET /api/sessions/feed`        SSE: one `session` event per new session
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { stream } from "hono/streaming";
import { type DashboardAuth, requireViewer } from "../../lib/auth/dashboard.ts";
import { jsonError } from "../../lib/http/errors.ts";
import { log } from "../../lib/log.ts";
import { sseFrame, ssePush, sseResponse } from "../../lib/http/sse.ts";
import { LiveHub, ViewerTooSlowError } from "../../lib/sessions/live_hub.ts";
import { INDEX_STREAM, isSessionId } from "../../lib/sessions/ids.ts";
import { filterFromQuery, listSessions, sortFromQuery } from "../../lib/sessions/list.ts";
import { SessionNotFoundError, type Sessions } from "../../lib/sessions/service.ts";
import type { SessionItem } from "../../lib/sessions/codec.ts";
import { buildReport } from "../../lib/sessions/report.ts";
import { renderReportMarkdown } from "../../lib/sessions/report_markdown.ts";
import { ensureStream, NotFoundError } from "../../lib/store/mod.ts";

/** Tells a viewer that fell behind to reconnect soon (it resumes from its Last-Event-ID). */
const BEHIND = sseFrame({ event: "behind", data: "", retry: 500 });

/** Read routes, mounted at `/api/sessions` after the ingest routes. */
export function sessionReadRoutes(sessions: Sessions, auth: DashboardAuth, shutdown: AbortSignal): Hono {
  const app = new Hono();
  const hub = new LiveHub({
    store: sessions.store,
    encode: liveFrame,
    liveFrame: (tail) => sseFrame({ event: "live", data: JSON.stringify({ tail }) }),
  });
  // Every method: ingest has answered its own POSTs before this runs, and HEAD runs the GET handlers.
  app.use("*", requireViewer(auth, "api"));

  app.get("/feed", async (c) => {
    // Positioned before the stream opens, so its first bytes mean "subscribed": nothing after them is missed.
    const from = await indexTail(sessions);
    return sseResponse(c, shutdown, async (sse, signal) => {
      for await (const record of sessions.store.follow(INDEX_STREAM, { from, signal })) {
        await sse.writeSSE({
          event: "session",
          id: String(record.seqNum),
          data: new TextDecoder().decode(record.body),
        });
      }
    });
  });

  app.get("/", async (c) => {
    const limit = Number(c.req.query("limit") ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      return jsonError(c, 400, "invalid_limit", "limit must be an integer from 1 to 200");
    }
    const page = await listSessions(sessions, {
      filter: filterFromQuery(c.req.query()),
      cursor: c.req.query("cursor"),
      limit,
      sort: sortFromQuery(c.req.query()),
    });
    c.header("Cache-Control", "no-store");
    return c.json({
      sessions: page.rows,
      next: page.next ?? null,
      stoppedEarly: page.stoppedEarly,
      scanned: page.scanned,
    });
  });

  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const details = await sessions.details(id);
    if (!details) return notFound(c);
    c.header("Cache-Control", "no-store");
    return c.json(details);
  });

  app.get("/:id/events", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const items = await firstItem(sessions.read(id));
    if (!items) return notFound(c);
    c.header("Content-Type", "application/x-ndjson; charset=utf-8");
    c.header("Cache-Control", "no-store");
    return stream(c, async (out) => {
      for await (const item of items) {
        if (out.aborted) return; // the client went away: stop reading
        await out.write(JSON.stringify(publicItem(item)) + "\n");
      }
    }, async (error, out) => {
      log.error("session read failed", { session: id }, error);
      await out.write(JSON.stringify({ kind: "error", message: "the session could not be read to the end" }) + "\n");
    });
  });

  app.get("/:id/live", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const lastEventId = Number(c.req.header("last-event-id") ?? Number.NaN);
    const from = Number.isSafeInteger(lastEventId)
      ? lastEventId + 1
      : Math.max(0, Number(c.req.query("from") ?? 0) || 0);
    let live: boolean;
    try {
      // A session whose channel is open is live (its first viewer settled it): thousands of viewers, one check.
      live = hub.isFollowing(id) || await sessions.isLive(id);
    } catch (error) {
      if (error instanceof SessionNotFoundError) return notFound(c);
      throw error;
    }
    return ssePush(c, shutdown, hub.queueBytes, async (sink, signal) => {
      const release = live ? sessions.watch(id) : () => {};
      try {
        // Live: the session's shared channel. Ended: one shared read from the start, or our own from later.
        if (live) return await hub.deliver(id, from, signal, sink);
        const chunks = from === 0 ? hub.replay(id, signal) : encoded(sessions.read(id, { from, signal }));
        for await (const chunk of chunks) await sink.write(chunk);
      } catch (error) {
        if (!(error instanceof ViewerTooSlowError)) throw error;
        return BEHIND; // ends the response; EventSource reconnects with Last-Event-ID and catches up from the store
      } finally {
        release();
      }
    });
  });

  app.get("/:id/export", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const items = await firstItem(sessions.read(id));
    if (!items) return notFound(c);
    c.header("Content-Type", "application/json; charset=utf-8");
    c.header("Content-Disposition", `attachment; filename="replaya-session-${id}.json"`);
    return stream(c, async (out) => {
      let meta: unknown = null;
      let stop: unknown = null;
      let first = true;
      await out.write(`{"format":"replaya-session/1","id":${JSON.stringify(id)},"events":[`);
      for await (const item of items) {
        if (out.aborted) return;
        if (item.kind === "meta") meta = item.meta;
        else if (item.kind === "stop") stop = item.stop;
        else if (item.kind === "events") {
          for (const event of item.events) {
            await out.write((first ? "" : ",") + JSON.stringify(event));
            first = false;
          }
        }
      }
      await out.write(`],"meta":${JSON.stringify(meta)},"stop":${JSON.stringify(stop)}}`);
    });
  });

  app.get("/:id/report", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const report = await buildReport(sessions, id);
    if (!report) return notFound(c);
    c.header("Cache-Control", "no-store");
    return c.json(report);
  });

  app.get("/:id/report.md", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    const report = await buildReport(sessions, id);
    if (!report) return notFound(c);
    c.header("Cache-Control", "no-store");
    c.header("Content-Type", "text/markdown; charset=utf-8");
    return c.body(renderReportMarkdown(report));
  });

  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!isSessionId(id)) return badId(c);
    if (!(await auth.checkCsrf(c, c.req.header("x-csrf-token")))) {
      return jsonError(c, 403, "csrf_failed", "missing or wrong X-CSRF-Token");
    }
    await sessions.delete(id);
    return c.json({ ok: true });
  });

  return app;
}

/** The index stream's tail, creating the stream on first use. */
export async function indexTail(sessions: Sessions): Promise<number> {
  try {
    return (await sessions.store.checkTail(INDEX_STREAM)).seqNum;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    await ensureStream(sessions.store, INDEX_STREAM);
    return 0;
  }
}

/** Starts reading, so a missing session is a clean 404 before any byte is sent. */
async function firstItem(items: AsyncIterable<SessionItem>): Promise<AsyncIterable<SessionItem> | undefined> {
  const iterator = items[Symbol.asyncIterator]();
  let first: IteratorResult<SessionItem>;
  try {
    first = await iterator.next();
  } catch (error) {
    if (error instanceof SessionNotFoundError) return undefined;
    throw error;
  }
  return {
    async *[Symbol.asyncIterator]() {
      for (let next = first; !next.done; next = await iterator.next()) yield next.value;
    },
  };
}

function badId(c: Context): Response {
  return jsonError(c, 400, "invalid_session_id", "not a session id");
}

function notFound(c: Context): Response {
  return jsonError(c, 404, "session_not_found", "no such session");
}

/** What clients see of an item (internal counters stay inside). */
function publicItem(item: SessionItem) {
  if (item.kind !== "events") return item;
  const { stats: _stats, ...rest } = item;
  return rest;
}

/** A session item as the live stream's SSE frame: `meta`, `events`, `stop` (heartbeats are not sent). */
function liveFrame(item: SessionItem): Uint8Array | undefined {
  switch (item.kind) {
    case "heartbeat":
      return undefined;
    case "meta":
      return sseFrame({ event: "meta", id: item.seqNum, data: JSON.stringify(item.meta) });
    case "stop":
      return sseFrame({ event: "stop", id: item.seqNum, data: JSON.stringify(item.stop) });
    case "events": {
      const { writerId, batch, events } = item;
      return sseFrame({ event: "events", id: item.seqNum, data: JSON.stringify({ writerId, batch, events }) });
    }
  }
}

async function* encoded(items: AsyncIterable<SessionItem>): AsyncGenerator<Uint8Array> {
  for await (const item of items) {
    const frame = liveFrame(item);
    if (frame) yield frame;
  }
}
