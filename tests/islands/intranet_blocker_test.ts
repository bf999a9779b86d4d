/**
 * The player's side of the intranet rule (islands/player/assets.ts): every
 * URL on the viewer's own network is taken out of the events rrweb gets, in
 * every place a recording can put one, while the events the feed shows keep
 * what was recorded, public URLs stay, and events without such URLs pass
 * through as the same objects.
 */

import assert from "node:assert/strict";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { assetRewriter, intranetBlocker } from "../../islands/player/assets.ts";

const LAN = "http://192.168.1.1";
const CDN = "https://cdn.example";

const snapshot: RrwebEvent = {
  type: 2,
  timestamp: 1,
  data: {
    node: {
      type: 0,
      id: 1,
      childNodes: [{
        type: 2,
        id: 2,
        tagName: "html",
        attributes: {},
        childNodes: [{
          type: 2,
          id: 3,
          tagName: "head",
          attributes: {},
          childNodes: [
            {
              type: 2,
              id: 4,
              tagName: "link",
              attributes: { rel: "stylesheet", _cssText: `a{background:url(${LAN}/a.png)}` },
              childNodes: [],
            },
            {
              type: 2,
              id: 5,
              tagName: "style",
              attributes: {},
              childNodes: [{ type: 3, id: 6, textContent: `@import "//router/x.css";b{color:red}`, isStyle: true }],
            },
          ],
        }, {
          type: 2,
          id: 7,
          tagName: "body",
          attributes: { style: `background:url(${CDN}/bg.png)` },
          childNodes: [
            { type: 2, id: 8, tagName: "img", attributes: { src: `${LAN}/router/reboot`, alt: "x" }, childNodes: [] },
            {
              type: 2,
              id: 9,
              tagName: "img",
              attributes: { SRC: "http://2130706433/x", srcset: `${LAN}/a.png 1x, ${CDN}/b.png 2x` },
              childNodes: [],
            },
            { type: 2, id: 10, tagName: "img", attributes: { src: `${CDN}/keep.png` }, childNodes: [] },
            {
              type: 2,
              id: 11,
              tagName: "canvas",
              attributes: { rr_dataURL: "http://169.254.169.254/latest" },
              childNodes: [],
            },
            {
              type: 2,
              id: 12,
              tagName: "image",
              isSVG: true,
              attributes: { "xlink:href": "http://[::1]/i.svg" },
              childNodes: [],
            },
            {
              type: 2,
              id: 13,
              tagName: "a",
              attributes: { href: `${LAN}/admin` },
              childNodes: [{ type: 3, id: 14, textContent: `see ${LAN}/admin` }],
            },
          ],
        }],
      }],
    },
    initialOffset: { top: 0, left: 0 },
  },
};

Deno.test("intranet blocker: a full snapshot loses every intranet URL, keeps public ones, and the original is untouched", () => {
  const before = structuredClone(snapshot);
  const blocked = intranetBlocker()(snapshot);
  assert.notEqual(blocked, snapshot);
  assert.deepEqual(snapshot, before, "the feed's event keeps what was recorded");
  const json = JSON.stringify(blocked);
  for (const gone of ["192.168.1.1/a.png", "192.168.1.1/router", "//router/", "2130706433", "169.254", "[::1]"]) {
    assert.ok(!json.includes(gone), `${gone} in ${json}`);
  }
  const nodes = new Map<number, Record<string, unknown>>();
  const walk = (n: Record<string, unknown>) => {
    nodes.set(n.id as number, n);
    for (const c of (n.childNodes as Array<Record<string, unknown>> | undefined) ?? []) walk(c);
  };
  walk((blocked.data as { node: Record<string, unknown> }).node);
  const attrs = (id: number) => nodes.get(id)!.attributes;
  assert.deepEqual(attrs(4), { rel: "stylesheet", _cssText: "a{background:url()}" });
  assert.equal(nodes.get(6)!.textContent, `@import "";b{color:red}`);
  assert.deepEqual(attrs(7), { style: `background:url(${CDN}/bg.png)` });
  assert.deepEqual(attrs(8), { alt: "x" }, "the attribute goes: nothing is requested");
  assert.deepEqual(attrs(9), { srcset: `${CDN}/b.png 2x` });
  assert.deepEqual(attrs(10), { src: `${CDN}/keep.png` });
  assert.deepEqual(attrs(11), {});
  assert.deepEqual(attrs(12), {});
  assert.deepEqual(attrs(13), {});
  assert.equal(nodes.get(14)!.textContent, `see ${LAN}/admin`, "page text is text");
});

