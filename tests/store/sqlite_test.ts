/**
 * Behaviour only the embedded backend has to prove on its own: durability
 * across reopen, the store-driven retention sweep (in steps, visiting only
 * streams that are due) and giving disk space back.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import { NotFoundError } from "../../lib/store/mod.ts";
import { storeTest } from "../support/backends.ts";

const rec = (body: string, timestamp: number) => ({ body: new TextEncoder().encode(body), timestamp });

Deno.test("sqlite: data, fences and seq numbers survive closing and reopening the file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/nested/replaya.db`;
  let store = SqliteStore.open({ path });
  await store.append("s", [{ fence: "active", timestamp: 900 }, rec("a", 1000)]);
  await store.close();
  store = SqliteStore.open({ path });
  const ack = await store.append("s", [rec("b", 500)], { fencingToken: "active" });
  assert.equal(ack.start.seqNum, 2);
  assert.equal(ack.start.timestamp, 1000, "never-decreasing timestamps survive a reopen");
  assert.deepEqual((await store.read("s")).records.map((r) => r.seqNum), [1, 2]);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sqlite: the sweep expires records and deletes empty streams after their minimum age", async () => {
  const dir = await Deno.makeTempDir();
  let now = 1_000_000;
  const store = SqliteStore.open({
    path: `${dir}/r.db`,
    now: () => now,
    defaultStreamConfig: { retentionAgeSecs: 60, deleteOnEmptyMinAgeSecs: 120 },
  });
  await store.append("short", [rec("x", now)]);
  await store.createStream("forever", { retentionAgeSecs: 10_000, deleteOnEmptyMinAgeSecs: 0 });
  await store.append("forever", [rec("y", now)]);
  now += 61_000;
  await store.sweep();
  assert.deepEqual((await store.read("short")).records, [], "expired");
  assert.equal((await store.checkTail("short")).seqNum, 1, "still exists: younger than its delete-on-empty age");
  now += 60_000;
  await store.sweep();
  await assert.rejects(store.checkTail("short"), NotFoundError);
  assert.equal((await store.read("forever")).records.length, 1, "other streams keep their own retention");
  assert.deepEqual((await store.listStreams()).names, ["forever"]);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sqlite: a follower is woken when its stream is deleted and then fails with NotFoundError", async () => {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open({ path: `${dir}/f.db` });
  await store.append("s", [rec("a", Date.now())]);
  const iter = store.follow("s")[Symbol.asyncIterator]();
  assert.equal((await iter.next()).done, false);
  const waiting = iter.next();
  await store.deleteStream("s");
  await assert.rejects(waiting, NotFoundError);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

/** The database file and its WAL, in bytes. */
function diskSize(path: string): number {
  const size = (p: string) => {
    try {
      return Deno.statSync(p).size;
    } catch {
      return 0;
    }
  };
  return size(path) + size(`${path}-wal`);
}

/** Runs `work` while a timer ticks; how often it ticked and the longest gap between ticks (the longest block). */
async function ticking(work: () => Promise<void>): Promise<{ ticks: number; longest: number }> {
  let ticks = 0;
  let longest = 0;
  let last = performance.now();
  let running = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
    if (running) timer = setTimeout(tick, 0);
  };
  timer = setTimeout(tick, 0);
  await work();
  running = false;
  clearTimeout(timer);
  return { ticks, longest: Math.max(longest, performance.now() - last) };
}

storeTest("sqlite: the file shrinks once retention has deleted everything, in steps that yield", async (t) => {
  const store = t.store as SqliteStore;
  const path = store.info.location;
  const body = new Uint8Array(3_000).map((_, i) => (i * 7919) % 251); // ~3 KB that does not compress
  for (let s = 0; s < 40; s++) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(`${t.prefix}s${s}`, [rec(`${i}`, 0)])));
    await store.append(`${t.prefix}s${s}`, Array.from({ length: 20 }, () => ({ body, timestamp: Date.now() })));
  }
  const full = diskSize(path);
  assert.ok(full > 2_400_000, `wrote ${full} bytes`);
  t.advanceClock!(2 * 3_600_000);
  const { ticks, longest } = await ticking(() => store.sweep());
  assert.deepEqual((await store.listStreams({ prefix: t.prefix })).names, [], "every stream expired and was deleted");
  const empty = diskSize(path);
  assert.ok(empty < full / 10, `the file gave space back: ${full} → ${empty} bytes`);
  assert.ok(ticks >= 2, `the sweep yielded to the event loop (${ticks} ticks)`);
  // Generous on a shared machine; the benchmark measures it (bench/list_bench.ts).
  assert.ok(longest < 250, `longest block ${longest.toFixed(1)} ms`);
}, {
  only: "sqlite",
  movableClock: true,
  defaultStreamConfig: { retentionAgeSecs: 3_600, deleteOnEmptyMinAgeSecs: 60 },
});

