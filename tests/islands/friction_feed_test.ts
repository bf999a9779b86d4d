/**
 * The player's friction rows and marks (islands/player/feed.ts, markers.ts):
 * signals from the server's report become feed rows with a jump-to offset
 * and timeline markers of their own kind, merged by time with the rows the
 * player derives from events.
 */

import assert from "node:assert/strict";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { deriveFeed, frictionFeedItems, type FrictionSignalProp, mergeFeed } from "../../islands/player/feed.ts";
import { MARKER_LEGEND, markerKindOf, timelineMarkers } from "../../islands/player/markers.ts";

const T0 = 1_700_000_000_000;
const signals: FrictionSignalProp[] = [
  { kind: "dead", at: T0 + 3_000, nodeId: 13, element: "div.promo “Free shipping”", page: "https://shop.example/" },
  { kind: "rage", at: T0 + 1_000, nodeId: 10, count: 3, element: "button#buy “Buy now”" },
  { kind: "thrash", at: T0 + 9_000, nodeId: 1, count: 3, detail: "scroll" },
  { kind: "abandoned_form", at: T0 + 14_000, nodeId: 20, count: 2 },
];

Deno.test("friction feed: one row per signal, by time, saying what and where", () => {
  const rows = frictionFeedItems(signals);
  assert.deepEqual(rows.map((r) => [r.kind, r.friction, r.ts - T0, r.text, r.detail]), [
    ["friction", "rage", 1_000, "Rage click on button#buy “Buy now”", "3 clicks"],
    ["friction", "dead", 3_000, "Dead click on div.promo “Free shipping”", "https://shop.example/"],
    ["friction", "thrash", 9_000, "Thrashing (scroll) on node #1", "3 reversals"],
    ["friction", "abandoned_form", 14_000, "Abandoned form on node #20", "2 fields"],
  ]);
  assert.equal(new Set(rows.map((r) => r.key)).size, 4);
  assert.ok(rows.every((r) => r.key.startsWith("x")), "keys apart from the event rows' (f0, f1, …)");
  // Hostile or unknown input from the props is dropped, not rendered.
  const odd = [{ kind: "nonsense", at: T0 }, { kind: "dead", at: Number.NaN }] as unknown as FrictionSignalProp[];
  assert.deepEqual(frictionFeedItems(odd), []);
});

Deno.test("friction feed: merged by time into the event rows, the event's own row first", () => {
  const events: RrwebEvent[] = [
    { type: 4, timestamp: T0, data: { href: "https://shop.example/" } },
    { type: 3, timestamp: T0 + 1_000, data: { source: 2, type: 2, id: 10, x: 1, y: 1 } },
    { type: 3, timestamp: T0 + 5_000, data: { source: 2, type: 2, id: 11, x: 300, y: 1 } },
  ];
  const feed = deriveFeed(events);
  const merged = mergeFeed(feed, frictionFeedItems(signals));
  assert.deepEqual(merged.map((r) => `${r.kind}@${r.ts - T0}`), [
    "page@0",
    "click@1000",
    "friction@1000",
    "friction@3000",
    "click@5000",
    "friction@9000",
    "friction@14000",
  ]);
  assert.equal(mergeFeed(feed, []), feed, "nothing to merge: the same array");
});

Deno.test("friction markers: their own kind on the timeline, in the legend, never merged with clicks", () => {
  const rows = frictionFeedItems(signals);
  assert.ok(rows.every((r) => markerKindOf(r) === "friction"));
  assert.ok(MARKER_LEGEND.some((l) => l.kind === "friction" && l.label === "Friction"));
  const clicks = deriveFeed([{ type: 3, timestamp: T0 + 1_000, data: { source: 2, type: 2, id: 10, x: 1, y: 1 } }]);
  const markers = timelineMarkers(mergeFeed(clicks, rows), T0, 20_000);
  assert.deepEqual(markers.map((m) => [m.kind, m.at, m.label]), [
    ["click", 1_000, "Click on node #10"],
    ["friction", 1_000, "Rage click on button#buy “Buy now”"],
    ["friction", 3_000, "Dead click on div.promo “Free shipping”"],
    ["friction", 9_000, "Thrashing (scroll) on node #1"],
    ["friction", 14_000, "Abandoned form on node #20"],
  ]);
  // Close together on a long session: merged into one mark that counts them.
  const crowded = timelineMarkers(rows, T0, 10_000_000);
  assert.equal(crowded.length, 1);
  assert.match(crowded[0].label, /^4 friction signals \(first: Rage click/);
});
