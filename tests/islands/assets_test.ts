/**
 * The player's side of the asset cache: the session's map, the rewrite of
 * recorded URLs to cached copies before rrweb sees them (whole URLs only, in
 * every place the server extracts them from), and the notice's tally and text.
 */

import assert from "node:assert/strict";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { AssetFailures, assetNotice, assetRewriter, NO_ASSETS, parseAssetMap } from "../../islands/player/assets.ts";
import { assetUrls } from "../../lib/assets/extract.ts";
import { bodySnapshot } from "../support/assets.ts";

const S = "https://shop.example";
const H1 = "1".repeat(64);
const H2 = "2".repeat(64);
const DASH = "https://replay.example";

Deno.test("asset map: cached URLs become absolute /api/assets URLs on the dashboard; junk is left out", () => {
  const map = parseAssetMap(
    {
      enabled: true,
      assets: {
        [`${S}/a.png`]: { hash: H1, type: "image/png" },
        [`${S}/b.png`]: { hash: "../../etc", type: "image/png" },
        [`${S}/c.png`]: null,
      },
      failed: { [`${S}/d.png`]: "http_error" },
    },
    "",
    DASH,
  );
  assert.equal(map.enabled, true);
  assert.deepEqual([...map.urls], [[`${S}/a.png`, `${DASH}/api/assets/${H1}`]]);
  assert.deepEqual(parseAssetMap("nope", "", DASH), NO_ASSETS);
  assert.equal(parseAssetMap({ assets: {} }, "", DASH).enabled, false);
  const elsewhere = parseAssetMap({ enabled: true, assets: { x: { hash: H2 } } }, "https://api.example/base/", DASH);
  assert.equal(elsewhere.urls.get("x"), `https://api.example/api/assets/${H2}`);
});

Deno.test("asset rewrite: every place a URL is recorded, whole URLs only, other events untouched", () => {
  const rewrite = assetRewriter(
    new Map([[`${S}/a.png`, `${DASH}/api/assets/${H1}`], [`${S}/font.woff2`, `${DASH}/api/assets/${H2}`]]),
  );
  const snapshot = bodySnapshot([
    { type: 2, id: 3, tagName: "img", attributes: { src: `${S}/a.png`, srcset: `${S}/a.png 1x, ${S}/b.png 2x` } },
    { type: 2, id: 4, tagName: "img", attributes: { src: `${S}/a.png?v=2` } },
    { type: 2, id: 5, tagName: "img", attributes: { src: `${S}/a.png.bak` } },
    { type: 2, id: 6, tagName: "a", attributes: { href: `https://proxy.example/?u=${S}/a.png` } },
    {
      type: 2,
      id: 7,
      tagName: "link",
      attributes: { _cssText: `@font-face{src:url('${S}/font.woff2')}.x{background:url(${S}/a.png)}` },
    },
  ], { bodyAttributes: { style: `background:url("${S}/a.png")` }, timestamp: 1 });
  const out = rewrite(snapshot) as unknown as { data: { node: { childNodes: Array<Record<string, unknown>> } } };
  const body = out.data.node.childNodes[0] as { attributes: Record<string, string>; childNodes: unknown[] };
  const [img, query, suffix, link, sheet] = body.childNodes as Array<{ attributes: Record<string, string> }>;
  assert.equal(body.attributes.style, `background:url("${DASH}/api/assets/${H1}")`);
  assert.equal(img.attributes.src, `${DASH}/api/assets/${H1}`);
  assert.equal(img.attributes.srcset, `${DASH}/api/assets/${H1} 1x, ${S}/b.png 2x`);
  assert.equal(query.attributes.src, `${S}/a.png?v=2`, "another URL that starts the same is left alone");
  assert.equal(suffix.attributes.src, `${S}/a.png.bak`);
  assert.equal(link.attributes.href, `https://proxy.example/?u=${S}/a.png`, "not a URL of its own");
  assert.equal(
    sheet.attributes._cssText,
    `@font-face{src:url('${DASH}/api/assets/${H2}')}.x{background:url(${DASH}/api/assets/${H1})}`,
  );
  assert.equal(JSON.stringify(snapshot).includes(DASH), false, "the original event is not modified");

  const mutation: RrwebEvent = {
    type: 3,
    timestamp: 2,
    data: {
      source: 0,
      adds: [{
        parentId: 2,
        nextId: null,
        node: { type: 2, id: 9, tagName: "img", attributes: { src: `${S}/a.png` } },
      }],
      attributes: [{ id: 3, attributes: { style: { "background-image": `url(${S}/a.png)` } } }],
      texts: [],
      removes: [],
    },
  };
  const rewritten = JSON.stringify(rewrite(mutation));
  assert.equal(rewritten.split(`${DASH}/api/assets/${H1}`).length - 1, 2);
  const move: RrwebEvent = { type: 3, timestamp: 3, data: { source: 1, positions: [], href: `${S}/a.png` } };
  assert.equal(rewrite(move), move, "pointer moves are not even looked at");
  const meta: RrwebEvent = { type: 4, timestamp: 0, data: { href: `${S}/a.png`, width: 1, height: 1 } };
  assert.equal(rewrite(meta), meta);
  assert.equal(assetRewriter(new Map())(snapshot), snapshot);
});

Deno.test("asset rewrite: every URL the server extracts is rewritten", () => {
  const events: RrwebEvent[] = [
    {
      type: 3,
      timestamp: 1,
      data: { source: 8, id: 1, adds: [{ rule: `.a{background:url(${S}/rule.png)}`, index: 0 }] },
    },
    { type: 3, timestamp: 2, data: { source: 13, id: 1, set: { property: "background", value: `url('${S}/d.png')` } } },
    {
      type: 3,
      timestamp: 3,
      data: {
        source: 0,
        adds: [],
        removes: [],
        texts: [],
        attributes: [{ id: 4, attributes: { poster: `${S}/p.jpg` } }],
      },
    },
  ];
  const urls = assetUrls(events).map((r) => r.url);
  assert.equal(urls.length, 3);
  const rewrite = assetRewriter(new Map(urls.map((u, i) => [u, `${DASH}/api/assets/${String(i).repeat(64)}`])));
  const after = events.map(rewrite);
  assert.deepEqual(assetUrls(after).map((r) => r.url.startsWith(`${DASH}/api/assets/`)), [true, true, true]);
});

Deno.test("asset notice: failures counted once per URL, grouped by host, with what would help", () => {
  const failures = new AssetFailures();
  assert.equal(failures.add(`${S}/a.png`), true);
  assert.equal(failures.add(`${S}/a.png`), false);
  assert.equal(failures.add("data:image/png;base64,xx"), false);
  failures.add(`${S}/b.png`);
  failures.add("https://cdn.example/c.png");
  failures.add(`${DASH}/api/assets/${H1}`);
  assert.equal(failures.count, 4);
  assert.deepEqual(failures.hosts(DASH), ["shop.example", "cdn.example", "the asset cache"]);
  assert.equal(
    assetNotice(3, ["shop.example"], false),
    "3 images could not be loaded from shop.example: enable the asset cache (REPLAYA_ASSET_CACHE) to keep a copy of each recording's images.",
  );
  assert.equal(
    assetNotice(1, ["shop.example", "cdn.example"], true),
    "1 image could not be loaded from shop.example and cdn.example: they were not cached when this session was recorded.",
  );
  assert.match(assetNotice(5, ["a", "b", "c"], true), /from a, b and others:/);
});