Deno.test("sqlite: a stream is swept again when its next record expires; records appended later are kept", async () => {
  const dir = await Deno.makeTempDir();
  let now = 1_000_000;
  const store = SqliteStore.open({
    path: `${dir}/d.db`,
    now: () => now,
    defaultStreamConfig: { retentionAgeSecs: 60, deleteOnEmptyMinAgeSecs: 30 },
  });
  await store.append("s", [rec("a", now)]);
  now += 50_000;
  await store.append("s", [rec("b", now)]);
  await store.sweep(); // not due: the stream is swept when "a" expires
  now += 10_001;
  await store.sweep();
  assert.deepEqual((await store.read("s")).records.map((r) => new TextDecoder().decode(r.body)), ["b"]);
  now += 50_000;
  await store.sweep();
  await assert.rejects(store.checkTail("s"), NotFoundError, "empty and past its delete-on-empty age");
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sqlite: a file from before incremental auto-vacuum is switched at open when small, else left as is", async () => {
  const dir = await Deno.makeTempDir();
  const make = (path: string) => {
    // The schema as it was: no auto-vacuum, no due_at.
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
        retention_ms INTEGER, delete_on_empty_ms INTEGER NOT NULL DEFAULT 0, fence TEXT NOT NULL DEFAULT '',
        next_seq INTEGER NOT NULL DEFAULT 0, last_ts INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE records (stream_id INTEGER NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
        arrived INTEGER NOT NULL, command INTEGER NOT NULL, headers TEXT, body BLOB NOT NULL,
        PRIMARY KEY (stream_id, seq));
      INSERT INTO streams (id, name, created_at, retention_ms, delete_on_empty_ms, next_seq, last_ts)
        VALUES (1, 'old', 1000, 60000, 60000, 1, 1000);
      INSERT INTO records VALUES (1, 0, 1000, 1000, 0, NULL, x'61');`);
    db.close();
  };
  const autoVacuum = (path: string) => {
    const db = new DatabaseSync(path);
    const { auto_vacuum: mode } = db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number };
    db.close();
    return mode;
  };
  for (const [name, maxBytes, expected] of [["small.db", undefined, 2], ["big.db", 0, 0]] as const) {
    const path = `${dir}/${name}`;
    make(path);
    let now = 2_000;
    const store = SqliteStore.open({ path, now: () => now, vacuumOnOpenMaxBytes: maxBytes });
    assert.deepEqual((await store.read("old")).records.map((r) => r.body), [new Uint8Array([0x61])], name);
    now = 200_000;
    await store.sweep(); // the migrated streams are all due once
    await assert.rejects(store.checkTail("old"), NotFoundError, `${name}: swept after the migration`);
    await store.close();
    assert.equal(autoVacuum(path), expected, `${name}: auto_vacuum`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sqlite: the sweep runs on the worker in bounded steps, and the store reads and writes between them", async () => {
  const dir = await Deno.makeTempDir();
  let now = 1_000_000;
  const steps: import("../../lib/store/sqlite.ts").SweepStep[] = [];
  const between: Array<Promise<void>> = [];
  const store: SqliteStore = SqliteStore.open({
    path: `${dir}/steps.db`,
    now: () => now,
    defaultStreamConfig: { retentionAgeSecs: 60, deleteOnEmptyMinAgeSecs: 30 },
    sweepStep: { statements: 3, maxRows: 5 },
    onSweepStep: (step) => {
      steps.push(step);
      // Between steps the event loop is free: the store answers, and a reader sees either a record or nothing.
      const check = (async () => {
        const kept = await store.read("kept");
        assert.equal(new TextDecoder().decode(kept.records[0].body), "new");
        // Half-deleted streams read as they will read once the sweep is done: expired records are never seen.
        for (let s = 0; s < 4; s++) await store.read(`old${s}`).then((r) => assert.deepEqual(r.records, []), () => {});
        await store.append("kept", [rec("during", now)]);
      })();
      check.catch(() => {}); // awaited below
      between.push(check);
    },
  });
  for (let s = 0; s < 4; s++) await store.append(`old${s}`, Array.from({ length: 20 }, (_, i) => rec(`${i}`, now)));
  now += 61_000; // the old streams' records have expired; "kept" is new
  await store.append("kept", [rec("new", now)]);
  await store.sweep();
  await Promise.all(between);
  const appendedDuring = (await store.read("kept")).records.length - 1;
  assert.ok(steps.length >= Math.ceil((4 * 20) / (3 * 5)), `${steps.length} steps for 80 records, ≤ 15 a step`);
  for (const step of steps) {
    assert.ok(step.statements <= 3, `a step ran ${step.statements} statements`);
    assert.ok(step.expired <= 15, `a step deleted ${step.expired} records`);
  }
  assert.equal(steps.reduce((n, s) => n + s.expired, 0), 80, "every expired record deleted, once");
  assert.ok(steps.slice(0, -1).every((s) => !s.done) && steps.at(-1)!.done, "only the last step is done");
  assert.equal(appendedDuring, steps.length, "an append between every two steps");
  // Empty and older than their delete-on-empty age (61 s > 30 s): deleted, and their followers woken.
  assert.deepEqual(steps.flatMap((s) => s.dropped).sort(), ["old0", "old1", "old2", "old3"]);
  assert.deepEqual((await store.listStreams()).names, ["kept"]);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sqlite: a write that finds the lock taken by another connection waits on timers, not the event loop", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/busy.db`;
  const store = SqliteStore.open({ path });
  await store.append("s", [rec("a", Date.now())]);
  const other = new DatabaseSync(path);
  other.exec("BEGIN IMMEDIATE"); // as the sweep's worker holds it for one statement
  let settled = false;
  const append = store.append("s", [rec("b", Date.now())]).finally(() => (settled = true));
  const create = store.createStream("t");
  // The event loop runs meanwhile: timers fire, reads answer, and the write has not gone through.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.deepEqual((await store.read("s")).records.length, 1);
  assert.equal(settled, false, "waits while the lock is held");
  other.exec("COMMIT");
  assert.equal((await append).start.seqNum, 1);
  await create;
  assert.deepEqual((await store.listStreams()).names, ["s", "t"]);
  other.close();
  await store.close();
  await Deno.remove(dir, { recursive: true });
});
