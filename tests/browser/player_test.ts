/**
 * The session player in Chromium, on both backends, against the bugs of
 * issue 10: a seek to the very end applies the last events; Home after
 * playing to the end rebuilds the first page; the page header's Live badge
 * flips to Ended with the player; a toggle the page mirrors into several
 * inputs is one Input row. Sessions are built event by event (see
 * tests/support/replay_session.ts) so each moment's page is known, except
 * the mirrored toggle, which the real recorder captures on the test site.
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";
import { click, move, page, resize, seedSession, stopSession } from "../support/replay_session.ts";
import type { SitePage } from "../support/test_site.ts";

const PLAYER = '[data-testid="player"]';

/** The replayed page's heading, read through rrweb's sandbox (same origin, no scripts). */
async function heading(dashboard: Page): Promise<string | undefined> {
  return await dashboard.evaluate(() => {
    const frame = document.querySelector(".rp-mount iframe") as HTMLIFrameElement | null;
    return frame?.contentDocument?.getElementById("heading")?.textContent ?? undefined;
  });
}

/** The replay iframe's size: the recorded viewport rrweb last applied. */
async function viewport(dashboard: Page): Promise<string> {
  const frame = dashboard.locator(".rp-mount iframe");
  return `${await frame.getAttribute("width")}×${await frame.getAttribute("height")}`;
}

async function waitForHeading(dashboard: Page, text: string, what: string): Promise<void> {
  await waitFor(what, async () => (await heading(dashboard)) === text);
}

async function clock(dashboard: Page): Promise<string> {
  return await dashboard.locator('[data-testid="current-time"]').innerText();
}

/** Clicks the timeline at `fraction` of its width (1 = its right edge, the last pixel). */
async function clickTimeline(dashboard: Page, fraction: number): Promise<void> {
  const box = (await dashboard.locator('[data-testid="timeline"]').boundingBox())!;
  const x = fraction >= 1 ? box.width - 1 : box.width * fraction;
  await dashboard.mouse.click(box.x + x, box.y + box.height / 2);
}

/** Takes focus away from the player's controls, so a key goes to the page (the global shortcuts). */
async function blur(dashboard: Page): Promise<void> {
  await dashboard.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
}

async function openPlayer(browser: Browser, url: string, id: string): Promise<{ dashboard: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const dashboard = await context.newPage();
  const errors: string[] = [];
  dashboard.on("pageerror", (e) => errors.push(String(e)));
  dashboard.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await dashboard.goto(`${url}/sessions/${id}`);
  return { dashboard, errors };
}

browserTest("player: a seek to the very end applies the last events (the second page, the final resize)", async ({
  server,
  browser,
}) => {
  // Page one, activity, then page two whose snapshot and a window resize are the very last events.
  const t0 = Date.now() - 60_000;
  const { sessionId } = await seedSession(server.url, [
    ...page(t0, "https://shop.example/", "Page one", 1024, 640),
    move(t0 + 1_000),
    click(t0 + 2_000),
    move(t0 + 6_000),
    move(t0 + 10_000),
    click(t0 + 14_000),
    ...page(t0 + 17_000, "https://shop.example/checkout", "Page two", 1000, 700, 30),
    resize(t0 + 17_030, 900, 650),
  ]);
  const { dashboard, errors } = await openPlayer(browser, server.url, sessionId);
  await dashboard.waitForSelector(`${PLAYER}[data-status="ended"]`);
  await waitForHeading(dashboard, "Page one", "the first frame");
  assert.equal(await dashboard.getAttribute(PLAYER, "data-playing"), "false", "an ended session opens paused");
  assert.equal(await clock(dashboard), "00:00");
  assert.equal(await viewport(dashboard), "1024×640");
  const total = await dashboard.locator('[data-testid="total-time"]').innerText();
  assert.equal(total, "00:17");

  // Paused in the middle, then a click at the timeline's right edge.
  await clickTimeline(dashboard, 0.5);
  await waitFor("the middle", async () => (await clock(dashboard)) === "00:08");
  assert.equal(await heading(dashboard), "Page one");
  await clickTimeline(dashboard, 1);
  await waitForHeading(dashboard, "Page two", "page two at the end");
  assert.equal(await viewport(dashboard), "900×650", "the last resize is applied");
  assert.equal(await clock(dashboard), total);
  assert.equal(await dashboard.getAttribute(PLAYER, "data-playing"), "false");

  // Back to the middle (page one again), then End: on the focused timeline, and as the page's shortcut.
  await clickTimeline(dashboard, 0.5);
  await waitForHeading(dashboard, "Page one", "page one again in the middle");
  assert.equal(await viewport(dashboard), "1024×640");
  await dashboard.keyboard.press("End");
  await waitForHeading(dashboard, "Page two", "page two after End on the timeline");
  assert.equal(await viewport(dashboard), "900×650");
  await clickTimeline(dashboard, 0.5);
  await waitForHeading(dashboard, "Page one", "page one again");
  await blur(dashboard);
  await dashboard.keyboard.press("End");
  await waitForHeading(dashboard, "Page two", "page two after the End shortcut");
  assert.equal(await viewport(dashboard), "900×650");
  assert.equal(await clock(dashboard), total);
  assert.deepEqual(errors, []);
});

