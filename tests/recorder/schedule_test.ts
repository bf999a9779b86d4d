// Deferred serialisation (buffer + sliced JSON), the idle scheduler, and off-thread gzip with its fallback.
import assert from "node:assert/strict";
import { EventBuffer } from "../../recorder/src/buffer.ts";
import { JsonJob } from "../../recorder/src/json.ts";
import { idleScheduler, type Scheduler, SLICE_MS } from "../../recorder/src/schedule.ts";
import { gzip, type GzipHost, offThreadGzip, type WorkerLike } from "../../recorder/src/compress.ts";
import { Transport } from "../../recorder/src/transport.ts";
import { Uploader } from "../../recorder/src/uploader.ts";
import { eventsOf, FakeClock, FakeServer, incremental, testMeta } from "./_helpers.ts";

/** A scheduler that runs slices only when the test says, each with a fixed number of "time" units. */
class ManualScheduler {
  slices: Array<(timeLeft: () => number) => void> = [];
  schedule: Scheduler = (slice) => void this.slices.push(slice);
  /** Runs the queued slices, each allowed `steps` reads of the clock. */
  run(steps = Infinity): number {
    const queued = this.slices.splice(0);
    for (const slice of queued) {
      let left = steps;
      slice(() => left-- > 0 ? 1 : 0);
    }
    return queued.length;
  }
}

/** A full snapshot of `n` list items, like rrweb's. */
function snapshot(n: number, timestamp = 1) {
  const items = Array.from({ length: n }, (_, i) => ({
    type: 2,
    tagName: "li",
    attributes: { class: "row", "data-x": `é${i}"\\` },
    childNodes: [{ type: 3, textContent: `Item ${i} \u2028 😀`, id: i * 2 + 2 }],
    id: i * 2 + 1,
    skipped: undefined,
  }));
  return {
    type: 2,
    timestamp,
    data: { node: { type: 0, childNodes: [{ type: 2, tagName: "ul", attributes: {}, childNodes: items, id: 0 }] } },
  };
}

Deno.test("JsonJob writes exactly what JSON.stringify writes, in as many slices as it is given", () => {
  for (const value of [snapshot(3000), snapshot(2), [1, undefined, () => 1, null, "x"], "text", 42, null, {}]) {
    const job = new JsonJob(value);
    let slices = 0;
    let text: string | undefined;
    while (text === undefined && slices < 100_000) {
      let left = 3;
      text = job.run(() => left-- > 0 ? 1 : 0);
      slices++;
    }
    assert.equal(text, JSON.stringify(value));
    assert.equal(job.bytes, new TextEncoder().encode(text!).length);
  }
  const big = new JsonJob(snapshot(3000));
  assert.equal(big.run(() => 0), undefined, "no time, no work");
});

Deno.test("JsonJob refuses a cycle instead of looping", () => {
  const a: Record<string, unknown> = { list: Array.from({ length: 300 }, (_, i) => ({ i })) };
  a.self = a;
  assert.throws(() => new JsonJob(a).run(() => 1), TypeError);
});

Deno.test("deferred buffer: push costs nothing now; slices serialise in order, prepare first", () => {
  const sched = new ManualScheduler();
  const buffer = new EventBuffer(1e9, sched.schedule);
  let ready = 0;
  buffer.onReady = () => ready++;
  buffer.push(incremental(1, 100));
  buffer.push(snapshot(2000, 2), (e) => ({ ...e, timestamp: 3 }));
  buffer.push(incremental(4, 100));
  assert.equal(buffer.pendingCount, 0);
  assert.equal(buffer.deferredCount, 3);
  assert.equal(buffer.isEmpty, false);
  assert.equal(sched.slices.length, 1, "one slice queued, not one per event");
  sched.run(5);
  assert.equal(buffer.pendingCount, 1, "the small event went; the snapshot needs more slices");
  assert.equal(ready, 1);
  let rounds = 0;
  while (buffer.deferredCount > 0 && rounds++ < 10_000) sched.run(5);
  assert.ok(rounds > 3, "the snapshot took several slices");
  const batch = buffer.seal(1e9)!;
  assert.deepEqual(batch.entries.map((e) => e.timestamp), [1, 3, 4]);
  assert.equal(JSON.parse(batch.entries[1].json).timestamp, 3, "prepare ran before serialising");
  assert.equal(batch.entries[1].json, JSON.stringify({ ...snapshot(2000, 2), timestamp: 3 }));
  assert.equal(sched.slices.length, 0, "nothing left scheduled");
});

