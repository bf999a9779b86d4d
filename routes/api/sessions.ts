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
import { type DashboardAuth, requireViewer } from "../../lib/auth/dashboard.ts";
import { jsonError } from "../../lib/http/errors.ts";
import { log } from "../../lib/log.ts";
import { pushBody, type PushSink, sseFrame, ssePush, wrapJson } from "../../lib/http/sse.ts";
import type { StreamPolicy } from "../../lib/http/streams.ts";
import { LiveHub, ViewerTooSlowError } from "../../lib/sessions/live_hub.ts";
import { INDEX_STREAM, isSessionId } from "../../lib/sessions/ids.ts";
import { filterFromQuery, listSessions, sortFromQuery } from "../../lib/sessions/list.ts";
import { SessionNotFoundError, type Sessions } from "../../lib/sessions/service.ts";
import { type EventsItem, jsonPieces, type SessionItem } from "../../lib/sessions/codec.ts";
import { buildReport } from "../../lib/sessions/report.ts";
import { renderReportMarkdown } from "../../lib/sessions/report_markdown.ts";
import { ensureStream, NotFoundError } from "../../lib/store/mod.ts";

/** Tells a viewer that fell behind to reconnect soon (it resumes from its Last-Event-ID). */
const BEHIND = sseFrame({ event: "behind", data: "", retry: 500 });

