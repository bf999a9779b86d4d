import assert from "node:assert/strict";
import { EventBuffer, toEntry } from "../../recorder/src/buffer.ts";
import type { RrwebEvent } from "../../recorder/src/wire.ts";
import type { WireEvent } from "./_helpers.ts";

const meta = (t: number): RrwebEvent => ({
  type: 4,
  timestamp: t,
  data: { href: "https://a.com/", width: 1, height: 1 },
});
const full = (t: number, pad = 200): RrwebEvent => ({
  type: 2,
  timestamp: t,
  data: { node: "x".repeat(pad) },
});
const inc = (t: number, pad = 100): RrwebEvent => ({
  type: 3,
  timestamp: t,
  data: { source: 1, p: "y".repeat(pad) },
});

type Gap = { droppedEvents: number; droppedBytes: number };
const gapOf = (e: WireEvent): Gap => e.data?.payload as Gap;

function all(buf: EventBuffer): WireEvent[] {
  const out: WireEvent[] = [];
  for (const b of buf.batches) {
    for (const e of b.entries) out.push(JSON.parse(e.json));
  }
  // Pending entries are reachable by sealing everything.
  for (let b = buf.seal(Infinity); b; b = buf.seal(Infinity)) {
    for (const e of b.entries) out.push(JSON.parse(e.json));
  }
  return out;
}

Deno.test("entries record UTF-8 JSON size", () => {
  const e = toEntry({ type: 3, timestamp: 1, data: "é€😀" });
  assert.equal(e.size, new TextEncoder().encode(e.json).length);
  assert.equal(e.type, 3);
  assert.equal(e.timestamp, 1);
});

Deno.test("push keeps everything while under the bound", () => {
  const buf = new EventBuffer(10_000);
  buf.push(meta(1));
  buf.push(full(2));
  for (let i = 0; i < 5; i++) buf.push(inc(10 + i));
  assert.equal(buf.pendingCount, 7);
  assert.equal(buf.totalBytes, buf.pendingBytes);
  assert.equal(buf.takeDropped(), false);
});

Deno.test("over the bound, the oldest incrementals become one gap marker", () => {
  const one = toEntry(inc(100)).size; // same digit count as the pushed timestamps
  const buf = new EventBuffer(one * 6);
  for (let i = 0; i < 10; i++) buf.push(inc(100 + i));
  assert.ok(
    buf.totalBytes <= buf.maxBytes,
    `total ${buf.totalBytes} <= ${buf.maxBytes}`,
  );
  assert.equal(buf.takeDropped(), true);
  assert.equal(buf.takeDropped(), false, "flag resets once read");
  const events = all(buf);
  assert.equal(events[0].type, 5);
  assert.equal(events[0].data?.tag, "replaya.gap");
  assert.equal(
    events[0].timestamp,
    100,
    "gap sits where the first dropped event was",
  );
  const kept = events.slice(1);
  assert.ok(kept.every((e) => e.type === 3));
  assert.equal(gapOf(events[0]).droppedEvents + kept.length, 10);
  assert.equal(
    gapOf(events[0]).droppedBytes,
    gapOf(events[0]).droppedEvents * one,
  );
  // The newest events are the ones kept, in order.
  assert.deepEqual(
    kept.map((e) => e.timestamp),
    [...Array(kept.length)].map((_, i) => 110 - kept.length + i),
  );
});

Deno.test("the latest full snapshot and its meta event are never dropped", () => {
  const buf = new EventBuffer(1500);
  buf.push(meta(1));
  buf.push(full(2, 300));
  for (let i = 0; i < 40; i++) buf.push(inc(10 + i));
  buf.push(meta(100));
  buf.push(full(101, 600));
  for (let i = 0; i < 40; i++) buf.push(inc(200 + i));
  const events = all(buf);
  const latestFull = events.find((e) => e.type === 2 && e.timestamp === 101);
  const latestMeta = events.find((e) => e.type === 4 && e.timestamp === 100);
  assert.ok(latestFull, "latest full snapshot kept");
  assert.ok(latestMeta, "its meta kept");
  assert.ok(events.indexOf(latestMeta!) < events.indexOf(latestFull!));
  assert.equal(
    events.find((e) => e.type === 2 && e.timestamp === 2),
    undefined,
    "older snapshot may go",
  );
  const gaps = events.filter((e) => e.data?.tag === "replaya.gap");
  assert.ok(gaps.length >= 1);
  const dropped = gaps.reduce((n, g) => n + gapOf(g).droppedEvents, 0);
  assert.equal(
    dropped + events.length - gaps.length,
    84,
    "every event is either kept or counted",
  );
});

