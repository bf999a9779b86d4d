/**
 * The player's brain, free of Preact and of rrweb: takes the session stream,
 * mounts the replayer as soon as it can play, feeds it every later batch,
 * follows the live edge, and publishes a state snapshot for the view.
 * The replayer and the stream are injected, so this is unit-tested with fakes.
 * @module
 */
import { FeedBuilder, type FeedItem } from "./feed.ts";
import { InactivityTracker, skipTarget, type Stretch } from "./inactivity.ts";
import {
  clampOffset,
  liveCatchUpOffset,
  nextSpeed,
  type PlayerStatus,
  playerStatus,
  resumeOffset,
  SPEEDS,
  StartGate,
} from "./playback.ts";
import type { StreamHandlers } from "./stream.ts";
import type { RrwebEvent, SessionMeta, StopInfo } from "@replaya/recorder/wire";

/** The mounted replayer, as the controller drives it. */
export interface PlayerHandle {
  /** Appends an event to the loaded recording. */
  addEvent(event: RrwebEvent): void;
  /**
   * Moves to an offset (ms from the first event), playing from there, or
   * paused there with every event at or before it applied.
   */
  goto(offset: number, play: boolean): void;
  pause(): void;
  setSpeed(speed: number): void;
  /** Playback position, ms from the first event. */
  currentTime(): number;
  /** Called when playback reaches the last loaded event. */
  onFinish(listener: () => void): void;
  /** Fits the replay into a box of this size (CSS pixels). */
  resize(width: number, height: number): void;
  destroy(): void;
}

/** Options the replayer is mounted with (inactivity is skipped by the controller, not the replayer). */
export interface MountOptions {
  speed: number;
  width: number;
  height: number;
}

/** What the controller needs from the outside world. */
export interface ControllerDeps {
  /** Mounts the replayer with the events received so far (sorted by time). */
  mount(events: RrwebEvent[], options: MountOptions): PlayerHandle;
  /** Opens the session stream. */
  connect(handlers: StreamHandlers): { close(): void };
  /** Runs a state notification later, so bursts of batches render once. */
  defer?(fn: () => void): void;
  /** Runs after the current microtasks (the replayer adds events in microtasks). */
  afterMicrotasks?(fn: () => void): void;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(id: unknown): void;
}

/** Everything the view renders, as one immutable snapshot. */
export interface ReplayState {
  status: PlayerStatus;
  /** rrweb events received. */
  eventCount: number;
  /** The replayer is mounted. */
  playable: boolean;
  /** Capture time of the earliest event: offset 0 of every time shown. */
  origin: number;
  /** Length of the loaded recording, ms. */
  total: number;
  feed: readonly FeedItem[];
  /** Stretches without the visitor's activity (shaded on the timeline; skipped when `skipInactive`). */
  inactive: readonly Stretch[];
  /** Offset of the first frame (the first full snapshot): nothing before it can be shown. */
  firstFrame: number;
  /** Inactive stretches jumped over so far. */
  skips: number;
  /** The viewer wants playback running (the button offers Pause). */
  playing: boolean;
  /** Playback sits at the live edge and keeps up with new events. */
  following: boolean;
  /** Playback is about to jump to the live edge (the view shows neither LIVE nor "Jump to live" yet). */
  jumpPending: boolean;
  /** The server follows the live session (history sent, no stop yet). */
  liveStream: boolean;
  /** The whole history has been received. */
  caughtUp: boolean;
  /** `stop` arrived, or the stream closed for good. */
  ended: boolean;
  /** The stream closed before sending anything. */
  failed: boolean;
  reconnecting: boolean;
  speed: number;
  skipInactive: boolean;
  meta?: SessionMeta;
  stop?: StopInfo;
  /** Why the replayer could not be mounted. */
  error?: string;
}

/** Time a live session gets to prove it is still live before playback jumps to its edge. */
export const LIVE_JUMP_GRACE_MS = 300;
// Within this of the end, Play starts over instead of finishing at once.
const END_SLACK_MS = 100;

