import assert from "node:assert/strict";
import {
  compactForCatchUp,
  type Delivery,
  LIVE_DELAY_MS,
  liveBaseline,
  REMOUNT_AFTER_EVENTS,
  thinPointer,
  TileState,
} from "../../islands/wall/tile.ts";
import type { RrwebEvent, SessionRow } from "@replaya/recorder/wire";
import { click, custom, fullSnapshot, input, meta, mouseMove, mutation, T0 } from "./_events.ts";

const ROW: SessionRow = { id: "s1", createdAt: T0, url: "https://shop.example/entry", live: true };
const NOW = T0 + 60_000;
const offsets = (events: readonly RrwebEvent[]) => events.map((e) => e.timestamp - T0);

/** A tile that has mounted its replayer from a Meta and a snapshot at 0–1 ms. */
function mountedTile(): TileState {
  const tile = new TileState(ROW);
  tile.push([meta(0), fullSnapshot(1)], NOW);
  tile.setActive(true);
  assert.equal(tile.take(NOW)?.kind, "mount");
  return tile;
}

Deno.test("tile facts: entry URL and row user until events say otherwise", () => {
  const tile = new TileState({ ...ROW, userId: "row-user", source: "web" });
  assert.deepEqual(tile.facts, {
    id: "s1",
    createdAt: T0,
    user: "row-user",
    page: "https://shop.example/entry",
    source: "web",
    errors: 0,
    clicks: 0,
    events: 0,
    lastEventAt: undefined,
  });
});

Deno.test("tile facts: page from the latest Meta, user from identify, errors and clicks counted", () => {
  const tile = new TileState(ROW);
  assert.equal(tile.facts.user, undefined, "anonymous until identified");
  tile.push([meta(0, "https://shop.example/"), fullSnapshot(1), click(10, 8)], NOW);
  tile.push([
    custom(20, "replaya.identify", { userId: "alice", traits: { plan: "pro" } }),
    custom(30, "replaya.error", { message: "boom" }),
    custom(31, "replaya.console", { level: "error", message: "not an error event" }),
    custom(32, "replaya.identify", { traits: {} }), // no user id: ignored
    { type: 3, timestamp: T0 + 40, data: { source: 2, type: 4, id: 8, x: 1, y: 1 } }, // double-click
    { type: 3, timestamp: T0 + 41, data: { source: 2, type: 1, id: 8, x: 1, y: 1 } }, // mouse down: not a click
  ], NOW);
  tile.push([meta(50, "https://shop.example/checkout?step=2"), fullSnapshot(51)], NOW);
  tile.push([custom(60, "replaya.error", { message: "again" }), { type: 5, timestamp: T0 + 61, data: "junk" }], NOW);
  const facts = tile.facts;
  assert.equal(facts.user, "alice");
  assert.equal(facts.page, "https://shop.example/checkout?step=2");
  assert.equal(facts.errors, 2);
  assert.equal(facts.clicks, 2);
  assert.equal(facts.events, 13);
  assert.equal(facts.lastEventAt, T0 + 61);
});

Deno.test("tile: nothing to play before a Meta and a full snapshot, nor while inactive", () => {
  const tile = new TileState(ROW);
  tile.setActive(true);
  tile.push([mouseMove(0), fullSnapshot(1)], NOW);
  assert.equal(tile.ready, false, "a snapshot without a Meta has no viewport");
  assert.equal(tile.take(NOW), undefined);
  tile.push([meta(5), click(6, 8)], NOW);
  assert.equal(tile.ready, false, "a Meta alone draws nothing");
  tile.setActive(false);
  tile.push([fullSnapshot(7), click(8, 8)], NOW);
  assert.equal(tile.ready, true);
  assert.equal(tile.take(NOW), undefined, "an off-screen tile mounts nothing");
  tile.setActive(true);
  const mount = tile.take(NOW);
  assert.equal(mount?.kind, "mount");
  assert.deepEqual(offsets(mount.events), [5, 7, 8], "from the Meta before the snapshot");
  assert.equal(tile.applied, 3);
  assert.equal(tile.take(NOW), undefined, "nothing new");
});

