import assert from "node:assert/strict";
import {
  type ControllerDeps,
  LIVE_JUMP_GRACE_MS,
  type MountOptions,
  type PlayerHandle,
  ReplayController,
} from "../../islands/player/controller.ts";
import type { StreamHandlers } from "../../islands/player/stream.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { SKIP_LEAD_MS } from "../../islands/player/inactivity.ts";
import { click, custom, fullSnapshot, meta, mouseMove, mutation, T0 } from "./_events.ts";

/** A replayer double that records what the controller asks of it. */
class FakePlayer implements PlayerHandle {
  readonly events: RrwebEvent[];
  readonly calls: string[] = [];
  time = 0;
  playing = false;
  #finish: (() => void) | undefined;
  constructor(events: RrwebEvent[], readonly options: MountOptions) {
    this.events = [...events];
  }
  addEvent(event: RrwebEvent) {
    this.events.push(event);
    this.calls.push(`add ${event.timestamp - T0}`);
  }
  goto(offset: number, play: boolean) {
    this.time = offset;
    this.playing = play;
    this.calls.push(`goto ${offset} ${play ? "play" : "pause"}`);
  }
  pause() {
    this.playing = false;
    this.calls.push("pause");
  }
  setSpeed(speed: number) {
    this.calls.push(`speed ${speed}`);
  }
  currentTime() {
    return this.time;
  }
  onFinish(listener: () => void) {
    this.#finish = listener;
  }
  resize(width: number, height: number) {
    this.calls.push(`resize ${width}x${height}`);
  }
  destroy() {
    this.calls.push("destroy");
  }
  /** Playback reached the last loaded event (rrweb's "finish"). */
  reachEnd() {
    const last = Math.max(...this.events.map((e) => e.timestamp));
    const first = Math.min(...this.events.map((e) => e.timestamp));
    this.time = last - first;
    this.playing = false;
    this.#finish?.();
  }
  /** The goto calls since the last look. */
  takeGotos(): string[] {
    const gotos = this.calls.filter((c) => c.startsWith("goto"));
    this.calls.length = 0;
    return gotos;
  }
}

function setup(options: { live: boolean; failMounts?: number }) {
  let stream: StreamHandlers | undefined;
  let closed = false;
  const players: FakePlayer[] = [];
  const timers = new Map<number, () => void>();
  const delays: number[] = [];
  let nextTimer = 0;
  let failMounts = options.failMounts ?? 0;
  const deps: ControllerDeps = {
    mount: (events, mountOptions) => {
      if (failMounts-- > 0) throw new Error("rrweb said no");
      const player = new FakePlayer(events, mountOptions);
      players.push(player);
      return player;
    },
    connect: (handlers) => {
      stream = handlers;
      return { close: () => closed = true };
    },
    defer: (fn) => fn(),
    afterMicrotasks: (fn) => fn(),
    setTimer: (fn, ms) => {
      delays.push(ms);
      timers.set(++nextTimer, fn);
      return nextTimer;
    },
    clearTimer: (id) => timers.delete(id as number),
  };
  const controller = new ReplayController(deps, { live: options.live });
  controller.start();
  return {
    controller,
    stream: () => stream!,
    player: () => players[players.length - 1],
    players,
    timers,
    delays,
    runTimers: () => {
      const pending = [...timers.values()];
      timers.clear();
      pending.forEach((fn) => fn());
    },
    closed: () => closed,
  };
}

Deno.test("controller: waits for Meta + full snapshot, then mounts with everything so far, paused at that snapshot", () => {
  const t = setup({ live: false });
  t.stream().onEvents([custom(0, "replaya.identify", { userId: "u1" }), meta(10)], 1);
  assert.equal(t.players.length, 0);
  assert.equal(t.controller.state.status, "loading");
  assert.equal(t.controller.state.eventCount, 2);
  assert.equal(t.controller.state.feed.length, 2, "the feed works before playback can start");

  t.stream().onEvents([fullSnapshot(11), click(500, 9)], 2);
  assert.equal(t.players.length, 1);
  assert.deepEqual(t.player().events.map((e) => e.type), [5, 4, 2, 3]);
  assert.deepEqual(t.player().takeGotos(), ["goto 11 pause"], "a finished recording waits at its first frame");
  const state = t.controller.state;
  assert.equal(state.status, "playing");
  assert.equal(state.playable, true);
  assert.equal(state.playing, false);
  assert.equal(state.firstFrame, 11);
  assert.equal(state.eventCount, 4);
  assert.equal(state.origin, T0);
  assert.equal(state.total, 500);
  t.controller.togglePlay();
  assert.deepEqual(t.player().takeGotos(), ["goto 11 play"]);
  assert.equal(t.controller.state.playing, true);
});

