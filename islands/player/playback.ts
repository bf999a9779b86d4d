/**
 * Pure playback decisions: when the replay can start, what status the player
 * shows, what the stage says while there is nothing to play.
 * @module
 */
import { EventType, type RrwebEvent } from "@replaya/recorder/wire";

/** Playback speeds offered, in order. */
export const SPEEDS: readonly number[] = [0.5, 1, 2, 4, 8, 16];

/** The speed one step slower (`step` -1) or faster (+1) than `current` in {@link SPEEDS}, stopping at the ends. */
export function nextSpeed(current: number, step: 1 | -1): number {
  const at = SPEEDS.indexOf(current);
  if (at < 0) return SPEEDS[SPEEDS.indexOf(1)];
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, at + step))];
}

/** The player root's `data-status`. */
export type PlayerStatus = "loading" | "live" | "playing" | "ended";

/**
 * Index of the first full snapshot that has a Meta event before it (rrweb
 * needs the Meta for the viewport size and the snapshot to draw anything), or
 * -1 while playback cannot start yet.
 */
export function playableSnapshotIndex(events: readonly RrwebEvent[]): number {
  let sawMeta = false;
  for (let i = 0; i < events.length; i++) {
    const type = events[i].type;
    if (type === EventType.Meta) sawMeta = true;
    else if (type === EventType.FullSnapshot && sawMeta) return i;
  }
  return -1;
}

/** {@link playableSnapshotIndex} batch by batch, without rescanning what came before. */
export class StartGate {
  #sawMeta = false;
  #ready = false;
  #snapshotAt: number | undefined;

  /** True once a full snapshot with a Meta before it has been pushed. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Capture time of that snapshot: the first frame there is to show. */
  get snapshotAt(): number | undefined {
    return this.#snapshotAt;
  }

  /** Looks at the next events in stream order; returns {@link StartGate.ready}. */
  push(events: readonly RrwebEvent[]): boolean {
    for (const event of events) {
      if (this.#ready) break;
      if (event.type === EventType.Meta) this.#sawMeta = true;
      else if (event.type === EventType.FullSnapshot && this.#sawMeta) {
        this.#ready = true;
        this.#snapshotAt = event.timestamp;
      }
    }
    return this.#ready;
  }
}

/** Whether a replay can start from these events. */
export function canStartPlayback(events: readonly RrwebEvent[]): boolean {
  return playableSnapshotIndex(events) >= 0;
}

/** What decides the status. */
export interface StatusFacts {
  /** The replayer is mounted. */
  playable: boolean;
  /** The server replayed the history and now follows the live session. */
  liveStream: boolean;
  /** `stop` arrived, or the stream closed for good. */
  ended: boolean;
}

/** `ended` once the session is over, else `loading` until playable, then `live` or `playing`. */
export function playerStatus(facts: StatusFacts): PlayerStatus {
  if (facts.ended) return "ended";
  if (!facts.playable) return "loading";
  return facts.liveStream ? "live" : "playing";
}

/** What the stage knows while it has nothing to play. */
export interface EmptyFacts extends StatusFacts {
  /** The page rendered this as a live session. */
  live: boolean;
  /** The server has sent the whole history (the `live` event arrived). */
  caughtUp: boolean;
  /** The stream closed before sending anything. */
  failed: boolean;
  /** The replayer failed to start. */
  error?: string;
}

/** The stage's message while there is nothing to play; undefined once playable. */
export function emptyMessage(facts: EmptyFacts): string | undefined {
  if (facts.playable) return undefined;
  if (facts.error) return `This recording could not be played (${facts.error}).`;
  if (facts.failed) return "This recording could not be loaded.";
  if (facts.ended) return "This session has no recording data.";
  if (facts.caughtUp || facts.liveStream) return "No recording data yet — waiting for the first snapshot";
  return facts.live ? "Connecting to the live session…" : "Loading recording…";
}

/**
 * Where playback resumes after new events arrived while the replayer sat at
 * the end of what it had. While following live, it skips the quiet time
 * between the last event and the new batch, so the replay stays near the
 * live edge instead of drifting behind by every idle period; otherwise (the
 * history is still loading) it carries on exactly where it stopped.
 */
export function resumeOffset(current: number, firstNewOffset: number, following: boolean): number {
  return following ? Math.max(current, firstNewOffset) : current;
}

/** While following live, how far playback may fall behind the newest event before it skips ahead. */
export const MAX_LIVE_LAG_MS = 15_000;

/**
 * While following live and playing, where to skip to when playback has fallen
 * more than {@link MAX_LIVE_LAG_MS} behind the newest event (a burst of
 * batches, a throttled background tab); undefined when it keeps up.
 */
export function liveCatchUpOffset(current: number, firstNewOffset: number, total: number): number | undefined {
  if (total - current <= MAX_LIVE_LAG_MS) return undefined;
  return Math.max(current, firstNewOffset, total - MAX_LIVE_LAG_MS);
}

/** Offsets from the session start are clamped into the loaded range. */
export function clampOffset(offset: number, total: number): number {
  if (!Number.isFinite(offset) || offset < 0) return 0;
  return Math.min(offset, Math.max(0, total));
}
