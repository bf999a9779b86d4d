import assert from "node:assert/strict";
import {
  inactiveTotal,
  INACTIVITY_THRESHOLD_MS,
  InactivityTracker,
  isActivity,
  SKIP_LEAD_MS,
  skipTarget,
} from "../../islands/player/inactivity.ts";
import { click, custom, fullSnapshot, input, meta, mouseMove, mutation, T0 } from "./_events.ts";

function stretchesOf(...batches: Parameters<InactivityTracker["push"]>[0][]) {
  const tracker = new InactivityTracker();
  for (const batch of batches) tracker.push(batch);
  return tracker.stretches();
}

Deno.test("inactivity: the visitor's input and page loads are activity; DOM changes, logs and requests are not", () => {
  assert.ok(isActivity(meta(0)));
  assert.ok(isActivity(fullSnapshot(0)));
  assert.ok(isActivity(mouseMove(0)));
  assert.ok(isActivity(click(0, 9)));
  assert.ok(isActivity(input(0, 11)));
  assert.ok(isActivity({ type: 3, timestamp: T0, data: { source: 3, id: 1, x: 0, y: 40 } }), "scroll");
  assert.ok(isActivity({ type: 3, timestamp: T0, data: { source: 4, width: 800, height: 600 } }), "resize");
  assert.ok(!isActivity(mutation(0, { texts: [{ id: 10, value: "tick" }] })));
  assert.ok(!isActivity(custom(0, "replaya.console", { level: "log", message: "x" })));
  assert.ok(!isActivity(custom(0, "replaya.network", { url: "/a", status: 200 })));
  assert.ok(!isActivity({ type: 3, timestamp: T0, data: "junk" }));
});

Deno.test("inactivity: a 12 s idle stretch in a 24 s session is found; short pauses are not", () => {
  const stretches = stretchesOf([
    meta(0),
    fullSnapshot(1),
    mouseMove(1_000),
    click(2_000, 9),
    mutation(8_000, {}),
    click(14_000, 9),
    mouseMove(17_000),
    mouseMove(21_500),
    click(24_000, 9),
  ]);
  assert.deepEqual(stretches, [{ start: 2_000, end: 14_000 }]);
  assert.equal(inactiveTotal(stretches), 12_000);
});

Deno.test("inactivity: a quiet start and a quiet end are stretches too", () => {
  const stretches = stretchesOf([
    custom(0, "replaya.identify", { userId: "u" }),
    meta(6_000),
    fullSnapshot(6_001),
    click(7_000, 9),
    mutation(20_000, {}),
  ]);
  assert.deepEqual(stretches, [{ start: 0, end: 6_000 }, { start: 7_000, end: 20_000 }]);
  assert.deepEqual(stretchesOf([mutation(0, {}), mutation(9_000, {})]), [{ start: 0, end: 9_000 }], "no activity");
  assert.deepEqual(stretchesOf([]), []);
});

Deno.test("inactivity: found batch by batch, and a late event splits the stretch it falls into", () => {
  const tracker = new InactivityTracker();
  tracker.push([meta(0), fullSnapshot(1)]);
  tracker.push([click(30_000, 9)]);
  const before = tracker.stretches();
  assert.deepEqual(before, [{ start: 1, end: 30_000 }]);
  assert.equal(tracker.stretches(), before, "the same array until something changes");
  tracker.push([click(12_000, 9)]);
  assert.deepEqual(tracker.stretches(), [{ start: 1, end: 12_000 }, { start: 12_000, end: 30_000 }]);
  tracker.push([click(10_000, 9), mouseMove(14_000)]);
  assert.deepEqual(tracker.stretches(), [{ start: 1, end: 10_000 }, { start: 14_000, end: 30_000 }]);
  tracker.push([click(-8_000, 9)]);
  assert.deepEqual(
    tracker.stretches(),
    [{ start: 0, end: 8_000 }, { start: 8_001, end: 18_000 }, { start: 22_000, end: 38_000 }],
    "an earlier first event moves the origin",
  );
});

Deno.test("inactivity: the threshold is exclusive", () => {
  const at = INACTIVITY_THRESHOLD_MS;
  assert.deepEqual(stretchesOf([meta(0), click(at, 9)]), []);
  assert.deepEqual(stretchesOf([meta(0), click(at + 1, 9)]), [{ start: 0, end: at + 1 }]);
});

Deno.test("skipTarget: inside a stretch, jump to just before its end; elsewhere, or already there, stay", () => {
  const stretches = [{ start: 2_000, end: 14_000 }, { start: 20_000, end: 40_000 }];
  assert.equal(skipTarget(stretches, 1_999), undefined);
  assert.equal(skipTarget(stretches, 2_000), 14_000 - SKIP_LEAD_MS);
  assert.equal(skipTarget(stretches, 9_000), 14_000 - SKIP_LEAD_MS);
  assert.equal(skipTarget(stretches, 13_000), undefined, "already at the landing point");
  assert.equal(skipTarget(stretches, 16_000), undefined);
  assert.equal(skipTarget(stretches, 25_000), 40_000 - SKIP_LEAD_MS);
  assert.equal(skipTarget(stretches, 40_000), undefined);
  assert.equal(skipTarget([], 5_000), undefined);
});
