/**
 * The capture path in a real browser: Chromium loads a site on its own
 * origin that installs the script-tag snippet, and the test reads back what
 * the server stored, on both backends.
 */

import assert from "node:assert/strict";
import { browserTest, waitFor } from "../support/browser.ts";
import { type ServerUnderTest, serveStore } from "../support/server.ts";
import { readSession } from "../support/client.ts";
import { gunzip } from "../../lib/bytes.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { kindOf } from "../../lib/sessions/codec.ts";
import { readAll } from "../../lib/store/mod.ts";
import type { Page } from "playwright-core";

const SECRET = "4111-1111-SECRET-9999";

type Event = { type: number; timestamp: number; data?: Record<string, unknown> };

/** The session id the recorder keeps in sessionStorage. */
function sessionIdOf(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const raw = sessionStorage.getItem("replaya:session");
    return raw ? JSON.parse(raw).id ?? JSON.parse(raw).sessionId : undefined;
  });
}

/** Every byte stored for a session, decompressed, as text. */
async function storedText(server: ServerUnderTest, id: string): Promise<string> {
  const parts: string[] = [];
  for await (const r of readAll(server.store, streamOf(id))) {
    parts.push(JSON.stringify(r.headers));
    const framed = new Map(r.headers).has("f");
    const body = kindOf(r) === "events" && !framed ? await gunzip(r.body, 1 << 28) : r.body;
    parts.push(new TextDecoder().decode(body));
  }
  return parts.join("\n");
}

async function eventsOf(server: ServerUnderTest, id: string): Promise<Event[]> {
  const items = await readSession(server.url, id);
  return items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[]);
}

browserTest(
  "snippet records a session across two pages, masked and exactly once",
  async ({ server, site, browser }) => {
    const page = await browser.newPage({ timezoneId: "Europe/Paris" });
    const warnings: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "warning" || m.type() === "error") warnings.push(m.text());
    });
    await page.goto(site.url + "/?utm_source=mail#promo");
    const id = await waitFor("a session id", () => sessionIdOf(page));
    await page.fill("#card", SECRET);
    await page.click("#buy");
    // The first page's events reach the server before we leave it.
    await waitFor("page 1 batches", async () => (await eventsOf(server, id)).some((e) => e.type === 3));
    await page.click("#next");
    await page.waitForURL(/checkout/);
    await waitFor(
      "page 2's snapshot",
      async () => (await eventsOf(server, id)).filter((e) => e.type === 2).length >= 2,
    );
    assert.equal(await sessionIdOf(page), id, "the second page continues the same session");
    await page.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
    await waitFor("the stop record", async () => (await readSession(server.url, id)).at(-1)?.kind === "stop");

    const items = await readSession(server.url, id);
    const meta = items.find((i) => i.kind === "meta")?.meta as { timezone?: string } | undefined;
    assert.equal(meta?.timezone, "Europe/Paris", "the visitor's time zone (Temporal's, or Intl's where there is none)");
    const events = items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[]);
    const writers = new Set(items.filter((i) => i.kind === "events").map((i) => i.writerId));
    assert.equal(writers.size, 2, "each page load is its own writer");
    const snapshots = events.filter((e) => e.type === 2);
    assert.equal(snapshots.length, 2, "one full snapshot per page, each exactly once");
    const pages = events.filter((e) => e.type === 4).map((e) => e.data?.href);
    assert.deepEqual(
      pages,
      [`${site.url}/`, `${site.url}/checkout`],
      "page change recorded, query and fragment stripped",
    );
    const clicks = events.filter((e) => e.type === 3 && e.data?.source === 2 && e.data?.type === 2);
    assert.equal(clicks.length, 2, "the Buy click and the Checkout click, each once");
    const inputs = events.filter((e) => e.type === 3 && e.data?.source === 5);
    assert.equal(inputs.length, 1, `one input event, got ${JSON.stringify(inputs)}`);
    assert.match(String(inputs[0].data?.text), /^\*+$/, "the input value is masked");
    const keys = events.map((e) => `${e.type}:${e.timestamp}:${JSON.stringify(e.data)}`);
    assert.equal(new Set(keys).size, keys.length, "no event is replayed twice");

    const stored = await storedText(server, id);
    assert.ok(!stored.includes(SECRET), "the typed secret appears nowhere in the stored bytes");
    assert.ok(!stored.includes("Blocked content"), "replaya-block content is not recorded");
    const leak = stored.indexOf("utm_source");
    assert.ok(leak < 0, `the page URL query string is stripped: ${stored.slice(leak - 300, leak + 50)}`);
    assert.ok(!stored.includes("promo"), "the page URL fragment is stripped");
    assert.deepEqual(warnings.filter((w) => /replaya/i.test(w)), [], "the recorder stayed quiet");
  },
);

browserTest(
  "the server restarts mid-session and no batch is lost or duplicated",
  async ({ server: first, site, browser }) => {
    let server = first;
    const port = Number(new URL(server.url).port);
    let ticks = 0;
    const tick = async (page: Page, n: number) => {
      for (let i = 0; i < n; i++) {
        ticks++;
        await page.evaluate((t) => {
          (globalThis as unknown as { replaya: (...a: unknown[]) => void }).replaya("track", "tick", { t });
          document.getElementById("buy")!.click();
        }, ticks);
        await new Promise((r) => setTimeout(r, 40));
      }
    };
    try {
      const page = await browser.newPage();
      await page.goto(site.url + "/");
      const id = await waitFor("a session id", () => sessionIdOf(page));
      await tick(page, 25);
      await server.close(); // the server goes away mid-session…
      await tick(page, 40); // …while the visitor keeps going
      server = await serveStore(first.under, {}, port);
      await tick(page, 25);
      await page.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
      await waitFor(
        "the stop record",
        async () => (await readSession(server.url, id)).at(-1)?.kind === "stop",
        60_000,
      );

      const items = await readSession(server.url, id);
      const batches = items.filter((i) => i.kind === "events").map((i) => i.batch as number);
      assert.deepEqual(batches, batches.map((_, i) => i), "batch seqs are contiguous: none lost, none twice");
      const seen = items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[])
        .filter((e) => e.type === 5 && (e.data as { tag?: string })?.tag === "replaya.track")
        .map((e) => ((e.data as { payload: { props: { t: number } } }).payload.props.t));
      assert.deepEqual(seen, Array.from({ length: ticks }, (_, i) => i + 1), "every tick exactly once, in order");
    } finally {
      await server.close();
    }
  },
);