Deno.test("controller: a live page's recording plays from the start while its history loads", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(500, 9)], 1);
  assert.deepEqual(t.player().takeGotos(), ["goto 0 play"]);
  assert.equal(t.controller.state.playing, true);
});

Deno.test("controller: later batches are appended to the mounted player, not remounted", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  t.stream().onEvents([click(100, 9), mouseMove(200)], 2);
  t.stream().onEvents([click(300, 12)], 3);
  assert.equal(t.players.length, 1);
  assert.deepEqual(t.player().calls.filter((c) => c.startsWith("add")), ["add 100", "add 200", "add 300"]);
  assert.equal(t.controller.state.eventCount, 5);
  assert.equal(t.controller.state.total, 300);
  assert.deepEqual(t.controller.state.feed.map((item) => item.kind), ["page", "click", "click"]);
});

Deno.test("controller: playback that outruns the loading history resumes where it stopped", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(1_000, 9)], 1);
  t.controller.play();
  t.player().takeGotos();
  t.player().reachEnd();
  assert.equal(t.controller.state.playing, true, "still meant to play: more history is coming");
  t.stream().onEvents([click(5_000, 9)], 2);
  assert.deepEqual(t.player().takeGotos(), ["goto 1000 play"]);
});

Deno.test("controller: a live session jumps to its live edge once caught up, then keeps up batch by batch", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(5_000, 9)], 1);
  assert.deepEqual(t.player().takeGotos(), ["goto 0 play"]);
  t.stream().onLive(1);
  assert.equal(t.controller.state.status, "live");
  assert.equal(t.controller.state.following, false, "not before the grace period");
  assert.deepEqual(t.delays, [LIVE_JUMP_GRACE_MS]);
  assert.equal(t.controller.state.jumpPending, true);
  t.runTimers();
  assert.equal(t.controller.state.jumpPending, false);
  assert.deepEqual(t.player().takeGotos(), ["goto 5000 play"]);
  assert.equal(t.controller.state.following, true);

  // Played up to the newest event; the visitor is idle for a minute, then a batch arrives.
  t.player().reachEnd();
  assert.equal(t.controller.state.playing, true);
  t.stream().onEvents([click(65_000, 9), click(66_000, 12)], 2);
  assert.deepEqual(t.player().takeGotos(), ["goto 65000 play"], "the idle minute is skipped");
  assert.equal(t.controller.state.following, true);
});

Deno.test("controller: a live session whose snapshot arrives after `live` starts at the live edge", () => {
  const t = setup({ live: true });
  t.stream().onMeta({ id: "s", createdAt: T0, url: "https://shop.example/" }, 0);
  t.stream().onLive(0);
  assert.equal(t.controller.state.status, "loading");
  assert.equal(t.controller.state.liveStream, true);
  t.stream().onEvents([meta(0), fullSnapshot(1), click(2_000, 9)], 1);
  assert.deepEqual(t.player().takeGotos(), ["goto 2000 play"]);
  assert.equal(t.controller.state.following, true);
  assert.equal(t.controller.state.status, "live");
});

Deno.test("controller: scrubbing back leaves the live edge; Jump to live returns to the newest event", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(5_000, 9)], 1);
  t.stream().onLive(1);
  t.runTimers();
  t.player().takeGotos();

  t.controller.seek(1_000);
  assert.deepEqual(t.player().takeGotos(), ["goto 1000 play"]);
  assert.equal(t.controller.state.following, false);
  assert.equal(t.controller.state.liveStream, true);
  t.stream().onEvents([click(8_000, 9)], 2);
  assert.deepEqual(t.player().takeGotos(), [], "a viewer watching the past is left alone");

  t.controller.jumpToLive();
  assert.deepEqual(t.player().takeGotos(), ["goto 8000 play"]);
  assert.equal(t.controller.state.following, true);
});

Deno.test("controller: a following viewer that fell far behind skips ahead to the new batch", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(1_000, 9)], 1);
  t.stream().onLive(1);
  t.runTimers();
  t.player().takeGotos();
  t.player().time = 1_000;
  t.player().playing = true;
  t.stream().onEvents([click(5_000, 9)], 2);
  assert.deepEqual(t.player().takeGotos(), [], "a few seconds behind is fine");
  t.stream().onEvents([click(40_000, 9), click(41_000, 9)], 3);
  assert.deepEqual(t.player().takeGotos(), ["goto 40000 play"]);
});

