import assert from "node:assert/strict";
import { KEEPALIVE_MAX_BODY } from "../../recorder/src/batch.ts";
import { EventBuffer } from "../../recorder/src/buffer.ts";
import { Transport } from "../../recorder/src/transport.ts";
import type { Credentials } from "../../recorder/src/wire.ts";
import { CLOSE_RETRIES, Uploader } from "../../recorder/src/uploader.ts";
import { eventsOf, FakeClock, FakeServer, incremental, reply, testMeta as meta } from "./_helpers.ts";

function setup(opts: { maxBytes?: number; random?: number } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const buffer = new EventBuffer(opts.maxBytes ?? 1e9);
  const log = {
    newSessions: 0,
    resyncs: 0,
    fatal: [] as string[],
    warnings: [] as string[],
    sessions: [] as Credentials[],
  };
  const state = { visible: true };
  const uploader = new Uploader({
    transport: new Transport("https://r", {
      fetch: server.fetch,
      now: clock.now,
    }),
    buffer,
    clock,
    random: () => opts.random ?? 0.5,
    writerId: "w1",
    projectKey: "pk",
    meta: () => meta,
    onSession: (c) => log.sessions.push(c),
    onNewSession: () => {
      log.newSessions++;
      // What the recorder does: a fresh meta + full snapshot.
      buffer.push({
        type: 4,
        timestamp: clock.now(),
        data: { href: "https://a.com/" },
      });
      buffer.push({ type: 2, timestamp: clock.now(), data: { node: {} } });
    },
    onResync: () => log.resyncs++,
    onFatal: (r) => log.fatal.push(r),
    warn: (m) => log.warnings.push(m),
    isVisible: () => state.visible,
  });
  const push = (n = 1, bytes = 100) => {
    for (let i = 0; i < n; i++) buffer.push(incremental(clock.now(), bytes));
    uploader.notify();
  };
  return { clock, server, buffer, uploader, log, state, push };
}

Deno.test("connect starts a session, then batches flush at most every second", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  assert.equal(server.starts.length, 1);
  assert.deepEqual(server.starts[0].json, { projectKey: "pk", meta });
  assert.deepEqual(log.sessions, [{ sessionId: "s1", token: "t1" }]);

  push(2);
  await clock.advance(0);
  assert.equal(server.batches.length, 1, "first batch goes at once");
  const first = server.batches[0];
  assert.equal(first.path, "/api/sessions/s1/events");
  assert.equal(first.headers["authorization"], "Bearer t1");
  assert.equal(first.json.writerId, "w1");
  assert.equal(first.json.seq, 0);
  assert.equal(first.json.sentAt, clock.now());
  assert.equal(eventsOf(first).length, 2);

  push(1);
  await clock.advance(500);
  assert.equal(server.batches.length, 1, "not before a second has passed");
  push(1);
  await clock.advance(500);
  assert.equal(server.batches.length, 2);
  assert.equal(server.batches[1].json.seq, 1);
  assert.equal(
    eventsOf(server.batches[1]).length,
    2,
    "both events in one batch",
  );
});

Deno.test("64 KiB of pending JSON flushes immediately", async () => {
  const { clock, server, uploader, push } = setup();
  uploader.connect();
  await clock.advance(0);
  push(1);
  await clock.advance(0);
  assert.equal(server.batches.length, 1);
  push(10, 1000);
  await clock.advance(10);
  assert.equal(server.batches.length, 1, "10 KB waits for the interval");
  push(60, 1000);
  await clock.advance(10);
  assert.equal(server.batches.length, 2, "over 64 KiB goes now");
  assert.equal(eventsOf(server.batches[1]).length, 70);
});

Deno.test("while watched, flushes every 100 ms", async () => {
  const { clock, server, uploader, push } = setup();
  server.watched = true;
  uploader.connect();
  await clock.advance(0);
  push(1);
  await clock.advance(0);
  assert.equal(uploader.watched, true);
  push(1);
  await clock.advance(100);
  push(1);
  await clock.advance(100);
  assert.equal(server.batches.length, 3);
  server.watched = false;
  push(1);
  await clock.advance(100);
  push(1);
  await clock.advance(100);
  assert.equal(
    server.batches.length,
    4,
    "back to one per second once nobody watches",
  );
});

