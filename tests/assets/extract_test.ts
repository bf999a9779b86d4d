/**
 * Asset URL extraction from rrweb events: every place a recording names an
 * image or a font, exactly as written, and nothing that is not one.
 */

import assert from "node:assert/strict";
import { assetUrls, cssUrls, srcsetUrls } from "../../lib/assets/extract.ts";

const el = (id: number, tagName: string, attributes: Record<string, unknown>, childNodes: unknown[] = []) => ({
  type: 2,
  id,
  tagName,
  attributes,
  childNodes,
});

const S = "https://shop.example";

Deno.test("extract: a full snapshot's img src/srcset, style url(), icons, preloads, <style> and _cssText", () => {
  const snapshot = {
    type: 2,
    timestamp: 1,
    data: {
      node: {
        type: 0,
        id: 1,
        childNodes: [el(2, "html", {}, [
          el(3, "head", {}, [
            el(4, "link", { rel: "icon", href: `${S}/favicon.ico` }),
            el(5, "link", { rel: "stylesheet", _cssText: `body{background:url("${S}/bg.png")}` }),
            el(6, "style", {}, [{
              type: 3,
              id: 7,
              textContent:
                `@font-face{font-family:Shop;src:url(${S}/shop.woff2) format("woff2")}.hero{background:url('${S}/hero.jpg')}`,
              isStyle: true,
            }]),
            el(8, "link", { rel: "preload", as: "font", href: `${S}/mono.woff` }),
            el(9, "link", { rel: "next", href: `${S}/page-2` }),
            el(10, "link", { rel: "preload", as: "script", href: `${S}/app.js` }),
          ]),
          el(11, "body", { style: `background-image: url(${S}/body.gif)` }, [
            el(12, "img", { src: `${S}/logo.png?v=2`, srcset: `${S}/logo@2x.png 2x,${S}/logo@3x.png 3x` }),
            el(13, "a", { href: `${S}/product.png` }, [{
              type: 3,
              id: 14,
              textContent: "url(https://x.example/no.png)",
            }]),
            el(15, "video", { poster: `${S}/poster.webp` }),
            el(16, "img", { src: "data:image/png;base64,AAAA" }),
            el(17, "img", { src: "blob:https://shop.example/uuid" }),
            el(18, "svg", {}, [el(19, "image", { "xlink:href": `${S}/sprite.svg` })]),
            el(20, "img", { src: `${S}/logo.png?v=2` }),
            el(21, "script", { src: `${S}/app.js` }),
            el(22, "iframe", { src: `${S}/embed` }),
          ]),
        ])],
      },
      initialOffset: { top: 0, left: 0 },
    },
  };
  assert.deepEqual(assetUrls([snapshot]), [
    { url: `${S}/favicon.ico`, kind: "image" },
    { url: `${S}/bg.png`, kind: "image" },
    { url: `${S}/shop.woff2`, kind: "font" },
    { url: `${S}/hero.jpg`, kind: "image" },
    { url: `${S}/mono.woff`, kind: "font" },
    { url: `${S}/body.gif`, kind: "image" },
    { url: `${S}/logo.png?v=2`, kind: "image" },
    { url: `${S}/logo@2x.png`, kind: "image" },
    { url: `${S}/logo@3x.png`, kind: "image" },
    { url: `${S}/poster.webp`, kind: "image" },
    { url: `${S}/sprite.svg`, kind: "image" },
  ]);
});

