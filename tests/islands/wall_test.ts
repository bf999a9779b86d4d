import assert from "node:assert/strict";
import {
  DRAIN_MS,
  FULL_MOTION_TILES,
  type LiveMountOptions,
  type LiveReplayerHandle,
  MOUNTS_PER_DRAIN,
  NOTIFY_MS,
  UNMOUNT_AFTER_MS,
  WallController,
  type WallState,
} from "../../islands/wall/wall.ts";
import type { WallHandlers } from "../../islands/wall/stream.ts";
import type { RrwebEvent, SessionRow } from "@replaya/recorder/wire";
import { click, fullSnapshot, meta, mouseMove, mutation, T0 } from "./_events.ts";

/** Manual timers and clock. */
class Clock {
  now = T0 + 1_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  setTimer = (fn: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clearTimer = (id: unknown) => void this.#timers.delete(id as number);
  /** Moves time on, running every timer that comes due, in order. */
  advance(ms: number) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = end;
  }
}

class FakeHandle implements LiveReplayerHandle {
  readonly appended: RrwebEvent[][] = [];
  destroyed = false;
  size: [number, number] | undefined;
  constructor(readonly target: string, readonly events: RrwebEvent[], readonly options: LiveMountOptions) {}
  append(events: RrwebEvent[]) {
    this.appended.push(events);
  }
  resize(width: number, height: number) {
    this.size = [width, height];
  }
  destroy() {
    this.destroyed = true;
  }
}

/** A wall over fakes: the test plays the server, the viewport and the replayer. */
function setup() {
  const clock = new Clock();
  let handlers: WallHandlers | undefined;
  let closed = false;
  const handles: FakeHandle[] = [];
  const observed = new Map<string, (visible: boolean) => void>();
  let failMount = false;
  const wall = new WallController<string>({
    connect: (h) => {
      handlers = h;
      return { close: () => void (closed = true) };
    },
    mount: (target, events, options) => {
      if (failMount) throw new Error("rrweb said no");
      const handle = new FakeHandle(target, events, options);
      handles.push(handle);
      return handle;
    },
    measure: () => ({ width: 320, height: 200 }),
    observe: (target, onChange) => {
      observed.set(target, onChange);
      return () => observed.delete(target);
    },
    now: () => clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  const states: WallState[] = [];
  wall.subscribe((s) => states.push(s));
  wall.start();
  const server = () => handlers!;
  const row = (id: string, createdAt = T0): SessionRow => ({
    id,
    createdAt,
    url: `https://shop.example/${id}`,
    live: true,
  });
  /** A session with its first page drawn, whose tile is attached and on screen. */
  const live = (id: string, createdAt = T0) => {
    server().onSession(row(id, createdAt));
    server().onBatch(id, [meta(0), fullSnapshot(1)]);
    wall.attach(id, `mount-${id}`);
    observed.get(`mount-${id}`)!(true);
  };
  return {
    wall,
    clock,
    server,
    row,
    live,
    handles,
    observed,
    states,
    isClosed: () => closed,
    failMounts: (fail: boolean) => void (failMount = fail),
    /** The latest published state (after the notify delay). */
    latest: () => {
      clock.advance(NOTIFY_MS);
      return wall.state;
    },
  };
}

Deno.test("wall: sessions become tiles, oldest first; ended ones leave and give their replayer back", () => {
  const t = setup();
  t.server().onOpen();
  t.server().onSession(t.row("b", T0 + 10));
  t.server().onSession(t.row("a", T0));
  t.server().onSession(t.row("a", T0)); // repeated: one tile
  let state = t.latest();
  assert.equal(state.connected, true);
  assert.deepEqual(state.tiles.map((tile) => tile.id), ["a", "b"]);
  assert.equal(state.tiles[0].page, "https://shop.example/a");
  assert.equal(state.tiles[0].mounted, false);

  t.server().onBatch("a", [meta(0), fullSnapshot(1)]);
  t.wall.attach("a", "mount-a");
  t.observed.get("mount-a")!(true);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 1);
  t.server().onEnd("a");
  state = t.latest();
  assert.deepEqual(state.tiles.map((tile) => tile.id), ["b"]);
  assert.equal(t.handles[0].destroyed, true);
  assert.equal(t.observed.has("mount-a"), false, "no longer observed");
  t.server().onBatch("zzz", [meta(0)]); // never announced: ignored
  t.server().onEnd("zzz");
  assert.deepEqual(t.latest().tiles.map((tile) => tile.id), ["b"]);
});

Deno.test("wall: an on-screen tile mounts from its snapshot, then gets each batch as it comes", () => {
  const t = setup();
  t.server().onOpen();
  t.live("a");
  assert.equal(t.handles.length, 0, "fed on the drain timer, not inline");
  t.clock.advance(DRAIN_MS);
  const [handle] = t.handles;
  assert.equal(handle.target, "mount-a");
  assert.equal(handle.events.length, 2);
  assert.deepEqual({ width: handle.options.width, height: handle.options.height }, { width: 320, height: 200 });
  t.server().onBatch("a", [mouseMove(9), click(10, 8), mutation(11, {}), mouseMove(12)]);
  t.clock.advance(DRAIN_MS);
  assert.deepEqual(
    handle.appended.map((b) => b.map((e) => e.timestamp - T0)),
    [[9, 11, 12]],
    "the click in the header",
  );
  const tile = t.latest().tiles[0];
  assert.equal(tile.active, true);
  assert.equal(tile.mounted, true);
  assert.equal(tile.clicks, 1);
  assert.equal(tile.applied, 5);
  t.wall.resize("a", 400.7, 250.2);
  assert.deepEqual(handle.size, [400, 250]);
});

Deno.test("wall: a hidden page buffers every tile and stops notifying; back, the tiles catch up", () => {
  const t = setup();
  t.server().onOpen();
  t.live("a");
  t.clock.advance(DRAIN_MS);
  const [handle] = t.handles;
  const published = t.states.length;
  t.wall.setPageVisible(false);
  t.server().onBatch("a", [mouseMove(10), click(11, 8), mutation(12, {}), mouseMove(13)]);
  t.server().onBatch("a", [mutation(14, {})]);
  t.clock.advance(10_000);
  assert.equal(handle.appended.length, 0, "nothing rendered while hidden");
  assert.equal(handle.destroyed, false, "a hidden page keeps its replayers");
  assert.equal(t.states.length, published, "nor re-rendered");
  t.wall.setPageVisible(true);
  t.clock.advance(DRAIN_MS);
  assert.deepEqual(handle.appended.map((b) => b.map((e) => e.timestamp - T0)), [[12, 13, 14]], "one thinned catch-up");
  const tile = t.latest().tiles[0];
  assert.equal(tile.events, 7);
  assert.equal(tile.pending, 0);
});

Deno.test("wall: off screen a tile pauses; long off screen it gives its replayer back and rebuilds on return", () => {
  const t = setup();
  t.server().onOpen();
  t.live("a");
  t.clock.advance(DRAIN_MS);
  const [first] = t.handles;
  t.observed.get("mount-a")!(false);
  t.server().onBatch("a", [mutation(10, {})]);
  t.clock.advance(DRAIN_MS);
  assert.equal(first.appended.length, 0);
  let tile = t.latest().tiles[0];
  assert.equal(tile.active, false);
  assert.equal(tile.pending, 1);
  // Back within the grace period: the same replayer catches up.
  t.observed.get("mount-a")!(true);
  t.clock.advance(DRAIN_MS);
  assert.deepEqual(first.appended.map((b) => b.length), [1]);
  // Away for good.
  t.observed.get("mount-a")!(false);
  t.clock.advance(UNMOUNT_AFTER_MS);
  assert.equal(first.destroyed, true);
  assert.equal(t.latest().tiles[0].mounted, false);
  t.server().onBatch("a", [mutation(20, {})]);
  t.observed.get("mount-a")!(true);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 2);
  assert.deepEqual(t.handles[1].events.map((e) => e.timestamp - T0), [0, 1, 10, 20], "rebuilt from the snapshot");
  tile = t.latest().tiles[0];
  assert.equal(tile.mounted, true);
});

