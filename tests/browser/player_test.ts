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
import { click, custom, move, page, resize, seedSession, setHeading, stopSession } from "../support/replay_session.ts";
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

/** Play, speed and skip inactivity are on screen without scrolling. */
async function assertControlsFit(dashboard: Page): Promise<void> {
  const height = dashboard.viewportSize()!.height;
  for (const selector of ['[data-testid="play-toggle"]', '[data-speed="16"]', '[data-testid="skip-inactive"]']) {
    const box = (await dashboard.locator(selector).boundingBox())!;
    assert.ok(box.y >= 0 && box.y + box.height <= height, `${selector} ends at ${box.y + box.height} of ${height} px`);
  }
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
    await assertControlsFit(dashboard);
    assert.deepEqual(errors, []);
  },
  { pages: { "/toggles": togglesPage } },
);

browserTest("player: opens paused; shortcuts, speeds, skip inactivity, marker tips, network and console panes", async ({
  server,
  browser,
}) => {
  // 24 s: active, then 12.5 s with only a DOM change, then active again.
  const t0 = Date.now() - 60_000;
  const { sessionId } = await seedSession(server.url, [
    ...page(t0, "https://shop.example/", "Page one"),
    move(t0 + 1_000),
    click(t0 + 2_000),
    custom(t0 + 2_100, "replaya.console", { level: "warn", message: "Slow response from /api/cart" }),
    custom(t0 + 2_200, "replaya.network", {
      type: "fetch",
      method: "GET",
      url: "https://shop.example/api/cart",
      status: 200,
      durationMs: 87,
      size: 2_345,
    }),
    custom(t0 + 2_300, "replaya.network", {
      type: "xhr",
      method: "POST",
      url: "https://shop.example/api/checkout",
      status: 500,
      durationMs: 1_200,
    }),
    custom(t0 + 2_400, "replaya.console", { level: "log", message: "cart loaded" }),
    custom(t0 + 2_500, "replaya.console", { level: "error", message: "Payment widget failed" }),
    setHeading(t0 + 8_000, "Still page one"),
    move(t0 + 14_500),
    click(t0 + 15_000),
    custom(t0 + 15_100, "replaya.error", { message: "TypeError: x is undefined" }),
    move(t0 + 18_000),
    move(t0 + 21_000),
    click(t0 + 24_000),
  ]);
  const { dashboard, errors } = await openPlayer(browser, server.url, sessionId);
  await dashboard.waitForSelector(`${PLAYER}[data-status="ended"]`);
  await waitForHeading(dashboard, "Page one", "the first frame");
  assert.equal(await dashboard.getAttribute(PLAYER, "data-playing"), "false", "opens paused");
  assert.equal(await clock(dashboard), "00:00");
  await assertControlsFit(dashboard);

  // The idle stretch is shaded; markers for the console warning and error, the failed request, the error.
  const stretch = dashboard.locator('[data-testid="inactive-stretch"]');
  assert.equal(await stretch.count(), 1);
  assert.deepEqual([await stretch.getAttribute("data-start"), await stretch.getAttribute("data-end")], [
    "2000",
    "14500",
  ]);
  const markers = async (kind: string) => await dashboard.locator(`.rp-marker[data-kind="${kind}"]`).count();
  assert.deepEqual(
    [await markers("click"), await markers("console"), await markers("network"), await markers("error")],
    [3, 2, 1, 1],
  );
  await dashboard.locator('.rp-marker[data-kind="network"]').hover();
  const tip = dashboard.locator('[data-testid="timeline-tip"]');
  await tip.waitFor();
  assert.match(await tip.innerText(), /POST https:\/\/shop\.example\/api\/checkout/);
  await dashboard.mouse.move(0, 0);
  await tip.waitFor({ state: "detached" });

  // Shortcuts, with focus on the page.
  await blur(dashboard);
  await dashboard.keyboard.press("?");
  await dashboard.locator('[data-testid="shortcuts-help"]').waitFor();
  await dashboard.keyboard.press("Escape");
  await dashboard.locator('[data-testid="shortcuts-help"]').waitFor({ state: "detached" });
  await dashboard.keyboard.press(">");
  await dashboard.waitForSelector(`${PLAYER}[data-speed="2"]`);
  await dashboard.keyboard.press("<");
  await dashboard.keyboard.press("<");
  await dashboard.waitForSelector(`${PLAYER}[data-speed="0.5"]`);
  await dashboard.keyboard.press("l");
  await waitFor("+5 s", async () => (await clock(dashboard)) === "00:05");
  await dashboard.keyboard.press("j");
  await waitFor("-5 s", async () => (await clock(dashboard)) === "00:00");
  await dashboard.keyboard.press("ArrowRight");
  await waitFor("+5 s again", async () => (await clock(dashboard)) === "00:05");
  await dashboard.keyboard.press("Home");
  await waitFor("the start", async () => (await clock(dashboard)) === "00:00");

  // Played at 16× with skip inactivity on, the idle stretch is jumped over once.
  await dashboard.click('[data-speed="16"]');
  await dashboard.waitForSelector(`${PLAYER}[data-speed="16"]`);
  await blur(dashboard);
  await dashboard.keyboard.press("k");
  await dashboard.waitForSelector(`${PLAYER}[data-playing="true"]`);
  await dashboard.waitForSelector(`${PLAYER}[data-playing="false"]`, { timeout: 15_000 });
  assert.equal(await dashboard.getAttribute(PLAYER, "data-skips"), "1");
  assert.equal(await clock(dashboard), "00:24");

  // Network pane: method, URL, status, duration, size; a row's details.
  await dashboard.click('[data-tab="network"]');
  const requests = dashboard.locator('[data-testid="feed-item"][data-kind="network"]');
  assert.equal(await requests.count(), 2);
  const cells = async (i: number) =>
    await requests.nth(i).locator(".rp-net-method, .rp-net-url, .rp-net-status, .rp-net-time, .rp-net-size")
      .allInnerTexts();
  assert.deepEqual(await cells(0), ["GET", "/api/cart", "200", "87 ms", "2.3 KiB"]);
  assert.deepEqual(await cells(1), ["POST", "/api/checkout", "500", "1.2 s", "—"]);
  await requests.nth(1).locator("button").click();
  const detail = dashboard.locator('[data-testid="network-detail"]');
  await detail.waitFor();
  assert.equal(await detail.locator('[data-field="url"]').innerText(), "https://shop.example/api/checkout");
  assert.equal(await detail.locator('[data-field="status"]').innerText(), "500");
  assert.equal(await detail.locator('[data-field="size"]').innerText(), "not recorded");
  assert.equal(await clock(dashboard), "00:02", "and the replay moved to the request");

  // Console pane: level toggles and a search box.
  await dashboard.click('[data-tab="console"]');
  const messages = dashboard.locator('[data-testid="feed-item"]');
  await waitFor("four console rows", async () => (await messages.count()) === 4);
  await dashboard.click('.rp-level[data-level="log"]');
  await waitFor("log hidden", async () => (await messages.count()) === 3);
  await dashboard.fill(".rp-search", "WIDGET");
  await waitFor("one match", async () => (await messages.count()) === 1);
  assert.match(await messages.first().innerText(), /Payment widget failed/);
  await dashboard.keyboard.press("k");
  assert.equal(await dashboard.inputValue(".rp-search"), "WIDGETk", "typing in the search box is typing");
  // A later shortcut's effect shows once every earlier key has been handled.
  await blur(dashboard);
  await dashboard.keyboard.press("<");
  await dashboard.waitForSelector(`${PLAYER}[data-speed="8"]`);
  assert.equal(await dashboard.getAttribute(PLAYER, "data-playing"), "false", "and started nothing");
  assert.deepEqual(errors, []);
});
