/**
 * One live-wall tile, free of Preact, rrweb and the DOM: derives what the
 * tile's header shows (user, current page, errors, clicks) from the session's
 * rrweb events, keeps the events the replay can start from (the latest Meta
 * and full snapshot onwards), and decides what the tile's replayer gets and
 * when. While the tile is inactive (off-screen, or the page hidden) events are
 * buffered, not rendered; when it is active again the buffer is handed over at
 * once, thinned to what changes the page ({@link compactForCatchUp}), or the
 * replayer is rebuilt from the newest snapshot when that is cheaper. Mouse
 * interactions are never replayed, and cursor motion only while few tiles
 * render ({@link thinPointer}).
 * @module
 */
import {
  EventType,
  IncrementalSource,
  MouseInteraction,
  type RrwebEvent,
  type SessionRow,
} from "@replaya/recorder/wire";
import { isRecord } from "../player/guards.ts";

/** What a tile's header shows. */
export interface TileFacts {
  id: string;
  createdAt: number;
  /** The row's user, or the latest `replaya.identify` user id. */
  user?: string;
  /** href of the latest rrweb Meta event, or the session's entry URL until one arrives. */
  page: string;
  source?: string;
  /** `replaya.error` custom events so far. */
  errors: number;
  /** Clicks and double-clicks so far. */
  clicks: number;
  /** rrweb events received. */
  events: number;
  /** Capture time of the newest event. */
  lastEventAt?: number;
}

/** What the tile's replayer must do next. */
export type Delivery =
  /** (Re)build the replayer from these events (a Meta, a full snapshot and what followed), then follow live. */
  | { kind: "mount"; events: RrwebEvent[]; baseline: number }
  /** Apply these events after the ones already applied; `catchUp` when they were buffered while inactive. */
  | { kind: "append"; events: RrwebEvent[]; catchUp: boolean };

/** Buffered events beyond which a catch-up rebuilds from the snapshot instead of applying them one by one. */
export const REMOUNT_AFTER_EVENTS = 3000;
/** How far behind the capture clock a freshly mounted replayer plays, so a batch's events keep their pace. */
export const LIVE_DELAY_MS = 250;

/** Incremental sources that only move the replay's cursor: mouse moves, touch moves, drags. */
const MOTION: ReadonlySet<unknown> = new Set([IncrementalSource.MouseMove, 6, 12]);

function sourceOf(event: RrwebEvent): unknown {
  return event.type === EventType.IncrementalSnapshot && isRecord(event.data) ? event.data.source : undefined;
}

/**
 * The pointer events a tile's replay gets. Mouse interactions (clicks,
 * focus, touches) are never replayed on the wall: they change nothing on the
 * page, and rrweb's click animation forces a layout of the whole wall each
 * time (the tile's header counts clicks instead). Cursor motion is kept when
 * `keepMotion`, else only the last motion event, so the cursor lands where
 * the visitor's is. Everything else (mutations, scrolls, inputs, resizes,
 * snapshots, custom events) stays, in order.
 */
export function thinPointer(events: readonly RrwebEvent[], keepMotion: boolean): RrwebEvent[] {
  let lastMotion = -1;
  if (!keepMotion) {
    for (let i = 0; i < events.length; i++) if (MOTION.has(sourceOf(events[i]))) lastMotion = i;
  }
  return events.filter((event, i) => {
    const source = sourceOf(event);
    if (source === IncrementalSource.MouseInteraction) return false;
    return keepMotion || i === lastMotion || !MOTION.has(source);
  });
}

/** Events buffered while a tile was inactive, thinned for a quick catch-up: {@link thinPointer} without motion. */
export function compactForCatchUp(events: readonly RrwebEvent[]): RrwebEvent[] {
  return thinPointer(events, false);
}

/**
 * The capture time a live replayer starts at (rrweb's live baseline): events
 * captured before it are applied at once, later ones at their own pace. Never
 * before the newest applied event (nothing is replayed twice), and close to
 * "now" on the capture clock, so a session that was idle when the tile
 * mounted does not play behind by the idle time. `ahead` is how far the
 * capture clock was seen ahead of this browser's (an event stamped after its
 * arrival), so a slow local clock does not delay playback either.
 */
export function liveBaseline(now: number, lastApplied: number, ahead: number): number {
  return Math.max(lastApplied + 1, now + Math.max(0, ahead) - LIVE_DELAY_MS);
}

/** A tile's state; see the module doc. */
export class TileState {
  readonly id: string;
  readonly #row: SessionRow;
  #user: string | undefined;
  #page: string;
  #errors = 0;
  #clicks = 0;
  #events = 0;
  #lastEventAt: number | undefined;
  // How far event capture times were seen ahead of this browser's clock at arrival.
  #ahead = 0;
  // The replay's starting point: the latest Meta + full snapshot and every event after them.
  #history: RrwebEvent[] = [];
  #ready = false;
  // The newest Meta: the viewport the next snapshot is drawn in.
  #lastMeta: RrwebEvent | undefined;
  // Which snapshot #history starts from (increments with each one).
  #segment = 0;
  #mounted = false;
  #failedSegment = -1;
  #active = false;
  // Events for the mounted replayer, not yet handed over.
  #pending: RrwebEvent[] = [];
  // They were buffered while inactive.
  #catchUp = false;
  // The replayer must be rebuilt from #history (a new snapshot, or too much to apply one by one).
  #remount = false;
  #applied = 0;

