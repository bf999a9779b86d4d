import assert from "node:assert/strict";
import {
  availableTabs,
  CONSOLE_LEVELS,
  consoleLevelCounts,
  consoleLevelOf,
  deriveFeed,
  FeedBuilder,
  type FeedItem,
  filterConsole,
  indexAtTime,
  INPUT_BURST_MS,
  isRepeat,
  itemsForTab,
  MASKED_VALUE,
  REPEAT_WINDOW_MS,
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
  const items = deriveFeed([meta(0), fullSnapshot(1), click(100, 9), click(200, 16), click(200, 12), click(300, 9)]);
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

Deno.test("feed: one toggle the page mirrors into seven more fields makes one input row", () => {
  // A click on a checkbox, and the page's script setting seven other inputs in the same task.
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    click(1_000, 18),
    input(1_002, 11),
    ...[16, 11, 16, 11, 16, 11, 16].map((id, i) => input(1_003 + i, id)),
  ]);
  const inputs = items.filter((item) => item.kind === "input");
  assert.equal(inputs.length, 1);
  assert.equal(inputs[0].count, 8);
  assert.equal(inputs[0].fields, 2);
  assert.equal(inputs[0].text, "Input in input “Email” and 1 other field");
  assert.equal(inputs[0].ts, T0 + 1_002);
  assert.equal(inputs[0].lastTs, T0 + 1_009);
});

Deno.test("isRepeat: which consecutive rows collapse", () => {
  const row = (fields: Partial<FeedItem>): FeedItem => ({
    key: "k",
    kind: "click",
    ts: T0,
    text: "Click on a",
    ...fields,
  });
  // Inputs: the same field at any pace, a burst across fields, the same description within the window.
  const typed = row({ kind: "input", text: "Input in a", nodeId: 1 });
  assert.ok(isRepeat(typed, row({ kind: "input", text: "Input in a", nodeId: 1, ts: T0 + 60_000 })));
  assert.ok(isRepeat(typed, row({ kind: "input", text: "Input in b", nodeId: 2, ts: T0 + INPUT_BURST_MS })));
  assert.ok(!isRepeat(typed, row({ kind: "input", text: "Input in b", nodeId: 2, ts: T0 + INPUT_BURST_MS + 1 })));
  assert.ok(isRepeat(typed, row({ kind: "input", text: "Input in a", nodeId: 3, ts: T0 + 1_000 })));
  // Identical clicks, console messages and errors within the window; not after it, not when different.
  const clicked = row({});
  assert.ok(isRepeat(clicked, row({ ts: T0 + REPEAT_WINDOW_MS })));
  assert.ok(!isRepeat(clicked, row({ ts: T0 + REPEAT_WINDOW_MS + 1 })));
  assert.ok(!isRepeat(clicked, row({ text: "Click on b", ts: T0 + 10 })));
  assert.ok(
    isRepeat({ ...clicked, lastTs: T0 + 1_500 }, row({ ts: T0 + 3_000 })),
    "the window runs from the last repeat",
  );
  const log = row({ kind: "console", text: "retry", level: "warn" });
  assert.ok(isRepeat(log, row({ kind: "console", text: "retry", level: "warn", ts: T0 + 5 })));
  assert.ok(!isRepeat(log, row({ kind: "console", text: "retry", level: "error", ts: T0 + 5 })));
  // Never: pages, requests, other kinds, earlier events.
  assert.ok(!isRepeat(row({ kind: "network", text: "GET /a" }), row({ kind: "network", text: "GET /a", ts: T0 + 1 })));
  assert.ok(!isRepeat(row({ kind: "page", text: "/" }), row({ kind: "page", text: "/", ts: T0 + 1 })));
  assert.ok(!isRepeat(clicked, row({ kind: "input", text: "Click on a" })));
  assert.ok(!isRepeat(clicked, row({ ts: T0 - 1 })));
});

Deno.test("feed: a rage click and a log loop collapse into one row each, with counts", () => {
  const items = deriveFeed([
    meta(0),
    fullSnapshot(1),
    ...[100, 250, 400, 550, 700].map((t) => click(t, 9)),
    click(800, 12),
    ...[1_000, 1_010, 1_020].map((t) => custom(t, "replaya.console", { level: "error", message: "retry failed" })),
    click(9_000, 9),
  ]);
  assert.deepEqual(items.map((item) => [item.kind, item.count ?? 1]), [
    ["page", 1],
    ["click", 5],
    ["click", 1],
    ["console", 3],
    ["click", 1],
  ]);
});

Deno.test("feed: requests keep method, URL, status, duration and size for the network pane", () => {
  const [ok, failed] = deriveFeed([
    custom(10, "replaya.network", {
      type: "fetch",
      method: "get",
      url: "https://shop.example/api/cart",
      status: 200,
      durationMs: 87,
      size: 2_345,
    }),
    custom(20, "replaya.network", { type: "xhr", method: "POST", url: "/pay", status: 0, error: true }),
  ]);
  assert.deepEqual(ok.request, {
    method: "GET",
    url: "https://shop.example/api/cart",
    status: 200,
    failed: false,
    durationMs: 87,
    size: 2_345,
    type: "fetch",
  });
  assert.equal(ok.detail, "200 · 87 ms · 2.3 KiB");
  assert.equal(failed.request?.failed, true);
  assert.equal(failed.request?.size, undefined);
  assert.equal(failed.level, "error");
});

Deno.test("console pane: filters by level and by text, case-insensitively, in messages and details", () => {
  const items = itemsForTab(
    deriveFeed([
      custom(10, "replaya.console", { level: "log", message: "cart loaded" }),
      custom(20, "replaya.console", { level: "warn", message: "Slow response" }),
      custom(30, "replaya.console", { level: "debug", message: "tick" }),
      custom(40, "replaya.error", { message: "TypeError: x", source: "https://shop.example/cart.js", line: 3 }),
      custom(50, "replaya.console", { level: "bogus", message: "odd level" }),
    ]),
    "console",
  );
  assert.deepEqual(items.map(consoleLevelOf), ["log", "warn", "debug", "error", "log"]);
  assert.deepEqual([...consoleLevelCounts(items)], [["log", 2], ["warn", 1], ["debug", 1], ["error", 1]]);
  const all = new Set(CONSOLE_LEVELS);
  const texts = (filter: { levels: ReadonlySet<string>; query: string }) =>
    filterConsole(items, filter).map((item) => item.text);
  assert.equal(texts({ levels: all, query: "" }).length, 5);
  assert.deepEqual(texts({ levels: new Set(["error", "warn"]), query: "" }), ["Slow response", "TypeError: x"]);
  assert.deepEqual(texts({ levels: all, query: "  CART " }), ["cart loaded", "TypeError: x"], "the detail counts");
  assert.deepEqual(texts({ levels: new Set(["log"]), query: "cart" }), ["cart loaded"]);
  assert.deepEqual(texts({ levels: new Set(), query: "" }), []);
});
