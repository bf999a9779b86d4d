import assert from "node:assert/strict";
import {
  availableTabs,
  deriveFeed,
  FeedBuilder,
  indexAtTime,
  itemsForTab,
  MASKED_VALUE,
} from "../../islands/player/feed.ts";
import { click, custom, fullSnapshot, input, meta, mouseMove, T0 } from "./_events.ts";

Deno.test("feed: clicks name their target, page changes carry the URL, mouse moves are not listed", () => {
  const items = deriveFeed([
    meta(0, "https://shop.example/"),
    fullSnapshot(1),
    mouseMove(50),
    click(100, 9),
    click(200, 12),
    meta(300, "https://shop.example/pricing"),
    fullSnapshot(301),
  ]);
  assert.deepEqual(
    items.map((item) => [item.kind, item.ts - T0, item.text]),
    [
      ["page", 0, "https://shop.example/"],
      ["click", 100, "Click on button “Buy now”"],
      ["click", 200, "Click on link “Pricing”"],
      ["page", 300, "https://shop.example/pricing"],
    ],
  );
});

Deno.test("feed: a Meta event for the same URL (a periodic re-snapshot) is not a page change", () => {
  const items = deriveFeed([meta(0), fullSnapshot(1), meta(5_000), fullSnapshot(5_001)]);
  assert.equal(items.filter((item) => item.kind === "page").length, 1);
});

Deno.test("feed: a click on a node the index has never seen shows its id", () => {
  const [item] = deriveFeed([click(10, 4242)]);
  assert.equal(item.kind, "click");
  assert.equal(item.text, "Click on node #4242");
});

Deno.test("feed: inputs are masked, and keystrokes into one field make one row", () => {
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    input(100, 11, "*"),
    input(150, 11, "**"),
    input(200, 11, "***"),
    click(300, 9),
    input(400, 16, "*"),
    input(450, 16, "", false),
  ]);
  const inputs = items.filter((item) => item.kind === "input");
  assert.equal(inputs.length, 2);
  assert.equal(inputs[0].text, "Input in input “Email”");
  assert.equal(inputs[0].count, 3);
  assert.equal(inputs[0].ts, T0 + 100);
  assert.equal(inputs[1].text, "Input in textarea#note");
  assert.equal(inputs[1].count, 1, "a programmatic change (userTriggered: false) is not counted");
  for (const item of inputs) {
    assert.equal(item.detail, MASKED_VALUE);
    assert.ok(!JSON.stringify(item).includes("*"), "no recorded value leaks into the feed");
  }
});

Deno.test("feed: recorder custom events become error, console, network, track, identify rows", () => {
  const items = deriveFeed([
    custom(10, "replaya.error", {
      kind: "error",
      message: "TypeError: x is undefined",
      stack: "TypeError: x is undefined\n    at buy (https://shop.example/app.js:10:5)",
      source: "https://shop.example/app.js",
      line: 10,
    }),
    custom(20, "replaya.error", {
      kind: "unhandledrejection",
      message: "boom",
      stack: "Error: boom\n    at f (a.js:1:1)",
    }),
    custom(30, "replaya.console", { level: "warn", message: "slow response" }),
    custom(40, "replaya.network", {
      method: "post",
      url: "https://shop.example/api/cart",
      status: 201,
      durationMs: 87,
    }),
    custom(50, "replaya.network", {
      method: "GET",
      url: "https://shop.example/api/price",
      status: 0,
      durationMs: 1500,
      error: true,
    }),
    custom(60, "replaya.track", { name: "checkout_started", props: { items: 2 } }),
    custom(70, "replaya.identify", { userId: "user-42", traits: { email: "a@b.c" } }),
    custom(80, "my-own-tag", { anything: true }),
  ]);
  assert.deepEqual(
    items.map((item) => [item.kind, item.text, item.detail, item.level]),
    [
      ["error", "TypeError: x is undefined", "https://shop.example/app.js:10", "error"],
      ["error", "boom", "at f (a.js:1:1)", "error"],
      ["console", "slow response", undefined, "warn"],
      ["network", "POST https://shop.example/api/cart", "201 · 87 ms", undefined],
      ["network", "GET https://shop.example/api/price", "failed · 1.5 s", "error"],
      ["track", "checkout_started", undefined, undefined],
      ["identify", "Identified as user-42", undefined, undefined],
      ["track", "my-own-tag", undefined, undefined],
    ],
  );
  assert.ok(!JSON.stringify(items).includes("a@b.c"), "traits are not shown");
});

