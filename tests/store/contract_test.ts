/**
 * The stream-store contract: the same tests, unchanged, against a real SQLite
 * file and a real s2-lite process.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import {
  AlreadyExistsError,
  FencingMismatchError,
  InvalidError,
  MAX_BATCH_BYTES,
  NotFoundError,
  readAll,
  SeqMismatchError,
  type StoredRecord,
  type StreamStore,
  TooLargeError,
} from "../../lib/store/mod.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const rec = (body: string, timestamp = Date.now(), headers?: [string, string][]) => ({
  body: utf8.encode(body),
  timestamp,
  headers,
});
const bodies = (records: StoredRecord[]) => records.map((r) => text.decode(r.body));

async function readAllOf(store: StreamStore, stream: string): Promise<StoredRecord[]> {
  return await Array.fromAsync(readAll(store, stream));
}

/** Collects `n` records from a follower, or fails after `ms`. */
async function take(iter: AsyncIterator<StoredRecord>, n: number, ms = 10_000): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  const { promise: timedOut, resolve } = Promise.withResolvers<"timeout">();
  const timer = setTimeout(() => resolve("timeout"), ms);
  try {
    while (out.length < n) {
      const next = await Promise.race([iter.next(), timedOut]);
      if (next === "timeout") throw new Error(`follower delivered ${out.length} of ${n} records in ${ms} ms`);
      if (next.done) throw new Error(`follower ended after ${out.length} of ${n} records`);
      out.push(next.value);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/** `promise`, or a rejection naming `what` after `ms`; leaves no timer behind. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

storeTest("appends get consecutive seq numbers from 0 and read back in order", async ({ store, prefix }) => {
  const s = `${prefix}order`;
  const a = await store.append(s, [rec("a"), rec("b", Date.now(), [["kind", "events"], ["w", "1"]])]);
  assert.equal(a.start.seqNum, 0);
  assert.equal(a.end.seqNum, 2);
  assert.equal(a.tail.seqNum, 2);
  const b = await store.append(s, [rec("c")]);
  assert.deepEqual([b.start.seqNum, b.end.seqNum], [2, 3]);
  const { records } = await store.read(s);
  assert.deepEqual(bodies(records), ["a", "b", "c"]);
  assert.deepEqual(records.map((r) => r.seqNum), [0, 1, 2]);
  assert.deepEqual(records[1].headers, [["kind", "events"], ["w", "1"]]);
  assert.deepEqual(records[0].headers, []);
  assert.equal((await store.checkTail(s)).seqNum, 3);
});

storeTest("binary bodies survive byte for byte", async ({ store, prefix }) => {
  const s = `${prefix}binary`;
  const body = new Uint8Array(4096).map((_, i) => (i * 31) & 0xff);
  await store.append(s, [{ body, timestamp: Date.now() }]);
  const { records } = await store.read(s);
  assert.deepEqual(records[0].body, body);
});

storeTest("timestamps never decrease and are capped at arrival", async ({ store, prefix }) => {
  const s = `${prefix}time`;
  const base = Date.now() - 60_000;
  await store.append(s, [rec("a", base + 1000), rec("b", base), rec("c", base + 2000)]);
  await store.append(s, [rec("d", base + 500)]);
  const future = Date.now() + 3_600_000;
  await store.append(s, [rec("e", future)]);
  const { records } = await store.read(s);
  assert.deepEqual(records.slice(0, 4).map((r) => r.timestamp), [base + 1000, base + 1000, base + 2000, base + 2000]);
  assert.ok(records[4].timestamp < future, "a future timestamp is capped at arrival");
  assert.ok(records[4].timestamp >= base + 2000);
  const tail = await store.checkTail(s);
  assert.equal(tail.timestamp, records[4].timestamp, "the tail carries the last record's timestamp");
});

storeTest("a record without a valid timestamp is rejected and nothing is written", async ({ store, prefix }) => {
  const s = `${prefix}nots`;
  await store.append(s, [rec("ok")]);
  await assert.rejects(store.append(s, [rec("x", Number.NaN)]), InvalidError);
  assert.equal((await store.checkTail(s)).seqNum, 1);
});

storeTest("fencing: after a stopped fence, an append fenced on active is rejected", async ({ store, prefix }) => {
  const s = `${prefix}fence`;
  await store.append(s, [{ fence: "active" }, rec("meta")], { matchSeqNum: 0 });
  await store.append(s, [rec("e1")], { fencingToken: "active" });
  await assert.rejects(store.append(s, [rec("wrong")], { fencingToken: "other" }), FencingMismatchError);
  await store.append(s, [{ fence: "stopped" }, rec("final")], { fencingToken: "active" });
  const before = await store.checkTail(s);
  const error = await store.append(s, [rec("late")], { fencingToken: "active" }).then(
    () => assert.fail("late append succeeded"),
    (e) => e,
  );
  assert.ok(error instanceof FencingMismatchError);
  assert.equal(error.expected, "stopped");
  assert.equal(error.code, "fencing_mismatch");
  assert.deepEqual(await store.checkTail(s), before, "nothing was written");
  const { records } = await store.read(s);
  assert.deepEqual(bodies(records), ["meta", "e1", "final"], "fence command records are skipped by reads");
  assert.deepEqual(records.map((r) => r.seqNum), [1, 2, 4]);
});

storeTest("matchSeqNum conflicts are rejected with the expected seq and write nothing", async ({ store, prefix }) => {
  const s = `${prefix}match`;
  await store.append(s, [rec("a")], { matchSeqNum: 0 });
  const error = await store.append(s, [rec("b")], { matchSeqNum: 0 }).catch((e) => e);
  assert.ok(error instanceof SeqMismatchError);
  assert.equal(error.expected, 1);
  await store.append(s, [rec("b")], { matchSeqNum: 1 });
  assert.deepEqual(bodies((await store.read(s)).records), ["a", "b"]);
});

storeTest("record and batch size limits", async ({ store, prefix }) => {
  const s = `${prefix}limits`;
  const max = MAX_BATCH_BYTES - 8;
  const ack = await store.append(s, [{ body: new Uint8Array(max), timestamp: Date.now() }]);
  assert.equal(ack.end.seqNum, 1, "a record of exactly 1 MiB metered is accepted");
  await assert.rejects(store.append(s, [{ body: new Uint8Array(max + 1), timestamp: Date.now() }]), TooLargeError);
  const many = Array.from({ length: 1001 }, () => rec("x"));
  await assert.rejects(store.append(s, many), TooLargeError);
  const half = new Uint8Array(MAX_BATCH_BYTES / 2);
  await assert.rejects(
    store.append(s, [{ body: half, timestamp: Date.now() }, { body: half, timestamp: Date.now() }]),
    TooLargeError,
  );
  await assert.rejects(store.append(s, [{ fence: "x".repeat(37) }]), InvalidError);
  await assert.rejects(store.append(s, []), InvalidError);
  assert.equal((await store.checkTail(s)).seqNum, 1, "rejected batches wrote nothing");
  const thousand = await store.append(s, Array.from({ length: 1000 }, (_, i) => rec(`r${i}`)));
  assert.equal(thousand.end.seqNum - thousand.start.seqNum, 1000);
});

storeTest("reads by timestamp, tail offset, count and bytes", async ({ store, prefix }) => {
  const s = `${prefix}reads`;
  const t0 = Date.now() - 10_000;
  await store.append(s, Array.from({ length: 10 }, (_, i) => rec(`r${i}`, t0 + i * 100)));
  assert.deepEqual(bodies((await store.read(s, { from: { timestamp: t0 + 450 } })).records).slice(0, 2), ["r5", "r6"]);
  assert.deepEqual(bodies((await store.read(s, { from: { tailOffset: 3 } })).records), ["r7", "r8", "r9"]);
  assert.deepEqual(bodies((await store.read(s, { from: { tailOffset: 50 } })).records).length, 10);
  const limited = await store.read(s, { from: { seqNum: 2 }, count: 3 });
  assert.deepEqual(bodies(limited.records), ["r2", "r3", "r4"]);
  assert.equal(limited.next, 5);
  const byBytes = await store.read(s, { bytes: 2 * (8 + 2) });
  assert.deepEqual(bodies(byBytes.records), ["r0", "r1"]);
  const atTail = await store.read(s, { from: { seqNum: 10 } });
  assert.deepEqual(atTail.records, []);
  assert.equal(atTail.next, 10);
  const pastTime = await store.read(s, { from: { timestamp: Date.now() + 1000 } });
  assert.deepEqual(pastTime.records, []);
});

storeTest("reads, tails and follows of a missing stream fail with NotFoundError", async ({ store, prefix }) => {
  const s = `${prefix}missing`;
  await assert.rejects(store.read(s), NotFoundError);
  await assert.rejects(store.checkTail(s), NotFoundError);
  await assert.rejects(store.follow(s)[Symbol.asyncIterator]().next(), NotFoundError);
});

storeTest("createStream: explicit config, and a second create is AlreadyExistsError", async ({ store, prefix }) => {
  const s = `${prefix}created`;
  await store.createStream(s, { retentionAgeSecs: 3600, deleteOnEmptyMinAgeSecs: 60 });
  assert.equal((await store.checkTail(s)).seqNum, 0);
  assert.deepEqual((await store.read(s)).records, []);
  await assert.rejects(store.createStream(s), AlreadyExistsError);
  await assert.rejects(store.createStream(""), InvalidError);
});

storeTest("stream config: explicit on create, the store default on auto-create", async ({ store, prefix }) => {
  await store.createStream(`${prefix}explicit`, { retentionAgeSecs: 3600, deleteOnEmptyMinAgeSecs: 60 });
  assert.deepEqual(await store.getStreamConfig(`${prefix}explicit`), {
    retentionAgeSecs: 3600,
    deleteOnEmptyMinAgeSecs: 60,
  });
  await store.append(`${prefix}auto`, [rec("x")]);
  assert.deepEqual(await store.getStreamConfig(`${prefix}auto`), {
    retentionAgeSecs: 7 * 86_400,
    deleteOnEmptyMinAgeSecs: 3_600,
  });
  await assert.rejects(store.getStreamConfig(`${prefix}none`), NotFoundError);
}, { defaultStreamConfig: { retentionAgeSecs: 7 * 86_400, deleteOnEmptyMinAgeSecs: 3_600 } });

// s2-lite 0.43.4 enforces retention lazily (a 1 s record was still readable 25 s later) and its clock cannot be
// moved, so read-visibility of expiry is asserted on SQLite, whose clock the test moves.
storeTest("retention: records older than the stream's retention age are no longer read", async (under) => {
  const { store, prefix } = under;
  const s = `${prefix}retention`;
  await store.createStream(s, { retentionAgeSecs: 1 });
  await store.append(s, [rec("old")]);
  assert.equal((await store.read(s)).records.length, 1);
  under.advanceClock!(1_500);
  assert.deepEqual((await store.read(s)).records, [], "expired records are invisible before any sweep");
  assert.equal((await store.checkTail(s)).seqNum, 1, "expiry does not move the tail");
  await store.append(s, [rec("new")]);
  assert.deepEqual(bodies((await store.read(s)).records), ["new"], "records within the retention age are read");
}, { only: "sqlite", movableClock: true });

storeTest("listing: lexicographic order and paging across more than 1,000 streams", async ({ store, prefix }) => {
  const names = Array.from({ length: 1105 }, (_, i) => `${prefix}s/${String(i).padStart(5, "0")}`);
  const queue = [...names].reverse(); // created out of order on purpose
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let name = queue.pop(); name; name = queue.pop()) await store.append(name, [rec("x")]);
  }));
  await store.append(`${prefix}t`, [rec("outside the prefix")]);
  const first = await store.listStreams({ prefix: `${prefix}s/` });
  assert.equal(first.names.length, 1000);
  assert.equal(first.hasMore, true);
  const second = await store.listStreams({ prefix: `${prefix}s/`, startAfter: first.names.at(-1) });
  assert.equal(second.hasMore, false);
  assert.deepEqual([...first.names, ...second.names], names);
  const page = await store.listStreams({ prefix: `${prefix}s/`, startAfter: names[9], limit: 3 });
  assert.deepEqual(page, { names: names.slice(10, 13), hasMore: true });
});

storeTest("listing is byte-wise: uppercase before lowercase, ASCII before UTF-8", async ({ store, prefix }) => {
  const names = [`${prefix}b`, `${prefix}B`, `${prefix}é`, `${prefix}a-2`, `${prefix}a`, `${prefix}a/1`];
  for (const name of names) await store.append(name, [rec("x")]);
  const { names: listed } = await store.listStreams({ prefix });
  assert.deepEqual(listed, [`${prefix}B`, `${prefix}a`, `${prefix}a-2`, `${prefix}a/1`, `${prefix}b`, `${prefix}é`]);
});

storeTest("follow: replays history, then delivers live appends, and reports catching up", async ({ store, prefix }) => {
  const s = `${prefix}follow`;
  await store.append(s, [rec("h0"), rec("h1")]);
  const abort = new AbortController();
  const caughtUp: number[] = [];
  const iter = store.follow(s, { signal: abort.signal, onCaughtUp: (t) => caughtUp.push(t) })[Symbol.asyncIterator]();
  assert.deepEqual(bodies(await take(iter, 2)), ["h0", "h1"]);
  const pending = take(iter, 3);
  await store.append(s, [{ fence: "active" }, rec("l0")]);
  await store.append(s, [rec("l1"), rec("l2")]);
  const live = await pending;
  assert.deepEqual(bodies(live), ["l0", "l1", "l2"]);
  assert.deepEqual(live.map((r) => r.seqNum), [3, 4, 5]);
  assert.ok(caughtUp.length > 0 && caughtUp[0] >= 2, `caught up at ${caughtUp}`);
  abort.abort();
  assert.equal((await iter.next()).done, true, "an aborted follower ends without error");
});

storeTest("follow from a seq number and cancel while idle", async ({ store, prefix }) => {
  const s = `${prefix}followfrom`;
  await store.append(s, [rec("a"), rec("b"), rec("c")]);
  const abort = new AbortController();
  const caughtUp = Promise.withResolvers<void>();
  const iter = store.follow(s, { from: 2, signal: abort.signal, onCaughtUp: () => caughtUp.resolve() })
    [Symbol.asyncIterator]();
  assert.deepEqual(bodies(await take(iter, 1)), ["c"]);
  const idle = iter.next();
  await within(caughtUp.promise, 10_000, "the follower never caught up");
  abort.abort();
  assert.equal(
    (await within(idle, 10_000, "the follower did not end")).done,
    true,
    "cancelling an idle follower ends it",
  );
});

storeTest("follow aborted while it opens ends instead of waiting for a record", async ({ store, prefix }) => {
  const s = `${prefix}abortopen`;
  await store.append(s, [rec("a")]);
  for (let round = 0; round < 5; round++) {
    const abort = new AbortController();
    const iter = store.follow(s, { from: 1, signal: abort.signal })[Symbol.asyncIterator]();
    const first = iter.next();
    abort.abort(); // before the read session is open
    assert.equal((await first).done, true, `round ${round}`);
  }
});

storeTest("many follows aborted at every stage all end", async ({ store, prefix }) => {
  const s = `${prefix}abortmany`;
  await store.append(s, [rec("a"), rec("b")]);
  const ended = Array.from({ length: 40 }, async (_, i) => {
    const abort = new AbortController();
    const delivered = Promise.withResolvers<void>();
    const caughtUp = Promise.withResolvers<void>();
    const onCaughtUp = () => {
      caughtUp.resolve();
      delivered.resolve(); // nothing to replay from the tail
    };
    const iter = store.follow(s, { from: i % 3, signal: abort.signal, onCaughtUp })[Symbol.asyncIterator]();
    const read = (async () => {
      for (let next = await iter.next(); !next.done; next = await iter.next()) delivered.resolve();
    })();
    // Aborted before opening, while opening (one macrotask in), while replaying, and once idle at the tail.
    const stage = i % 4;
    if (stage === 1) await new Promise((r) => setTimeout(r, 0));
    if (stage === 2) await delivered.promise;
    if (stage === 3) await caughtUp.promise;
    abort.abort();
    await read;
  });
  await within(Promise.all(ended), 20_000, "some follows never ended");
});

storeTest(
  "follow resumes by itself after the server drops the connection",
  async ({ store, prefix, dropConnections }) => {
    const s = `${prefix}resume`;
    await store.append(s, [rec("before")]);
    const abort = new AbortController();
    const caughtUp = Promise.withResolvers<void>();
    const iter = store.follow(s, { signal: abort.signal, onCaughtUp: () => caughtUp.resolve() })
      [Symbol.asyncIterator]();
    try {
      assert.deepEqual(bodies(await take(iter, 1)), ["before"]);
      await within(caughtUp.promise, 10_000, "the follower never caught up");
      // Idle at the tail: its read session is open, and is cut.
      const pending = take(iter, 1, 20_000);
      assert.ok(dropConnections!() > 0, "there was a connection to drop");
      await store.append(s, [rec("after-1")]);
      assert.deepEqual(bodies(await pending), ["after-1"], "resumed after the first drop");
      // It delivered through its reopened session: cut that one too.
      const rest = take(iter, 2, 20_000);
      assert.ok(dropConnections!() > 0, "there was a connection to drop");
      await store.append(s, [rec("after-2"), rec("after-3")]);
      assert.deepEqual(bodies(await rest), ["after-2", "after-3"], "nothing lost, nothing twice");
    } finally {
      abort.abort();
      await iter.return?.();
    }
  },
  { droppable: true, only: "s2-lite" },
);

storeTest("concurrent writers to different streams keep each stream ordered", async ({ store, prefix }) => {
  const streams = Array.from({ length: 20 }, (_, i) => `${prefix}w${i}`);
  await Promise.all(streams.map(async (s) => {
    for (let batch = 0; batch < 10; batch++) {
      const ack = await store.append(s, [rec(`${s}:${batch}:0`), rec(`${s}:${batch}:1`)]);
      assert.equal(ack.start.seqNum, batch * 2);
    }
  }));
  for (const s of streams) {
    const all = await readAllOf(store, s);
    assert.deepEqual(bodies(all), Array.from({ length: 20 }, (_, i) => `${s}:${i >> 1}:${i & 1}`));
  }
});

storeTest("concurrent appends to one stream all land exactly once", async ({ store, prefix }) => {
  const s = `${prefix}one`;
  const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(s, [rec(`r${i}`)])));
  assert.deepEqual(acks.map((a) => a.start.seqNum).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal((await readAllOf(store, s)).length, 50);
});

storeTest(
  "delete: the stream disappears from reads and listings; deleting twice is fine",
  async ({ store, prefix }) => {
    const s = `${prefix}del`;
    await store.append(s, [rec("x")]);
    await store.append(`${prefix}keep`, [rec("y")]);
    await store.deleteStream(s);
    await assert.rejects(store.read(s), NotFoundError);
    assert.deepEqual((await store.listStreams({ prefix })).names, [`${prefix}keep`]);
    await store.deleteStream(s);
    await store.deleteStream(`${prefix}never`);
  },
);

storeTest("concurrent first appends race to create the same streams and all land", async ({ store, prefix }) => {
  const streams = Array.from({ length: 4 }, (_, i) => `${prefix}race${i}`);
  await Promise.all(streams.flatMap((s) => Array.from({ length: 24 }, (_, i) => store.append(s, [rec(`r${i}`)]))));
  for (const s of streams) assert.equal((await readAllOf(store, s)).length, 24);
});