  constructor(row: SessionRow) {
    this.id = row.id;
    this.#row = row;
    this.#user = row.userId;
    this.#page = row.url;
  }

  /** The header's facts. */
  get facts(): TileFacts {
    return {
      id: this.id,
      createdAt: this.#row.createdAt,
      user: this.#user,
      page: this.#page,
      source: this.#row.source,
      errors: this.#errors,
      clicks: this.#clicks,
      events: this.#events,
      lastEventAt: this.#lastEventAt,
    };
  }

  /** A replay can start: a Meta and a full snapshot have arrived. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The tile renders (on screen, page visible). */
  get active(): boolean {
    return this.#active;
  }

  /** The replayer holds the session (it may lag behind while inactive). */
  get mounted(): boolean {
    return this.#mounted;
  }

  /** The next {@link take} (re)builds the replayer. */
  get needsMount(): boolean {
    return !this.#mounted || this.#remount;
  }

  /** Events waiting for the replayer. */
  get pending(): number {
    return this.#remount ? this.#history.length : this.#pending.length;
  }

  /** Events handed to the replayer so far. */
  get applied(): number {
    return this.#applied;
  }

  /** The replayer of this snapshot could not be built; waiting for the next one. */
  get failed(): boolean {
    return this.#failedSegment === this.#segment;
  }

  /** Takes the next events of the session, in stream order; `now` is this browser's clock. */
  push(events: readonly RrwebEvent[], now: number): void {
    const wasSegment = this.#segment;
    for (const event of events) this.#take(event, now);
    if (!this.#mounted) return;
    if (this.#segment !== wasSegment && !this.#active) {
      // Rebuilding from the new snapshot beats replaying everything before it.
      this.#remount = true;
      this.#pending = [];
      return;
    }
    if (this.#remount) return; // #history has everything the rebuild needs
    for (const event of events) this.#pending.push(event);
    if (!this.#active) {
      this.#catchUp = true;
      if (this.#pending.length > REMOUNT_AFTER_EVENTS) {
        this.#remount = true;
        this.#pending = [];
      }
    }
  }

  /** On screen and page visible (true), or not: inactive tiles buffer. */
  setActive(active: boolean): void {
    this.#active = active;
  }

  /**
   * What the replayer should do now: nothing while inactive or without a
   * snapshot; a mount the first time (or after {@link unmounted}, or when a
   * catch-up is cheaper as a rebuild); otherwise the events that came since,
   * thinned by {@link thinPointer}: with every cursor move when
   * `options.motion` and the tile keeps up, else with the cursor's last
   * position only.
   */
  take(now: number, options: { motion?: boolean } = {}): Delivery | undefined {
    if (!this.#active || !this.#ready || this.failed) return undefined;
    if (!this.#mounted || this.#remount) {
      this.#mounted = true;
      this.#remount = false;
      this.#catchUp = false;
      this.#pending = [];
      const events = this.#history.slice();
      this.#applied = events.length;
      const last = events.reduce((max, e) => Math.max(max, e.timestamp), -Infinity);
      return { kind: "mount", events, baseline: liveBaseline(now, last, this.#ahead) };
    }
    if (this.#pending.length === 0) return undefined;
    const catchUp = this.#catchUp;
    const events = thinPointer(this.#pending, Boolean(options.motion) && !catchUp);
    this.#pending = [];
    this.#catchUp = false;
    this.#applied += events.length;
    return { kind: "append", events, catchUp };
  }

  /** The replayer was destroyed (the tile left the screen for long): the next {@link take} mounts again. */
  unmounted(): void {
    this.#mounted = false;
    this.#remount = false;
    this.#catchUp = false;
    this.#pending = [];
    this.#applied = 0;
  }

  /** The replayer could not be built from the current snapshot: wait for the next one. */
  mountFailed(): void {
    this.unmounted();
    this.#failedSegment = this.#segment;
  }

  #take(event: RrwebEvent, now: number): void {
    this.#events++;
    this.#lastEventAt = Math.max(this.#lastEventAt ?? -Infinity, event.timestamp);
    this.#ahead = Math.max(this.#ahead, event.timestamp - now);
    const data = isRecord(event.data) ? event.data : undefined;
    switch (event.type) {
      case EventType.Meta:
        if (typeof data?.href === "string" && data.href) this.#page = data.href;
        this.#lastMeta = event;
        break;
      case EventType.FullSnapshot:
        // A new starting point: the Meta before it (rrweb writes them as a pair) and the snapshot.
        if (!this.#lastMeta) break; // no viewport size: nothing to play
        this.#history = [this.#lastMeta, event];
        this.#segment++;
        this.#ready = true;
        return;
      case EventType.IncrementalSnapshot:
        if (
          data?.source === IncrementalSource.MouseInteraction &&
          (data.type === MouseInteraction.Click || data.type === MouseInteraction.DblClick)
        ) this.#clicks++;
        break;
      case EventType.Custom: {
        const payload = isRecord(data?.payload) ? data.payload : undefined;
        if (data?.tag === "replaya.error") this.#errors++;
        else if (data?.tag === "replaya.identify" && typeof payload?.userId === "string" && payload.userId) {
          this.#user = payload.userId;
        } // An in-page navigation of a single-page app.
        else if (data?.tag === "replaya.page" && typeof payload?.href === "string" && payload.href) {
          this.#page = payload.href;
        }
        break;
      }
    }
    // Before the first snapshot there is no page to apply anything to.
    if (this.#ready) this.#history.push(event);
  }
}