Deno.test("deferred buffer: drain serialises everything now; clear drops what waits", () => {
  const sched = new ManualScheduler();
  const buffer = new EventBuffer(1e9, sched.schedule);
  buffer.push(snapshot(500, 1));
  buffer.push(incremental(2));
  buffer.drain();
  assert.equal(buffer.deferredCount, 0);
  assert.deepEqual(buffer.seal(1e9)!.entries.map((e) => e.timestamp), [1, 2]);
  sched.run();
  buffer.push(incremental(3));
  buffer.clear(false);
  sched.run();
  assert.equal(buffer.isEmpty, true);
  buffer.push(incremental(4));
  assert.equal(buffer.discard()?.droppedEvents, 1, "a discard counts events still waiting");
});

Deno.test("deferred buffer: the memory bound applies once events are serialised", () => {
  const sched = new ManualScheduler();
  const buffer = new EventBuffer(1000, sched.schedule);
  for (let i = 0; i < 30; i++) buffer.push(incremental(i, 100));
  sched.run();
  assert.ok(buffer.totalBytes <= 1000 + 200);
  assert.equal(buffer.takeDropped(), true);
});

function uploaderWith(sched: ManualScheduler) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const buffer = new EventBuffer(1e9, sched.schedule);
  const uploader = new Uploader({
    transport: new Transport("https://r", { fetch: server.fetch, now: clock.now }),
    buffer,
    clock,
    random: () => 0.5,
    writerId: "w1",
    projectKey: "pk",
    meta: () => testMeta,
    onSession: () => {},
    onNewSession: () => {},
    onResync: () => {},
    onFatal: () => {},
    warn: () => {},
    isVisible: () => true,
  });
  return { clock, server, buffer, uploader };
}

Deno.test("uploader: deferred events are sent once serialised, in order", async () => {
  const sched = new ManualScheduler();
  const { clock, server, buffer, uploader } = uploaderWith(sched);
  uploader.connect();
  await clock.advance(0);
  buffer.push(snapshot(1000, 1));
  buffer.push(incremental(2, 100));
  uploader.notify();
  await clock.advance(2000);
  assert.equal(server.batches.length, 0, "nothing sendable before the idle slices ran");
  while (sched.run(50) > 0) await clock.advance(0);
  await clock.advance(1000);
  assert.deepEqual(server.batches.flatMap(eventsOf).map((e) => e.timestamp), [1, 2]);
  await uploader.close({ flush: false, sendStop: false });
});

Deno.test("uploader: pagehide's keepalive flush sends events still waiting for idle time", async () => {
  const sched = new ManualScheduler();
  const { clock, server, buffer, uploader } = uploaderWith(sched);
  uploader.connect();
  await clock.advance(0);
  for (let i = 0; i < 5; i++) buffer.push(incremental(i, 100));
  uploader.flushHidden();
  const keepalive = server.requests.filter((r) => r.keepalive);
  assert.equal(keepalive.length, 1, "issued synchronously");
  assert.deepEqual(eventsOf(keepalive[0]).map((e) => e.timestamp), [0, 1, 2, 3, 4]);
  await clock.advance(0);
  assert.equal(buffer.isEmpty, true);
  sched.run();
  await uploader.close({ flush: false, sendStop: false });
});

Deno.test("uploader: close with flush sends events still waiting for idle time", async () => {
  const sched = new ManualScheduler();
  const { clock, server, buffer, uploader } = uploaderWith(sched);
  uploader.connect();
  await clock.advance(0);
  buffer.push(incremental(7, 100));
  const closed = uploader.close({ flush: true, sendStop: false });
  await clock.advance(0);
  await closed;
  assert.deepEqual(server.batches.flatMap(eventsOf).map((e) => e.timestamp), [7]);
});

