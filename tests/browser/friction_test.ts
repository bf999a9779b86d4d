/**
 * Friction signals end to end in Chromium: a page on its own origin, with
 * the recorder installed, is made to show each signal once (a rage click, a
 * dead click, an error click, scroll thrashing, an abandoned form); the
 * ingest counts, the report (JSON and Markdown) and the player all list each
 * exactly once, on both backends.
 */

import assert from "node:assert/strict";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";

const page = (head: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Friction</title>${head}
<style>body{margin:0;font-family:sans-serif}.tall{height:4000px}button,.card{display:block;margin:1rem;padding:1rem}</style></head>
<body>
<button id="rage" onclick="document.getElementById('count').textContent = String(++window.n)">Add to cart</button>
<p id="count">0</p>
<div class="card" id="dead">Free shipping on everything</div>
<button id="boom" onclick="window.cart.total()">Pay now</button>
<form id="form" action="/nowhere" onsubmit="return false"><label>Email <input id="email" name="email"></label>
<button type="submit" id="send">Send</button></form>
<div class="tall"></div>
<script>window.n = 0;</script>
</body></html>`;

type Win = { replaya: (command: string) => void };

browserTest("friction: each signal provoked once is reported once", async ({ server, site, browser }) => {
  const tab = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await tab.goto(`${site.url}/friction`);
  const id = await waitFor("a session id", () =>
    tab.evaluate(() => {
      const raw = sessionStorage.getItem("replaya:session");
      return raw ? JSON.parse(raw).id ?? JSON.parse(raw).sessionId : undefined;
    }));
  await waitFor("the first snapshot", async () => (await readSession(server.url, id)).some((i) => i.kind === "events"));

  // Rage: three quick clicks on one button (each answered by the page: not dead).
  for (let i = 0; i < 3; i++) await tab.click("#rage", { delay: 10 });
  await tab.waitForFunction(() => document.getElementById("count")!.textContent === "3");
  // Dead: a click on text that does nothing; nothing else happens on the page for over 2.5 s (the detector's window).
  await tab.click("#dead");
  await tab.waitForTimeout(3_000);
  // Error click: the button's handler throws.
  await tab.click("#boom");
  // Thrash: down and up the page, three reversals and more within 2 s.
  for (const y of [0, 600, 0, 600, 0, 600]) {
    await tab.evaluate((to) => scrollTo(0, to), y);
    await tab.waitForTimeout(180);
  }
  await tab.evaluate(() => scrollTo(0, 0));
  // Abandoned form: typed into, never sent.
  await tab.focus("#email");
  await tab.keyboard.type("someone", { delay: 20 });
  await tab.waitForTimeout(300);
  await tab.evaluate(() => (globalThis as unknown as Win).replaya("stop"));
  await waitFor("the stop record", async () => (await readSession(server.url, id)).at(-1)?.kind === "stop");

  // The player, before anything built the report: it asks for it after its first frame and shows one feed row,
  // one timeline mark and one panel row per signal.
  const player = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await player.goto(`${server.url}/sessions/${id}`);
  await waitFor(
    "friction rows in the feed",
    async () => await player.locator('[data-testid="feed-item"][data-kind="friction"]').count() === 5,
  );
  assert.equal(await player.locator('.rp-marker[data-kind="friction"]').count(), 5);
  assert.equal(await player.locator('[data-testid="report-signal"]').count(), 5);

  const report = await (await fetch(`${server.url}/api/sessions/${id}/report`)).json();
  const expected = { rage: 1, dead: 1, error_click: 1, thrash: 1, abandoned_form: 1 };
  assert.deepEqual(report.counts, expected, JSON.stringify(report.signals));
  const byKind = Object.fromEntries(report.signals.map((s: { kind: string; element?: string }) => [s.kind, s.element]));
  assert.match(byKind.rage, /^button#rage “Add to cart”/);
  assert.match(byKind.dead, /^div#dead “Free shipping/);
  assert.match(byKind.error_click, /^button#boom “Pay now”/);
  assert.match(byKind.abandoned_form, /^input#email/);
  assert.equal(report.errors.length, 1);
  assert.equal(report.live, false);
  // Ingest counted the same signals into the end summary the list filters on.
  const details = await (await fetch(`${server.url}/api/sessions/${id}`)).json();
  assert.deepEqual(details.end.friction, expected);
  const md = await (await fetch(`${server.url}/api/sessions/${id}/report.md`)).text();
  // Kept for a look (test-results/ is ignored by git), like the list test's screenshots.
  await Deno.mkdir("test-results", { recursive: true });
  await Deno.writeTextFile(`test-results/friction-report-${server.backend}.md`, md);
  for (const label of ["Rage click", "Dead click", "Error click", "Thrashing", "Abandoned form"]) {
    assert.equal(md.split(`| ${label}`).length - 1, 1, `${label} once in the Markdown`);
  }
}, { pages: { "/friction": page } });
