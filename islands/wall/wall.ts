/**
 * The live wall's brain, free of Preact and of rrweb: keeps one
 * {@link TileState} per live session from the wall's stream, mounts a small
 * live replayer into each tile's element when the tile is on screen, feeds
 * it, and publishes a snapshot for the view.
 *
 * Throttling: a tile is active only while it is on screen (the view reports
 * intersections) and the page is visible (visibilitychange). Inactive tiles
 * buffer their events and render nothing; a tile off screen for
 * {@link UNMOUNT_AFTER_MS} also gives its replayer back (rebuilt from the
 * newest snapshot when it returns). Active tiles are fed on one timer every
 * {@link DRAIN_MS}, at most {@link MOUNTS_PER_DRAIN} (re)builds at a time, so
 * a returning page catches up tile by tile instead of in one long frame.
 * Tiles never replay mouse interactions, and replay every cursor move only
 * while at most {@link FULL_MOTION_TILES} tiles render; with more, each
 * delivery moves the cursor once, to its last position (see `thinPointer`).
 * The view is notified at most every {@link NOTIFY_MS}, and not while hidden.
 * @module
 */
import type { RrwebEvent, SessionRow } from "@replaya/recorder/wire";
import { type TileFacts, TileState } from "./tile.ts";
import type { WallHandlers } from "./stream.ts";

/** A tile's mounted live replayer. */
export interface LiveReplayerHandle {
  /** Applies events that follow the ones it has: at once when overdue, else at their capture pace. */
  append(events: RrwebEvent[]): void;
  /** Fits the replay into a box of this size (CSS pixels). */
  resize(width: number, height: number): void;
  destroy(): void;
}

/** How a live replayer is mounted. */
export interface LiveMountOptions {
  width: number;
  height: number;
  /** Capture time it starts following live from (see `liveBaseline`). */
  baseline: number;
}

/** What the wall needs from the outside world; `T` is the tile's mount element. */
export interface WallDeps<T> {
  /** Opens the wall's stream. */
  connect(handlers: WallHandlers): { close(): void };
  /** Builds a live replayer in `target` from a Meta, a full snapshot and what followed. */
  mount(target: T, events: RrwebEvent[], options: LiveMountOptions): LiveReplayerHandle;
  /** Size of a tile's mount element. */
  measure(target: T): { width: number; height: number };
  /** Reports whether `target` is on screen (now and on every change); returns the unsubscriber. */
  observe(target: T, onChange: (visible: boolean) => void): () => void;
  now?(): number;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(id: unknown): void;
}

/** One tile as the view renders it. */
export interface TileView extends TileFacts {
  /** Unique per tile instance (a session shown again after a reconnect gets a new one). */
  key: string;
  /** On screen with the page visible: rendering live. */
  active: boolean;
  /** A replayer is mounted (it may be paused, buffering). */
  mounted: boolean;
  /** Events handed to the replayer, and waiting for it. */
  applied: number;
  pending: number;
  /** A Meta and a full snapshot have arrived. */
  ready: boolean;
  /** The replay could not be built from the current snapshot. */
  error?: string;
}

/** Everything the view renders. */
export interface WallState {
  connected: boolean;
  /** Oldest session first, so tiles keep their place as sessions come and go. */
  tiles: readonly TileView[];
}

/** Active tiles are fed this often. */
export const DRAIN_MS = 100;
/** Replayers (re)built per drain. */
export const MOUNTS_PER_DRAIN = 2;
/** Up to this many rendering tiles replay every cursor move; beyond, the cursor moves once per delivery. */
export const FULL_MOTION_TILES = 6;
/** A tile off screen this long gives its replayer back. */
export const UNMOUNT_AFTER_MS = 30_000;
/** The view is notified at most this often. */
export const NOTIFY_MS = 250;

interface Tile<T> {
  key: string;
  state: TileState;
  row: SessionRow;
  target?: T;
  stopObserving?: () => void;
  visible: boolean;
  handle?: LiveReplayerHandle;
  unmountTimer?: unknown;
  error?: string;
}

