import assert from "node:assert/strict";
import { deriveFeed, FeedBuilder } from "../../islands/player/feed.ts";
import {
  markerKindOf,
  markersNear,
  offsetAtPosition,
  percentOf,
  timelineMarkers,
} from "../../islands/player/markers.ts";
import { click, custom, fullSnapshot, input, meta, mouseMove, T0 } from "./_events.ts";

Deno.test("markers: clicks, inputs, pages, errors, console warnings/errors, failed requests and gaps are marked", () => {
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    click(10_000, 9),
    input(12_000, 11),
    custom(15_000, "replaya.console", { level: "log", message: "x" }),
    custom(16_000, "replaya.console", { level: "warn", message: "slow" }),
    custom(17_000, "replaya.console", { level: "error", message: "bad" }),
    custom(18_000, "replaya.network", { method: "GET", url: "/ok", status: 200, durationMs: 5 }),
    custom(19_000, "replaya.network", { method: "POST", url: "/cart", status: 500, durationMs: 5 }),
    custom(19_500, "replaya.network", { method: "GET", url: "/x", status: 0, error: true }),
    custom(20_000, "replaya.error", { message: "TypeError" }),
    custom(21_000, "replaya.track", { name: "signup" }),
    meta(30_000, "https://shop.example/next"),
    fullSnapshot(30_001),
    custom(40_000, "replaya.gap", { droppedEvents: 3, droppedBytes: 100 }),
    mouseMove(50_000),
  ]);
  const markers = timelineMarkers(items, T0, 60_000);
  assert.deepEqual(
    markers.map((m) => [m.kind, m.at, m.end, m.level]),
    [
      ["page", 0, undefined, undefined],
      ["click", 10_000, undefined, undefined],
      ["input", 12_000, undefined, undefined],
      ["console", 16_000, undefined, "warn"],
      ["console", 17_000, undefined, "error"],
      ["network", 19_000, undefined, undefined],
      ["network", 19_500, undefined, undefined],
      ["error", 20_000, undefined, undefined],
      ["page", 30_000, undefined, undefined],
      ["gap", 40_000, 50_000, undefined],
    ],
  );
  assert.equal(markers[9].label, "3 events dropped by the recorder");
  assert.equal(markers[7].label, "TypeError");
  assert.equal(markers[5].label, "POST /cart");
});

Deno.test("markerKindOf: which feed rows the timeline marks", () => {
  const kinds = deriveFeed([
    meta(0),
    click(1, 9),
    input(2, 11),
    custom(3, "replaya.console", { level: "info", message: "i" }),
    custom(4, "replaya.console", { level: "warn", message: "w" }),
    custom(5, "replaya.network", { url: "/a", status: 404 }),
    custom(6, "replaya.network", { url: "/b", status: 204 }),
    custom(7, "replaya.identify", { userId: "u" }),
    custom(8, "replaya.error", { message: "e" }),
  ]).map((item) => [item.kind, markerKindOf(item)]);
  assert.deepEqual(kinds, [
    ["page", "page"],
    ["click", "click"],
    ["input", "input"],
    ["console", undefined],
    ["console", "console"],
    ["network", "network"],
    ["network", undefined],
    ["identify", undefined],
    ["error", "error"],
  ]);
});

Deno.test("markersNear: what the hover tip lists, nearest first, gap bands when inside them", () => {
  const markers = [
    { key: "a", kind: "click" as const, at: 1_000, label: "A" },
    { key: "b", kind: "error" as const, at: 1_040, label: "B" },
    { key: "c", kind: "page" as const, at: 5_000, label: "C" },
    { key: "g", kind: "gap" as const, at: 7_000, end: 9_000, label: "G" },
  ];
  assert.deepEqual(markersNear(markers, 1_030, 50).map((m) => m.key), ["b", "a"]);
  assert.deepEqual(markersNear(markers, 3_000, 50), []);
  assert.deepEqual(markersNear(markers, 8_000, 50).map((m) => m.key), ["g"]);
  assert.deepEqual(markersNear(markers, 1_000, 10_000, 2).map((m) => m.key), ["a", "b"], "at most `limit`");
});

Deno.test("offsetAtPosition: a click within a few pixels of an edge is exactly the start or the end", () => {
  assert.equal(offsetAtPosition(799, 800, 20_000), 20_000);
  assert.equal(offsetAtPosition(900, 800, 20_000), 20_000);
  assert.equal(offsetAtPosition(2, 800, 20_000), 0);
  assert.equal(offsetAtPosition(400, 800, 20_000), 10_000);
  assert.equal(offsetAtPosition(400, 0, 20_000), 0);
  assert.equal(offsetAtPosition(400, 800, 0), 0);
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
  assert.equal(clicks[0].label, "3 clicks (first: Click on button “Buy now”)", "a row's repeats count");
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
