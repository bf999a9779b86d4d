/**
 * The fault suite's probe: a page that records a numbered tick every 100 ms
 * (a `track` event, and in "full" mode a click and a DOM mutation too), and a
 * count of those ticks as read back through the API across every session the
 * page used.
 *
 * @module
 */

import type { Browser, Page } from "playwright-core";
import { waitFor } from "../support/browser.ts";
import type { SitePage } from "../support/test_site.ts";

/** Pages of the test site: `/ticks` (track, click, mutation) and `/ticks-track` (track events only). */
export const TICK_PAGES: Record<string, SitePage> = {
  "/ticks": (head) => tickPage(head, true),
  "/ticks-track": (head) => tickPage(head, false),
};

function tickPage(head: string, full: boolean): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Ticks</title>${head}</head><body>
<h1>Ticks</h1><button id="b" type="button">tick</button><p id="n">0</p>
<script>
  window.ticksSent = 0;
  const timer = setInterval(() => {
    const n = ++window.ticksSent;
    replaya("track", "tick", { n });
    ${full ? `document.getElementById("b").click(); document.getElementById("n").textContent = String(n);` : ""}
  }, 100);
  window.stopTicks = () => { clearInterval(timer); return window.ticksSent; };
</script></body></html>`;
}

/** A recording page and how to end it. */
export interface TickPage {
  page: Page;
  /** Ticks recorded so far. */
  sent(): Promise<number>;
  /** Stops ticking, then ends the session (flush and stop); resolves the number of ticks sent. */
  finish(): Promise<number>;
}

/** Opens the tick page in a new browser context. */
export async function openTicks(browser: Browser, siteUrl: string, path = "/ticks"): Promise<TickPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(siteUrl + path);
  return {
    page,
    sent: () => page.evaluate(() => (globalThis as unknown as { ticksSent: number }).ticksSent),
    async finish() {
      const sent = await page.evaluate(() => (globalThis as unknown as { stopTicks(): number }).stopTicks());
      await page.evaluate(() => (globalThis as unknown as { replaya(c: string): void }).replaya("stop"));
      return sent;
    },
  };
}

/** What came back: per tick number, how often it is stored; the sessions used; gap markers. */
export interface TickCount {
  sessions: string[];
  seen: Map<number, number>;
  /** Events the recorder reported as lost (sum of `replaya.gap` markers). */
  gapEvents: number;
  gaps: Array<Record<string, unknown>>;
  /** Session ids that have ended. */
  ended: Set<string>;
}

/** Reads every session on the server (the open loopback dashboard) and counts the ticks in them. */
export async function countTicks(url: string): Promise<TickCount> {
  const list = await (await fetch(`${url}/`)).text();
  const sessions = [...new Set([...list.matchAll(/data-session="([a-z0-9]{25})"/g)].map((m) => m[1]))];
  const seen = new Map<number, number>();
  const gaps: Array<Record<string, unknown>> = [];
  const ended = new Set<string>();
  for (const id of sessions) {
    const text = await (await fetch(`${url}/api/sessions/${id}/events`)).text();
    for (const line of text.split("\n").filter(Boolean)) {
      const item = JSON.parse(line);
      if (item.kind === "stop") ended.add(id);
      if (item.kind !== "events") continue;
      for (const event of item.events) {
        if (event.type !== 5) continue;
        const { tag, payload } = event.data ?? {};
        if (tag === "replaya.track" && payload?.name === "tick") {
          const n = payload.props?.n as number;
          seen.set(n, (seen.get(n) ?? 0) + 1);
        }
        if (tag === "replaya.gap") gaps.push(payload);
      }
    }
  }
  const gapEvents = gaps.reduce((n, g) => n + Number(g.droppedEvents ?? 0), 0);
  return { sessions, seen, gapEvents, gaps, ended };
}

/** Waits until every sent tick (and the stop) has been stored, or the deadline. */
export async function settledCount(url: string, sent: number, ms = 60_000): Promise<TickCount> {
  let last: TickCount | undefined;
  try {
    return await waitFor("every tick stored and the session stopped", async () => {
      last = await countTicks(url);
      const stored = [...last.seen.keys()].filter((n) => n <= sent).length;
      const missing = sent - stored;
      // Done when all arrived, or when what is missing is accounted for by gap markers.
      return (missing === 0 || missing === last.gapEvents) && last.sessions.every((id) => last!.ended.has(id)) &&
        last;
    }, ms);
  } catch (error) {
    if (last) return last; // the assertions say what is wrong
    throw error;
  }
}

/** sent / stored / lost / duplicated, as the closing note's table reports them. */
export function tally(sent: number, count: TickCount) {
  const stored = [...count.seen.keys()].filter((n) => n >= 1 && n <= sent).length;
  const duplicated = [...count.seen.values()].filter((times) => times > 1).length;
  return { sent, stored, lost: sent - stored, duplicated, sessions: count.sessions.length, gap: count.gapEvents };
}