/** Read routes, mounted at `/api/sessions` after the ingest routes. */
export function sessionReadRoutes(sessions: Sessions, auth: DashboardAuth, streams: StreamPolicy): Hono {
  const app = new Hono();
  const hub = new LiveHub({
    store: sessions.store,
    encode: liveFrame,
    liveFrame: (tail) => sseFrame({ event: "live", data: JSON.stringify({ tail }) }),
    budget: streams.budget,
    writeCatchUp: writeLive,
  });
  // Own reads send each batch's JSON on as it inflates: they hold its records, never its whole JSON.
  const ownRead = (id: string, from = 0) => sessions.read(id, { from, budget: streams.budget, inflates: false });
  // Every method: ingest has answered its own POSTs before this runs, and HEAD runs the GET handlers.
  app.use("*", requireViewer(auth, "api"));
  // Open streams are counted per read token and per process (lib/http/streams.ts).
  for (const path of ["/feed", "/:id/events", "/:id/live", "/:id/export"]) app.get(path, streams.limit());

  app.get("/feed", async (c) => {
    // Positioned before the stream opens, so its first bytes mean "subscribed": nothing after them is missed.
    const from = await indexTail(sessions);
    return ssePush(c, streams, hub.queueBytes, async (sink, signal) => {
      for await (const record of sessions.store.follow(INDEX_STREAM, { from, signal })) {
        await sink.write(sseFrame({ event: "session", id: record.seqNum, data: record.body }));
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
    const items = await firstItem(ownRead(id));
    if (!items) return notFound(c);
    const ndjson = { queueBytes: hub.queueBytes, contentType: "application/x-ndjson; charset=utf-8" };
    return pushBody(c, streams, ndjson, ndjsonSession(id, items));
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
    return ssePush(c, streams, hub.queueBytes, async (sink, signal) => {
      const release = live ? sessions.watch(id) : () => {};
      try {
        // Live: the session's shared channel. Ended: one shared read from the start, or our own from later.
        if (live) return await hub.deliver(id, from, signal, sink);
        if (from === 0) {
          for await (const chunk of hub.replay(id, signal)) {
            if (signal.aborted) return; // the client went away, or was cut off: stop reading
            await sink.write(chunk);
          }
        } else {
          for await (const item of ownRead(id, from)) {
            if (signal.aborted) return;
            await writeLive(item, id, sink);
          }
        }
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
    const items = await firstItem(ownRead(id));
    if (!items) return notFound(c);
    const download = {
      queueBytes: hub.queueBytes,
      contentType: "application/json; charset=utf-8",
      headers: { "Content-Disposition": `attachment; filename="replaya-session-${id}.json"` },
    };
    return pushBody(c, streams, download, exportSession(id, items));
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

/** Writes the session as NDJSON lines (meta, event batches, stop), and an error line if the read fails half-way. */
function ndjsonSession(id: string, items: AsyncIterable<SessionItem>) {
  return async (sink: PushSink, signal: AbortSignal): Promise<void> => {
    try {
      for await (const item of items) {
        if (signal.aborted) return; // the client went away: stop reading
        await writeNdjson(sink, item);
      }
    } catch (error) {
      if (signal.aborted) return;
      log.error("session read failed", { session: id }, error);
      const line = JSON.stringify({ kind: "error", message: "the session could not be read to the end" });
      await sink.write(utf8.encode(line + "\n"));
    }
  };
}

/** Writes the session as one `replaya-session/1` document: every rrweb event in one array, then meta and stop. */
function exportSession(id: string, items: AsyncIterable<SessionItem>) {
  return async (sink: PushSink, signal: AbortSignal): Promise<void> => {
    let meta: unknown = null;
    let stop: unknown = null;
    let first = true;
    await sink.write(utf8.encode(`{"format":"replaya-session/1","id":${JSON.stringify(id)},"events":[`));
    for await (const item of items) {
      if (signal.aborted) return;
      if (item.kind === "meta") meta = item.meta;
      else if (item.kind === "stop") stop = item.stop;
      // The batch's events as stored, without their brackets: never parsed, never held whole.
      else if (item.kind === "events") first = await writeEventsInside(sink, item, first);
    }
    await sink.write(utf8.encode(`],"meta":${JSON.stringify(meta)},"stop":${JSON.stringify(stop)}}`));
  };
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
      try {
        for (let next = first; !next.done; next = await iterator.next()) yield next.value;
      } finally {
        await iterator.return?.(); // a reader stopped early gives back what it holds (its decoder's budget)
      }
    },
  };
}

function badId(c: Context): Response {
  return jsonError(c, 400, "invalid_session_id", "not a session id");
}

function notFound(c: Context): Response {
  return jsonError(c, 404, "session_not_found", "no such session");
}

const utf8 = new TextEncoder();
const COMMA = utf8.encode(",");

/**
 * Writes an events item as `<before>{<lead>"writerId":…,"batch":…,"events":<its JSON>}<after>`, the JSON as it
 * inflates: never parsed, never held whole.
 */
async function writeEvents(sink: PushSink, item: EventsItem, before: string, lead: string, after: string) {
  await sink.write(
    utf8.encode(`${before}{${lead}"writerId":${JSON.stringify(item.writerId)},"batch":${item.batch},"events":`),
  );
  for await (const piece of jsonPieces(item)) await sink.write(piece);
  await sink.write(utf8.encode(`}${after}`));
}

/** An item as an NDJSON line (internal counters stay inside). */
function writeNdjson(sink: PushSink, item: SessionItem): Promise<void> {
  if (item.kind !== "events") return sink.write(utf8.encode(JSON.stringify(item) + "\n"));
  return writeEvents(sink, item, "", `"kind":"events","seqNum":${item.seqNum},`, "\n");
}

/** An item as the live stream's SSE message, its JSON streamed (for a viewer reading on its own). */
function writeLive(item: SessionItem, _id: string, sink: PushSink): Promise<void> {
  if (item.kind !== "events") {
    const frame = liveFrame(item);
    return frame ? sink.write(frame) : Promise.resolve();
  }
  return writeEvents(sink, item, `event: events\nid: ${item.seqNum}\ndata: `, "", "\n\n");
}

/**
 * Writes a batch's events without the JSON array's brackets (for the export's one array), a comma first unless
 * `first`; returns whether the array is still empty.
 */
async function writeEventsInside(sink: PushSink, item: EventsItem, first: boolean): Promise<boolean> {
  let started = false;
  const emit = async (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    if (!started && !first) await sink.write(COMMA);
    started = true;
    await sink.write(bytes);
  };
  let skip = 1; // the opening "["
  let last: Uint8Array | undefined; // the newest byte is held back: the one left at the end is the closing "]"
  for await (const inflated of jsonPieces(item)) {
    const piece = inflated.subarray(skip);
    skip = Math.max(0, skip - inflated.length);
    if (piece.length === 0) continue;
    if (last) await emit(last);
    await emit(piece.subarray(0, piece.length - 1));
    last = piece.subarray(piece.length - 1);
  }
  return first && !started;
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
    case "events": // one frame for every viewer of the channel: the batch's JSON as stored, inflated once
      return wrapJson(
        `event: events\nid: ${item.seqNum}\ndata: {"writerId":${
          JSON.stringify(item.writerId)
        },"batch":${item.batch},"events":`,
        item.json,
        "}\n\n",
      );
  }
}
