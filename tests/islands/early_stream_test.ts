import assert from "node:assert/strict";
import { FakeSource } from "./_fake_source.ts";
import { adoptEarlyStream, openEarlyStream } from "../../islands/player/early_stream.ts";
import { openSessionStream, sessionStreamUrl, type StreamHandlers } from "../../islands/player/stream.ts";
import { click } from "./_events.ts";

let n = 0;
/** An early stream on a fake source, under a URL of its own (the registry is global). */
function early() {
  const url = sessionStreamUrl("", `01EARLY${n++}`);
  let source!: FakeSource;
  openEarlyStream(url, (u) => (source = new FakeSource(u)) as unknown as EventSource);
  return { url, source };
}

function adopt(url: string, extra: Partial<StreamHandlers> = {}) {
  const log: string[] = [];
  const created: string[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => stopped = resolve);
  const handle = openSessionStream("", url.split("/")[3], {
    onMeta: (m, seq) => log.push(`meta ${m.id} #${seq}`),
    onEvents: (events, seq) => log.push(`events #${seq} (${events.length})`),
    onLive: () => log.push("live"),
    onStop: (stop, seq) => {
      log.push(`stop ${stop.reason} #${seq}`);
      stopped();
    },
    onConnection: (state) => log.push(state),
    ...extra,
  }, {
    create: (u) => {
      created.push(u);
      return adoptEarlyStream(u) ?? new FakeSource(u);
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { log, created, timers, handle, done };
}

/** Resolves after the adopted stream's replay (which starts in the next task) has had `tasks` tasks. */
const tasks = (count: number) =>
  new Promise<void>((resolve) => {
    const step = (left: number) => left ? setTimeout(() => step(left - 1), 0) : resolve();
    step(count);
  });

Deno.test("early stream: what arrived before the player is replayed in order, then events pass through", async () => {
  const { url, source } = early();
  source.open();
  source.emit("meta", { id: "01EARLY" }, 0);
  source.emit("events", { events: [click(1, 1)] }, 1);
  source.emit("events", { events: [click(2, 1), click(3, 1)] }, 2);
  const player = adopt(url);
  // Nothing is delivered before the player has registered its listeners and returned.
  assert.deepEqual(player.log, []);
  await tasks(2);
  assert.deepEqual(player.log, ["open", "meta 01EARLY #0", "events #1 (1)", "events #2 (2)"]);
  source.emit("live", {});
  source.emit("events", { events: [click(4, 1)] }, 3);
  source.emit("stop", { reason: "ended" }, 4);
  await player.done;
  assert.deepEqual(player.log.slice(4), ["live", "events #3 (1)", "stop ended #4"]);
  assert.equal(source.closed, true, "the stop closes the early EventSource, so it does not reconnect");
  assert.deepEqual(player.created, [url], "no second connection");
});

Deno.test("early stream: adopted once; an unknown URL is not adopted", () => {
  const { url } = early();
  assert.ok(adoptEarlyStream(url));
  assert.equal(adoptEarlyStream(url), undefined);
  assert.equal(adoptEarlyStream(sessionStreamUrl("", "01NEVEROPENED")), undefined);
});

Deno.test("early stream: a long backlog is replayed in slices, other tasks run in between", async () => {
  const { url, source } = early();
  source.open();
  const batches = 40;
  for (let seq = 0; seq < batches; seq++) source.emit("events", { events: [click(seq, 1)] }, seq);
  source.emit("stop", { reason: "ended" }, batches);
  const seen: number[] = [];
  const player = adopt(url, {
    // Each batch costs the main thread 1 ms: 40 ms in all, against 8 ms slices.
    onEvents: (_events, seq) => {
      const until = performance.now() + 1;
      while (performance.now() < until) { /* busy */ }
      seen.push(seq);
    },
  });
  let between = -1;
  setTimeout(function probe() {
    if (seen.length === 0) return void setTimeout(probe, 0);
    between = seen.length;
  }, 0);
  await player.done;
  assert.deepEqual(seen, Array.from({ length: batches }, (_, i) => i), "every batch, once, in order");
  assert.ok(between > 0 && between < batches, `another task ran mid-replay (after ${between} batches)`);
});

Deno.test("early stream: a connection that failed before the player came is retried from where it stopped", async () => {
  const { url, source } = early();
  source.open();
  source.emit("events", { events: [click(1, 1)] }, 7);
  source.fail(2);
  const player = adopt(url);
  await tasks(2);
  assert.deepEqual(player.log, ["open", "events #7 (1)", "reconnecting"]);
  assert.equal(player.timers.length, 1, "a retry is scheduled");
  player.timers[0].fn();
  assert.equal(player.created.at(-1), `${url}?from=7`);
  player.handle.close();
});

Deno.test("early stream: closing the player before the replay closes the early EventSource and delivers nothing", async () => {
  const { url, source } = early();
  source.open();
  source.emit("events", { events: [click(1, 1)] }, 1);
  const player = adopt(url);
  player.handle.close();
  await tasks(2);
  assert.deepEqual(player.log, []);
  assert.equal(source.closed, true);
});
