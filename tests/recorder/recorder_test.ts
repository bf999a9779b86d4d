import assert from "node:assert/strict";
import type { InitOptions } from "../../recorder/src/api.ts";
import { resolveOptions, type RrwebRecordOptions } from "../../recorder/src/options.ts";
import { Recorder, type RecorderEnv } from "../../recorder/src/recorder.ts";
import { memoryStorage, SESSION_KEY } from "../../recorder/src/session.ts";
import { eventsOf, FakeClock, FakeServer } from "./_helpers.ts";

/** A page double: fake rrweb, storage, listeners, clock and server. */
function page(storage = memoryStorage()) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const listeners = new Map<string, Set<() => void>>();
  const rrweb = {
    running: false,
    starts: 0,
    options: undefined as RrwebRecordOptions | undefined,
    emit(type: number, data: unknown) {
      this.options?.emit({ type, timestamp: clock.now(), data });
    },
  };
  const warnings: string[] = [];
  const state = {
    visible: true,
    gpc: false,
    href: "https://shop.example.com/cart?coupon=SECRET#step2",
  };
  const errorTarget = new EventTarget();
  const env: RecorderEnv = {
    clock,
    random: () => 0.5,
    id: () => "writer-1",
    fetch: server.fetch,
    storage,
    record: {
      start(options) {
        rrweb.options = options;
        rrweb.running = true;
        rrweb.starts++;
        // rrweb emits meta + full snapshot synchronously when the page is loaded.
        rrweb.emit(4, { href: state.href, width: 800, height: 600 });
        rrweb.emit(2, { node: { id: 1 }, initialOffset: { top: 0, left: 0 } });
        return () => {
          rrweb.running = false;
          rrweb.options = undefined;
        };
      },
      takeFullSnapshot() {
        rrweb.emit(4, { href: state.href, width: 800, height: 600 });
        rrweb.emit(2, { node: { id: 1 } });
      },
    },
    warn: (m) => warnings.push(m),
    page: () => ({
      url: state.href,
      referrer: "https://google.com/search?q=private",
      userAgent: "FakeBrowser/1",
      viewport: { width: 800, height: 600 },
      screen: { width: 1920, height: 1080 },
      language: "en",
      timezone: "UTC",
    }),
    href: () => state.href,
    gpc: () => state.gpc,
    isVisible: () => state.visible,
    listen(_target, type, fn) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type)!.add(fn);
      return () => listeners.get(type)!.delete(fn);
    },
    errorTarget,
    resolveUrl: (u) => u,
  };
  const fire = (type: string) => [...(listeners.get(type) ?? [])].forEach((fn) => fn());
  const make = (opts: Partial<InitOptions> = {}) =>
    new Recorder(
      resolveOptions({
        endpoint: "https://replay.example.com",
        projectKey: "pk_test",
        ...opts,
      }),
      env,
    );
  const events = () => server.batches.flatMap(eventsOf);
  return {
    clock,
    server,
    rrweb,
    warnings,
    state,
    env,
    fire,
    make,
    events,
    storage,
    errorTarget,
    listeners,
  };
}

Deno.test("records, strips page URLs, and describes the page when starting", async () => {
  const p = page();
  const rec = p.make({ source: "shop" });
  rec.start();
  await p.clock.advance(1000);
  assert.equal(rec.state, "recording");
  const start = p.server.starts[0].json;
  assert.equal(start.projectKey, "pk_test");
  assert.equal(start.resume, undefined);
  assert.deepEqual(start.meta, {
    url: "https://shop.example.com/cart",
    referrer: "https://google.com/search",
    userAgent: "FakeBrowser/1",
    viewport: { width: 800, height: 600 },
    screen: { width: 1920, height: 1080 },
    language: "en",
    timezone: "UTC",
    source: "shop",
    recorderVersion: "0.1.0",
  });
  const [meta, full] = p.events();
  assert.equal(meta.type, 4);
  assert.equal(
    meta.data!.href,
    "https://shop.example.com/cart",
    "Meta href stripped",
  );
  assert.equal(full.type, 2);
  assert.equal(p.rrweb.options!.maskInputOptions.email, true);
  assert.equal(p.rrweb.options!.blockClass, "replaya-block");
  assert.equal(p.server.batches[0].json.writerId, "writer-1");
  const stored = JSON.parse(p.storage.getItem(SESSION_KEY)!);
  assert.equal(stored.sessionId, "s1");
  assert.equal(stored.token, "t1");
});

