import assert from "node:assert/strict";
import { batchStatsOf, encodeEvents, metaRecord, SessionDecoder, stopRecord } from "../../lib/sessions/codec.ts";
import type { RecordInput, StoredRecord } from "../../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

let seq = 0;
const stored = (r: RecordInput): StoredRecord => ({
  seqNum: seq++,
  timestamp: r.timestamp,
  headers: r.headers ?? [],
  body: r.body,
});
const events = (n: number, tag: string): RrwebEvent[] =>
  Array.from(
    { length: n },
    (_, i) => ({ type: 3, timestamp: 1000 + i, data: { tag: `${tag}${i}`, pad: "x".repeat(50) } }),
  );

async function decode(records: RecordInput[]) {
  const decoder = new SessionDecoder();
  const items = [];
  for (const r of records) items.push(...await decoder.push(stored(r)));
  return { items, decoder };
}

Deno.test("codec: a batch that fits is one record with writer, batch and stats headers", async () => {
  const [record, ...rest] = await encodeEvents({ writerId: "w1", batch: 7, events: events(3, "a") });
  assert.equal(rest.length, 0);
  const headers = new Map(record.headers);
  assert.equal(headers.get("k"), "events");
  assert.equal(headers.get("w"), "w1");
  assert.equal(headers.get("b"), "7");
  assert.equal(headers.has("f"), false);
  assert.deepEqual(batchStatsOf(stored(record)), { n: 3, c: 0, p: 0, e: 0, d: 0, t0: 1000, t1: 1002, u: undefined });
  assert.equal(record.timestamp, 1000);
});

Deno.test("codec: framing splits a batch across records and the decoder reassembles it", async () => {
  const big = events(400, "f");
  const records = await encodeEvents({ writerId: "w1", batch: 0, events: big, maxBody: 500 });
  assert.ok(records.length > 2, `framed into ${records.length}`);
  assert.deepEqual(new Map(records[1].headers).get("f"), `1/${records.length}`);
  const { items } = await decode(records);
  assert.equal(items.length, 1);
  assert.deepEqual(items[0].kind === "events" && items[0].events, big);
});

Deno.test("codec: a truncated frame is dropped, and the retry that follows is kept", async () => {
  const records = await encodeEvents({ writerId: "w1", batch: 3, events: events(400, "t"), maxBody: 500 });
  const truncated = records.slice(0, -1);
  const { items, decoder } = await decode([...truncated, ...records]);
  assert.equal(items.length, 1);
  assert.equal(decoder.truncated, 1);
  const orphan = await decode(records.slice(1));
  assert.equal(orphan.items.length, 0, "a frame without its head is dropped");
});

Deno.test("codec: duplicates of (writer, batch) are dropped; other writers interleave safely", async () => {
  const a0 = await encodeEvents({ writerId: "a", batch: 0, events: events(2, "a") });
  const b0 = await encodeEvents({ writerId: "b", batch: 0, events: events(2, "b") });
  const a1 = await encodeEvents({ writerId: "a", batch: 1, events: events(1, "c") });
  const { items, decoder } = await decode([...a0, ...b0, ...a0, ...a1, ...a0, ...b0]);
  assert.deepEqual(items.map((i) => i.kind === "events" ? `${i.writerId}:${i.batch}` : i.kind), ["a:0", "b:0", "a:1"]);
  assert.equal(decoder.duplicates, 3);
});

Deno.test("codec: meta and stop records round-trip", async () => {
  const meta = { id: "x", createdAt: 5, url: "https://a.example/" };
  const { items } = await decode([metaRecord(meta), stopRecord({ stoppedAt: 9, reason: "lease_expired" })]);
  assert.deepEqual(items.map((i) => i.kind), ["meta", "stop"]);
  assert.deepEqual(items[0].kind === "meta" && items[0].meta, meta);
});