Deno.test("intranet blocker: mutations, stylesheet rules, declarations, fonts and adopted sheets", () => {
  const block = intranetBlocker();
  const mutation: RrwebEvent = {
    type: 3,
    timestamp: 2,
    data: {
      source: 0,
      adds: [{
        parentId: 7,
        nextId: null,
        node: {
          type: 2,
          id: 20,
          tagName: "video",
          attributes: { poster: "http://10.0.0.1/p.jpg", src: `${CDN}/v.mp4` },
          childNodes: [],
        },
      }],
      removes: [],
      attributes: [
        { id: 10, attributes: { src: "http://router/x.png", class: "a" } },
        {
          id: 7,
          attributes: {
            style: {
              background: "url(http://10.0.0.2/a.png)",
              "border-image": ["url(//10.0.0.3/b.png)", "important"],
              color: "red",
            },
          },
        },
      ],
      texts: [{ id: 6, value: "c{background:url(http://localhost:8080/x)}" }, { id: 14, value: "plain text" }],
    },
  };
  const m = block(mutation).data as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(m.adds[0].node, {
    type: 2,
    id: 20,
    tagName: "video",
    attributes: { src: `${CDN}/v.mp4` },
    childNodes: [],
  });
  assert.deepEqual(m.attributes[0].attributes, { src: null, class: "a" }, "null: rrweb removes the attribute");
  assert.deepEqual(m.attributes[1].attributes, {
    style: { background: "url()", "border-image": ["url()", "important"], color: "red" },
  });
  assert.deepEqual(m.texts, [{ id: 6, value: "c{background:url()}" }, { id: 14, value: "plain text" }]);

  const rule = block({
    type: 3,
    timestamp: 3,
    data: {
      source: 8,
      id: 5,
      adds: [{ rule: `d{background:url(${LAN}/d.png)}`, index: 0 }],
      replaceSync: `@import "//10.0.0.4/x.css";`,
    },
  });
  assert.deepEqual(rule.data, {
    source: 8,
    id: 5,
    adds: [{ rule: "d{background:url()}", index: 0 }],
    replaceSync: `@import "";`,
  });
  const declaration = block({
    type: 3,
    timestamp: 4,
    data: { source: 13, id: 5, index: [0], set: { property: "background", value: `url(${LAN}/e.png)` } },
  });
  assert.deepEqual((declaration.data as { set: unknown }).set, { property: "background", value: "url()" });
  const font = block({
    type: 3,
    timestamp: 5,
    data: { source: 10, family: "f", fontSource: `url("${LAN}/f.woff2")`, buffer: false },
  });
  assert.equal((font.data as { fontSource: string }).fontSource, `url("")`);
  const adopted = block({
    type: 3,
    timestamp: 6,
    data: {
      source: 15,
      id: 1,
      styleIds: [1],
      styles: [{ styleId: 1, rules: [{ rule: `g{background:url(${LAN}/g.png)}` }] }],
    },
  });
  assert.deepEqual((adopted.data as { styles: unknown }).styles, [{
    styleId: 1,
    rules: [{ rule: "g{background:url()}" }],
  }]);
});

Deno.test("intranet blocker: events with nothing to take out, and events rrweb does not load from, pass as they are", () => {
  const block = intranetBlocker();
  const clean: RrwebEvent = {
    type: 3,
    timestamp: 7,
    data: {
      source: 0,
      adds: [],
      removes: [],
      attributes: [{ id: 10, attributes: { src: `${CDN}/x.png` } }],
      texts: [],
    },
  };
  assert.equal(block(clean), clean, "no copy when nothing changes");
  // The feed's own events: the page URL, network requests and console lines are shown as text, never loaded.
  const meta: RrwebEvent = { type: 4, timestamp: 8, data: { href: `${LAN}/page`, width: 800, height: 600 } };
  const network: RrwebEvent = {
    type: 5,
    timestamp: 9,
    data: { tag: "replaya.network", payload: { url: `${LAN}/api` } },
  };
  const click: RrwebEvent = { type: 3, timestamp: 10, data: { source: 2, type: 2, id: 8, x: 1, y: 1 } };
  for (const event of [meta, network, click]) assert.equal(block(event), event);
});

Deno.test("intranet blocker: a dashboard on loopback replays loopback URLs, never private ones", () => {
  const onLoopback = intranetBlocker({ allowLoopback: true });
  const event: RrwebEvent = {
    type: 3,
    timestamp: 11,
    data: {
      source: 0,
      adds: [],
      removes: [],
      texts: [],
      attributes: [{ id: 8, attributes: { src: "http://127.0.0.1:3000/logo.png" } }, {
        id: 9,
        attributes: { src: "http://10.0.0.1/x" },
      }],
    },
  };
  const attributes = (onLoopback(event).data as { attributes: Array<{ attributes: unknown }> }).attributes;
  assert.deepEqual(attributes.map((a) => a.attributes), [{ src: "http://127.0.0.1:3000/logo.png" }, { src: null }]);
});

Deno.test("intranet blocker: after the asset cache's rewrite, a cached copy of an intranet image still shows", () => {
  const DASH = "https://replay.example";
  const cached = `${DASH}/api/assets/${"1".repeat(64)}`;
  const rewrite = assetRewriter(new Map([[`${LAN}/router/reboot`, cached]]));
  const blocked = intranetBlocker()(rewrite(snapshot));
  const json = JSON.stringify(blocked);
  assert.ok(json.includes(`"src":"${cached}"`), "the cache's copy, on the dashboard's origin");
  assert.ok(!json.includes("192.168.1.1/a.png") && !json.includes("2130706433"));
});
