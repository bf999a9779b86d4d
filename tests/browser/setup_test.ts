/**
 * The setup page in Chromium, on both backends: the snippet builder changes
 * the snippet, the copy button puts it on the clipboard, the copied snippet
 * pasted into a page records into this server, and the "waiting for your
 * first session" check flips to "received" when that session starts.
 */

import assert from "node:assert/strict";
import { browserTest } from "../support/browser.ts";
import { TEST_KEY } from "../support/server.ts";

browserTest("setup: snippet builder, copy button, and the first-session check flipping live", async ({
  server,
  browser,
}) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const setup = await context.newPage();
  const cspViolations: string[] = [];
  setup.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await setup.goto(server.url + "/setup");
  const check = '[data-testid="first-session"]';
  await setup.waitForSelector(`${check}[data-state="waiting"] [data-listening="true"]`); // subscribed to the feed
  const snippet = () => setup.innerText('[data-testid="snippet"]');
  assert.ok((await snippet()).includes(`projectKey: "${TEST_KEY}",`), "the key, whole, on its own line");
  assert.equal(await setup.innerText('[data-testid="project-key"]'), TEST_KEY);
  assert.equal(
    await setup.$eval('[data-testid="project-key"]', (el) => getComputedStyle(el).whiteSpace),
    "nowrap",
    "the key never wraps",
  );
  assert.match(await setup.innerText('[data-testid="package-note"]'), /not yet/, "npm is marked as not published");

  // The builder: each option shows up in the snippet, and goes away again.
  await setup.check('input[name="captureNetwork"]');
  await setup.check('input[name="requireConsent"]');
  await setup.fill('input[name="samplePercent"]', "25");
  const built = await snippet();
  for (const line of ["captureNetwork: true,", "requireConsent: true,", "sampleRate: 0.25,"]) {
    assert.ok(built.includes(line), `${line} in\n${built}`);
  }
  await setup.uncheck('input[name="captureNetwork"]');
  await setup.uncheck('input[name="requireConsent"]');
  await setup.fill('input[name="samplePercent"]', "100");
  await setup.check('input[name="captureConsole"]');
  const chosen = await snippet();
  assert.ok(chosen.includes("captureConsole: true,"));
  assert.ok(!/captureNetwork|requireConsent|sampleRate/.test(chosen), chosen);
  // For a strict CSP: the script tag alone, the same options as data attributes.
  await setup.check('input[name="scriptTagOnly"]');
  const tag = await snippet();
  assert.match(tag, /^<script async src="[^"]+\/recorder\.js" data-endpoint="[^"]+"/, tag);
  assert.ok(tag.includes(`data-project-key="${TEST_KEY}"`) && tag.includes('data-capture-console="true"'), tag);
  assert.equal(tag.split("<script").length - 1, 1, "one script element, nothing inline");
  await setup.uncheck('input[name="scriptTagOnly"]');
  assert.equal(await snippet(), chosen);

  await setup.click('[data-testid="copy-snippet"]');
  await setup.waitForSelector('[data-testid="copy-snippet"][data-copied="yes"]');
  const copied = await setup.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, chosen, "the clipboard holds the snippet shown");

  // Paste it into a site: its first visitor's session flips the check.
  const site = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(`<!doctype html><html><head><title>Pasted</title>${copied}</head><body><p>Hello</p></body></html>`, {
        headers: { "content-type": "text/html; charset=utf-8" },
      }),
  );
  try {
    const visitor = await context.newPage();
    await visitor.goto(`http://127.0.0.1:${site.addr.port}/welcome`);
    await setup.waitForSelector(`${check}[data-state="received"]`, { timeout: 15_000 });
    assert.match(await setup.innerText(check), /Received a session from 127\.0\.0\.1:\d+\/welcome/);
    const href = await setup.getAttribute('[data-testid="received-session"]', "href");
    assert.match(href!, /^\/sessions\/\d{13}[a-z0-9]{12}$/);
    await visitor.close();
  } finally {
    await site.shutdown();
  }
  await setup.reload();
  await setup.waitForSelector(`${check}[data-state="received"]`);
  assert.deepEqual(cspViolations, [], "no CSP violations on the setup page");
});
