/**
 * Behaviour only the embedded backend has to prove on its own: durability
 * across reopen and the store-driven retention sweep.
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../../lib/store/sqlite.ts";
import { NotFoundError } from "../../lib/store/mod.ts";

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
  store.sweep();
  assert.deepEqual((await store.read("short")).records, [], "expired");
  assert.equal((await store.checkTail("short")).seqNum, 1, "still exists: younger than its delete-on-empty age");
  now += 60_000;
  store.sweep();
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
