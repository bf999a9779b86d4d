/**
 * `GET /api/wall?user=&source=&url=&max=`: the live wall's one multiplexed SSE
 * stream (browsers allow six HTTP/1.1 connections per host, so tiles cannot
 * each have one). Events:
 *
 * - `session`: a live session's list row, for each live session matching the
 *   filters when the stream opens, then for each new one (the index stream);
 * - `batch`: `{id, events}`, a session's rrweb events in order, from its start;
 * - `end`: `{id}`, the session stopped.
 *
 * Every tile is a viewer of its session's shared live channel (a hub of its
 * own, because the wall's frames carry the session id), and counts as
 * watching, so recorders flush fast while they are on the wall.
 *
 * @module
 */

import { Hono } from "hono";
import { type DashboardAuth, requireViewer } from "../../lib/auth/dashboard.ts";
import { sseFrame, ssePush, wrapJson } from "../../lib/http/sse.ts";
import type { StreamPolicy } from "../../lib/http/streams.ts";
import { log } from "../../lib/log.ts";
import { INDEX_STREAM } from "../../lib/sessions/ids.ts";
import { filterFromQuery, listSessions, matchesStatic, type SessionFilter } from "../../lib/sessions/list.ts";
import { LiveHub, ViewerTooSlowError } from "../../lib/sessions/live_hub.ts";
import type { Sessions } from "../../lib/sessions/service.ts";
import type { StartSummary } from "../../lib/sessions/summaries.ts";
import type { SessionRow } from "@replaya/recorder/wire";
import { indexTail } from "./sessions.ts";

/** Tiles one wall follows at most (`max` may ask for fewer); more live sessions wait for a free slot, oldest first. */
export const WALL_MAX_TILES = 48;
/** What one tile may have waiting before it starts over from its session's start (the client rebuilds it). */
const TILE_QUEUE_BYTES = 256 * 1024;
/** What the wall's response may have waiting for its client. */
const WALL_QUEUE_BYTES = 1024 * 1024;

/** The wall's route, mounted at `/api/wall`. */
export function wallRoutes(sessions: Sessions, auth: DashboardAuth, streams: StreamPolicy): Hono {
  const app = new Hono();
  app.use("*", requireViewer(auth, "api"));
  app.get("/", streams.limit());
  const hub = new LiveHub({
    store: sessions.store,
    encode: (item, id) =>
      item.kind === "events"
        ? wrapJson(`event: batch\ndata: {"id":${JSON.stringify(id)},"events":`, item.json, "}\n\n")
        : item.kind === "stop"
        ? sseFrame({ event: "end", data: JSON.stringify({ id }) })
        : undefined,
    // A wall has up to 48 tiles on one response: each tile's own queue stays small.
    queueBytes: TILE_QUEUE_BYTES,
    budget: streams.budget,
  });

  app.get("/", async (c) => {
    const filter: SessionFilter = { ...filterFromQuery(c.req.query()), status: "live" };
    const max = Math.min(Math.max(Number(c.req.query("max")) || WALL_MAX_TILES, 1), WALL_MAX_TILES);
    // Positioned before anything is listed, so a session that starts meanwhile is not missed.
    const from = await indexTail(sessions);
    return ssePush(c, streams, WALL_QUEUE_BYTES, async (sink, signal) => {
      const tiles = new Map<string, Promise<void>>();
      const waiting: SessionRow[] = []; // live sessions beyond the cap, shown as tiles free up
      const show = (row: SessionRow) => {
        if (tiles.has(row.id) || waiting.some((w) => w.id === row.id)) return;
        if (tiles.size >= max) return void waiting.push(row);
        const release = sessions.watch(row.id);
        const tile = (async () => {
          try {
            // A tile that falls behind starts over from its session's start: the client rebuilds it.
            for (let behind = true; behind && !signal.aborted;) {
              behind = false;
              await sink.write(sseFrame({ event: "session", data: JSON.stringify(row) }));
              try {
                for await (const chunk of hub.follow(row.id, 0, signal)) await sink.write(chunk);
              } catch (error) {
                behind = error instanceof ViewerTooSlowError;
                if (!behind && !signal.aborted) log.error("wall tile failed", { session: row.id }, error);
                await sink.write(sseFrame({ event: "end", data: JSON.stringify({ id: row.id }) }));
              }
            }
          } finally {
            release();
            tiles.delete(row.id);
            const next = waiting.shift();
            if (next && !signal.aborted) show(next);
          }
        })();
        tiles.set(row.id, tile);
      };
      const page = await listSessions(sessions, { filter, limit: 200 });
      for (const row of page.rows) show(row);
      const text = new TextDecoder();
      for await (const record of sessions.store.follow(INDEX_STREAM, { from, signal })) {
        try {
          const { k: _k, ...start } = JSON.parse(text.decode(record.body)) as StartSummary;
          if (matchesStatic({ ...start, ended: false }, filter)) show({ ...start, live: true });
        } catch {
          // a malformed index entry is skipped
        }
      }
      await Promise.allSettled(tiles.values());
    });
  });
  return app;
}