Deno.test("extract: mutations (added nodes, attribute and style changes, style text), rules, declarations, fonts", () => {
  const events = [
    {
      type: 3,
      timestamp: 2,
      data: {
        source: 0,
        adds: [{ parentId: 1, nextId: null, node: el(30, "img", { src: `${S}/added.png` }) }],
        attributes: [
          { id: 12, attributes: { src: `${S}/swapped.png`, alt: "x", href: `${S}/not-an-asset` } },
          { id: 11, attributes: { style: { "background-image": `url("${S}/style-obj.png")`, color: "red" } } },
          { id: 11, attributes: { style: { background: [`url(${S}/important.png)`, "important"] } } },
          { id: 11, attributes: { style: null } },
        ],
        texts: [{ id: 7, value: `.x{background:url(${S}/text.png)}` }],
        removes: [],
      },
    },
    { type: 3, timestamp: 3, data: { source: 8, id: 5, adds: [{ rule: `.y{background:url(${S}/rule.png)}` }] } },
    {
      type: 3,
      timestamp: 4,
      data: { source: 13, id: 5, set: { property: "background", value: `url(${S}/decl.png)` } },
    },
    {
      type: 3,
      timestamp: 5,
      data: { source: 15, id: 1, styles: [{ styleId: 1, rules: [{ rule: `.z{background:url(${S}/adopted.png)}` }] }] },
    },
    { type: 3, timestamp: 6, data: { source: 10, family: "F", fontSource: `url(${S}/face.woff2)`, buffer: false } },
    { type: 3, timestamp: 7, data: { source: 1, positions: [{ x: 1, y: 2, id: 3, timeOffset: 0 }] } },
    { type: 4, timestamp: 8, data: { href: `${S}/page.png`, width: 1, height: 1 } },
  ];
  assert.deepEqual(assetUrls(events).map((r) => r.url), [
    `${S}/added.png`,
    `${S}/swapped.png`,
    `${S}/style-obj.png`,
    `${S}/important.png`,
    `${S}/text.png`,
    `${S}/rule.png`,
    `${S}/decl.png`,
    `${S}/adopted.png`,
    `${S}/face.woff2`,
  ]);
});

Deno.test("extract: malformed events are skipped, and a batch yields at most the limit", () => {
  const many = Array.from({ length: 50 }, (_, i) => ({
    type: 3,
    timestamp: i,
    data: { source: 0, adds: [{ node: el(i, "img", { src: `${S}/${i}.png` }) }] },
  }));
  assert.deepEqual(assetUrls([null, 1, "x", { type: 2 }, { type: 3, data: { source: 0, adds: "no" } }]), []);
  assert.equal(assetUrls(many, 10).length, 10);
  const long = `${S}/${"a".repeat(5000)}.png`;
  assert.deepEqual(
    assetUrls([{ type: 3, timestamp: 0, data: { source: 0, adds: [{ node: el(1, "img", { src: long }) }] } }]),
    [],
  );
});

Deno.test("extract: url() forms and @font-face detection", () => {
  assert.deepEqual(
    cssUrls(
      `a{b:url( "x.png" )} c{d:url('y.png'),url(z.png)} @font-face{src:url(f.woff2) format("woff2"),url("g.ttf")} e{f:url()}`,
    ),
    [
      { url: "x.png", kind: "image" },
      { url: "y.png", kind: "image" },
      { url: "z.png", kind: "image" },
      { url: "f.woff2", kind: "font" },
      { url: "g.ttf", kind: "font" },
    ],
  );
  assert.deepEqual(cssUrls(`@media screen{@font-face{src:url(m.woff)}} .p{background:URL(p.png)}`), [
    { url: "m.woff", kind: "font" },
    { url: "p.png", kind: "image" },
  ]);
});

Deno.test("extract: srcset candidates (commas inside URLs, descriptors, trailing commas)", () => {
  assert.deepEqual(srcsetUrls("a.png 1x, b.png 2x"), ["a.png", "b.png"]);
  // As browsers parse it: a comma inside a URL belongs to it; only a trailing one ends the candidate.
  assert.deepEqual(srcsetUrls("a.png,b.png 2x"), ["a.png,b.png"]);
  assert.deepEqual(srcsetUrls("a.png, b.png 2x"), ["a.png", "b.png"]);
  assert.deepEqual(srcsetUrls("a.png 1x,b.png 2x"), ["a.png", "b.png"]);
  assert.deepEqual(srcsetUrls("https://cdn.example/i/w_100,h_50/a.png 100w, https://cdn.example/b.png 200w"), [
    "https://cdn.example/i/w_100,h_50/a.png",
    "https://cdn.example/b.png",
  ]);
  assert.deepEqual(srcsetUrls("  "), []);
});