Deno.test("an idle visible page sends an empty heartbeat every 15 s, a hidden one does not", async () => {
  const { clock, server, uploader, state } = setup();
  uploader.connect();
  await clock.advance(14_000);
  assert.equal(server.batches.length, 0);
  await clock.advance(1_000);
  assert.equal(server.batches.length, 1);
  assert.deepEqual(server.batches[0].json.events, []);
  assert.equal(server.batches[0].json.seq, 0);
  await clock.advance(15_000);
  assert.equal(server.batches.length, 2);
  assert.equal(server.batches[1].json.seq, 1);
  state.visible = false;
  uploader.notify();
  await clock.advance(60_000);
  assert.equal(server.batches.length, 2);
});

Deno.test("failures retry the same seq with jittered backoff and honour Retry-After", async () => {
  const { clock, server, uploader, push } = setup({ random: 0.5 });
  uploader.connect();
  await clock.advance(0);
  let failures = 3;
  server.handlers.push((req) => {
    if (!req.path.endsWith("/events") || failures-- <= 0) return undefined;
    return failures === 0 ? reply.json(429, {}, { "Retry-After": "5" }) : reply.json(503, {});
  });
  push(1);
  const t0 = clock.now();
  await clock.advance(0);
  await clock.advance(60_000);
  const withEvents = server.batches.filter((r) => eventsOf(r).length > 0);
  const times = withEvents.map((r) => r.json.sentAt as number - t0);
  // random 0.5 → 250 ms then 500 ms; the 429 asks for 5 s (more than the 1 s backoff).
  assert.deepEqual(times, [0, 250, 750, 5750]);
  assert.deepEqual(
    withEvents.map((r) => r.json.seq),
    [0, 0, 0, 0],
    "a retried batch keeps its seq",
  );
  push(1);
  await clock.advance(1000);
  // Heartbeats took seqs meanwhile; the next batch simply follows.
  assert.deepEqual(
    server.batches.slice(3).map((r) => r.json.seq),
    server.batches.slice(3).map((_, i) => i),
  );
});

Deno.test("session_stopped starts a new session, takes a full snapshot and restarts seq", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  push(1);
  await clock.advance(1000);
  push(1);
  await clock.advance(1000);
  assert.deepEqual(server.batches.map((r) => r.json.seq), [0, 1]);
  server.handlers.push((req) =>
    req.path === "/api/sessions/s1/events" ? reply.json(409, { error: { code: "session_stopped" } }) : undefined
  );
  push(3);
  await clock.advance(1000);
  await clock.advance(1000);
  assert.equal(log.newSessions, 1);
  assert.equal(server.starts.length, 2);
  assert.equal(
    server.starts[1].json.resume,
    undefined,
    "new session, not a resume",
  );
  const next = server.batches.find((r) => r.path === "/api/sessions/s2/events")!;
  assert.ok(next, "continues on the new session");
  assert.equal(next.json.seq, 0);
  assert.equal(next.headers["authorization"], "Bearer t2");
  assert.deepEqual(
    eventsOf(next).map((e) => e.type),
    [4, 2],
    "starts with meta + full snapshot; old events dropped",
  );
  assert.deepEqual(log.sessions.at(-1), { sessionId: "s2", token: "t2" });
});

Deno.test("token_expired resumes for a fresh token and retries the same batch", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  let expired = true;
  server.handlers.push((req) => {
    if (
      req.path.endsWith("/events") && expired &&
      req.headers["authorization"] === "Bearer t1"
    ) {
      return reply.json(401, { error: { code: "token_expired" } });
    }
    if (req.path === "/api/sessions" && req.json.resume) {
      expired = false;
      return reply.json(200, {
        sessionId: "s1",
        token: "t1-fresh",
        resumed: true,
      });
    }
    return undefined;
  });
  push(2);
  await clock.advance(0);
  await clock.advance(10);
  assert.deepEqual(server.starts[1].json.resume, {
    sessionId: "s1",
    token: "t1",
  });
  const [failed, retried] = server.batches;
  assert.equal(retried.headers["authorization"], "Bearer t1-fresh");
  assert.equal(retried.json.seq, failed.json.seq);
  assert.equal(
    retried.body.replace(/"sentAt":\d+/, ""),
    failed.body.replace(/"sentAt":\d+/, ""),
  );
  assert.equal(log.newSessions, 0, "same session: no new snapshot");
  assert.deepEqual(log.sessions.at(-1), { sessionId: "s1", token: "t1-fresh" });
});

