/**
 * A recording cannot make the viewer's browser call the viewer's own
 * network: a session whose page points images, srcsets, stylesheets and a
 * later mutation at private addresses and single-label hosts is opened in
 * Chromium. The static first frame the page carries and the document rrweb
 * builds in the replay hold none of those URLs, and the public ones beside
 * them are still there. (What the documents hold is checked rather than the
 * requests made: neither Playwright's routes nor the DevTools protocol see the
 * first requests of a sandboxed srcdoc frame.)
 */

import assert from "node:assert/strict";
import { browserTest, waitFor } from "../support/browser.ts";
import { readEvents } from "../support/client.ts";
import { type Event, seedSession } from "../support/replay_session.ts";

const INTRANET = [
  "http://192.168.1.1",
  "http://10.0.0.7:8080",
  "http://router",
  "http://169.254.169.254",
  "http://[fd00::1]",
];
const PUBLIC = "https://cdn.example";
const LOOPBACK = "http://127.0.0.1:9";

/** The page: every intranet host and the public one in images, srcsets, CSS and a later mutation. */
function events(t: number): Event[] {
  let id = 1;
  const el = (tagName: string, attributes: Record<string, string>, childNodes: unknown[] = []) => ({
    type: 2,
    id: id++,
    tagName,
    attributes,
    childNodes,
  });
  const hosts = [...INTRANET, PUBLIC];
  const mark = (host: string, what: string) => `${host}/${host === PUBLIC ? "keep" : "leak"}-${what}`;
  const css = [
    ...hosts.map((h) => `@import "${mark(h, "import")}.css";`), // imports first, or they are ignored
    ...hosts.map((h, i) => `.bg${i}{background:url(${mark(h, "css")}.png)}`),
  ];
  const body = el("body", {}, [
    ...hosts.map((h) => el("img", { src: mark(h, "img"), width: "10", height: "10" })),
    ...hosts.map((h) => el("img", { srcset: `${mark(h, "srcset")}.png 1x` })),
    ...hosts.map((_, i) => el("div", { class: `bg${i}`, style: "width:10px;height:10px" })),
    ...hosts.map((h) => el("div", { style: `width:10px;height:10px;background-image:url('${mark(h, "style")}.png')` })),
  ]);
  const head = el("head", {}, [el("style", {}, [{ type: 3, id: id++, textContent: css.join("\n"), isStyle: true }])]);
  const html = el("html", {}, [head, body]);
  const added = hosts.map((h) => ({ parentId: body.id, nextId: null, node: el("img", { src: mark(h, "later") }) }));
  added.push({ parentId: body.id, nextId: null, node: el("img", { src: `${LOOPBACK}/keep-loopback` }) });
  return [
    { type: 4, timestamp: t, data: { href: "https://shop.example/", width: 800, height: 600 } },
    {
      type: 2,
      timestamp: t + 1,
      data: { node: { type: 0, id: id++, childNodes: [html] }, initialOffset: { left: 0, top: 0 } },
    },
    { type: 3, timestamp: t + 50, data: { source: 0, adds: added, removes: [], texts: [], attributes: [] } },
    { type: 3, timestamp: t + 100, data: { source: 1, positions: [{ x: 1, y: 1, id: body.id, timeOffset: 0 }] } },
  ];
}

const MARKS = ["img", "srcset", "css", "style", "import"];

browserTest("security: neither the static first frame nor the replay holds a URL on the viewer's network", async ({
  server,
  browser,
}) => {
  const session = await seedSession(server.url, events(Date.now()));
  const stored = JSON.stringify(await readEvents(server.url, session.sessionId));
  assert.ok(INTRANET.every((host) => stored.includes(`${host}/leak-img`)), "recorded as sent");

  // The static first frame, as the server wrote it into the page (the player's code held back, so it stays).
  const still = await browser.newContext();
  await still.route("**/static/build/islands/**", (route) => route.abort());
  const page = await still.newPage();
  await page.goto(`${server.url}/sessions/${session.sessionId}`);
  const srcdoc = await page.locator("iframe.rp-first-frame").getAttribute("srcdoc") ?? "";
  await still.close();
  assert.deepEqual(srcdoc.match(/leak-\w+/g), null, "no intranet URL in the static first frame");
  for (const what of MARKS) assert.ok(srcdoc.includes(`${PUBLIC}/keep-${what}`), what);

  // The replay, at its end (the later mutation applied): its document's markup and every rule of its stylesheets.
  const context = await browser.newContext();
  const dashboard = await context.newPage();
  await dashboard.goto(`${server.url}/sessions/${session.sessionId}`);
  await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]');
  await dashboard.keyboard.press("End");
  const replayed = () =>
    dashboard.evaluate(() => {
      const doc = document.querySelector<HTMLIFrameElement>(".rp-mount iframe")?.contentDocument;
      if (!doc) return "";
      const rules = [...doc.styleSheets].flatMap((sheet) => [...sheet.cssRules].map((rule) => rule.cssText));
      return [doc.documentElement.outerHTML, ...rules].join("\n");
    });
  let replay = "";
  await waitFor("the replay at its end", async () => (replay = await replayed()).includes(`${PUBLIC}/keep-later`));
  assert.deepEqual(replay.match(/leak-\w+/g), null, "no intranet URL in the replay");
  for (const what of MARKS) assert.ok(replay.includes(`${PUBLIC}/keep-${what}`), what);
  // The dashboard is open on loopback here (a local install): loopback URLs stay in the replay.
  assert.ok(replay.includes(`${LOOPBACK}/keep-loopback`), "a loopback image on a loopback dashboard");
  await context.close();
});