Deno.test("wall: replayers are built a few per drain, so a returning page does not freeze", () => {
  const t = setup();
  t.server().onOpen();
  for (const id of ["a", "b", "c", "d", "e"]) t.live(id);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, MOUNTS_PER_DRAIN);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 2 * MOUNTS_PER_DRAIN);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 5);
});

Deno.test("wall: with many tiles rendering, each delivery moves a tile's cursor once", () => {
  const t = setup();
  t.server().onOpen();
  const ids = Array.from({ length: FULL_MOTION_TILES + 1 }, (_, i) => `s${i}`);
  for (const id of ids) t.live(id);
  t.clock.advance(DRAIN_MS * ids.length);
  assert.equal(t.handles.length, ids.length);
  t.server().onBatch("s0", [mouseMove(10), mouseMove(11), mutation(12, {}), mouseMove(13)]);
  t.clock.advance(DRAIN_MS);
  assert.deepEqual(t.handles[0].appended.map((b) => b.map((e) => e.timestamp - T0)), [[12, 13]]);
  t.observed.get("mount-s1")!(false); // back to the full-motion budget
  t.server().onBatch("s0", [mouseMove(20), mouseMove(21)]);
  t.clock.advance(DRAIN_MS);
  assert.deepEqual(t.handles[0].appended.map((b) => b.map((e) => e.timestamp - T0))[1], [20, 21]);
});

Deno.test("wall: a reconnection starts over (the server replays every live session)", () => {
  const t = setup();
  t.server().onOpen();
  t.live("a");
  t.clock.advance(DRAIN_MS);
  const before = t.latest().tiles[0];
  t.server().onDisconnect();
  assert.equal(t.latest().connected, false);
  t.server().onOpen();
  assert.equal(t.handles[0].destroyed, true);
  let state = t.latest();
  assert.equal(state.connected, true);
  assert.deepEqual(state.tiles, []);
  t.server().onSession(t.row("a"));
  state = t.latest();
  assert.notEqual(state.tiles[0].key, before.key, "a new tile, so the view attaches it again");
  assert.equal(state.tiles[0].events, 0, "counted again from the replayed start");
});

Deno.test("wall: a replayer that cannot be built shows why and waits for the next snapshot", () => {
  const t = setup();
  t.server().onOpen();
  t.failMounts(true);
  t.live("a");
  t.clock.advance(DRAIN_MS);
  let tile = t.latest().tiles[0];
  assert.equal(tile.mounted, false);
  assert.equal(tile.error, "rrweb said no");
  t.failMounts(false);
  t.server().onBatch("a", [click(5, 8)]);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 0, "not retried on the same snapshot");
  t.server().onBatch("a", [meta(10), fullSnapshot(11)]);
  t.clock.advance(DRAIN_MS);
  assert.equal(t.handles.length, 1);
  tile = t.latest().tiles[0];
  assert.equal(tile.error, undefined);
  assert.equal(tile.mounted, true);
});

Deno.test("wall: destroy closes the stream and every replayer", () => {
  const t = setup();
  t.server().onOpen();
  t.live("a");
  t.clock.advance(DRAIN_MS);
  t.wall.destroy();
  assert.equal(t.isClosed(), true);
  assert.equal(t.handles[0].destroyed, true);
});