Deno.test("a token in an events response replaces the stored token", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  server.handlers.push((req) =>
    req.path.endsWith("/events") && req.json.seq === 0
      ? reply.json(200, { ok: true, watched: false, token: "rotated" })
      : undefined
  );
  push(1);
  await clock.advance(0);
  push(1);
  await clock.advance(1000);
  assert.deepEqual(log.sessions.at(-1), { sessionId: "s1", token: "rotated" });
  assert.equal(server.batches[1].headers["authorization"], "Bearer rotated");
});

Deno.test("a failed resume falls back to a new session", async () => {
  const { clock, server, uploader } = setup();
  server.handlers.push((req) =>
    req.path === "/api/sessions" && req.json.resume
      ? reply.json(409, { error: { code: "session_stopped" } })
      : undefined
  );
  uploader.connect({ sessionId: "old", token: "old-t" });
  await clock.advance(0);
  assert.equal(server.starts.length, 2);
  assert.deepEqual(server.starts[0].json.resume, {
    sessionId: "old",
    token: "old-t",
  });
  assert.equal(server.starts[1].json.resume, undefined);
  assert.deepEqual(uploader.credentials, { sessionId: "s1", token: "t1" });
});

Deno.test("an unreachable server is retried with backoff; a refused project key is fatal", async () => {
  const down = setup({ random: 0.999 });
  down.server.down = true;
  down.uploader.connect();
  await down.clock.advance(10 * 60_000);
  const n = down.server.starts.length;
  // Backoff grows to its 10 s cap: about one try every 10 s (random 0.999), never a tight loop.
  assert.ok(n > 50 && n < 70, `bounded retries in 10 min: ${n}`);
  assert.equal(down.uploader.credentials, undefined);
  const closing = down.uploader.close({ flush: false, sendStop: false });
  await down.clock.advance(60_000);
  await closing;
  const after = down.server.starts.length;
  await down.clock.advance(10 * 60_000);
  assert.equal(
    down.server.starts.length,
    after,
    "closing stops the retry loop",
  );

  const refused = setup();
  refused.server.handlers.push(() => reply.json(401, { error: { code: "invalid_project_key" } }));
  refused.uploader.connect();
  await refused.clock.advance(60_000);
  assert.equal(refused.server.starts.length, 1);
  assert.equal(refused.log.fatal.length, 1);
});

Deno.test("non-retryable rejections drop the batch, warn, and give up after five in a row", async () => {
  const { clock, server, uploader, push, log, buffer } = setup();
  uploader.connect();
  await clock.advance(0);
  server.handlers.push((req) =>
    req.path.endsWith("/events") ? reply.json(413, { error: { code: "too_large" } }) : undefined
  );
  push(1);
  await clock.advance(0);
  assert.equal(buffer.isEmpty, true, "dropped, not retried");
  assert.equal(log.warnings.length, 1);
  for (let i = 0; i < 4; i++) {
    push(1);
    await clock.advance(1000);
  }
  assert.equal(server.batches.length, 5);
  assert.equal(log.fatal.length, 1);
});

Deno.test("over the memory bound while the server is down: gap marker, then a resync snapshot", async () => {
  const { clock, server, uploader, push, log } = setup({ maxBytes: 20_000 });
  uploader.connect();
  await clock.advance(0);
  server.down = true;
  for (let i = 0; i < 60; i++) {
    push(1, 1000);
    await clock.advance(1000);
  }
  assert.equal(log.resyncs, 0);
  server.down = false;
  await clock.advance(60_000);
  const delivered = server.batches.filter((r) => r.headers["authorization"] && !server.down)
    .flatMap(eventsOf);
  const gaps = delivered.filter((e) => e.data?.tag === "replaya.gap");
  assert.ok(gaps.length > 0, "a gap marker reached the server");
  const dropped = gaps.reduce(
    (n, g) => n + (g.data!.payload!.droppedEvents as number),
    0,
  );
  const kept = new Set(
    delivered.filter((e) => e.type === 3).map((e) => e.timestamp),
  );
  assert.ok(dropped > 30, `dropped ${dropped}`);
  assert.ok(
    kept.size >= 15 && kept.size <= 20,
    `kept the newest ~20 KB: ${kept.size}`,
  );
  assert.equal(log.resyncs, 1, "one fresh snapshot requested after recovery");
});

