/**
 * The session list in Chromium at 1280×800, on both backends: it fits without
 * horizontal scrolling, times are relative with the absolute time as title,
 * a live session shows its running counts (and gets them without a reload),
 * the errors filter matches a live session with an error, and sorting by
 * errors reorders the page. Saves a screenshot under test-results/.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";
import { fakeEvents, post, sendBatch, startSession } from "../support/client.ts";

const ABSOLUTE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/;

/** The text of a count cell of a session's row (in `scope`), or undefined. */
async function count(page: Page, scope: string, id: string, name: string): Promise<string | undefined> {
  const cell = page.locator(`${scope} [data-session="${id}"] [data-count="${name}"]`);
  return (await cell.count()) > 0 ? (await cell.first().innerText()).trim() : undefined;
}

browserTest("session list: fits 1280 px, relative times, live running counts, errors filter on live", async ({
  server,
  site,
  browser,
}) => {
  // An ended session with long metadata (the table has something to cut) and three errors (sorting moves it up).
  const old = await startSession(server.url, {
    meta: {
      url: `https://shop.example.com/products/${"very-long-segment-".repeat(12)}end`,
      userId: `someone-with-a-long-id-${"x".repeat(40)}@example.com`,
      source: "storefront-with-a-long-name",
    },
  });
  const error = () => ({ type: 5, timestamp: Date.now(), data: { tag: "replaya.error", payload: { message: "x" } } });
  await sendBatch(server.url, old, { seq: 0, events: [...fakeEvents(5), error(), error(), error()] });
  await post(`${server.url}/api/sessions/${old.sessionId}/stop`, {}, { authorization: `Bearer ${old.token}` });

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const dashboard = await context.newPage();
  const cspViolations: string[] = [];
  dashboard.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await dashboard.goto(server.url + "/");
  await dashboard.waitForSelector('[data-testid="live-sessions"][data-connected="true"]', { state: "attached" });

  const visitor = await context.newPage();
  await visitor.goto(site.url + "/");
  const fresh = '[data-testid="live-sessions"]';
  const row = dashboard.locator(`${fresh} [data-testid="session-row"]`);
  await row.first().waitFor({ timeout: 15_000 });
  const id = (await row.first().getAttribute("data-session"))!;
  assert.equal(await count(dashboard, fresh, id, "events"), "—", "a new live row starts without counts");

  await visitor.click("#buy");
  await visitor.click("#buy");
  await visitor.evaluate(() =>
    setTimeout(() => {
      throw new Error("boom in the visitor's page");
    })
  );
  await waitFor("the live row's running counts, without a reload", async () => {
    const events = Number((await count(dashboard, fresh, id, "events"))?.replace(/[≥,]/g, ""));
    const errors = Number((await count(dashboard, fresh, id, "errors"))?.replace(/[≥,]/g, ""));
    return events > 0 && errors >= 1;
  }, 30_000);

  // The errors filter lists the live session (its running count), and "without errors" does not.
  await dashboard.goto(server.url + "/?errors=yes");
  const listed = dashboard.locator(`[data-testid="sessions"] [data-session="${id}"]`);
  assert.equal(await listed.getAttribute("data-status"), "live");
  await dashboard.goto(server.url + "/?errors=no");
  assert.equal(await dashboard.locator(`[data-session="${id}"]`).count(), 0);

  // The whole list, server-rendered, then brought to life by its island.
  await dashboard.goto(server.url + "/");
  const table = '[data-testid="sessions"]';
  assert.equal(await dashboard.locator(`${table} [data-session]`).count(), 2);
  assert.notEqual(await count(dashboard, table, id, "events"), "—", "the live row shows its counts so far");
  assert.ok(Number(await count(dashboard, table, id, "errors")) >= 1);
  await dashboard.waitForSelector(`${table} [data-testid="time"][data-relative="true"]`);
  for (const time of await dashboard.locator(`${table} [data-testid="time"]`).all()) {
    assert.match(await time.innerText(), /^(just now|\d+ min ago)$/);
    assert.match((await time.getAttribute("title"))!, ABSOLUTE);
  }
  const [scrollWidth, clientWidth] = await dashboard.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  assert.ok(scrollWidth <= clientWidth, `no horizontal scroll at 1280 px (${scrollWidth} > ${clientWidth})`);
  const url = dashboard.locator(`${table} [data-session="${old.sessionId}"] td.url`);
  assert.match((await url.getAttribute("title"))!, /^https:\/\/shop\.example\.com\/products\/very-long/);
  const duration = dashboard.locator(`${table} [data-session="${old.sessionId}"] [data-testid="duration"]`);
  assert.match((await duration.getAttribute("title"))!, /^Ended \d{4}-\d{2}-\d{2} .* UTC/, "the end time on hover");

  // Sorting by errors reorders this page at once, says so, and is a link the server honours too.
  assert.deepEqual(
    await dashboard.locator(`${table} [data-session]`).evaluateAll((rows) =>
      rows.map((r) => r.getAttribute("data-session"))
    ),
    [id, old.sessionId],
  );
  await dashboard.click(`${table} a[data-sort="duration"]`);
  await dashboard.waitForSelector(`${table}[data-sort="duration"]`);
  await dashboard.click(`${table} a[data-sort="errors"]`);
  await dashboard.waitForSelector(`${table}[data-sort="errors"]`);
  assert.deepEqual(
    await dashboard.locator(`${table} [data-session]`).evaluateAll((rows) =>
      rows.map((r) => r.getAttribute("data-session"))
    ),
    [old.sessionId, id],
    "most errors first",
  );
  assert.match(await dashboard.innerText('[data-testid="sort-note"]'), /within the 2 sessions of this page/);
  assert.match(dashboard.url(), /\?sort=errors$/);
  await dashboard.reload();
  assert.equal(await dashboard.getAttribute(table, "data-sort"), "errors");

  await Deno.mkdir("test-results", { recursive: true });
  await dashboard.screenshot({ path: `test-results/sessions-1280-${server.backend}.png`, fullPage: true });
  await visitor.close();
  assert.deepEqual(cspViolations, [], "no CSP violations on the list");
});
