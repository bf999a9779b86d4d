/**
 * The two timers of a session, on both stores with an injected clock: quiet
 * for longer than the lease it shows as disconnected and keeps taking writes;
 * only quiet for longer than the outage horizon is it stopped, by a reader
 * or a writer, in any process.
 */

import assert from "node:assert/strict";
import { Sessions, SessionStoppedError } from "../../lib/sessions/service.ts";
import { storeTest } from "../support/backends.ts";
import { fakeEvents as anyEvents } from "../support/client.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const fakeEvents = (n: number, t0: number) => anyEvents(n, t0) as unknown as RrwebEvent[];

storeTest("lease: disconnected after the lease, fenced only after the outage horizon", async ({ store }) => {
  const clock = { now: Date.now() };
  const options = { store, now: () => clock.now, leaseMs: 1_000, fenceAfterMs: 10_000 };
  const sessions = new Sessions(options);
  const meta = await sessions.create({ url: "https://shop.example/" });
  await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: fakeEvents(2, clock.now) });
  assert.deepEqual(await sessions.settle(meta.id), { live: true, disconnected: false });

  clock.now += 5_000; // past the lease, within the horizon: a store outage or a server restart
  const otherProcess = new Sessions(options); // knows nothing but the stream
  assert.deepEqual(await otherProcess.settle(meta.id), { live: true, disconnected: true });
  assert.equal((await sessions.details(meta.id))?.disconnected, true);
  // The recorder delivers what it buffered: same session, and it is connected again.
  await sessions.appendEvents(meta.id, { writerId: "w", batch: 1, events: fakeEvents(2, clock.now - 4_000) });
  assert.deepEqual(await sessions.settle(meta.id), { live: true, disconnected: false });

  clock.now += 10_001; // past the horizon: whoever reads next ends it
  const status = await otherProcess.settle(meta.id);
  assert.equal(status.live, false);
  assert.equal(status.end?.reason, "lease_expired");
  assert.equal(status.end?.events, 4);
  await assert.rejects(
    sessions.appendEvents(meta.id, { writerId: "w", batch: 2, events: fakeEvents(1, clock.now) }),
    SessionStoppedError,
    "fenced: a late writer never reopens it",
  );
});

storeTest("lease: a writer past the horizon stops the session and is refused", async ({ store }) => {
  const clock = { now: Date.now() };
  const sessions = new Sessions({ store, now: () => clock.now, leaseMs: 1_000, fenceAfterMs: 3_000 });
  const meta = await sessions.create({ url: "https://shop.example/" });
  await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: fakeEvents(1, clock.now) });
  clock.now += 3_001;
  await assert.rejects(
    sessions.appendEvents(meta.id, { writerId: "w", batch: 1, events: fakeEvents(1, clock.now) }),
    SessionStoppedError,
  );
  assert.equal((await sessions.settle(meta.id)).end?.reason, "lease_expired");
});

Deno.test("lease: the horizon is never shorter than the lease", () => {
  const sessions = new Sessions({ store: {} as never, leaseMs: 60_000, fenceAfterMs: 1_000 });
  assert.equal(sessions.fenceAfterMs, 60_000);
});

storeTest("settle: a crowd of concurrent callers shares one check", async ({ store }) => {
  const sessions = new Sessions({ store });
  const { id } = await sessions.create({ url: "https://shop.example/" });
  let reads = 0;
  const read = store.read.bind(store);
  store.read = (...args) => (reads++, read(...args));
  try {
    const statuses = await Promise.all(Array.from({ length: 500 }, () => sessions.settle(id)));
    assert.ok(statuses.every((s) => s.live));
    assert.equal(reads, 1, "one read for 500 callers");
    await sessions.settle(id);
    assert.equal(reads, 2, "a later caller checks again");
  } finally {
    store.read = read;
  }
});
