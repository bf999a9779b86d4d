/**
 * The shapes that cross the wire, defined once: what the recorder sends, what
 * the server stores and what the dashboard's islands read back. Types and
 * `const` objects only, no behaviour, so the recorder, the server and the
 * islands can all import it (as `@replaya/recorder/wire`) without pulling in
 * each other's code. Kept free of rrweb's own types so pure modules can be
 * tested without the npm package or a DOM.
 *
 * @module
 */

/** rrweb's event types. */
export const EventType = {
  DomContentLoaded: 0,
  Load: 1,
  FullSnapshot: 2,
  IncrementalSnapshot: 3,
  Meta: 4,
  Custom: 5,
  Plugin: 6,
} as const;

/** rrweb's incremental snapshot sources we look at. */
export const IncrementalSource = {
  Mutation: 0,
  MouseMove: 1,
  MouseInteraction: 2,
  Scroll: 3,
  ViewportResize: 4,
  Input: 5,
} as const;

/** rrweb's mouse interaction types we look at. */
export const MouseInteraction = { Click: 2, DblClick: 4 } as const;

/** An rrweb event (type 0–6): only `type` and `timestamp` are relied upon. */
export interface RrwebEvent {
  /** rrweb {@link EventType}. */
  type: number;
  /** Capture time, milliseconds since the epoch. */
  timestamp: number;
  /** Event payload; its shape depends on `type`. */
  data?: unknown;
}

/** Tags of the custom events (type 5) the recorder writes. */
export type CustomTag =
  | "replaya.error"
  | "replaya.console"
  | "replaya.network"
  | "replaya.track"
  | "replaya.identify"
  | "replaya.gap"
  | "replaya.page";

/**
 * Payload of a `replaya.page` event: an in-page navigation of a single-page
 * app (pushState, replaceState, popstate, hashchange), its URL scrubbed like a
 * page load's. Not an rrweb Meta event: rrweb's replayer starts a seek from
 * the last Meta before it, expecting a full snapshot after it.
 */
export interface PagePayload {
  href: string;
}

/** Payload of a `replaya.network` event: one fetch or XHR request (never its headers or bodies). */
export interface NetworkPayload {
  type: "fetch" | "xhr";
  /** Upper case. */
  method: string;
  /** Absolute, without query or fragment. */
  url: string;
  /** HTTP status; 0 when the request failed. */
  status: number;
  /** Until the response's headers (fetch) or its end (XHR). */
  durationMs: number;
  /** The response body's bytes on the wire (before decompression); absent when unknown. */
  size?: number;
  /** Present (true) when the request failed. */
  error?: true;
}

/** Payload of a `replaya.gap` marker: events the recorder had to drop, and their capture times. */
export interface GapPayload {
  droppedEvents: number;
  droppedBytes: number;
  /** Capture time of the first and last dropped event. */
  from: number;
  to: number;
  /**
   * Why: the buffer bound, a session that could not be continued, or (set by the server) a batch it could not
   * scan for personal data within its time budget, stored as this marker instead.
   */
  reason?: "buffer_full" | "session_ended" | "unscanned";
}

/** The page a session starts on, as the recorder describes it. */
export interface PageMeta {
  url: string;
  referrer?: string;
  userAgent?: string;
  viewport?: { width: number; height: number };
  screen?: { width: number; height: number };
  language?: string;
  timezone?: string;
  source?: string;
  userId?: string;
  /** From `identify`. */
  traits?: Record<string, unknown>;
  recorderVersion?: string;
}

/** Session identity a recorder presents to resume a session. */
export interface Credentials {
  sessionId: string;
  token: string;
}

/** Body of `POST /api/sessions`. */
export interface StartBody {
  projectKey: string;
  resume?: Credentials;
  meta: PageMeta;
}

/** A session's metadata, the first data record of its stream. */
export interface SessionMeta extends PageMeta {
  id: string;
  createdAt: number;
  /** The project key's label. */
  project?: string;
}

/** What a session's list row shows from its start. */
export interface SessionStart {
  id: string;
  createdAt: number;
  url: string;
  source?: string;
  userId?: string;
  /** Parsed once from the user agent when the session starts. */
  browser?: string;
  os?: string;
  device?: string;
}

/** Friction signals the server finds in a session's events (see lib/sessions/friction.ts). */
export type FrictionKind = "rage" | "dead" | "error_click" | "thrash" | "abandoned_form";

/** Friction signal counts; a kind absent = 0. */
export type FrictionCounts = Partial<Record<FrictionKind, number>>;

/** One friction signal: when, what kind, and the node involved (rrweb node id of the page at that time). */
export interface FrictionSignal {
  kind: FrictionKind;
  /** Capture time, ms since the epoch. */
  at: number;
  nodeId?: number;
  /** Clicks in a rage click, focus changes or scroll reversals in a thrash, fields in an abandoned form. */
  count?: number;
  /** Thrashing: `scroll` or `focus`. */
  detail?: string;
}

/** A session's friction report, as `GET /api/sessions/{id}/report` serves it. */
export interface FrictionReport {
  id: string;
  startedAt: number;
  /** Last event seen; the session's end while it is live. */
  endedAt: number;
  live: boolean;
  pages: Array<{ url: string; at: number; durationMs: number }>;
  signals: Array<FrictionSignal & { element?: string; page?: string }>;
  errors: Array<{ at: number; message: string; page?: string }>;
  counts: FrictionCounts;
  /** The last page and the last thing the visitor did (and when); `reason` once stopped (`stop`, `lease_expired`). */
  ended: { page?: string; lastAction?: string; lastActionAt?: number; reason?: string };
  /**
   * The report stopped before the end of the session (event, byte or time cap, or a list full); it covers up
   * to `endedAt`.
   */
  truncated?: { reason: "events" | "bytes" | "time" | "signals" | "pages" | "errors"; limit: number };
}

/** Counts over a whole session. */
export interface SessionCounts {
  events: number;
  clicks: number;
  pages: number;
  errors: number;
  /** Events the recorder dropped (an outage beyond its buffer, or a session it could not continue); absent = 0. */
  dropped?: number;
  /** Friction signals found at ingest; absent = none. */
  friction?: FrictionCounts;
}

/** How a session ended, with its final counts. */
export interface SessionEnd extends SessionCounts {
  id: string;
  endedAt: number;
  /** Time of the last recorded event; the session's duration ends here. */
  lastEventAt: number;
  reason: string;
  userId?: string;
  /** Every page URL (loads and in-page navigations), distinct, at most 20; the list's URL filter matches them. */
  urls?: string[];
}

/** The last data record of an ended session. */
export interface StopInfo {
  stoppedAt: number;
  reason: "stop" | "lease_expired";
  summary?: SessionEnd;
}

/** One row of the session list, as the table and the live islands show it. */
export interface SessionRow extends SessionStart {
  live: boolean;
  /** Live, but nothing has arrived for longer than the lease. */
  disconnected?: boolean;
  /** From start to the last event (or now, while live). */
  durationMs?: number;
  end?: Omit<SessionEnd, "id">;
  /** A live session's counts so far; `partial` while the server has not counted every record yet (a lower bound). */
  running?: SessionCounts & { lastEventAt: number; partial?: boolean };
}