Deno.test("allowUrlQuery/allowUrlHash keep the parts they allow", async () => {
  const p = page();
  p.make({ allowUrlQuery: true, allowUrlHash: true }).start();
  await p.clock.advance(1000);
  assert.equal(p.events()[0].data!.href, p.state.href);
  assert.equal(
    (p.server.starts[0].json.meta as { url: string }).url,
    p.state.href,
  );
});

Deno.test("Global Privacy Control means nothing is recorded or sent", async () => {
  const p = page();
  p.state.gpc = true;
  const rec = p.make({ requireConsent: true });
  rec.start();
  rec.consent(true);
  rec.track("x");
  await p.clock.advance(60_000);
  assert.equal(p.rrweb.starts, 0);
  assert.equal(p.server.requests.length, 0);

  const q = page();
  q.state.gpc = true;
  q.make({ respectGlobalPrivacyControl: false }).start();
  await q.clock.advance(1000);
  assert.equal(q.rrweb.starts, 1, "opted out of honouring GPC");
});

Deno.test("requireConsent: nothing before consent(true); withdrawal stops and discards", async () => {
  const p = page();
  const rec = p.make({ requireConsent: true });
  rec.start();
  rec.track("before consent");
  await p.clock.advance(60_000);
  assert.equal(p.rrweb.starts, 0);
  assert.equal(p.server.requests.length, 0);

  rec.consent(true);
  await p.clock.advance(1000);
  assert.equal(p.rrweb.running, true);
  assert.deepEqual(p.events().map((e) => e.type), [4, 2]);

  p.rrweb.emit(3, { source: 2, type: 1 });
  rec.consent(false);
  await p.clock.advance(0);
  assert.equal(p.rrweb.running, false);
  assert.equal(p.storage.getItem(SESSION_KEY), null);
  const stop = p.server.requests.at(-1)!;
  assert.equal(stop.path, "/api/sessions/s1/stop");
  assert.equal(
    p.events().filter((e) => e.type === 3).length,
    0,
    "pending events discarded, not sent",
  );
  const count = p.server.requests.length;
  await p.clock.advance(60_000);
  assert.equal(p.server.requests.length, count, "silent after withdrawal");
});

Deno.test("sampleRate 0 records nothing and the decision sticks for the tab", async () => {
  const storage = memoryStorage();
  const p = page(storage);
  p.make({ sampleRate: 0.3 }).start(); // random() is 0.5 → not sampled
  await p.clock.advance(5000);
  assert.equal(p.rrweb.starts, 0);
  assert.equal(p.server.requests.length, 0);
  const next = page(storage);
  next.env.random = () => 0.01;
  next.make({ sampleRate: 0.3 }).start();
  await next.clock.advance(5000);
  assert.equal(next.rrweb.starts, 0, "a reload does not re-roll");
});

Deno.test("a new page load in the same tab resumes the session as a new writer", async () => {
  const storage = memoryStorage();
  const first = page(storage);
  const rec = first.make();
  rec.start();
  rec.identify("user-7", { plan: "pro" });
  await first.clock.advance(1000);
  first.fire("pagehide");

  const second = page(storage);
  second.clock.t = first.clock.t + 60_000;
  second.env.id = () => "writer-2";
  second.make().start();
  await second.clock.advance(1000);
  const start = second.server.starts[0].json;
  assert.deepEqual(start.resume, { sessionId: "s1", token: "t1" });
  assert.equal((start.meta as { userId: string }).userId, "user-7");
  assert.deepEqual((start.meta as { traits: unknown }).traits, { plan: "pro" });
  assert.equal(second.server.batches[0].path, "/api/sessions/s1/events");
  assert.equal(second.server.batches[0].json.writerId, "writer-2");
  assert.equal(second.server.batches[0].json.seq, 0, "seq restarts per writer");
});

Deno.test("a stored session older than the inactivity timeout is not resumed", async () => {
  const storage = memoryStorage();
  storage.setItem(
    SESSION_KEY,
    JSON.stringify({ sessionId: "old", token: "t", lastActivity: 0 }),
  );
  const p = page(storage);
  p.make().start();
  await p.clock.advance(0);
  assert.equal(p.server.starts[0].json.resume, undefined);
});

