/**
 * Client of the live wall's one multiplexed Server-Sent Events stream
 * (`GET /api/wall?user=&source=&url=`), so the wall holds a single
 * connection however many tiles it shows (browsers allow six per host):
 *
 * - `session`: a list row ({@link SessionRow}) for each live session matching the filters, then each new one
 * - `batch`: `{id, events}`, a session's rrweb events in order, from its start, then live
 * - `end`: `{id}`, the session stopped
 *
 * On every (re)connection the server sends the live sessions again from
 * their start, so `onOpen` tells the wall to start over. EventSource
 * reconnects by itself after a dropped connection; when it gives up (an HTTP
 * error: the login expired, the server restarted into an error) the stream
 * is reopened after a backoff, for as long as the page is open.
 * @module
 */
import type { RrwebEvent, SessionRow } from "@replaya/recorder/wire";
import { isRecord, isRrwebEvent } from "../player/guards.ts";
import { CLOSED, type EventSourceLike, eventStreamDeps, type EventStreamOptions } from "../event_source.ts";

/** The wall's filters, as in the list page's form (empty = any). */
export interface WallFilters {
  user?: string;
  source?: string;
  url?: string;
}

/** Callbacks of {@link openWallStream}. */
export interface WallHandlers {
  /** A connection opened: the server starts over with every live session, so the wall must too. */
  onOpen(): void;
  /** A live session matching the filters. */
  onSession(row: SessionRow): void;
  /** A session's next rrweb events. */
  onBatch(id: string, events: RrwebEvent[]): void;
  /** The session stopped. */
  onEnd(id: string): void;
  /** The connection dropped (EventSource retries, or the stream is reopened after a backoff). */
  onDisconnect(): void;
}

/** Options of {@link openWallStream}. */
export type WallStreamOptions = EventStreamOptions;

const DEFAULT_RETRIES = [1000, 2000, 5000, 10_000, 30_000];

/** URL of the wall's stream; empty filters are left out. */
export function wallStreamUrl(apiBase: string, filters: WallFilters = {}): string {
  const query = new URLSearchParams();
  for (const key of ["user", "source", "url"] as const) {
    const value = filters[key]?.trim();
    if (value) query.set(key, value);
  }
  const base = `${apiBase.replace(/\/+$/, "")}/api/wall`;
  const search = query.toString();
  return search ? `${base}?${search}` : base;
}

/** A `session` payload as a row, or undefined when it is not one. */
export function parseSessionRow(data: unknown): SessionRow | undefined {
  if (!isRecord(data) || typeof data.id !== "string" || !data.id) return undefined;
  if (typeof data.createdAt !== "number" || !Number.isFinite(data.createdAt)) return undefined;
  return { ...data, url: typeof data.url === "string" ? data.url : "", live: true } as SessionRow;
}

/** A `batch` payload, or undefined; events that are not rrweb-shaped are dropped. */
export function parseBatch(data: unknown): { id: string; events: RrwebEvent[] } | undefined {
  if (!isRecord(data) || typeof data.id !== "string" || !Array.isArray(data.events)) return undefined;
  return { id: data.id, events: data.events.filter(isRrwebEvent) };
}

/** An `end` payload's session id, or undefined. */
export function parseEnd(data: unknown): string | undefined {
  return isRecord(data) && typeof data.id === "string" ? data.id : undefined;
}

/** Opens the wall's stream and keeps it open; `close()` stops everything. */
export function openWallStream(
  url: string,
  handlers: WallHandlers,
  options: WallStreamOptions = {},
): { close(): void } {
  const { create, retries, setTimer, clearTimer } = eventStreamDeps(options, DEFAULT_RETRIES);
  let source: EventSourceLike | undefined;
  let timer: unknown;
  let attempt = 0;
  let done = false;

  const json = (event: MessageEvent): unknown => {
    try {
      return JSON.parse(String(event.data));
    } catch {
      return undefined; // a malformed message is skipped, the stream goes on
    }
  };

  const open = () => {
    const es = create(url);
    source = es;
    const current = () => !done && es === source;
    es.addEventListener("session", (event) => {
      const row = current() ? parseSessionRow(json(event)) : undefined;
      if (row) handlers.onSession(row);
    });
    es.addEventListener("batch", (event) => {
      const batch = current() ? parseBatch(json(event)) : undefined;
      if (batch && batch.events.length) handlers.onBatch(batch.id, batch.events);
    });
    es.addEventListener("end", (event) => {
      const id = current() ? parseEnd(json(event)) : undefined;
      if (id) handlers.onEnd(id);
    });
    es.onopen = () => {
      if (!current()) return;
      attempt = 0;
      handlers.onOpen();
    };
    es.onerror = () => {
      if (!current()) return;
      handlers.onDisconnect();
      if (es.readyState !== CLOSED) return; // EventSource reconnects by itself
      es.close();
      timer = setTimer(() => {
        timer = undefined;
        if (!done) open();
      }, retries[Math.min(attempt++, retries.length - 1)]);
    };
  };

  open();
  return {
    close() {
      done = true;
      source?.close();
      if (timer !== undefined) clearTimer(timer);
    },
  };
}
