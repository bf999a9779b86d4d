import assert from "node:assert/strict";
import { FakeSource } from "./_fake_source.ts";
import { openSessionStream, SeqGate, sessionStreamUrl, type StreamHandlers } from "../../islands/player/stream.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { click, meta } from "./_events.ts";

function harness() {
  const sources: FakeSource[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const log: string[] = [];
  const batches: Array<{ seq: number; events: RrwebEvent[] }> = [];
  const handlers: StreamHandlers = {
    onMeta: (m, seq) => log.push(`meta ${m.id} #${seq}`),
    onEvents: (events, seq) => {
      batches.push({ seq, events });
      log.push(`events #${seq} (${events.length})`);
    },
    onLive: (tail) => log.push(`live ${tail}`),
    onStop: (stop, seq) => log.push(`stop ${stop.reason} #${seq}`),
    onConnection: (state) => log.push(state),
    onEnd: () => log.push("end"),
  };
  const handle = openSessionStream("", "01SESSION", handlers, {
    create: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { sources, timers, log, batches, handle, source: () => sources[sources.length - 1] };
}

Deno.test("stream url: same origin by default, session id encoded, from= to resume", () => {
  assert.equal(sessionStreamUrl("", "abc"), "/api/sessions/abc/live");
  assert.equal(sessionStreamUrl("https://r.example/", "a/b"), "https://r.example/api/sessions/a%2Fb/live");
  assert.equal(sessionStreamUrl("", "abc", 41), "/api/sessions/abc/live?from=41");
});

Deno.test("SeqGate: each id once, in increasing order; records without an id pass", () => {
  const gate = new SeqGate();
  assert.ok(gate.accept("0"));
  assert.ok(gate.accept("1"));
  assert.ok(!gate.accept("1"));
  assert.ok(!gate.accept("0"));
  assert.ok(gate.accept("5"));
  assert.ok(!gate.accept("3"), "an older record after a reconnect is a duplicate");
  assert.ok(gate.accept(""));
  assert.ok(gate.accept(undefined));
  assert.equal(gate.last, 5);
});

Deno.test("stream: meta, batches, live and stop reach the handlers; stop closes the EventSource", () => {
  const h = harness();
  const es = h.source();
  assert.equal(es.url, "/api/sessions/01SESSION/live");
  es.open();
  es.emit("meta", { id: "01SESSION", createdAt: 1, url: "https://shop.example/" }, 0);
  es.emit("events", { events: [meta(0), click(10, 9)] }, 1);
  es.emit("live", { tail: 2 });
  es.emit("stop", { stoppedAt: 2, reason: "stop" }, 2);
  assert.deepEqual(h.log, ["open", "meta 01SESSION #0", "events #1 (2)", "live 2", "stop stop #2"]);
  assert.ok(es.closed, "closed on stop, so the browser does not reconnect");
  es.emit("events", { events: [click(20, 9)] }, 3);
  assert.equal(h.batches.length, 1, "nothing is delivered after stop");
});

Deno.test("stream: after EventSource reconnects by itself, replayed batches are dropped by id", () => {
  const h = harness();
  const es = h.source();
  es.open();
  es.emit("events", { events: [meta(0)] }, 1);
  es.emit("events", { events: [click(10, 9)] }, 2);
  es.fail(0);
  es.open();
  // A server that resumes one record early (or a `from=` that includes the last one).
  es.emit("events", { events: [click(10, 9)] }, 2);
  es.emit("events", { events: [click(20, 9)] }, 3);
  assert.deepEqual(h.batches.map((b) => b.seq), [1, 2, 3]);
  assert.ok(h.log.includes("reconnecting"));
  assert.equal(h.sources.length, 1, "EventSource's own retry, no new connection");
});

Deno.test("stream: when EventSource gives up, it is reopened from the last id after a backoff", () => {
  const h = harness();
  h.source().open();
  h.source().emit("events", { events: [meta(0)] }, 4);
  h.source().fail(2);
  assert.equal(h.timers.length, 1);
  assert.equal(h.timers[0].ms, 1000);
  h.timers[0].fn();
  assert.equal(h.sources.length, 2);
  assert.equal(h.source().url, "/api/sessions/01SESSION/live?from=4");
  h.source().open();
  h.source().emit("events", { events: [meta(0)] }, 4);
  h.source().emit("events", { events: [click(5, 9)] }, 5);
  assert.deepEqual(h.batches.map((b) => b.seq), [4, 5]);
});

Deno.test("stream: after the retries run out, the stream ends once", () => {
  const h = harness();
  for (let i = 0; i < 3; i++) {
    h.source().fail(2);
    h.timers[i].fn();
  }
  assert.deepEqual(h.timers.map((t) => t.ms), [1000, 2000, 4000]);
  h.source().fail(2);
  assert.equal(h.log.filter((line) => line === "end").length, 1);
  assert.equal(h.sources.length, 4);
});

Deno.test("stream: a server that reconnects, sends nothing new and hangs up has ended the session", () => {
  const h = harness();
  const es = h.source();
  es.open();
  es.emit("events", { events: [meta(0)] }, 1);
  es.fail(0); // history sent, connection closed without stop: EventSource retries
  assert.equal(h.log.at(-1), "reconnecting");
  es.open();
  es.fail(0); // nothing new on the retry
  assert.equal(h.log.at(-1), "end");
  assert.ok(es.closed);
});

Deno.test("stream: a live session announcing `live` on each connection keeps reconnecting", () => {
  const h = harness();
  const es = h.source();
  es.open();
  es.emit("live", { tail: 0 });
  es.fail(0);
  es.open();
  es.emit("live", { tail: 0 });
  es.fail(0);
  assert.ok(!h.log.includes("end"));
  assert.ok(!es.closed);
});

Deno.test("stream: malformed records are skipped, bad events filtered, close() stops everything", () => {
  const h = harness();
  const es = h.source();
  es.open();
  es.emit("events", { events: [meta(0), { type: "x" }, null, { type: 3 }] }, 1);
  es.emit("events", { notEvents: true }, 2);
  es.emit("meta", { nothing: true }, 3);
  assert.equal(h.batches.length, 1);
  assert.equal(h.batches[0].events.length, 1);
  assert.ok(!h.log.some((line) => line.startsWith("meta")));
  h.handle.close();
  assert.ok(es.closed);
  es.emit("events", { events: [click(1, 1)] }, 9);
  assert.equal(h.batches.length, 1);
});