Deno.test("feed: a gap says how many events were dropped and ends at the next event", () => {
  const builder = new FeedBuilder();
  builder.push([meta(0), fullSnapshot(1), custom(1_000, "replaya.gap", { droppedEvents: 120, droppedBytes: 48_000 })]);
  const open = builder.items.find((item) => item.kind === "gap")!;
  assert.equal(open.text, "120 events dropped by the recorder");
  assert.equal(open.detail, "47 KiB lost");
  assert.equal(open.endTs, T0 + 1_000);
  // The band closes when the next batch brings the first event after the gap.
  builder.push([mouseMove(9_000)]);
  const closed = builder.items.find((item) => item.kind === "gap")!;
  assert.equal(closed.endTs, T0 + 9_000);
  assert.notEqual(closed, open, "the changed item is a new object, so views re-render it");
});

Deno.test("feed: items stay sorted when a late event arrives, and keys stay unique", () => {
  const builder = new FeedBuilder();
  builder.push([meta(0), fullSnapshot(1), click(500, 9)]);
  builder.push([custom(200, "replaya.console", { level: "log", message: "late" })]);
  const items = builder.items;
  assert.deepEqual(items.map((item) => item.ts - T0), [0, 200, 500]);
  assert.equal(new Set(items.map((item) => item.key)).size, items.length);
});

Deno.test("feed: items is the same array until something changes", () => {
  const builder = new FeedBuilder();
  builder.push([meta(0)]);
  const first = builder.items;
  assert.equal(builder.items, first);
  builder.push([mouseMove(10)]);
  assert.equal(builder.items, first, "a mouse move adds no row");
  builder.push([click(20, 1)]);
  assert.notEqual(builder.items, first);
  assert.equal(builder.items.length, 2);
});

Deno.test("feed: indexAtTime finds the last item at or before a time", () => {
  const items = deriveFeed([meta(0), fullSnapshot(1), click(100, 9), click(200, 9), click(200, 12), click(300, 9)]);
  assert.equal(indexAtTime(items, T0 - 1), -1);
  assert.equal(indexAtTime(items, T0), 0);
  assert.equal(indexAtTime(items, T0 + 150), 1);
  assert.equal(indexAtTime(items, T0 + 200), 3);
  assert.equal(indexAtTime(items, T0 + 10_000), 4);
  assert.equal(indexAtTime([], T0), -1);
});

Deno.test("feed: Console and Network tabs exist only when such items do", () => {
  const plain = deriveFeed([meta(0), fullSnapshot(1), click(10, 9), custom(20, "replaya.error", { message: "x" })]);
  assert.deepEqual(availableTabs(plain), ["activity"]);
  const rich = deriveFeed([
    meta(0),
    custom(10, "replaya.console", { level: "log", message: "hi" }),
    custom(20, "replaya.network", { method: "GET", url: "/a", status: 200, durationMs: 5 }),
    custom(30, "replaya.error", { message: "x" }),
  ]);
  assert.deepEqual(availableTabs(rich), ["activity", "console", "network"]);
  assert.deepEqual(itemsForTab(rich, "console").map((item) => item.kind), ["console", "error"]);
  assert.deepEqual(itemsForTab(rich, "network").map((item) => item.kind), ["network"]);
  assert.equal(itemsForTab(rich, "activity").length, 4);
});

Deno.test("feed: malformed events and payloads are skipped or shown safely", () => {
  const items = deriveFeed([
    { type: 4, timestamp: T0, data: null },
    { type: 3, timestamp: T0 + 1, data: "junk" },
    { type: 3, timestamp: T0 + 2, data: { source: 2, type: 2 } },
    custom(3, "replaya.network", { status: "200" }),
    { type: 5, timestamp: T0 + 4, data: { tag: 7 } },
  ]);
  assert.deepEqual(items.map((item) => [item.kind, item.text]), [["click", "Click"], ["network", "GET"]]);
});