Deno.test("identify, track and captured errors become tagged custom events", async () => {
  const p = page();
  const rec = p.make();
  rec.start();
  rec.identify("u1", { a: 1 });
  rec.track("checkout", { items: 2 });
  p.errorTarget.dispatchEvent(
    new ErrorEvent("error", {
      message: "boom",
      filename: "https://x/app.js?v=1",
    }),
  );
  await p.clock.advance(1000);
  const custom = p.events().filter((e) => e.type === 5).map((e) => e.data);
  assert.deepEqual(custom, [
    { tag: "replaya.identify", payload: { userId: "u1", traits: { a: 1 } } },
    {
      tag: "replaya.track",
      payload: { name: "checkout", props: { items: 2 } },
    },
    {
      tag: "replaya.error",
      payload: { kind: "error", message: "boom", source: "https://x/app.js" },
    },
  ]);
});

Deno.test("pagehide flushes with keepalive and persists the session", async () => {
  const p = page();
  p.make().start();
  await p.clock.advance(1000);
  p.rrweb.emit(3, { source: 2, type: 1 });
  p.fire("pagehide");
  const last = p.server.requests.at(-1)!;
  assert.equal(last.keepalive, true);
  assert.equal((last.json as { token?: string }).token, "t1", "the token rides in the body");
  assert.equal(last.query.get("token"), null);
  assert.deepEqual(eventsOf(last).map((e) => e.type), [3]);
  assert.notEqual(p.storage.getItem(SESSION_KEY), null);
  await p.clock.advance(0);
});

Deno.test("stop flushes, sends stop, clears storage and ignores later calls", async () => {
  const p = page();
  const rec = p.make();
  rec.start();
  await p.clock.advance(1000);
  p.rrweb.emit(3, { source: 2, type: 1 });
  await rec.stop();
  assert.equal(p.rrweb.running, false);
  const stop = p.server.requests.at(-1)!;
  assert.equal(stop.path, "/api/sessions/s1/stop");
  assert.deepEqual(stop.json, { writerId: "writer-1", seq: 2, reason: "stop" });
  assert.equal(
    p.server.batches.at(-1)!.json.seq,
    1,
    "the last events went first",
  );
  assert.equal(p.storage.getItem(SESSION_KEY), null);
  rec.track("late");
  rec.consent(true);
  await rec.stop();
  await p.clock.advance(60_000);
  assert.equal(p.server.requests.at(-1), stop);
});

Deno.test("inactivity suspends recording; the next interaction starts a new session", async () => {
  const p = page();
  const rec = p.make({ inactivityTimeoutMs: 60_000 });
  rec.start();
  await p.clock.advance(30_000);
  p.rrweb.emit(3, { source: 1, positions: [] }); // a mouse move keeps it alive
  await p.clock.advance(60_000);
  assert.equal(rec.state, "recording");
  await p.clock.advance(60_000);
  assert.equal(rec.state, "suspended");
  assert.equal(p.rrweb.running, false);
  const heartbeats = p.server.batches.length;
  await p.clock.advance(120_000);
  assert.equal(
    p.server.batches.length,
    heartbeats,
    "no heartbeats while suspended",
  );

  p.fire("mousedown");
  await p.clock.advance(1000);
  assert.equal(rec.state, "recording");
  assert.equal(p.rrweb.starts, 2);
  assert.equal(p.server.starts.length, 2);
  assert.equal(
    p.server.starts[1].json.resume,
    undefined,
    "a brand-new session",
  );
  const first = p.server.batches.find((r) => r.path === "/api/sessions/s2/events")!;
  assert.equal(first.json.seq, 0);
  assert.deepEqual(eventsOf(first).slice(0, 2).map((e) => e.type), [4, 2]);
  await rec.stop();
});

Deno.test("a broken environment never throws into the page", async () => {
  const p = page();
  p.env.record.start = () => {
    throw new Error("rrweb exploded");
  };
  const rec = p.make();
  rec.start();
  rec.identify("u");
  rec.track("t");
  rec.consent(true);
  await rec.stop();
  assert.ok(p.warnings.length >= 1);
  assert.match(p.warnings[0], /rrweb exploded/);
  assert.equal(rec.state, "stopped");
  await p.clock.advance(60_000);
  assert.equal(p.server.requests.length, 0, "no session without a recording");

  const q = page();
  q.server.down = true;
  const r2 = q.make();
  r2.start();
  for (let i = 0; i < 100; i++) {
    q.rrweb.emit(3, { source: 2, type: 1, pad: "x".repeat(1000) });
    await q.clock.advance(1000);
  }
  assert.equal(
    q.warnings.length,
    0,
    "an unreachable server is not worth a warning by itself",
  );
  await Promise.all([r2.stop(), q.clock.advance(10_000)]);
});
