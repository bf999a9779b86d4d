/**
 * The user index over real stores: the list's user filter reads one small
 * stream per user (`users/<hash>`), written when the user becomes known — at
 * start or when a batch identifies the user — and again when the session
 * stops or is deleted; an exact match that ignores case, in one request.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { listSessions } from "../../lib/sessions/list.ts";
import { normalizeUserId, readUser, USER_PREFIX, userStreamOf } from "../../lib/sessions/users.ts";
import { summaryStreamOf } from "../../lib/sessions/summaries.ts";
import { readAll } from "../../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const identify = (userId: string, timestamp: number): RrwebEvent =>
  ({ type: 5, timestamp, data: { tag: "replaya.identify", payload: { userId } } }) as RrwebEvent;
const click = (timestamp: number): RrwebEvent =>
  ({ type: 3, timestamp, data: { source: 2, type: 2, id: 1, x: 0, y: 0 } }) as RrwebEvent;

async function recordsOf(sessions: Sessions, userId: string): Promise<string[]> {
  const kinds: string[] = [];
  for await (const r of readAll(sessions.store, await userStreamOf(userId))) {
    kinds.push(JSON.parse(new TextDecoder().decode(r.body)).k);
  }
  return kinds;
}

Deno.test("users: one stream per user id, named by a hash of the id with case and spaces ignored", async () => {
  const stream = await userStreamOf("Ada@Example.com");
  assert.match(stream, /^users\/[0-9a-f]{32}$/);
  assert.ok(stream.startsWith(USER_PREFIX));
  assert.equal(await userStreamOf(" ada@example.COM "), stream);
  assert.notEqual(await userStreamOf("ada@example.co"), stream);
  assert.equal(normalizeUserId("  Ada "), "ada");
});

storeTest(
  "users: the filter is the whole id (case ignored), answered in one request at any budget",
  async ({ store }) => {
    const clock = { now: 0 };
    const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity });
    const ada: string[] = [];
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i < 4; i++) {
        clock.now = Date.UTC(2026, 10, 20 + day, 10, i);
        const userId = i === 1 && day !== 1 ? "Ada@Example.com" : `u${day}-${i}`;
        const meta = await sessions.create({ url: `https://shop.example/${day}/${i}`, userId });
        await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: [click(clock.now)] });
        await sessions.stop(meta.id);
        if (userId.startsWith("Ada")) ada.unshift(meta.id);
      }
    }
    const list = (userId: string, extra = {}) =>
      listSessions(sessions, { filter: { userId, ...extra }, budget: 1, now: clock.now });
    const page = await list("ada@example.com");
    assert.deepEqual(page.rows.map((r) => r.id), ada, "newest first, from both days");
    assert.equal(page.stoppedEarly, false, "never stops early: the user's stream is small");
    assert.equal(page.scanned, 4, "read: the user's 2 starts and 2 ends, nothing else");
    assert.ok(page.rows.every((r) => !r.live && r.end?.clicks === 1 && r.userId === "Ada@Example.com"));
    assert.deepEqual((await list("  ADA@EXAMPLE.COM ")).rows.map((r) => r.id), ada, "case and spaces ignored");
    assert.deepEqual((await list("ada")).rows, [], "a part of the id is not the id");
    const unknown = await list("nobody@example.com");
    assert.deepEqual([unknown.rows, unknown.scanned, unknown.stoppedEarly], [[], 0, false]);
    // Other filters and the cursor apply within the user's sessions.
    const lastDay = Date.UTC(2026, 10, 22);
    assert.deepEqual((await list("ada@example.com", { from: lastDay })).rows.map((r) => r.id), [ada[0]]);
    assert.deepEqual((await list("ada@example.com", { urlContains: "/0/" })).rows.map((r) => r.id), [ada[1]]);
    const first = await listSessions(sessions, { filter: { userId: "ada@example.com" }, limit: 1 });
    assert.deepEqual([first.rows.map((r) => r.id), first.next], [[ada[0]], ada[0]]);
    const second = await listSessions(sessions, { filter: { userId: "ada@example.com" }, cursor: first.next });
    assert.deepEqual([second.rows.map((r) => r.id), second.next], [[ada[1]], undefined]);
  },
);

storeTest(
  "users: a batch that identifies the user indexes the session once, live, and its end follows",
  async ({ store }) => {
    const clock = { now: Date.now() };
    const sessions = new Sessions({ store, now: () => clock.now });
    const meta = await sessions.create({ url: "https://shop.example/login", userAgent: "Mozilla/5.0 Chrome/120" });
    assert.deepEqual((await listSessions(sessions, { filter: { userId: "bob" } })).rows, []);
    await sessions.appendEvents(meta.id, {
      writerId: "w",
      batch: 0,
      events: [click(clock.now), identify("Bob", clock.now)],
    });
    const live = await listSessions(sessions, { filter: { userId: "BOB" }, now: clock.now });
    assert.deepEqual(live.rows.map((r) => [r.id, r.live, r.userId, r.url]), [[meta.id, true, "Bob", meta.url]]);
    // Each page load identifies again: the session is in the user's stream once.
    await sessions.appendEvents(meta.id, { writerId: "w2", batch: 0, events: [identify("bob", clock.now)] });
    assert.deepEqual(await recordsOf(sessions, "bob"), ["start"]);
    await sessions.stop(meta.id);
    assert.deepEqual(await recordsOf(sessions, "bob"), ["start", "end"]);
    const ended = await listSessions(sessions, { filter: { userId: "bob" }, now: clock.now });
    assert.deepEqual(ended.rows.map((r) => [r.id, r.live, r.end?.clicks, r.end?.userId]), [[meta.id, false, 1, "bob"]]);
  },
);

storeTest(
  "users: a session known by two user ids is listed under both; a deleted one under neither",
  async ({ store }) => {
    const clock = { now: Date.now() };
    const sessions = new Sessions({ store, now: () => clock.now });
    const meta = await sessions.create({ url: "https://shop.example/", userId: "carol" });
    await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: [identify("dave", clock.now)] });
    const ids = async (userId: string) =>
      (await listSessions(sessions, { filter: { userId }, now: clock.now })).rows.map((r) => r.id);
    assert.deepEqual([await ids("carol"), await ids("dave")], [[meta.id], [meta.id]]);
    const kept = await sessions.create({ url: "https://shop.example/", userId: "carol" });
    await sessions.stop(meta.id);
    assert.deepEqual(await recordsOf(sessions, "dave"), ["start", "end"]);
    await sessions.delete(meta.id);
    assert.deepEqual([await ids("carol"), await ids("dave")], [[kept.id], []]);
    assert.deepEqual(await recordsOf(sessions, "carol"), ["start", "start", "end", "deleted"]);
    assert.deepEqual((await listSessions(sessions, { now: clock.now })).rows.map((r) => r.id), [kept.id]);
    assert.deepEqual((await readUser(store, "dave")).rows, []);
  },
);

storeTest(
  "users: a user's stream has the same retention and delete-on-empty as the day streams",
  async ({ store }) => {
    const sessions = new Sessions({ store });
    const meta = await sessions.create({ url: "https://shop.example/", userId: "erin" });
    const day = await store.getStreamConfig(summaryStreamOf(meta.createdAt));
    assert.deepEqual(await store.getStreamConfig(await userStreamOf("erin")), day);
    assert.deepEqual(day, { retentionAgeSecs: 3_600, deleteOnEmptyMinAgeSecs: 600 });
  },
  { defaultStreamConfig: { retentionAgeSecs: 3_600, deleteOnEmptyMinAgeSecs: 600 } },
);
