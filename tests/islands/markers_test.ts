import assert from "node:assert/strict";
import { deriveFeed, FeedBuilder } from "../../islands/player/feed.ts";
import { percentOf, timelineMarkers } from "../../islands/player/markers.ts";
import { click, custom, fullSnapshot, input, meta, mouseMove, T0 } from "./_events.ts";

Deno.test("markers: clicks, page changes, errors and gaps are marked; other rows are not", () => {
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    click(10_000, 9),
    input(12_000, 11),
    custom(15_000, "replaya.console", { level: "log", message: "x" }),
    custom(20_000, "replaya.error", { message: "TypeError" }),
    meta(30_000, "https://shop.example/next"),
    fullSnapshot(30_001),
    custom(40_000, "replaya.gap", { droppedEvents: 3, droppedBytes: 100 }),
    mouseMove(50_000),
  ]);
  const markers = timelineMarkers(items, T0, 60_000);
  assert.deepEqual(
    markers.map((m) => [m.kind, m.at, m.end]),
    [
      ["page", 0, undefined],
      ["click", 10_000, undefined],
      ["error", 20_000, undefined],
      ["page", 30_000, undefined],
      ["gap", 40_000, 50_000],
    ],
  );
  assert.equal(markers[4].label, "3 events dropped by the recorder");
  assert.equal(markers[2].label, "TypeError");
});

Deno.test("markers: close points of one kind merge into one with a count; other kinds are kept", () => {
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    click(1_000, 9),
    click(1_100, 9),
    click(1_200, 12),
    custom(1_150, "replaya.error", { message: "E" }),
    click(50_000, 9),
  ]);
  const markers = timelineMarkers(items, T0, 100_000, 0.01);
  const clicks = markers.filter((m) => m.kind === "click");
  assert.equal(clicks.length, 2);
  assert.equal(clicks[0].at, 1_000);
  assert.equal(clicks[0].label, "3 clicks (first: Click on button “Buy now”)");
  assert.equal(clicks[1].label, "Click on button “Buy now”");
  assert.equal(markers.filter((m) => m.kind === "error").length, 1);
});

Deno.test("markers: gap bands are never merged, and stay inside the timeline", () => {
  const builder = new FeedBuilder();
  builder.push([
    meta(0),
    custom(1_000, "replaya.gap", { droppedEvents: 1 }),
    mouseMove(1_010),
    custom(1_020, "replaya.gap", { droppedEvents: 2 }),
  ]);
  const markers = timelineMarkers(builder.items, T0, 1_015);
  const gaps = markers.filter((m) => m.kind === "gap");
  assert.equal(gaps.length, 2);
  assert.deepEqual(gaps.map((g) => [g.at, g.end]), [[1_000, 1_010], [1_015, 1_015]]);
});

Deno.test("percentOf: clamps into 0–100 and survives an empty timeline", () => {
  assert.equal(percentOf(250, 1_000), 25);
  assert.equal(percentOf(2_000, 1_000), 100);
  assert.equal(percentOf(-5, 1_000), 0);
  assert.equal(percentOf(10, 0), 0);
});
