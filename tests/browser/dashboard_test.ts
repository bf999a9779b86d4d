/**
 * The dashboard end to end in Chromium, on both backends: one tab records a
 * session on a test site while another has the dashboard open. Saves a
 * screenshot of the player page under test-results/ (gitignored).
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";

const XSS = `<img src=x onerror="window.__xss=1">`;

async function feedCount(page: Page, kind: string): Promise<number> {
  return await page.locator(`[data-testid="feed-item"][data-kind="${kind}"]`).count();
}

browserTest("dashboard lists, live-tails, ends and replays a session", async ({ server, site, browser }) => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const dashboard = await context.newPage();
  const cspViolations: string[] = [];
  dashboard.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await dashboard.goto(server.url + "/");
  await dashboard.waitForSelector('[data-testid="empty"]');
  await dashboard.waitForSelector('[data-testid="live-sessions"][data-connected="true"]', { state: "attached" }); // subscribed

  const visitor = await context.newPage();
  await visitor.goto(site.url + "/");
  const row = dashboard.locator('[data-testid="live-sessions"] [data-testid="session-row"]');
  await row.first().waitFor({ timeout: 15_000 });
  assert.equal(await row.count(), 1, "the new session appears at the top without a reload");
  const id = await row.first().getAttribute("data-session");

  await dashboard.click(`[data-testid="live-sessions"] a[href="/sessions/${id}"]`);
  await dashboard.waitForURL(`**/sessions/${id}`);
  await dashboard.waitForSelector('[data-testid="player"][data-status="live"]', { timeout: 15_000 });
  await dashboard.waitForSelector('[data-testid="live-badge"][data-state="live"]', { timeout: 15_000 });

  const clicksBefore = await feedCount(dashboard, "click");
  await visitor.click("#buy");
  await visitor.evaluate((name) => {
    const replaya = (globalThis as unknown as { replaya: (...a: unknown[]) => void }).replaya;
    replaya("track", name, { via: "test" });
  }, XSS);
  await waitFor(
    "the visitor's click in the live player",
    async () => (await feedCount(dashboard, "click")) > clicksBefore,
  );
  await waitFor("the custom event in the feed", async () => (await feedCount(dashboard, "track")) > 0);
  const trackText = await dashboard.locator('[data-testid="feed-item"][data-kind="track"]').first().innerText();
  assert.ok(trackText.includes(XSS), "a hostile event name is shown as text");
  assert.equal(
    await dashboard.evaluate(() => (globalThis as { __xss?: number }).__xss),
    undefined,
    "and never runs",
  );
  const sandbox = await dashboard.locator("iframe").first().getAttribute("sandbox");
  assert.ok(sandbox !== null && !sandbox.includes("allow-scripts"), `replay iframe sandbox: ${sandbox}`);

  await Deno.mkdir("test-results", { recursive: true });
  const shot = `test-results/player-${server.backend}.png`;
  await dashboard.screenshot({ path: shot, fullPage: true });
  assert.ok((await Deno.stat(shot)).size > 10_000, "the screenshot has content");

  await visitor.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
  await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]', { timeout: 15_000 });
  await dashboard.waitForSelector('[data-testid="live-badge"][data-state="ended"]');

  await dashboard.reload();
  await dashboard.waitForSelector('[data-testid="session-header"][data-status="ended"]');
  await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]', { timeout: 15_000 });
  assert.ok(Number(await dashboard.getAttribute('[data-testid="player"]', "data-events")) > 0);
  assert.ok((await feedCount(dashboard, "click")) >= 1, "the finished session replays from the start");
  const firstOffset = Number(
    await dashboard.locator('[data-testid="feed-item"]').first().getAttribute("data-offset"),
  );
  assert.ok(firstOffset < 5_000, `the feed starts at the beginning (${firstOffset} ms)`);

  await dashboard.goto(server.url + "/");
  const ended = dashboard.locator(`[data-testid="sessions"] [data-session="${id}"]`);
  assert.equal(await ended.getAttribute("data-status"), "ended");
  assert.deepEqual(cspViolations, [], "no CSP violations on the dashboard");
});
