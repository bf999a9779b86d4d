/**
 * The live wall end to end in Chromium, on both backends: two visitors on a
 * test site appear as two tiles of small live replays, a visitor's click
 * shows up inside its tile's replay, an off-screen tile buffers and catches
 * up when scrolled into view, a stopped session's tile leaves, and a click on
 * a tile opens the player at the live edge. Saves a screenshot of the wall
 * under test-results/ (gitignored).
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";
import type { TestSite } from "../support/test_site.ts";

const tile = (id: string) => `[data-testid="wall-tile"][data-session="${id}"]`;

/** Text of `selector` inside a tile's replay iframe (rrweb's sandbox allows same-origin reads, never scripts). */
async function replayText(page: Page, id: string, selector: string): Promise<string | undefined> {
  return await page.evaluate(([root, inner]) => {
    const frame = document.querySelector(`${root} iframe`) as HTMLIFrameElement | null;
    return frame?.contentDocument?.querySelector(inner)?.textContent ?? undefined;
  }, [tile(id), selector]);
}

async function attr(page: Page, id: string, name: string): Promise<string | null> {
  return await page.getAttribute(tile(id), name);
}

/** The tile's session id for the visitor whose page is at `path`. */
async function tileFor(page: Page, path: string): Promise<string> {
  return await waitFor(`a tile on ${path}`, async () => {
    for (const handle of await page.locator('[data-testid="wall-tile"]').all()) {
      const text = await handle.locator(".wall-page").innerText();
      if (new URL("http://" + text).pathname === path) return (await handle.getAttribute("data-session")) ?? undefined;
    }
    return undefined;
  });
}

/** The test body, given where the dashboard is served. */
export async function liveWallScenario(
  { dashboardUrl, site, browser, backend }: { dashboardUrl: string; site: TestSite; browser: Browser; backend: string },
): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const wall = await context.newPage();
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  wall.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  wall.on("pageerror", (e) => pageErrors.push(String(e)));
  await wall.goto(dashboardUrl + "/live");
  assert.equal(await wall.getAttribute('header.top nav a[href="/live"]', "aria-current"), "page");
  await wall.waitForSelector('[data-testid="wall"][data-connected="true"][data-tiles="0"]');
  await wall.waitForSelector('[data-testid="wall-empty"]');

  // Two visitors, each in its own tab (the recorder keeps one session per tab).
  const visitors = await browser.newContext();
  const shopper = await visitors.newPage();
  await shopper.goto(site.url + "/");
  const payer = await visitors.newPage();
  await payer.goto(site.url + "/checkout");
  await wall.waitForSelector('[data-testid="wall"][data-tiles="2"]', { timeout: 15_000 });
  const a = await tileFor(wall, "/");
  const b = await tileFor(wall, "/checkout");
  assert.notEqual(a, b);
  await wall.waitForSelector(`${tile(a)}[data-mounted="true"][data-state="live"]`, { timeout: 15_000 });
  await wall.waitForSelector(`${tile(b)}[data-mounted="true"][data-state="live"]`, { timeout: 15_000 });
  await waitFor("the shop page inside its tile", async () => (await replayText(wall, a, "#status")) === "Not clicked");
  const sandbox = await wall.locator(`${tile(a)} iframe`).getAttribute("sandbox");
  assert.ok(sandbox !== null && !sandbox.includes("allow-scripts"), `tile iframe sandbox: ${sandbox}`);

  // A click on the site shows up in that visitor's tile: the page's own change, inside the replay.
  await shopper.click("#buy");
  await waitFor(
    "the click's effect in the tile's replay",
    async () => (await replayText(wall, a, "#status")) === "Clicked 1",
  );
  await waitFor("the click counted", async () => Number(await attr(wall, a, "data-clicks")) >= 1);
  assert.equal(await replayText(wall, b, "#status"), undefined, "the other tile replays the other page");
  await Deno.mkdir("test-results", { recursive: true });
  await wall.screenshot({ path: `test-results/live-wall-${backend}.png`, fullPage: true });

  // Off screen, a tile pauses and buffers; scrolled back into view, it catches up.
  await wall.setViewportSize({ width: 520, height: 320 });
  await wall.evaluate(() => globalThis.scrollTo(0, 0));
  await wall.waitForSelector(`${tile(b)}[data-state="paused"]`);
  const appliedBefore = Number(await attr(wall, b, "data-applied"));
  await payer.click("#pay");
  await waitFor("the paused tile buffering", async () => Number(await attr(wall, b, "data-pending")) > 0);
  assert.equal(Number(await attr(wall, b, "data-applied")), appliedBefore, "nothing rendered off screen");
  assert.equal(await replayText(wall, b, "#pay"), "Pay");
  await wall.locator(tile(b)).scrollIntoViewIfNeeded();
  await wall.waitForSelector(`${tile(b)}[data-state="live"]`);
  await waitFor("the caught-up tile", async () => (await replayText(wall, b, "#pay")) === "Paid");
  assert.equal(await attr(wall, b, "data-pending"), "0");
  await wall.setViewportSize({ width: 1400, height: 900 });

  // A stopped session leaves the wall.
  await payer.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
  await wall.waitForSelector('[data-testid="wall"][data-tiles="1"]', { timeout: 15_000 });
  assert.equal(await wall.locator(tile(b)).count(), 0);

  // A click on a tile opens the player, which follows the live edge.
  await wall.click(tile(a));
  await wall.waitForURL(`**/sessions/${a}`);
  await wall.waitForSelector('[data-testid="player"][data-status="live"]', { timeout: 15_000 });
  await wall.waitForSelector('[data-testid="live-badge"][data-state="live"]', { timeout: 15_000 });

  assert.deepEqual(cspViolations, [], "no CSP violations on the wall");
  assert.deepEqual(pageErrors, [], "no script errors on the wall");
  await visitors.close();
  await context.close();
}

browserTest("live wall shows live sessions as tiles, follows them, and opens the player", async (t) => {
  await liveWallScenario({ dashboardUrl: t.server.url, site: t.site, browser: t.browser, backend: t.server.backend });
});
