/**
 * Shapes the player reads from the session stream. Kept free of rrweb's own
 * types so the pure modules can be tested without the npm package or a DOM.
 * @module
 */

/** An rrweb event as stored: only `type` and `timestamp` are relied upon. */
export interface RrwebEvent {
  /** rrweb EventType (see {@link EventType}). */
  type: number;
  /** Capture time, milliseconds since the epoch. */
  timestamp: number;
  /** Event payload; shape depends on `type`. */
  data?: unknown;
  /** Set by rrweb's replayer when it schedules the event. */
  delay?: number;
}

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

/** rrweb's incremental snapshot sources the player looks at. */
export const IncrementalSource = {
  Mutation: 0,
  MouseMove: 1,
  MouseInteraction: 2,
  Scroll: 3,
  ViewportResize: 4,
  Input: 5,
} as const;

/** rrweb's mouse interaction types the feed shows. */
export const MouseInteraction = { Click: 2, DblClick: 4 } as const;

/** Session metadata, the first record of a session stream. */
export interface SessionMeta {
  id: string;
  createdAt: number;
  url: string;
  referrer?: string;
  userAgent?: string;
  viewport?: { width: number; height: number };
  source?: string;
  userId?: string;
  traits?: Record<string, unknown>;
}

/** The last record of an ended session. */
export interface StopInfo {
  stoppedAt: number;
  reason: "stop" | "lease_expired";
  summary?: unknown;
}

/** Narrows unknown JSON to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for values shaped like an rrweb event (numeric type and timestamp). */
export function isRrwebEvent(value: unknown): value is RrwebEvent {
  return isRecord(value) && typeof value.type === "number" && typeof value.timestamp === "number" &&
    Number.isFinite(value.timestamp);
}