/** Drives the wall; see the module doc. */
export class WallController<T> {
  readonly #deps: Required<WallDeps<T>>;
  readonly #tiles = new Map<string, Tile<T>>();
  readonly #listeners = new Set<(state: WallState) => void>();
  // Tiles with something for their replayer.
  readonly #dirty = new Set<string>();
  #stream: { close(): void } | undefined;
  #connected = false;
  #pageVisible = true;
  #drainTimer: unknown;
  #notifyTimer: unknown;
  #notifyWanted = false;
  #destroyed = false;
  #instances = 0;
  #state: WallState = { connected: false, tiles: [] };

  constructor(deps: WallDeps<T>) {
    this.#deps = {
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (id) => clearTimeout(id as number),
      ...deps,
    };
  }

  /** The latest published state. */
  get state(): WallState {
    return this.#state;
  }

  /** Calls `listener` with each new state; returns the unsubscriber. */
  subscribe(listener: (state: WallState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens the stream. */
  start(): void {
    if (this.#stream || this.#destroyed) return;
    this.#stream = this.#deps.connect({
      onOpen: () => {
        // The server starts over with every live session: so does the wall.
        this.#connected = true;
        for (const id of [...this.#tiles.keys()]) this.#remove(id);
        this.#changed();
      },
      onSession: (row) => this.#addSession(row),
      onBatch: (id, events) => this.#onBatch(id, events),
      onEnd: (id) => {
        this.#remove(id);
        this.#changed();
      },
      onDisconnect: () => {
        this.#connected = false;
        this.#changed();
      },
    });
  }

  /** Closes the stream and every replayer. */
  destroy(): void {
    this.#destroyed = true;
    this.#stream?.close();
    for (const id of [...this.#tiles.keys()]) this.#remove(id);
    if (this.#drainTimer !== undefined) this.#deps.clearTimer(this.#drainTimer);
    if (this.#notifyTimer !== undefined) this.#deps.clearTimer(this.#notifyTimer);
    this.#listeners.clear();
  }

  /** The tile's mount element is in the page; the wall watches whether it is on screen. */
  attach(id: string, target: T): void {
    const tile = this.#tiles.get(id);
    if (!tile || tile.target === target) return;
    this.detach(id);
    tile.target = target;
    tile.stopObserving = this.#deps.observe(target, (visible) => {
      tile.visible = visible;
      this.#updateActive(tile);
    });
  }

  /** The tile's element left the page. */
  detach(id: string): void {
    const tile = this.#tiles.get(id);
    if (!tile?.target) return;
    tile.stopObserving?.();
    tile.stopObserving = undefined;
    tile.target = undefined;
    tile.visible = false;
    this.#unmount(tile);
    this.#updateActive(tile);
  }

  /** The page became visible or hidden (visibilitychange). */
  setPageVisible(visible: boolean): void {
    if (visible === this.#pageVisible) return;
    this.#pageVisible = visible;
    for (const tile of this.#tiles.values()) this.#updateActive(tile);
    if (visible && this.#notifyWanted) this.#changed();
  }

  /** A tile's element changed size. */
  resize(id: string, width: number, height: number): void {
    if (!(width > 0 && height > 0)) return;
    this.#tiles.get(id)?.handle?.resize(Math.floor(width), Math.floor(height));
  }

  #addSession(row: SessionRow): void {
    if (this.#tiles.has(row.id)) return;
    const key = `${row.id}.${(this.#instances++).toString(36)}`;
    this.#tiles.set(row.id, { key, state: new TileState(row), row, visible: false });
    this.#changed();
  }

  #onBatch(id: string, events: RrwebEvent[]): void {
    const tile = this.#tiles.get(id);
    if (!tile) return; // not announced (or already ended): not ours
    tile.state.push(events, this.#deps.now());
    if (tile.state.active) this.#queue(id);
    this.#changed();
  }

  #remove(id: string): void {
    const tile = this.#tiles.get(id);
    if (!tile) return;
    tile.stopObserving?.();
    this.#unmount(tile);
    this.#tiles.delete(id);
    this.#dirty.delete(id);
  }

  #updateActive(tile: Tile<T>): void {
    const active = tile.visible && this.#pageVisible && tile.target !== undefined;
    if (active === tile.state.active) return;
    tile.state.setActive(active);
    if (active) {
      this.#cancelUnmount(tile);
      this.#queue(tile.state.id);
    } else if (!tile.visible && tile.handle && tile.unmountTimer === undefined) {
      // Off screen (not merely a hidden page): give the replayer back if it stays away.
      tile.unmountTimer = this.#deps.setTimer(() => {
        tile.unmountTimer = undefined;
        if (!tile.state.active) this.#unmount(tile);
        this.#changed();
      }, UNMOUNT_AFTER_MS);
    }
    this.#changed();
  }

  #unmount(tile: Tile<T>): void {
    this.#cancelUnmount(tile);
    if (!tile.handle) return;
    const handle = tile.handle;
    tile.handle = undefined;
    tile.state.unmounted();
    try {
      handle.destroy();
    } catch {
      // Already torn down with its DOM.
    }
  }

  #cancelUnmount(tile: Tile<T>): void {
    if (tile.unmountTimer === undefined) return;
    this.#deps.clearTimer(tile.unmountTimer);
    tile.unmountTimer = undefined;
  }

  #queue(id: string): void {
    this.#dirty.add(id);
    if (this.#drainTimer !== undefined || this.#destroyed) return;
    this.#drainTimer = this.#deps.setTimer(() => {
      this.#drainTimer = undefined;
      this.#drain();
    }, DRAIN_MS);
  }

  #drain(): void {
    let mounts = 0;
    let changed = false;
    let rendering = 0;
    for (const tile of this.#tiles.values()) if (tile.state.active) rendering++;
    const motion = rendering <= FULL_MOTION_TILES;
    for (const id of [...this.#dirty]) {
      const tile = this.#tiles.get(id);
      if (!tile?.target || !tile.state.active) {
        this.#dirty.delete(id);
        continue;
      }
      if (tile.state.needsMount && mounts >= MOUNTS_PER_DRAIN) continue; // next drain
      this.#dirty.delete(id);
      const delivery = tile.state.take(this.#deps.now(), { motion });
      if (!delivery) continue;
      changed = true;
      if (delivery.kind === "mount") {
        mounts++;
        this.#mount(tile, tile.target, delivery.events, delivery.baseline);
      } else {
        try {
          tile.handle?.append(delivery.events);
        } catch {
          // Rebuild from the snapshot on the next drain.
          this.#unmount(tile);
          this.#queue(id);
        }
      }
    }
    if (this.#dirty.size) this.#queue([...this.#dirty][0]);
    if (changed) this.#changed();
  }

  #mount(tile: Tile<T>, target: T, events: RrwebEvent[], baseline: number): void {
    const old = tile.handle;
    tile.handle = undefined;
    try {
      old?.destroy();
    } catch {
      // Already torn down.
    }
    try {
      const { width, height } = this.#deps.measure(target);
      tile.handle = this.#deps.mount(target, events, { width, height, baseline });
      tile.error = undefined;
    } catch (error) {
      tile.state.mountFailed();
      tile.error = error instanceof Error ? error.message : String(error);
    }
  }

  #snapshot(): WallState {
    const tiles = [...this.#tiles.values()]
      .sort((a, b) => a.row.createdAt - b.row.createdAt || (a.row.id < b.row.id ? -1 : 1))
      .map((tile): TileView => ({
        ...tile.state.facts,
        key: tile.key,
        active: tile.state.active,
        mounted: tile.handle !== undefined,
        applied: tile.state.applied,
        pending: tile.state.pending,
        ready: tile.state.ready,
        error: tile.error,
      }));
    return { connected: this.#connected, tiles };
  }

  #changed(): void {
    if (this.#destroyed) return;
    this.#notifyWanted = true;
    if (this.#notifyTimer !== undefined || !this.#pageVisible) return;
    this.#notifyTimer = this.#deps.setTimer(() => {
      this.#notifyTimer = undefined;
      if (this.#destroyed || !this.#pageVisible) return;
      this.#notifyWanted = false;
      this.#state = this.#snapshot();
      for (const listener of this.#listeners) listener(this.#state);
    }, NOTIFY_MS);
  }
}