Deno.test("controller: stop ends the session; playback then finishes and offers Play, which restarts", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(3_000, 9)], 1);
  t.stream().onLive(1);
  t.runTimers();
  t.stream().onStop({ stoppedAt: T0 + 3_100, reason: "stop" }, 2);
  let state = t.controller.state;
  assert.equal(state.status, "ended");
  assert.equal(state.ended, true);
  assert.equal(state.liveStream, false);
  assert.equal(state.following, false);
  assert.equal(state.stop?.reason, "stop");
  t.player().takeGotos();
  t.player().reachEnd();
  state = t.controller.state;
  assert.equal(state.playing, false);
  t.controller.play();
  assert.deepEqual(t.player().takeGotos(), ["goto 1 play"], "from the first frame");
});

Deno.test("controller: `live` right before `stop` (a session that just ended) never jumps to the end", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(3_000, 9)], 1);
  t.player().takeGotos();
  t.stream().onLive(1);
  assert.equal(t.timers.size, 1);
  t.stream().onStop({ stoppedAt: T0 + 3_100, reason: "lease_expired" }, 2);
  assert.equal(t.timers.size, 0, "the pending jump was cancelled");
  assert.deepEqual(t.player().takeGotos(), []);
  assert.equal(t.controller.state.status, "ended");
});

Deno.test("controller: a recording rendered as ended never auto-jumps, even if the server says live", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(3_000, 9)], 1);
  t.player().takeGotos();
  t.stream().onLive(1);
  t.runTimers();
  assert.deepEqual(t.player().takeGotos(), []);
  assert.equal(t.controller.state.liveStream, true);
  assert.equal(t.controller.state.following, false, "the view offers Jump to live instead");
});

Deno.test("controller: pause, play, seek, speed and skip inactivity drive the player", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(10_000, 9)], 1);
  t.controller.play();
  t.player().takeGotos();
  t.player().time = 4_000;
  t.controller.togglePlay();
  assert.equal(t.controller.state.playing, false);
  assert.ok(t.player().calls.includes("pause"));
  t.controller.seek(7_000);
  assert.deepEqual(t.player().takeGotos(), ["goto 7000 pause"], "a seek while paused stays paused");
  t.controller.seek(99_000);
  assert.deepEqual(t.player().takeGotos(), ["goto 10000 pause"], "clamped to the loaded recording");
  t.controller.togglePlay();
  assert.deepEqual(t.player().takeGotos(), ["goto 1 play"], "Play at the very end starts over");
  t.player().time = 2_000;
  t.controller.togglePlay();
  t.controller.togglePlay();
  assert.deepEqual(t.player().takeGotos(), ["goto 2000 play"]);
  t.controller.setSpeed(4);
  t.controller.setSpeed(3);
  t.controller.setSkipInactive(false);
  assert.deepEqual(t.player().calls, ["speed 4"]);
  assert.equal(t.controller.state.speed, 4);
  assert.equal(t.controller.state.skipInactive, false);
});

Deno.test("controller: seeks never land before the first frame; Home and End reach both ends", () => {
  const t = setup({ live: false });
  t.stream().onEvents([custom(0, "replaya.identify", { userId: "u" }), meta(10), fullSnapshot(40), click(9_000, 9)], 1);
  assert.deepEqual(t.player().takeGotos(), ["goto 40 pause"]);
  t.controller.seekToEnd();
  assert.deepEqual(t.player().takeGotos(), ["goto 9000 pause"], "the end is the last event's offset");
  t.controller.seekToStart();
  assert.deepEqual(t.player().takeGotos(), ["goto 40 pause"], "the start is the first snapshot, not the identify");
  t.controller.seek(5);
  assert.deepEqual(t.player().takeGotos(), ["goto 40 pause"]);
  t.player().time = 3_000;
  t.controller.seekBy(5_000);
  t.controller.seekBy(-5_000);
  assert.deepEqual(t.player().takeGotos(), ["goto 8000 pause", "goto 3000 pause"]);
});

Deno.test("controller: speed steps through 0.5× to 16× and stops at the ends", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  t.controller.stepSpeed(-1);
  t.controller.stepSpeed(-1);
  assert.equal(t.controller.state.speed, 0.5);
  for (let i = 0; i < 8; i++) t.controller.stepSpeed(1);
  assert.equal(t.controller.state.speed, 16);
  assert.deepEqual(t.player().calls.filter((c) => c.startsWith("speed")), [
    "speed 0.5",
    "speed 1",
    "speed 2",
    "speed 4",
    "speed 8",
    "speed 16",
  ]);
});