Deno.test("a bound smaller than the snapshot keeps the snapshot anyway", () => {
  const buf = new EventBuffer(100);
  buf.push(meta(1));
  buf.push(full(2, 1000));
  buf.push(inc(3));
  const events = all(buf);
  assert.deepEqual(events.map((e) => e.type), [4, 2, 5]);
  assert.equal(gapOf(events[2]).droppedEvents, 1);
});

Deno.test("seal batches by size, numbers them, and an oversized event goes alone", () => {
  const buf = new EventBuffer(1e9);
  const size = toEntry(inc(0)).size;
  for (let i = 0; i < 10; i++) buf.push(inc(i));
  buf.push(inc(99, 5000));
  buf.push(inc(100));
  const a = buf.seal((size + 1) * 4)!;
  const b = buf.seal((size + 1) * 4)!;
  const c = buf.seal((size + 1) * 4)!;
  const d = buf.seal((size + 1) * 4)!;
  assert.deepEqual([a.seq, b.seq, c.seq, d.seq], [0, 1, 2, 3]);
  assert.equal(a.entries.length, 4);
  assert.equal(b.entries.length, 4);
  assert.equal(c.entries.length, 2, "stops before the big event");
  assert.equal(d.entries.length, 1, "the big event alone");
  assert.equal(d.bytes, toEntry(inc(99, 5000)).size);
  assert.equal(buf.pendingCount, 1);
  assert.equal(buf.nextSeq, 4);
  assert.equal(buf.seal(Infinity)!.seq, 4);
  assert.equal(buf.seal(Infinity), undefined, "nothing left");
});

Deno.test("next() returns the unacknowledged batch again before sealing a new one", () => {
  const buf = new EventBuffer(1e9);
  buf.push(inc(1));
  const first = buf.next(1e6)!;
  buf.push(inc(2));
  assert.equal(buf.next(1e6), first, "retry keeps its seq");
  first.inFlight = true;
  const second = buf.next(1e6)!;
  assert.equal(second.seq, 1);
  buf.remove(first);
  buf.remove(second);
  assert.equal(buf.isEmpty, true);
  assert.equal(buf.totalBytes, 0);
  const hb = buf.sealEmpty();
  assert.equal(hb.seq, 2, "heartbeats take a seq too");
  assert.deepEqual(hb.entries, []);
});

Deno.test("trimming skips in-flight batches and reaches into unsent ones", () => {
  const size = toEntry(inc(0)).size;
  const buf = new EventBuffer(size * 8);
  for (let i = 0; i < 4; i++) buf.push(inc(i));
  const flying = buf.seal(Infinity)!;
  flying.inFlight = true;
  for (let i = 4; i < 8; i++) buf.push(inc(i));
  const unsent = buf.seal(Infinity)!;
  for (let i = 8; i < 12; i++) buf.push(inc(i));
  assert.equal(flying.entries.length, 4, "in-flight body untouched");
  assert.equal(
    unsent.entries[0].gap?.droppedEvents !== undefined,
    true,
    "oldest unsent became a gap",
  );
  assert.equal(unsent.seq, 1, "seq unchanged");
  assert.equal(unsent.bytes, unsent.entries.reduce((n, e) => n + e.size, 0));
});

Deno.test("clear(true) restarts seq for a new session", () => {
  const buf = new EventBuffer(1e9);
  buf.push(inc(1));
  buf.seal(Infinity);
  buf.push(inc(2));
  buf.clear(true);
  assert.equal(buf.isEmpty, true);
  assert.equal(buf.pendingBytes, 0);
  assert.equal(buf.nextSeq, 0);
});