Deno.test("idleScheduler: idle callback with a timeout, else postTask, else setTimeout; none outside a page", async () => {
  assert.equal(idleScheduler({ setTimeout }), undefined, "no document: synchronous");
  const calls: string[] = [];
  const now = { now: () => 100 };
  const ric = idleScheduler({
    document: {},
    setTimeout,
    performance: now,
    requestIdleCallback: (fn, o) => (calls.push(`ric ${o?.timeout}`), fn()),
  })!;
  let left = -1;
  ric((timeLeft) => left = timeLeft());
  assert.deepEqual(calls, ["ric 500"]);
  assert.equal(left, SLICE_MS);
  const post = idleScheduler({
    document: {},
    setTimeout,
    performance: now,
    scheduler: { postTask: (fn, o) => (calls.push(`post ${o?.priority}`), fn(), Promise.resolve()) },
  })!;
  post(() => {});
  assert.equal(calls[1], "post background");
  const timeout = idleScheduler({ document: {}, setTimeout, performance: now })!;
  const ran = Promise.withResolvers<void>();
  timeout(() => ran.resolve());
  await ran.promise;
});

/** A worker double answering with the real gzip, or failing as told. */
class FakeWorker implements WorkerLike {
  onmessage: WorkerLike["onmessage"] = null;
  onerror: WorkerLike["onerror"] = null;
  posted = 0;
  terminated = false;
  constructor(readonly mode: "ok" | "error" | "silent" | "refuse") {}
  postMessage(message: { id: number; text: string }): void {
    this.posted++;
    if (this.mode === "error") queueMicrotask(() => this.onerror?.(new Event("error")));
    if (this.mode === "refuse") queueMicrotask(() => this.onmessage?.({ data: { id: message.id } }));
    if (this.mode === "ok") {
      gzip(message.text).then((b) => this.onmessage?.({ data: { id: message.id, bytes: b.buffer } }));
    }
  }
  terminate(): void {
    this.terminated = true;
  }
}

function host(create: () => WorkerLike | undefined, clock = new FakeClock()) {
  const used = { main: 0, remembered: 0 };
  const h: GzipHost = {
    createWorker: create,
    gzip: (text) => (used.main++, gzip(text)),
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    remember: () => used.remembered++,
  };
  return { h, used, clock };
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
}

Deno.test("offThreadGzip compresses in the worker, created once", async () => {
  let created = 0;
  const worker = new FakeWorker("ok");
  const { h, used } = host(() => (created++, worker));
  const z = offThreadGzip(h);
  assert.equal(await gunzip(await z("hello")), "hello");
  assert.equal(await gunzip(await z("again")), "again");
  assert.equal(created, 1);
  assert.equal(worker.posted, 2);
  assert.equal(used.main, 0);
  assert.equal(used.remembered, 0);
});

Deno.test("offThreadGzip falls back to the main thread when the worker is blocked, fails or goes silent", async () => {
  // CSP refusing the Blob URL: the constructor throws.
  const blocked = host(() => {
    throw new DOMException("blocked by CSP", "SecurityError");
  });
  const z1 = offThreadGzip(blocked.h);
  assert.equal(await gunzip(await z1("a")), "a");
  assert.equal(await gunzip(await z1("b")), "b");
  assert.equal(blocked.used.main, 2);
  assert.equal(blocked.used.remembered, 1, "the tab's next pages do not try again");
  // No Worker at all.
  const none = host(() => undefined);
  assert.equal(await gunzip(await offThreadGzip(none.h)("c")), "c");
  // The worker errors: the job it held is redone here, and the worker is dropped.
  const bad = new FakeWorker("error");
  const erroring = host(() => bad);
  const z3 = offThreadGzip(erroring.h);
  assert.equal(await gunzip(await z3("d")), "d");
  assert.equal(bad.terminated, true);
  assert.equal(await gunzip(await z3("e")), "e");
  assert.equal(bad.posted, 1, "not used again");
  assert.equal(erroring.used.remembered, 1);
  // The worker answers without bytes (its CompressionStream failed): that job only is redone.
  const refusing = host(() => new FakeWorker("refuse"));
  assert.equal(await gunzip(await offThreadGzip(refusing.h)("f")), "f");
  assert.equal(refusing.used.main, 1);
  // The worker never answers: after the timeout, the main thread does it.
  const silent = host(() => new FakeWorker("silent"));
  const pending = offThreadGzip(silent.h)("g");
  await silent.clock.advance(10_000);
  assert.equal(await gunzip(await pending), "g");
});