Deno.test("tile: while active, new events are handed over as they come, in order, clicks not replayed", () => {
  const tile = mountedTile();
  tile.push([mouseMove(10), click(11, 8), mouseMove(12)], NOW);
  tile.push([mutation(13, { texts: [{ id: 10, value: "Clicked 1" }] })], NOW);
  const next = tile.take(NOW, { motion: true });
  assert.ok(next?.kind === "append" && !next.catchUp);
  assert.deepEqual(offsets(next.events), [10, 12, 13], "every cursor move while few tiles render");
  assert.equal(tile.applied, 5);
  assert.equal(tile.pending, 0);
  assert.equal(tile.facts.clicks, 1, "the header counts the click instead");
  tile.push([mouseMove(20), mouseMove(21), mutation(22, {}), mouseMove(23)], NOW);
  assert.deepEqual(offsets(tile.take(NOW)?.events ?? []), [22, 23], "with many tiles, the cursor's last place only");
});

Deno.test("tile: while hidden it buffers, and catches up at once when back, pointer motion thinned", () => {
  const tile = mountedTile();
  tile.setActive(false);
  tile.push([mouseMove(10), click(11, 8), mutation(12, { texts: [{ id: 10, value: "Clicked 1" }] })], NOW);
  tile.push(
    [mouseMove(13), input(14, 11), { type: 3, timestamp: T0 + 15, data: { source: 3, id: 1, x: 0, y: 90 } }],
    NOW,
  );
  tile.push([custom(16, "replaya.error", { message: "boom" }), mouseMove(17), click(18, 12)], NOW);
  assert.equal(tile.take(NOW), undefined, "buffered, not rendered");
  assert.equal(tile.pending, 9);
  assert.equal(tile.facts.errors, 1, "the header keeps counting while the replay is paused");
  tile.setActive(true);
  const next = tile.take(NOW, { motion: true }) as Extract<Delivery, { kind: "append" }>;
  assert.equal(next.kind, "append");
  assert.equal(next.catchUp, true, "a catch-up is thinned even when motion is wanted");
  assert.deepEqual(offsets(next.events), [12, 14, 15, 16, 17], "the page's changes, and the cursor's last place");
  assert.equal(tile.pending, 0);
  tile.push([mouseMove(20), mouseMove(21)], NOW);
  const after = tile.take(NOW, { motion: true }) as Extract<Delivery, { kind: "append" }>;
  assert.equal(after.catchUp, false, "caught up: back to every cursor move");
  assert.deepEqual(offsets(after.events), [20, 21]);
});

Deno.test("tile: a new snapshot while hidden is caught up by rebuilding from it", () => {
  const tile = mountedTile();
  tile.setActive(false);
  tile.push([click(10, 8), mutation(11, {})], NOW);
  tile.push([meta(20, "https://shop.example/next"), fullSnapshot(21), mouseMove(22)], NOW);
  tile.push([mutation(23, {})], NOW);
  assert.equal(tile.needsMount, true);
  assert.equal(tile.pending, 4, "the rebuild's events");
  tile.setActive(true);
  const next = tile.take(NOW);
  assert.equal(next?.kind, "mount");
  assert.deepEqual(offsets(next.events), [20, 21, 22, 23], "nothing from before the new page");
  assert.ok(next.kind === "mount" && next.baseline > T0 + 23, "live from after the newest event");
  tile.push([click(30, 8)], NOW);
  assert.deepEqual(tile.take(NOW)?.kind, "append");
});

Deno.test("tile: a new snapshot while active is appended (rrweb rebuilds the page itself)", () => {
  const tile = mountedTile();
  tile.push([click(10, 8), meta(20, "https://shop.example/next"), fullSnapshot(21)], NOW);
  const next = tile.take(NOW);
  assert.equal(next?.kind, "append");
  assert.deepEqual(offsets(next.events), [20, 21], "the click is not replayed");
  tile.unmounted();
  const again = tile.take(NOW);
  assert.equal(again?.kind, "mount", "remounting starts from the newest snapshot");
  assert.deepEqual(offsets(again.events), [20, 21]);
});

