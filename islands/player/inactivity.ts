/**
 * Inactive stretches of a recording (no input from the visitor for a while),
 * found incrementally as events stream in, and where "skip inactivity" jumps
 * to. rrweb's own skipping only fast-forwards (a 12 s idle stretch played at
 * 2×); the player jumps over the stretch instead and the timeline shades it.
 * @module
 */
import { EventType, IncrementalSource, type RrwebEvent } from "@replaya/recorder/wire";
import { isRecord } from "./guards.ts";

/** No activity for longer than this makes an inactive stretch. */
export const INACTIVITY_THRESHOLD_MS = 5_000;
/** A skip lands this long before the activity that ends the stretch, so the viewer sees it coming. */
export const SKIP_LEAD_MS = 1_000;
// A jump shorter than this is not worth the discontinuity.
const MIN_JUMP_MS = 500;

/** A stretch without activity, as offsets (ms) from the recording's first event. */
export interface Stretch {
  start: number;
  end: number;
}

// rrweb incremental sources that are the visitor's doing.
const ACTIVE_SOURCES = new Set<number>([
  IncrementalSource.MouseMove,
  IncrementalSource.MouseInteraction,
  IncrementalSource.Scroll,
  IncrementalSource.ViewportResize,
  IncrementalSource.Input,
  6, // TouchMove
  7, // MediaInteraction
  12, // Drag
  14, // Selection
]);

/**
 * The visitor did something: moved, clicked, scrolled, typed, resized, or a
 * page (re)loaded. DOM mutations alone (a ticking clock, a spinner) are not
 * activity; neither are console messages, errors or requests.
 */
export function isActivity(event: RrwebEvent): boolean {
  if (event.type === EventType.Meta || event.type === EventType.FullSnapshot) return true;
  if (event.type !== EventType.IncrementalSnapshot || !isRecord(event.data)) return false;
  const source = event.data.source;
  return typeof source === "number" && ACTIVE_SOURCES.has(source);
}

/**
 * Keeps the gaps between activity, event by event (in any order: a late
 * event splits the gap it falls into), and lists the inactive stretches,
 * including a quiet start and a quiet end.
 */
export class InactivityTracker {
  readonly #threshold: number;
  #first = Infinity;
  #last = -Infinity;
  #firstActive = Infinity;
  #lastActive = -Infinity;
  // Gaps longer than the threshold between consecutive activity, as capture times, sorted.
  #gaps: Array<[number, number]> = [];
  #cached: readonly Stretch[] | undefined;

  constructor(threshold = INACTIVITY_THRESHOLD_MS) {
    this.#threshold = threshold;
  }

  /** Takes more events. */
  push(events: readonly RrwebEvent[]): void {
    for (const event of events) {
      const ts = event.timestamp;
      if (ts < this.#first || ts > this.#last) this.#cached = undefined;
      this.#first = Math.min(this.#first, ts);
      this.#last = Math.max(this.#last, ts);
      if (isActivity(event)) this.#active(ts);
    }
  }

  /** The inactive stretches, as offsets from the first event; the same array until something changes. */
  stretches(): readonly Stretch[] {
    if (this.#cached) return this.#cached;
    const out: Stretch[] = [];
    const origin = this.#first;
    if (this.#last === -Infinity) return this.#cached = out;
    const add = (start: number, end: number) => {
      if (end - start > this.#threshold) out.push({ start: start - origin, end: end - origin });
    };
    if (this.#lastActive === -Infinity) {
      add(this.#first, this.#last);
      return this.#cached = out;
    }
    add(this.#first, this.#firstActive);
    for (const [start, end] of this.#gaps) add(start, end);
    add(this.#lastActive, this.#last);
    return this.#cached = out;
  }

  #active(ts: number): void {
    if (this.#lastActive === -Infinity) {
      this.#firstActive = this.#lastActive = ts;
      this.#cached = undefined;
      return;
    }
    if (ts >= this.#lastActive) {
      if (ts - this.#lastActive > this.#threshold) this.#gaps.push([this.#lastActive, ts]);
      this.#lastActive = ts;
    } else if (ts <= this.#firstActive) {
      if (this.#firstActive - ts > this.#threshold) this.#gaps.unshift([ts, this.#firstActive]);
      this.#firstActive = ts;
    } else {
      const at = this.#gaps.findIndex(([start, end]) => start < ts && ts < end);
      if (at < 0) return;
      const [start, end] = this.#gaps[at];
      const parts: Array<[number, number]> = [];
      if (ts - start > this.#threshold) parts.push([start, ts]);
      if (end - ts > this.#threshold) parts.push([ts, end]);
      this.#gaps.splice(at, 1, ...parts);
    }
    this.#cached = undefined;
  }
}

/**
 * Where skipping inactivity jumps from `current`: near the end of the
 * stretch playback is in ({@link SKIP_LEAD_MS} before the activity that ends
 * it), or undefined when playback is not in one (or is already near its end).
 */
export function skipTarget(stretches: readonly Stretch[], current: number, lead = SKIP_LEAD_MS): number | undefined {
  let lo = 0;
  let hi = stretches.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const stretch = stretches[mid];
    if (current < stretch.start) hi = mid - 1;
    else if (current >= stretch.end) lo = mid + 1;
    else {
      const target = Math.max(stretch.start, stretch.end - lead);
      return target - current >= MIN_JUMP_MS ? target : undefined;
    }
  }
  return undefined;
}

/** Total inactive time, ms. */
export function inactiveTotal(stretches: readonly Stretch[]): number {
  return stretches.reduce((sum, stretch) => sum + stretch.end - stretch.start, 0);
}
