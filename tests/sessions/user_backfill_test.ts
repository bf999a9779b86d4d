/**
 * The user-index backfill over real stores: sessions recorded before the
 * index (their `users/` streams missing) become findable by the user filter;
 * a second run writes nothing; a run aborted half-way and resumed completes
 * with no duplicates; two processes at once write each record once.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { listSessions } from "../../lib/sessions/list.ts";
import { USER_PREFIX } from "../../lib/sessions/users.ts";
import { BACKFILL_STREAM, backfillUserIndex, runUserBackfill } from "../../lib/sessions/user_backfill.ts";
import { readAll, type StreamStore, withPrefix } from "../../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const click = (timestamp: number): RrwebEvent =>
  ({ type: 3, timestamp, data: { source: 2, type: 2, id: 1, x: 0, y: 0 } }) as RrwebEvent;
const identify = (userId: string, timestamp: number): RrwebEvent =>
  ({ type: 5, timestamp, data: { tag: "replaya.identify", payload: { userId } } }) as RrwebEvent;

/** Every stream under `prefix`. */
async function streamsUnder(store: StreamStore, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.listStreams({ prefix, startAfter });
    names.push(...page.names);
    if (!page.hasMore) return names;
    startAfter = page.names.at(-1);
  }
}

/** Removes the user index, as it was before it existed. */
async function dropUserIndex(store: StreamStore): Promise<void> {
  for (const name of await streamsUnder(store, USER_PREFIX)) await store.deleteStream(name);
}

/** Every (kind, session) record in the user streams, with how many times each is there. */
async function userRecords(store: StreamStore): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const name of await streamsUnder(store, USER_PREFIX)) {
    for await (const r of readAll(store, name)) {
      const { k, id } = JSON.parse(new TextDecoder().decode(r.body));
      counts.set(`${name} ${k} ${id}`, (counts.get(`${name} ${k} ${id}`) ?? 0) + 1);
    }
  }
  return counts;
}

/** Sessions over three days: identified at start, by a batch, anonymous, deleted; `users` distinct users a day. */
async function record(sessions: Sessions, clock: { now: number }, users = 2) {
  const ids: Record<string, string[]> = {};
  for (let day = 0; day < 3; day++) {
    for (let u = 0; u < users; u++) {
      clock.now = Date.UTC(2026, 10, 20 + day, 9, u);
      const userId = u === 0 ? "Ada@Example.com" : `user-${day}-${u}`;
      const atStart = await sessions.create({ url: `https://shop.example/${day}`, userId });
      await sessions.appendEvents(atStart.id, { writerId: "w", batch: 0, events: [click(clock.now)] });
      await sessions.stop(atStart.id);
      clock.now += 1_000;
      const byBatch = await sessions.create({ url: `https://shop.example/${day}/later` });
      await sessions.appendEvents(byBatch.id, {
        writerId: "w",
        batch: 0,
        events: [click(clock.now), identify(userId, clock.now)],
      });
      if (day < 2) await sessions.stop(byBatch.id); // the newest day's stays live
      (ids[userId.toLowerCase()] ??= []).unshift(byBatch.id, atStart.id);
    }
    const anonymous = await sessions.create({ url: "https://shop.example/anon" });
    await sessions.stop(anonymous.id);
    const gone = await sessions.create({ url: "https://shop.example/gone", userId: "Ada@Example.com" });
    await sessions.delete(gone.id);
  }
  return ids;
}

storeTest(
  "user backfill: sessions recorded before the index become findable, and a second run writes nothing",
  async (t) => {
    const store = withPrefix(t.store, t.prefix);
    const clock = { now: 0 };
    const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity, fenceAfterMs: Infinity });
    const ids = await record(sessions, clock);
    const indexed = await userRecords(store);
    await dropUserIndex(store);
    const ada = () => listSessions(sessions, { filter: { userId: "ada@example.com" }, now: clock.now });
    assert.deepEqual((await ada()).rows, [], "not in the index");

    const first = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0 });
    assert.deepEqual([first.state, first.days], ["done", 3]);
    const page = await ada();
    assert.deepEqual(page.rows.map((r) => r.id), ids["ada@example.com"], "every session of the user, newest first");
    assert.ok(page.rows.every((r) => r.userId?.toLowerCase() === "ada@example.com"));
    assert.equal(page.rows.filter((r) => r.ended).length, 5, "ended ones with their end (the newest is live)");
    assert.ok(page.rows.filter((r) => r.ended).every((r) => r.end?.clicks === 1));
    assert.deepEqual(
      (await listSessions(sessions, { filter: { userId: "user-1-1" }, now: clock.now })).rows.map((r) => r.id),
      ids["user-1-1"],
    );
    // What the live index would have held, less the deleted sessions' records (the day streams drop those).
    const expected = [...indexed.keys()].filter((key) => !/ (deleted) /.test(key)).sort();
    const deletedIds = [...indexed.keys()].filter((key) => / deleted /.test(key)).map((key) => key.split(" ")[2]);
    assert.deepEqual(
      [...(await userRecords(store)).keys()].sort(),
      expected.filter((key) => !deletedIds.includes(key.split(" ")[2])),
    );
    assert.equal(first.written, expected.length - deletedIds.length * 1);

    const before = await userRecords(store);
    const again = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0 });
    assert.deepEqual([again.state, again.days, again.written], ["done", 0, 0], "finished once: the marker says so");
    await store.deleteStream(BACKFILL_STREAM);
    const forced = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0 });
    assert.deepEqual(
      [forced.state, forced.days, forced.written],
      ["done", 3, 0],
      "without the marker: nothing missing",
    );
    assert.deepEqual(await userRecords(store), before);
  },
);

