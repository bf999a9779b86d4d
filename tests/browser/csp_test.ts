/**
 * A site with a strict Content-Security-Policy (no 'unsafe-inline'), in
 * Chromium on both backends: the recorder installed with one script tag and
 * its data attributes, no inline script, records and the session arrives.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { scriptTagSnippet } from "@replaya/recorder/snippet";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";
import { TEST_KEY } from "../support/server.ts";
import type { SitePage } from "../support/test_site.ts";

type Event = { type: number; data?: { tag?: string; payload?: Record<string, unknown> } };

/** A page under `script-src 'self' <server>`, its install tag given. */
function strictPage(tag: (endpoint: string) => string): SitePage {
  return (_head, endpoint) =>
    new Response(
      `<!doctype html><html><head><meta charset="utf-8"><title>Strict</title>${tag(endpoint)}</head>
<body><h1>Strict shop</h1><button id="buy">Buy</button>
<script>window.inlineRan = true;</script></body></html>`,
      {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            `default-src 'self'; script-src 'self' ${endpoint}; connect-src 'self' ${endpoint}; style-src 'self'`,
        },
      },
    );
}

/** Every CSP violation the page reports, from the start (an init script is not subject to the policy). */
async function watchViolations(page: Page): Promise<() => Promise<Array<{ directive: string; blocked: string }>>> {
  await page.addInitScript(() => {
    const seen: Array<{ directive: string; blocked: string }> = [];
    (globalThis as unknown as { cspViolations: typeof seen }).cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (e) => {
      seen.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
    });
  });
  return () => page.evaluate(() => (globalThis as unknown as { cspViolations: [] }).cspViolations);
}

function sessionIdOf(page: Page): Promise<string | undefined> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("replaya:session") ?? "null")?.sessionId);
}

browserTest(
  "csp: a strict page records with the data-attribute tag alone",
  async ({ server, site, browser }) => {
    const page = await browser.newPage();
    const violations = await watchViolations(page);
    const warnings: string[] = [];
    page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
    await page.goto(site.url + "/strict");
    const id = await waitFor("a session id", () => sessionIdOf(page));
    await page.click("#buy");
    await page.evaluate(() => console.warn("checkout slow"));
    await page.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
    const items = await waitFor("the stop record", async () => {
      const items = await readSession(server.url, id);
      return items.at(-1)?.kind === "stop" ? items : undefined;
    });

    assert.equal(await page.evaluate(() => (globalThis as { inlineRan?: boolean }).inlineRan), undefined);
    const seen = await violations();
    assert.ok(
      seen.some((v) => v.blocked === "inline"),
      "the policy is in force: the page's own inline script is refused",
    );
    assert.deepEqual(seen.filter((v) => v.blocked !== "inline" && v.directive !== "worker-src"), [], "nothing else");

    const events = items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[]);
    assert.ok(events.some((e) => e.type === 2), "a full snapshot arrived");
    assert.ok(
      events.some((e) => e.data?.tag === "replaya.console" && e.data.payload?.message === "checkout slow"),
      "data-capture-console took effect",
    );
    const details = (await (await fetch(`${server.url}/api/sessions/${id}`)).json()) as { meta: { source?: string } };
    assert.equal(details.meta.source, "csp-shop", "data-source took effect");
    assert.deepEqual(warnings.filter((w) => /replaya/.test(w)), [], "well-formed attributes: no warning");
  },
  {
    pages: {
      "/strict": strictPage((endpoint) =>
        scriptTagSnippet({
          endpoint,
          projectKey: TEST_KEY,
          init: { source: "csp-shop", captureConsole: ["warn"] },
        })
      ),
    },
  },
);

browserTest(
  "csp: data-require-consent waits for replaya('consent', true); a malformed attribute is named and skipped",
  async ({ server, site, browser }) => {
    const page = await browser.newPage();
    const warnings: string[] = [];
    page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
    const started: string[] = [];
    page.on("request", (r) => r.url().endsWith("/api/sessions") && r.method() === "POST" && started.push(r.url()));
    await page.goto(site.url + "/consent");
    await waitFor(
      "the attribute warning",
      () => Promise.resolve(warnings.some((w) => /data-sample-rate="often"/.test(w))),
    );
    assert.match(warnings[0], /^replaya: ignored script attributes: data-sample-rate="often"$/);
    // The tag ran (the warning came after init): without consent, no session was asked for.
    assert.equal(await page.evaluate(() => typeof (globalThis as { replaya?: unknown }).replaya), "function");
    assert.deepEqual(started, [], "no session before consent");
    await page.evaluate(() =>
      (globalThis as unknown as { replaya: (c: string, v: boolean) => void }).replaya("consent", true)
    );
    const id = await waitFor("a session id after consent", () => sessionIdOf(page));
    await waitFor("its first batch", async () => (await readSession(server.url, id)).some((i) => i.kind === "events"));
  },
  {
    pages: {
      "/consent": strictPage((endpoint) =>
        `<script async src="${endpoint}/recorder.js" data-project-key="${TEST_KEY}" data-require-consent data-sample-rate="often"></script>`
      ),
    },
  },
);