Deno.test("flushHidden sends ≤60 KiB keepalive pieces in seq order, first one synchronously", async () => {
  const { clock, server, uploader, push, buffer } = setup();
  uploader.connect();
  await clock.advance(0);
  push(1);
  await clock.advance(0);
  push(200, 1000);
  const before = server.requests.length;
  // 200 KB pending would normally go at once; hide before the timer fires.
  uploader.flushHidden();
  assert.equal(
    server.requests.length,
    before + 1,
    "first piece issued synchronously",
  );
  await clock.advance(0);
  const pieces = server.requests.slice(before);
  assert.ok(pieces.length >= 4);
  for (const p of pieces) {
    assert.equal(p.keepalive, true);
    assert.equal(p.headers["content-type"], "text/plain;charset=UTF-8");
    assert.equal((p.json as { token?: string }).token, "t1", "the token rides in the body");
    assert.equal(p.query.get("token"), null);
    assert.ok(new TextEncoder().encode(p.body).length <= KEEPALIVE_MAX_BODY);
  }
  assert.deepEqual(pieces.map((p) => p.json.seq), pieces.map((_, i) => i + 1));
  assert.equal(pieces.flatMap(eventsOf).length, 200);
  assert.equal(buffer.isEmpty, true);
});

Deno.test("flushHidden leaves failed pieces for the regular path", async () => {
  const { clock, server, uploader, push } = setup();
  uploader.connect();
  await clock.advance(0);
  server.down = true;
  push(3);
  uploader.flushHidden();
  await clock.advance(0);
  assert.equal(
    server.batches.filter((r) => r.keepalive).length,
    1,
    "stops after the first failure",
  );
  server.down = false;
  await clock.advance(5000);
  const regular = server.batches.filter((r) => !r.keepalive && eventsOf(r).length > 0);
  assert.ok(regular.length >= 1);
  assert.ok(
    regular.every((r) => r.json.seq === 0),
    "same seq as the failed keepalive piece",
  );
  assert.equal(eventsOf(regular.at(-1)!).length, 3);
});

Deno.test("close flushes the rest, then sends stop with the next seq", async () => {
  const { clock, server, uploader, push } = setup();
  uploader.connect();
  await clock.advance(0);
  push(1);
  await clock.advance(0);
  push(2);
  await uploader.close({ flush: true, sendStop: true });
  const last = server.requests.at(-1)!;
  assert.equal(last.path, "/api/sessions/s1/stop");
  assert.deepEqual(last.json, { writerId: "w1", seq: 2, reason: "stop" });
  assert.deepEqual(server.batches.map((r) => r.json.seq), [0, 1]);
  const count = server.requests.length;
  await clock.advance(60_000);
  assert.equal(server.requests.length, count, "nothing after close");
});

/** Runs `closing` to its end, advancing the fake clock through its retry waits. */
async function finish(clock: FakeClock, closing: Promise<void>): Promise<void> {
  let done = false;
  closing.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 100 && !done; i++) await clock.advance(500);
  await closing;
}

Deno.test("close sends again a batch the server could not take for now, and then delivers it", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  let refused = 0;
  server.handlers.push((req) =>
    req.path.endsWith("/events") && refused++ < CLOSE_RETRIES
      ? reply.json(refused === 1 ? 429 : 503, {}, { "Retry-After": "600" })
      : undefined
  );
  push(3);
  const started = clock.now();
  await finish(clock, uploader.close({ flush: true, sendStop: true }));
  const sent = server.batches.filter((r) => eventsOf(r).length > 0);
  assert.equal(sent.length, CLOSE_RETRIES + 1, "the refused tries, then the one taken");
  assert.ok(sent.every((r) => r.json.seq === 0), "the same batch each time");
  assert.equal(server.requests.at(-1)!.path, "/api/sessions/s1/stop", "the stop comes after it");
  assert.deepEqual(log.warnings, [], "nothing was lost");
  const waited = clock.now() - started;
  assert.ok(waited <= CLOSE_RETRIES * 2000, `a long Retry-After did not hold the stop (${waited} ms)`);
});

Deno.test("close says how many events it could not deliver when the server keeps refusing them", async () => {
  const { clock, server, uploader, push, log } = setup();
  uploader.connect();
  await clock.advance(0);
  server.handlers.push((req) => req.path.endsWith("/events") ? reply.json(503, {}) : undefined);
  push(4);
  await finish(clock, uploader.close({ flush: true, sendStop: true }));
  assert.equal(server.batches.length, CLOSE_RETRIES + 1);
  assert.deepEqual(log.warnings, ["replaya: 4 events were not delivered: the server did not take them"]);
  assert.equal(server.requests.at(-1)!.path, "/api/sessions/s1/stop", "the session still ends");
});