Deno.test("tile: a long absence rebuilds instead of applying thousands of events one by one", () => {
  const tile = mountedTile();
  tile.setActive(false);
  const many = Array.from({ length: REMOUNT_AFTER_EVENTS + 1 }, (_, i) => mutation(10 + i, {}));
  tile.push(many, NOW);
  assert.equal(tile.needsMount, true);
  tile.setActive(true);
  const next = tile.take(NOW);
  assert.equal(next?.kind, "mount");
  assert.equal(next.events.length, 2 + many.length, "the snapshot and everything since");
});

Deno.test("tile: a replayer that failed to mount waits for the next snapshot", () => {
  const tile = mountedTile();
  tile.mountFailed();
  assert.equal(tile.failed, true);
  tile.push([click(10, 8)], NOW);
  assert.equal(tile.take(NOW), undefined);
  tile.push([meta(20), fullSnapshot(21)], NOW);
  assert.equal(tile.failed, false);
  assert.deepEqual(offsets(tile.take(NOW)?.events ?? []), [20, 21]);
});

Deno.test("liveBaseline: near now on the capture clock, never before the newest applied event", () => {
  assert.equal(
    liveBaseline(NOW, NOW - 10_000, 0),
    NOW - LIVE_DELAY_MS,
    "an idle session does not lag by its idle time",
  );
  assert.equal(liveBaseline(NOW, NOW - 100, 0), NOW - 99, "never replays the last event twice");
  assert.equal(liveBaseline(NOW, NOW - 10_000, 5_000), NOW + 5_000 - LIVE_DELAY_MS, "a slow local clock is corrected");
  assert.equal(liveBaseline(NOW, NOW - 10_000, -5_000), NOW - LIVE_DELAY_MS, "arrival delay is not a clock error");
});

Deno.test("tile: how far the capture clock runs ahead of this browser's is learned from arrivals", () => {
  const tile = new TileState(ROW);
  // This browser's clock is 3 s behind the capture clock: events arrive "from the future".
  const arrival = T0 + 100 - 3_000;
  tile.push([meta(0), fullSnapshot(1), click(100, 8)], arrival);
  // The session then idles; the tile scrolls into view 10 s later.
  const later = arrival + 10_000;
  tile.setActive(true);
  const mount = tile.take(later);
  assert.equal(mount?.kind, "mount");
  assert.equal(mount.baseline, T0 + 100 + 10_000 - LIVE_DELAY_MS, "live at the capture clock's now, not 3 s behind");
});

Deno.test("compactForCatchUp keeps the page's changes in order and the cursor's last position", () => {
  const touchMove = { type: 3, timestamp: T0 + 3, data: { source: 6, positions: [] } };
  const events = [mouseMove(1), click(2, 8), touchMove, mutation(4, {}), mouseMove(5), custom(6, "replaya.track", {})];
  assert.deepEqual(offsets(compactForCatchUp(events)), [4, 5, 6]);
  assert.deepEqual(compactForCatchUp([]), []);
  assert.deepEqual(offsets(compactForCatchUp([click(1, 8)])), [], "a click alone changes nothing on the page");
});

Deno.test("thinPointer drops mouse interactions always, and cursor motion but the last unless kept", () => {
  const touchMove = { type: 3, timestamp: T0 + 3, data: { source: 6, positions: [] } };
  const scroll = { type: 3, timestamp: T0 + 7, data: { source: 3, id: 1, x: 0, y: 10 } };
  const events = [mouseMove(1), click(2, 8), touchMove, mutation(4, {}), mouseMove(5), scroll, input(8, 11)];
  assert.deepEqual(offsets(thinPointer(events, true)), [1, 3, 4, 5, 7, 8]);
  assert.deepEqual(offsets(thinPointer(events, false)), [4, 5, 7, 8]);
  assert.deepEqual(offsets(thinPointer([meta(0), fullSnapshot(1), custom(2, "replaya.error", {})], false)), [0, 1, 2]);
});
