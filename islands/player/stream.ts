/**
 * Client of the session's Server-Sent Events stream
 * (`GET /api/sessions/{id}/live`): parses `meta`, `events`, `live` and `stop`,
 * drops records already applied (by SSE id) after a reconnect, and closes on
 * `stop` so EventSource does not reconnect to a finished session.
 * @module
 */
import type { RrwebEvent, SessionMeta, StopInfo } from "@replaya/recorder/wire";
import { CLOSED, type EventSourceLike, eventStreamDeps, type EventStreamOptions } from "../event_source.ts";
import { isRecord, isRrwebEvent } from "./guards.ts";

export type { EventSourceLike } from "../event_source.ts";

/** Callbacks of {@link openSessionStream}. */
export interface StreamHandlers {
  /** Session metadata (first record). */
  onMeta(meta: SessionMeta, seq: number): void;
  /** One recorder batch, in order. */
  onEvents(events: RrwebEvent[], seq: number): void;
  /** The history has been sent; the server now follows the live session. */
  onLive(tail: number | undefined): void;
  /** The session ended; the stream is closed. */
  onStop(stop: StopInfo, seq: number): void;
  /** Connection state, for a "reconnecting" hint. */
  onConnection?(state: "open" | "reconnecting"): void;
  /** The stream closed for good without a `stop` (retries exhausted). */
  onEnd?(): void;
}

/** Options of {@link openSessionStream}. */
export type StreamOptions = EventStreamOptions;

const DEFAULT_RETRIES = [1000, 2000, 4000];

/**
 * Accepts each SSE record once: ids must grow, so a record replayed after a
 * reconnect (or a `?from=` that includes the last seen record) is dropped.
 */
export class SeqGate {
  #last = -1;

  /** The highest id accepted, or -1. */
  get last(): number {
    return this.#last;
  }

  /** True the first time an id is seen; records without a numeric id always pass. */
  accept(id: string | undefined): boolean {
    if (id === undefined || id === "") return true;
    const seq = Number(id);
    if (!Number.isSafeInteger(seq)) return true;
    if (seq <= this.#last) return false;
    this.#last = seq;
    return true;
  }
}

/** URL of a session's SSE stream; `from` resumes at that record. */
export function sessionStreamUrl(apiBase: string, sessionId: string, from?: number): string {
  const base = `${apiBase.replace(/\/+$/, "")}/api/sessions/${encodeURIComponent(sessionId)}/live`;
  return from === undefined || from < 0 ? base : `${base}?from=${from}`;
}

/**
 * Opens the stream and keeps it going: EventSource's own retry (with
 * Last-Event-ID) covers dropped connections; when EventSource gives up (an
 * HTTP error), the stream is reopened with `?from=<last id>` after a backoff
 * (the server treats `from` as inclusive; the repeated record is dropped).
 * The stream ends without `stop` when the retries run out, or when a
 * reconnection opens, brings nothing new and closes again.
 * Returns a handle whose `close()` stops everything.
 */
export function openSessionStream(
  apiBase: string,
  sessionId: string,
  handlers: StreamHandlers,
  options: StreamOptions = {},
): { close(): void } {
  const { create, retries, setTimer, clearTimer } = eventStreamDeps(options, DEFAULT_RETRIES);
  const gate = new SeqGate();
  let source: EventSourceLike | undefined;
  let timer: unknown;
  let attempt = 0;
  let done = false;
  // Per connection: it opened, and it brought something new (a record or `live`).
  let opened = false;
  let productive = false;

  const finish = () => {
    done = true;
    source?.close();
    if (timer !== undefined) clearTimer(timer);
  };

  // Parses a record's JSON; undefined for a duplicate or malformed record.
  const take = (event: MessageEvent): { seq: number; data: Record<string, unknown> } | undefined => {
    if (done || !gate.accept(event.lastEventId)) return undefined;
    attempt = 0;
    productive = true;
    try {
      const data: unknown = JSON.parse(String(event.data));
      return isRecord(data) ? { seq: gate.last, data } : undefined;
    } catch {
      return undefined;
    }
  };

  const open = () => {
    const es = create(sessionStreamUrl(apiBase, sessionId, gate.last >= 0 ? gate.last : undefined));
    source = es;
    es.addEventListener("meta", (event) => {
      const record = take(event);
      if (record && typeof record.data.id === "string") {
        handlers.onMeta(record.data as unknown as SessionMeta, record.seq);
      }
    });
    es.addEventListener("events", (event) => {
      const record = take(event);
      if (!record || !Array.isArray(record.data.events)) return;
      handlers.onEvents(record.data.events.filter(isRrwebEvent), record.seq);
    });
    es.addEventListener("live", (event) => {
      if (done) return;
      productive = true;
      let tail: number | undefined;
      try {
        const data: unknown = JSON.parse(String(event.data));
        if (isRecord(data) && typeof data.tail === "number") tail = data.tail;
      } catch {
        // The signal matters, not its payload.
      }
      handlers.onLive(tail);
    });
    es.addEventListener("stop", (event) => {
      const record = take(event);
      if (!record) return;
      // Close first: the server ends the response next and EventSource would reconnect.
      finish();
      handlers.onStop(record.data as unknown as StopInfo, record.seq);
    });
    es.onopen = () => {
      opened = true;
      productive = false;
      if (!done) handlers.onConnection?.("open");
    };
    es.onerror = () => {
      if (done || es !== source) return;
      const empty = opened && !productive;
      opened = false;
      if (es.readyState !== CLOSED) {
        // A server that follows a session announces `live` on every connection; one that
        // answered, sent nothing new and hung up is done with an ended session that has no
        // `stop` record. Reconnecting would only repeat that.
        if (empty) {
          finish();
          handlers.onEnd?.();
          return;
        }
        handlers.onConnection?.("reconnecting");
        return;
      }
      es.close();
      if (attempt >= retries.length) {
        finish();
        handlers.onEnd?.();
        return;
      }
      handlers.onConnection?.("reconnecting");
      timer = setTimer(() => {
        timer = undefined;
        if (!done) open();
      }, retries[attempt++]);
    };
  };

  open();
  return { close: finish };
}
