/**
 * rrweb events as the server sees them: just enough structure to validate a
 * batch and count what the dashboard shows (clicks, pages, errors).
 *
 * @module
 */

import {
  EventType,
  type FrictionCounts,
  IncrementalSource,
  MouseInteraction,
  type RrwebEvent,
} from "@replaya/recorder/wire";

/** Counts carried in each events record's `stats` header. */
export interface BatchStats {
  /** events */
  n: number;
  /** clicks */
  c: number;
  /** page views: rrweb Meta events (page loads) and `replaya.page` events (in-page navigations) */
  p: number;
  /** errors captured by the recorder */
  e: number;
  /** events the recorder had to drop, from its `replaya.gap` markers */
  d: number;
  /** the user id, when the batch identifies the user */
  u?: string;
  /** page URLs of the batch's Meta events (loads and in-page navigations), distinct, bounded; header `g` */
  g?: string[];
  /** friction signals decided in this batch (friction.ts), header `x` */
  x?: FrictionCounts;
  /** first and last event time */
  t0: number;
  t1: number;
}

/** A custom event's tag, e.g. `replaya.error`. */
export function customTag(event: RrwebEvent): string | undefined {
  if (event.type !== EventType.Custom) return undefined;
  const tag = (event.data as { tag?: unknown } | undefined)?.tag;
  return typeof tag === "string" ? tag : undefined;
}

/**
 * The URL of a page view: rrweb's Meta on a page load, the recorder's
 * `replaya.page` on an in-page navigation; undefined for any other event.
 */
export function pageUrlOf(event: RrwebEvent): unknown {
  if (event.type === EventType.Meta) return (event.data as { href?: unknown } | undefined)?.href;
  if (customTag(event) === "replaya.page") return (event.data as { payload?: { href?: unknown } }).payload?.href;
  return undefined;
}

/** Whether the event is a page view (see {@link pageUrlOf}). */
export function isPageView(event: RrwebEvent): boolean {
  return event.type === EventType.Meta || customTag(event) === "replaya.page";
}

/** Whether the event is a click. */
export function isClick(event: RrwebEvent): boolean {
  const data = event.data as { source?: number; type?: number } | undefined;
  return event.type === EventType.IncrementalSnapshot && data?.source === IncrementalSource.MouseInteraction &&
    data.type === MouseInteraction.Click;
}

/** Page URLs kept per batch and per session, and the characters kept of each. */
export const MAX_PAGE_URLS = 20;
export const MAX_PAGE_URL_LENGTH = 300;

/** Adds `urls` to `into` (distinct, in order, cut to the bounds above). */
export function addPageUrls(into: string[], urls: readonly unknown[]): void {
  for (const url of urls) {
    if (into.length >= MAX_PAGE_URLS) return;
    if (typeof url !== "string" || url === "") continue;
    const cut = url.slice(0, MAX_PAGE_URL_LENGTH);
    if (!into.includes(cut)) into.push(cut);
  }
}

/** Counts clicks, pages, errors and the identified user of a batch; collects its page URLs. */
export function statsOf(events: RrwebEvent[]): BatchStats {
  const stats: BatchStats = { n: events.length, c: 0, p: 0, e: 0, d: 0, t0: Infinity, t1: 0 };
  for (const event of events) {
    stats.t0 = Math.min(stats.t0, event.timestamp);
    stats.t1 = Math.max(stats.t1, event.timestamp);
    if (isClick(event)) stats.c++;
    else if (isPageView(event)) {
      stats.p++;
      addPageUrls(stats.g ??= [], [pageUrlOf(event)]);
    }
    const tag = customTag(event);
    if (tag === "replaya.error") stats.e++;
    if (tag === "replaya.gap") {
      const dropped = (event.data as { payload?: { droppedEvents?: unknown } }).payload?.droppedEvents;
      if (typeof dropped === "number" && Number.isSafeInteger(dropped) && dropped > 0) stats.d += dropped;
    }
    if (tag === "replaya.identify") {
      const userId = (event.data as { payload?: { userId?: unknown } }).payload?.userId;
      if (typeof userId === "string") stats.u = userId.slice(0, 200);
    }
  }
  if (events.length === 0) stats.t0 = 0;
  if (stats.g?.length === 0) delete stats.g;
  return stats;
}

/** Why a batch of events was refused. */
export class EventValidationError extends Error {
  override name = "EventValidationError";
  constructor(message: string, readonly code: "invalid_events" | "too_many_events" = "invalid_events") {
    super(message);
  }
}

/**
 * How deep an event's JSON may nest. Real recordings stay far below (a full
 * snapshot nests two levels per DOM level); deeper ones would overflow the
 * stack of whatever recurses over them later (JSON.stringify here, rrweb's
 * rebuild in the player).
 */
export const MAX_EVENT_DEPTH = 2_000;

/**
 * Checks a decoded batch: an array of objects, each with a numeric type 0–6,
 * a finite, positive millisecond timestamp, and JSON nested at most
 * {@link MAX_EVENT_DEPTH} levels.
 */
export function validateEvents(value: unknown, maxEvents: number): RrwebEvent[] {
  if (!Array.isArray(value)) throw new EventValidationError("events must be an array");
  if (value.length > maxEvents) {
    throw new EventValidationError(`too many events in one batch (${value.length} > ${maxEvents})`, "too_many_events");
  }
  value.forEach((event, i) => {
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
      throw new EventValidationError(`events[${i}] is not an object`);
    }
    const { type, timestamp } = event as Record<string, unknown>;
    if (typeof type !== "number" || !Number.isInteger(type) || type < 0 || type > 6) {
      throw new EventValidationError(`events[${i}].type must be an rrweb event type (0–6)`);
    }
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp) || timestamp <= 0) {
      throw new EventValidationError(`events[${i}].timestamp must be a positive number of milliseconds`);
    }
    if (depthOver(event, MAX_EVENT_DEPTH)) {
      throw new EventValidationError(`events[${i}] nests deeper than ${MAX_EVENT_DEPTH} levels`);
    }
  });
  return value as RrwebEvent[];
}

/** Whether `value` nests deeper than `max` objects and arrays; an explicit stack, so the check itself cannot overflow. */
function depthOver(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    if (Array.isArray(node)) {
      for (const child of node) if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    } else {
      for (const key in node as Record<string, unknown>) {
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
      }
    }
  }
  return false;
}
