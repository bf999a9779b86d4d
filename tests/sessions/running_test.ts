/**
 * Running counts of live sessions (lib/sessions/running.ts) over real stores:
 * counted from acknowledged appends with no read, retried batches once, a
 * session written by another process caught up by bounded reads, and the
 * list's rows and "has errors" filter using them.
 */

import assert from "node:assert/strict";
import { storeTest } from "../support/backends.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { listSessions } from "../../lib/sessions/list.ts";
import { RunningTally } from "../../lib/sessions/running.ts";
import type { StreamStore } from "../../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const T0 = Date.UTC(2026, 10, 20, 10);

function events(at: number, { clicks = 0, errors = 0, pages = 0 } = {}): RrwebEvent[] {
  const list: RrwebEvent[] = [{ type: 3, timestamp: at, data: { source: 1, positions: [] } }];
  for (let i = 0; i < clicks; i++) {
    list.push({ type: 3, timestamp: at, data: { source: 2, type: 2, id: 1, x: 0, y: 0 } });
  }
  for (let i = 0; i < errors; i++) {
    list.push({ type: 5, timestamp: at, data: { tag: "replaya.error", payload: { message: "boom" } } });
  }
  for (let i = 0; i < pages; i++) {
    list.push({ type: 4, timestamp: at, data: { href: "https://x/", width: 1, height: 1 } });
  }
  return list;
}

/** A store that counts the reads it serves. */
function countingReads(store: StreamStore): { store: StreamStore; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === "read") return (...args: Parameters<StreamStore["read"]>) => (reads++, target.read(...args));
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, reads: () => reads };
}

storeTest("running: a session this process writes is counted from its appends, retries once, with no read", async ({
  store: raw,
}) => {
  const { store, reads } = countingReads(raw);
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const { id } = await sessions.create({ url: "https://shop.example/" });
  await sessions.appendEvents(id, { writerId: "w1", batch: 0, events: events(T0, { pages: 1, clicks: 2 }) });
  await sessions.appendEvents(id, { writerId: "w1", batch: 1, events: events(T0 + 1_000, { errors: 1 }) });
  await sessions.appendEvents(id, { writerId: "w1", batch: 1, events: events(T0 + 1_000, { errors: 1 }) }); // retry
  await sessions.heartbeat(id);
  await sessions.appendEvents(id, { writerId: "w2", batch: 0, events: events(T0 + 2_000, { clicks: 1 }) });
  const before = reads();
  const counts = await sessions.running(id);
  // The error 1 s after the first clicks makes an error click (friction.ts).
  assert.deepEqual(counts, {
    events: 8,
    clicks: 3,
    pages: 1,
    errors: 1,
    friction: { error_click: 1 },
    lastEventAt: T0 + 2_000,
  });
  assert.equal(reads(), before, "no store read");
  const end = await sessions.stop(id);
  assert.deepEqual(
    { events: end!.events, clicks: end!.clicks, pages: end!.pages, errors: end!.errors },
    { events: 8, clicks: 3, pages: 1, errors: 1 },
    "the same counts as the final scan",
  );
});

storeTest("running: another process's session is caught up by bounded reads, then followed", async ({ store }) => {
  const clock = { now: T0 };
  const writer = new Sessions({ store, now: () => clock.now });
  const { id } = await writer.create({ url: "https://shop.example/" });
  for (let b = 0; b < 7; b++) {
    await writer.appendEvents(id, { writerId: "w", batch: b, events: events(T0 + b, { clicks: 1, errors: b % 2 }) });
  }
  // Another process: reads at most 3 records a look.
  const tally = new RunningTally(store, { readCount: 3, now: () => clock.now });
  const first = await tally.counts(id);
  assert.equal(first.partial, true, "a lower bound after one bounded read");
  assert.ok(first.clicks > 0 && first.clicks < 7, `${first.clicks} clicks after one look`);
  let looks = 1;
  let caught = first;
  while (caught.partial && looks < 10) caught = await tally.counts(id), looks++;
  assert.ok(looks >= 3, `caught up over ${looks} looks of 3 records`);
  // Clicks 1 ms apart on one spot are a rage click; an error with a click is an error click.
  const friction = { error_click: 3, rage: 1 };
  assert.deepEqual(caught, { events: 17, clicks: 7, pages: 0, errors: 3, friction, lastEventAt: T0 + 6 });
  await writer.appendEvents(id, { writerId: "w", batch: 7, events: events(T0 + 7, { errors: 1 }) });
  await writer.appendEvents(id, { writerId: "w", batch: 7, events: events(T0 + 7, { errors: 1 }) }); // a retry
  assert.deepEqual(await tally.counts(id), {
    events: 19,
    clicks: 7,
    pages: 0,
    errors: 4,
    friction: { ...friction, error_click: 4 },
    lastEventAt: T0 + 7,
  });
});

storeTest("running: live rows carry their counts, and the errors filter matches a live session", async ({ store }) => {
  const clock = { now: T0 };
  const sessions = new Sessions({ store, now: () => clock.now });
  const calm = await sessions.create({ url: "https://shop.example/calm" });
  const failing = await sessions.create({ url: "https://shop.example/failing" });
  await sessions.appendEvents(calm.id, { writerId: "w", batch: 0, events: events(T0, { clicks: 4 }) });
  await sessions.appendEvents(failing.id, { writerId: "w", batch: 0, events: events(T0, { errors: 2 }) });
  const page = await listSessions(sessions, { now: clock.now });
  const rows = new Map(page.rows.map((r) => [r.id, r]));
  assert.equal(rows.get(calm.id)?.live, true);
  assert.equal(rows.get(calm.id)?.running?.clicks, 4);
  assert.equal(rows.get(failing.id)?.running?.errors, 2);
  const withErrors = await listSessions(sessions, { filter: { hasErrors: true }, now: clock.now });
  assert.deepEqual(withErrors.rows.map((r) => r.id), [failing.id]);
  const without = await listSessions(sessions, { filter: { hasErrors: false }, now: clock.now });
  assert.deepEqual(without.rows.map((r) => r.id), [calm.id]);
});
