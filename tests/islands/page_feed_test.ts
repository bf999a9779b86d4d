import assert from "node:assert/strict";
import { deriveFeed } from "../../islands/player/feed.ts";
import { markerKindOf } from "../../islands/player/markers.ts";
import { custom, fullSnapshot, meta, T0 } from "./_events.ts";
import { TileState } from "../../islands/wall/tile.ts";

Deno.test("feed: in-page navigations (replaya.page) are page rows like page loads, repeats of one URL not", () => {
  const items = deriveFeed([
    meta(0, "https://app.example/"),
    fullSnapshot(1),
    custom(100, "replaya.page", { href: "https://app.example/products" }),
    custom(150, "replaya.page", { href: "https://app.example/products" }),
    custom(200, "replaya.page", { href: "" }),
    custom(250, "replaya.page", { href: 42 }),
    custom(300, "replaya.page", {}),
    custom(400, "replaya.page", { href: "https://app.example/" }),
    meta(500, "https://app.example/"), // a re-snapshot of the page the app is on
    fullSnapshot(501),
  ]);
  const pages = items.filter((item) => item.kind === "page");
  assert.deepEqual(pages.map((item) => [item.ts - T0, item.text]), [
    [0, "https://app.example/"],
    [100, "https://app.example/products"],
    [400, "https://app.example/"],
  ]);
  assert.ok(pages.every((item) => markerKindOf(item) === "page"), "and page markers on the timeline");
  assert.equal(items.length, pages.length, "nothing else came of them");
});

Deno.test("wall tile: an in-page navigation is the tile's page until the next", () => {
  const tile = new TileState({
    id: "9999999999999abcdefabcdef",
    createdAt: T0,
    url: "https://app.example/",
    live: true,
  });
  tile.push([meta(0, "https://app.example/"), fullSnapshot(1)], T0 + 10);
  tile.push([custom(100, "replaya.page", { href: "https://app.example/reports" })], T0 + 200);
  assert.equal(tile.facts.page, "https://app.example/reports");
  tile.push([custom(200, "replaya.page", { href: "" }), custom(201, "replaya.page", {})], T0 + 300);
  assert.equal(tile.facts.page, "https://app.example/reports", "an empty one changes nothing");
});