storeTest("user backfill: aborted half-way, then resumed, it completes with no duplicates", async (t) => {
  const store = withPrefix(t.store, t.prefix);
  const clock = { now: 0 };
  const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity, fenceAfterMs: Infinity });
  await record(sessions, clock, 4);
  await dropUserIndex(store);
  const stop = new AbortController();
  let writes = 0;
  const cut = await backfillUserIndex({
    store,
    now: () => clock.now,
    pauseMs: 0,
    signal: stop.signal,
    process: "a",
    onWrite: () => void (++writes === 6 && stop.abort()),
  });
  assert.equal(cut.state, "aborted");
  assert.equal(cut.days, 1, "the first day (4 users) finished, the second cut short");
  const partial = await userRecords(store);
  assert.ok(partial.size > 0 && [...partial.values()].every((n) => n === 1));

  // Another process resumes at once: the aborted run released its claim.
  const resumed = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0, process: "b" });
  assert.deepEqual([resumed.state, resumed.days], ["done", 2], "the two days left");
  const all = await userRecords(store);
  assert.ok([...all.values()].every((n) => n === 1), "no record twice");
  assert.equal(all.size, cut.written + resumed.written, "every record written once, over both runs");
  const ada = await listSessions(sessions, { filter: { userId: "ada@example.com" }, now: clock.now });
  assert.equal(ada.rows.length, 6);
});

storeTest(
  "user backfill: two processes at once write each record once; an unexpired claim makes others wait",
  async (t) => {
    const store = withPrefix(t.store, t.prefix);
    const clock = { now: 0 };
    const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity, fenceAfterMs: Infinity });
    await record(sessions, clock, 3);
    await dropUserIndex(store);
    const [a, b] = await Promise.all(
      ["a", "b"].map((process) => backfillUserIndex({ store, now: () => clock.now, pauseMs: 0, process })),
    );
    assert.ok(a.state === "done" || b.state === "done", `${a.state} / ${b.state}`);
    const all = await userRecords(store);
    assert.ok(all.size > 0 && [...all.values()].every((n) => n === 1), "no record twice");
    assert.equal(all.size, a.written + b.written);

    // A claim that has not lapsed (a process that died mid-way) holds others off until it does.
    await store.deleteStream(BACKFILL_STREAM);
    await store.append(BACKFILL_STREAM, [{
      body: new TextEncoder().encode(JSON.stringify({ k: "claim", p: "dead", until: clock.now + 1_000 })),
      timestamp: clock.now,
    }]);
    const held = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0, process: "c" });
    assert.deepEqual([held.state, held.retryAt, held.written], ["busy", clock.now + 1_000, 0]);
    clock.now += 1_001;
    const after = await backfillUserIndex({ store, now: () => clock.now, pauseMs: 0, process: "c" });
    assert.deepEqual([after.state, after.written], ["done", 0]);
  },
);

storeTest(
  "user backfill: in the background it runs after its delay, once; stopped during the delay it writes nothing",
  async (t) => {
    const store = withPrefix(t.store, t.prefix);
    const clock = { now: 0 };
    const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity, fenceAfterMs: Infinity });
    await record(sessions, clock, 1);
    await dropUserIndex(store);
    const stop = new AbortController();
    const stopped = runUserBackfill({ store, signal: stop.signal, delayMs: 3_600_000 });
    stop.abort();
    await stopped;
    assert.deepEqual(await streamsUnder(store, USER_PREFIX), [], "nothing written");
    await assert.rejects(store.checkTail(BACKFILL_STREAM), "not even a claim");

    await runUserBackfill({ store, now: () => clock.now, pauseMs: 0, delayMs: 0 });
    const ada = await listSessions(sessions, { filter: { userId: "ada@example.com" }, now: clock.now });
    assert.equal(ada.rows.length, 6);
    const progress = [];
    for await (const r of readAll(store, BACKFILL_STREAM)) {
      progress.push(
        JSON.parse(new TextDecoder().decode(r.body)).k,
      );
    }
    assert.deepEqual(progress, ["claim", "day", "day", "day", "done"]);
  },
);
