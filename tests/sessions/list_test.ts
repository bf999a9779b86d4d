/**
 * The session list over real stores: newest first across day streams, the
 * cursor, and the scan budget that stops a filter early and says so.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { listSessions } from "../../lib/sessions/list.ts";

/** Sessions on three consecutive days, newest last, every third with an error. */
async function seed(sessions: Sessions, clock: { now: number }, perDay: number): Promise<string[]> {
  const ids: string[] = [];
  for (let day = 0; day < 3; day++) {
    for (let i = 0; i < perDay; i++) {
      clock.now = Date.UTC(2026, 10, 20 + day, 10, i);
      const meta = await sessions.create({ url: `https://shop.example/${day}/${i}`, userId: `u${day}-${i}` });
      const error = { type: 5, timestamp: clock.now, data: { tag: "replaya.error", payload: {} } };
      await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: ids.length % 3 === 0 ? [error] : [] });
      await sessions.stop(meta.id);
      ids.push(meta.id);
    }
  }
  return ids.reverse(); // newest first
}

storeTest("list: newest first across days, paged by cursor", async ({ store }) => {
  const clock = { now: 0 };
  const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity });
  const ids = await seed(sessions, clock, 4);
  const first = await listSessions(sessions, { limit: 5, now: clock.now });
  assert.deepEqual(first.rows.map((r) => r.id), ids.slice(0, 5));
  assert.equal(first.stoppedEarly, false);
  const second = await listSessions(sessions, { limit: 5, cursor: first.next, now: clock.now });
  assert.deepEqual(second.rows.map((r) => r.id), ids.slice(5, 10));
  const last = await listSessions(sessions, { limit: 5, cursor: second.next, now: clock.now });
  assert.deepEqual(last.rows.map((r) => r.id), ids.slice(10));
  assert.equal(last.next, undefined);
  assert.ok(first.rows.every((r) => !r.live && r.end !== undefined));
});

storeTest("list: a filter that runs out of scan budget stops early and can continue", async ({ store }) => {
  const clock = { now: 0 };
  const sessions = new Sessions({ store, now: () => clock.now, leaseMs: Infinity });
  const ids = await seed(sessions, clock, 4);
  const oldest = ids.at(-1)!;
  const urlOfOldest = "shop.example/0/0";
  // Each day stream holds 8 records (4 starts, 4 ends); a budget of 8 reads one day per request.
  const page1 = await listSessions(sessions, { filter: { urlContains: urlOfOldest }, budget: 8, now: clock.now });
  assert.deepEqual(page1.rows, []);
  assert.equal(page1.stoppedEarly, true, "says it stopped early");
  assert.equal(page1.scanned, 8);
  let page = page1;
  const found: string[] = [];
  for (let i = 0; i < 5 && page.next; i++) {
    page = await listSessions(sessions, {
      filter: { urlContains: urlOfOldest },
      budget: 8,
      cursor: page.next,
      now: clock.now,
    });
    found.push(...page.rows.map((r) => r.id));
  }
  assert.deepEqual(found, [oldest], "continuing reaches the match on the oldest day");
  const withErrors = await listSessions(sessions, { filter: { hasErrors: true }, now: clock.now });
  assert.deepEqual(withErrors.rows.map((r) => r.id), ids.filter((_, i) => (ids.length - 1 - i) % 3 === 0));
});