Deno.test("controller: while playing, skip inactivity jumps over idle stretches to just before the next activity", () => {
  const t = setup({ live: false });
  // Active until 2 s, idle (only a DOM change) until 14 s, active again until 24 s.
  t.stream().onEvents([
    meta(0),
    fullSnapshot(1),
    mouseMove(1_000),
    click(2_000, 9),
    mutation(8_000, { texts: [{ id: 10, value: "later" }] }),
    click(14_000, 9),
    mouseMove(18_000),
    mouseMove(22_000),
    mouseMove(24_000),
  ], 1);
  assert.deepEqual(t.controller.state.inactive, [{ start: 2_000, end: 14_000 }]);
  t.player().takeGotos();
  t.player().time = 3_000;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), [], "paused: nothing moves");

  t.controller.play();
  t.player().takeGotos();
  t.player().time = 1_500;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), [], "not idle yet");
  t.player().time = 2_100;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), [`goto ${14_000 - SKIP_LEAD_MS} play`]);
  t.player().time = 14_000 - SKIP_LEAD_MS;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), [], "landed: no second jump");
  assert.equal(t.controller.state.skips, 1);

  t.controller.setSkipInactive(false);
  t.player().time = 5_000;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), [], "off: plays through");
});

Deno.test("controller: skip inactivity never moves a viewer who follows the live edge", () => {
  const t = setup({ live: true });
  t.stream().onEvents([meta(0), fullSnapshot(1), click(1_000, 9), mutation(20_000, {})], 1);
  t.stream().onLive(1);
  t.runTimers();
  assert.equal(t.controller.state.following, true);
  t.player().takeGotos();
  t.player().time = 5_000;
  t.controller.tick();
  assert.deepEqual(t.player().takeGotos(), []);
});

Deno.test("controller: mount options carry speed and the stage size", () => {
  const t = setup({ live: false });
  t.controller.setSpeed(2);
  t.controller.resize(800.6, 500.2);
  t.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  assert.deepEqual(t.player().options, { speed: 2, width: 800, height: 500 });
  t.controller.resize(640, 400);
  t.controller.resize(0, 400);
  assert.deepEqual(t.player().calls.filter((c) => c.startsWith("resize")), ["resize 640x400"]);
});

Deno.test("controller: a stream that closes with nothing is a failure; with data it is just ended", () => {
  const empty = setup({ live: false });
  empty.stream().onEnd!();
  assert.equal(empty.controller.state.status, "ended");
  assert.equal(empty.controller.state.failed, true);

  const some = setup({ live: false });
  some.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  some.stream().onEnd!();
  assert.equal(some.controller.state.status, "ended");
  assert.equal(some.controller.state.failed, false);
});

Deno.test("controller: a failed mount is reported and retried with the next batch", () => {
  const t = setup({ live: false, failMounts: 1 });
  t.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  assert.equal(t.controller.state.error, "rrweb said no");
  assert.equal(t.controller.state.playable, false);
  t.stream().onEvents([click(100, 9)], 2);
  assert.equal(t.controller.state.error, undefined);
  assert.equal(t.player().events.length, 3);
});

Deno.test("controller: destroy closes the stream, unmounts the player and ignores late records", () => {
  const t = setup({ live: false });
  t.stream().onEvents([meta(0), fullSnapshot(1)], 1);
  let notified = 0;
  t.controller.subscribe(() => notified++);
  t.controller.destroy();
  assert.ok(t.closed());
  assert.ok(t.player().calls.includes("destroy"));
  t.stream().onEvents([click(100, 9)], 2);
  assert.equal(t.player().calls.filter((c) => c.startsWith("add")).length, 0);
  assert.equal(notified, 0);
});

Deno.test("controller: a burst of batches is published as one state", () => {
  const deferred: Array<() => void> = [];
  let handlers: StreamHandlers | undefined;
  const controller = new ReplayController({
    mount: (events, options) => new FakePlayer(events, options),
    connect: (h) => {
      handlers = h;
      return { close() {} };
    },
    defer: (fn) => deferred.push(fn),
    afterMicrotasks: (fn) => fn(),
  }, { live: false });
  const seen: number[] = [];
  controller.subscribe((state) => seen.push(state.eventCount));
  controller.start();
  handlers!.onEvents([meta(0), fullSnapshot(1)], 1);
  handlers!.onEvents([click(10, 9)], 2);
  handlers!.onEvents([click(20, 9)], 3);
  assert.equal(deferred.length, 1);
  assert.equal(controller.state.eventCount, 0, "not published yet");
  deferred.shift()!();
  assert.deepEqual(seen, [4]);
  assert.equal(controller.state.eventCount, 4);
});