browserTest("player: Home after playing to the end rebuilds the first page", async ({ server, browser }) => {
  const t0 = Date.now() - 60_000;
  const { sessionId } = await seedSession(server.url, [
    ...page(t0, "https://shop.example/", "Page one"),
    click(t0 + 1_000),
    ...page(t0 + 2_000, "https://shop.example/checkout", "Page two"),
    click(t0 + 3_000),
  ]);
  const { dashboard, errors } = await openPlayer(browser, server.url, sessionId);
  await dashboard.waitForSelector(`${PLAYER}[data-status="ended"]`);
  await waitForHeading(dashboard, "Page one", "the first frame");

  const playToEnd = async () => {
    await dashboard.click('[data-testid="play-toggle"]');
    await dashboard.waitForSelector(`${PLAYER}[data-playing="true"]`);
    await dashboard.waitForSelector(`${PLAYER}[data-playing="false"]`, { timeout: 15_000 });
    await waitForHeading(dashboard, "Page two", "page two at the end");
    assert.equal(await clock(dashboard), "00:03");
  };
  await dashboard.click('[data-speed="4"]');
  await dashboard.waitForSelector(`${PLAYER}[data-speed="4"]`);
  await playToEnd();

  await blur(dashboard);
  await dashboard.keyboard.press("Home");
  await waitForHeading(dashboard, "Page one", "page one after Home");
  assert.equal(await clock(dashboard), "00:00");
  assert.equal(await dashboard.getAttribute(PLAYER, "data-playing"), "false");

  // The same through the first activity row (the first page, at 00:00).
  await playToEnd();
  const first = dashboard.locator('[data-testid="feed-item"]').first();
  assert.equal(await first.getAttribute("data-kind"), "page");
  await first.locator("button").click();
  await waitForHeading(dashboard, "Page one", "page one after a click on the first row");
  assert.equal(await clock(dashboard), "00:00");
  assert.deepEqual(errors, []);
});

browserTest("player: the page header's Live badge flips to Ended when the player's stream ends", async ({
  server,
  browser,
}) => {
  const t0 = Date.now() - 5_000;
  const session = await seedSession(server.url, [
    ...page(t0, "https://shop.example/", "Page one"),
    click(t0 + 1_000),
  ], { live: true });
  const { dashboard, errors } = await openPlayer(browser, server.url, session.sessionId);
  const header = '[data-testid="session-header"]';
  await dashboard.waitForSelector(`${header}[data-status="live"] [data-session-status="live"]`);
  assert.equal(await dashboard.locator(`${header} [data-testid="status"]`).innerText(), "Live");
  await dashboard.waitForSelector(`${PLAYER}[data-status="live"]`);

  await stopSession(server.url, session);
  await dashboard.waitForSelector(`${PLAYER}[data-status="ended"]`);
  await dashboard.waitForSelector('[data-testid="live-badge"][data-state="ended"]');
  await dashboard.waitForSelector(`${header}[data-status="ended"] [data-session-status="ended"]`);
  const badge = dashboard.locator(`${header} [data-testid="status"]`);
  assert.equal(await badge.innerText(), "Ended");
  assert.equal(await badge.getAttribute("class"), "badge ended");
  assert.deepEqual(errors, [], "no inline script, no CSP violation");
});

/** A page with a "select all" toggle its script mirrors into seven more checkboxes. */
const togglesPage: SitePage = (head) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Toggles</title>${head}</head>
<body><h1>Notifications</h1>
<label><input type="checkbox" id="all"> All notifications</label>
<ul>${
    Array.from({ length: 7 }, (_, i) => `<li><label><input type="checkbox" class="mirror"> Topic ${i + 1}</label></li>`)
      .join("")
  }</ul>
<script>
document.getElementById("all").addEventListener("change", (event) => {
  for (const box of document.querySelectorAll(".mirror")) box.checked = event.target.checked;
});
</script>
</body></html>`;

browserTest(
  "player: one click on a toggle the page mirrors into several inputs is one Input row",
  async ({ server, site, browser }) => {
    const visitor = await browser.newPage();
    await visitor.goto(site.url + "/toggles");
    const id = await waitFor<string>(
      "the session to start",
      () => visitor.evaluate(() => JSON.parse(sessionStorage.getItem("replaya:session") ?? "null")?.sessionId),
    );
    await visitor.click("#all");
    assert.equal(await visitor.locator(".mirror:checked").count(), 7);
    await visitor.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
    const items = await waitFor("the stop record", async () => {
      const items = await readSession(server.url, id);
      return items.at(-1)?.kind === "stop" ? items : undefined;
    });
    const recorded = items.filter((i) => i.kind === "events").flatMap((i) => i.events as Array<Record<string, unknown>>)
      .filter((e) => e.type === 3 && (e.data as { source?: number })?.source === 5);
    const fields = new Set(recorded.map((e) => (e.data as { id?: number }).id)).size;
    assert.ok(fields >= 7, `the recorder saw the mirrored changes (${recorded.length} inputs into ${fields} fields)`);

    const { dashboard, errors } = await openPlayer(browser, server.url, id);
    await dashboard.waitForSelector(`${PLAYER}[data-status="ended"]`);
    await dashboard.waitForSelector('[data-testid="feed-item"][data-kind="click"]');
    const rows = dashboard.locator('[data-testid="feed-item"][data-kind="input"]');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1, `one row for ${recorded.length} recorded input events`);
    assert.equal(await rows.first().getAttribute("data-count"), String(recorded.length));
    const text = await rows.first().innerText();
    assert.match(text, new RegExp(`and ${fields - 1} other fields`));
    assert.match(text, new RegExp(`×${recorded.length}`));
    assert.equal(await dashboard.locator('.rp-marker[data-kind="input"]').count(), 1, "and one timeline marker");
    assert.deepEqual(errors, []);
  },
  { pages: { "/toggles": togglesPage } },
);