/** Drives one session's replay; see the module doc. */
export class ReplayController {
  readonly #deps: Required<ControllerDeps>;
  readonly #live: boolean;
  readonly #feed = new FeedBuilder();
  readonly #inactivity = new InactivityTracker();
  readonly #listeners = new Set<(state: ReplayState) => void>();
  #stream: { close(): void } | undefined;
  #player: PlayerHandle | undefined;
  // Events received before the replayer could start, and what decides that it can.
  #pending: RrwebEvent[] = [];
  readonly #startGate = new StartGate();
  #count = 0;
  #first = Infinity;
  #last = -Infinity;
  #meta: SessionMeta | undefined;
  #stop: StopInfo | undefined;
  #caughtUp = false;
  #liveStream = false;
  #ended = false;
  #reconnecting = false;
  #wantPlaying = false;
  #following = false;
  // Playback ran out of events while it should go on; resume when more arrive.
  #starved = false;
  // The viewer has played, paused or sought: no automatic jumps any more.
  #interacted = false;
  #speed = 1;
  #skipInactive = true;
  #size = { width: 1024, height: 576 };
  #jumpTimer: unknown;
  #skips = 0;
  #notifyQueued = false;
  #destroyed = false;
  #error: string | undefined;
  #state: ReplayState;

  /**
   * @param options.live the page rendered this as a live session: play while the history loads and jump to
   * its live edge once caught up. Otherwise the recording opens paused at its first frame.
   */
  constructor(deps: ControllerDeps, options: { live: boolean; speed?: number; skipInactive?: boolean }) {
    this.#deps = {
      defer: (fn) => setTimeout(fn, 50),
      afterMicrotasks: (fn) => queueMicrotask(fn),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (id) => clearTimeout(id as number),
      ...deps,
    };
    this.#live = options.live;
    if (options.speed && SPEEDS.includes(options.speed)) this.#speed = options.speed;
    if (options.skipInactive !== undefined) this.#skipInactive = options.skipInactive;
    this.#state = this.#snapshot();
  }

  /** The latest published state. */
  get state(): ReplayState {
    return this.#state;
  }

  /** Calls `listener` with each new state; returns the unsubscriber. */
  subscribe(listener: (state: ReplayState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens the stream. */
  start(): void {
    if (this.#stream || this.#destroyed) return;
    this.#stream = this.#deps.connect({
      onMeta: (meta) => {
        this.#meta = meta;
        this.#changed();
      },
      onEvents: (events) => this.#onEvents(events),
      onLive: () => this.#onLive(),
      onStop: (stop) => this.#onStop(stop),
      onConnection: (state) => {
        this.#reconnecting = state === "reconnecting";
        this.#changed();
      },
      onEnd: () => this.#onEnd(),
    });
  }

  /** Closes the stream and unmounts the replayer. */
  destroy(): void {
    this.#destroyed = true;
    this.#cancelJump();
    this.#stream?.close();
    this.#player?.destroy();
    this.#player = undefined;
    this.#listeners.clear();
  }

  /** Playback position in ms from the session start, within the loaded range. */
  currentTime(): number {
    return this.#player ? clampOffset(this.#player.currentTime(), this.#total()) : 0;
  }

  /** Play when paused, pause when playing. */
  togglePlay(): void {
    if (this.#wantPlaying) this.pause();
    else this.play();
  }

  /** Plays from the current position (from the start when at the end of an ended recording). */
  play(): void {
    const player = this.#player;
    if (!player) return;
    this.#interacted = true;
    this.#wantPlaying = true;
    this.#starved = false;
    const current = this.currentTime();
    const atEnd = current >= this.#total() - END_SLACK_MS;
    player.goto(atEnd && !this.#liveStream ? this.#firstFrame() : current, true);
    this.#changed();
  }

  /** Pauses, and stops following the live edge. */
  pause(): void {
    this.#interacted = true;
    this.#wantPlaying = false;
    this.#following = false;
    this.#starved = false;
    this.#cancelJump();
    this.#player?.pause();
    this.#changed();
  }

  /** Moves to an offset (ms from the session start), keeping play/pause; leaves the live edge. */
  seek(offset: number): void {
    const player = this.#player;
    if (!player) return;
    this.#interacted = true;
    this.#following = false;
    this.#starved = false;
    this.#cancelJump();
    player.goto(clampOffset(Math.max(offset, this.#firstFrame()), this.#total()), this.#wantPlaying);
    this.#changed();
  }

  /** Moves by `ms` (negative: back) from the current position. */
  seekBy(ms: number): void {
    if (this.#player) this.seek(this.currentTime() + ms);
  }

  /** Moves to the first frame. */
  seekToStart(): void {
    this.seek(0);
  }

  /** Moves to the end of what is loaded, with every event applied. */
  seekToEnd(): void {
    this.seek(this.#total());
  }

  /** Returns to the newest event of a live session and keeps up from there. */
  jumpToLive(): void {
    this.#interacted = true;
    this.#goLive();
  }

  /** Sets the playback speed (one of {@link SPEEDS}). */
  setSpeed(speed: number): void {
    if (!SPEEDS.includes(speed) || speed === this.#speed) return;
    this.#speed = speed;
    this.#player?.setSpeed(speed);
    this.#changed();
  }

  /** One speed slower (-1) or faster (+1). */
  stepSpeed(step: 1 | -1): void {
    this.setSpeed(nextSpeed(this.#speed, step));
  }

  /** Turns skipping of inactive stretches on or off. */
  setSkipInactive(skip: boolean): void {
    if (skip === this.#skipInactive) return;
    this.#skipInactive = skip;
    this.#changed();
  }

  /**
   * Called once a frame by the view: while playing with skip inactivity on,
   * jumps over the inactive stretch playback has entered (to just before the
   * activity that ends it). Never while following the live edge.
   */
  tick(): void {
    const player = this.#player;
    if (!player || !this.#skipInactive || !this.#wantPlaying || this.#following || this.#starved) return;
    const target = skipTarget(this.#inactivity.stretches(), this.currentTime());
    if (target === undefined) return;
    player.goto(target, true);
    this.#skips++;
    this.#changed();
  }

  /** Fits the replay into the stage. */
  resize(width: number, height: number): void {
    if (!(width > 0 && height > 0)) return;
    this.#size = { width: Math.floor(width), height: Math.floor(height) };
    this.#player?.resize(this.#size.width, this.#size.height);
  }

  #onEvents(events: RrwebEvent[]): void {
    if (this.#destroyed || !events.length) return;
    let firstNew = Infinity;
    for (const event of events) {
      firstNew = Math.min(firstNew, event.timestamp);
      this.#first = Math.min(this.#first, event.timestamp);
      this.#last = Math.max(this.#last, event.timestamp);
    }
    this.#count += events.length;
    this.#feed.push(events);
    this.#inactivity.push(events);
    const player = this.#player;
    if (!player) {
      for (const event of events) this.#pending.push(event);
      if (this.#startGate.push(events)) this.#mount();
    } else {
      for (const event of events) player.addEvent(event);
      const firstOffset = firstNew - this.#first;
      if (this.#starved) {
        this.#starved = false;
        // The replayer takes added events in microtasks: resume after them.
        this.#deps.afterMicrotasks(() => {
          if (this.#player !== player) return;
          player.goto(resumeOffset(player.currentTime(), firstOffset, this.#following), true);
        });
      } else if (this.#following) {
        const total = this.#total();
        this.#deps.afterMicrotasks(() => {
          if (this.#player !== player || !this.#following) return;
          const target = liveCatchUpOffset(player.currentTime(), firstOffset, total);
          if (target !== undefined) player.goto(target, true);
        });
      }
    }
    this.#changed();
  }

  #mount(): void {
    const events = this.#pending.sort((a, b) => a.timestamp - b.timestamp);
    let player: PlayerHandle;
    try {
      player = this.#deps.mount(events, { speed: this.#speed, ...this.#size });
    } catch (error) {
      // Keep the feed working; the stage says what went wrong. Later batches retry the mount.
      this.#error = error instanceof Error ? error.message : String(error);
      return;
    }
    this.#pending = [];
    this.#error = undefined;
    this.#player = player;
    player.onFinish(() => this.#onFinish(player));
    if (this.#live && this.#liveStream && !this.#interacted) {
      this.#goLive();
    } else if (this.#live) {
      // The history plays while it loads; `live` then jumps to the edge.
      this.#wantPlaying = true;
      player.goto(0, true);
    } else {
      // A finished recording waits for the viewer, showing its first frame.
      this.#wantPlaying = false;
      player.goto(this.#firstFrame(), false);
    }
  }

  #onFinish(player: PlayerHandle): void {
    if (this.#player !== player) return;
    // Out of events but not out of session: wait for the next batch.
    if (!this.#ended && (this.#wantPlaying || this.#following)) {
      this.#starved = true;
    } else {
      this.#wantPlaying = false;
      this.#following = false;
    }
    this.#changed();
  }

  #onLive(): void {
    if (this.#destroyed) return;
    this.#caughtUp = true;
    if (!this.#ended) this.#liveStream = true;
    // For a session that just ended, `stop` follows `live` at once: give it a moment.
    if (this.#player && this.#live && this.#liveStream && !this.#interacted && !this.#following) {
      this.#cancelJump();
      this.#jumpTimer = this.#deps.setTimer(() => {
        this.#jumpTimer = undefined;
        if (!this.#interacted && this.#liveStream) this.#goLive();
        this.#changed();
      }, LIVE_JUMP_GRACE_MS);
    }
    this.#changed();
  }

  #onStop(stop: StopInfo): void {
    this.#stop = stop;
    this.#end();
  }

  #onEnd(): void {
    this.#end();
  }

  #end(): void {
    if (this.#destroyed) return;
    this.#ended = true;
    this.#liveStream = false;
    this.#following = false;
    this.#reconnecting = false;
    this.#cancelJump();
    if (this.#starved) {
      this.#starved = false;
      this.#wantPlaying = false;
    }
    this.#changed();
  }

  #goLive(): void {
    const player = this.#player;
    if (!player || !this.#liveStream) return;
    this.#cancelJump();
    this.#following = true;
    this.#wantPlaying = true;
    this.#starved = false;
    // Plays up to the newest event; the finish that follows makes it wait for the next batch.
    player.goto(this.#total(), true);
    this.#changed();
  }

  #cancelJump(): void {
    if (this.#jumpTimer === undefined) return;
    this.#deps.clearTimer(this.#jumpTimer);
    this.#jumpTimer = undefined;
  }

  #total(): number {
    return this.#count ? this.#last - this.#first : 0;
  }

  #firstFrame(): number {
    const at = this.#startGate.snapshotAt;
    return at === undefined || !this.#count ? 0 : Math.max(0, at - this.#first);
  }

  #snapshot(): ReplayState {
    const playable = this.#player !== undefined;
    return {
      status: playerStatus({ playable, liveStream: this.#liveStream, ended: this.#ended }),
      eventCount: this.#count,
      playable,
      origin: this.#count ? this.#first : 0,
      total: this.#total(),
      feed: this.#feed.items,
      inactive: this.#inactivity.stretches(),
      firstFrame: this.#firstFrame(),
      skips: this.#skips,
      playing: this.#wantPlaying,
      following: this.#following,
      jumpPending: this.#jumpTimer !== undefined,
      liveStream: this.#liveStream,
      caughtUp: this.#caughtUp,
      ended: this.#ended,
      failed: this.#ended && this.#count === 0 && this.#meta === undefined && this.#stop === undefined,
      reconnecting: this.#reconnecting,
      speed: this.#speed,
      skipInactive: this.#skipInactive,
      meta: this.#meta,
      stop: this.#stop,
      error: this.#error,
    };
  }

  #changed(): void {
    if (this.#notifyQueued || this.#destroyed) return;
    this.#notifyQueued = true;
    this.#deps.defer(() => {
      this.#notifyQueued = false;
      if (this.#destroyed) return;
      this.#state = this.#snapshot();
      for (const listener of this.#listeners) listener(this.#state);
    });
  }
}
