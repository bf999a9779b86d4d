/**
 * `deno task bench:dashboard`: the dashboard's figures, both backends in one run.
 *
 * 1. Live-tail latency: from the server acknowledging an ingest request to the
 *    event arriving on a viewer's SSE stream, p50/p99, with 1 and 50 viewers.
 * 2. A 30-minute session generated from the recorded fixture: time until the
 *    first full snapshot reaches the player's stream (time to first frame,
 *    server side) and until the whole session has loaded; plus, in Chromium,
 *    until the first frame is painted: the static one the server writes into
 *    the page (islands/player/FirstFrame.tsx) or the replay's, whichever is
 *    first, each also shown on its own.
 * 3. The list page with 10,000 sessions, unfiltered and filtered.
 */

import { benchServer, KEY } from "./server.ts";
import { Sessions } from "../lib/sessions/service.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { S2Store } from "../lib/store/s2.ts";
import type { StreamStore } from "../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { liteAvailable, printSkipNotice, startLite } from "../tests/support/s2_lite.ts";
import { browserAvailable, launchBrowser } from "../tests/support/browser.ts";
import { followLive as view } from "../tests/support/client.ts";
import { percentile, table } from "./report.ts";
import { fixtureFor } from "./fixture.ts";

const SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 200);
const LIST_SESSIONS = Number(Deno.env.get("BENCH_LIST_SESSIONS") ?? 10_000);
const BROWSER_RUNS = Number(Deno.env.get("BENCH_BROWSER_RUNS") ?? 5);
/** `BENCH_ONLY=first-frame` runs only the 30-minute session (the first-frame figures). */
const ONLY = Deno.env.get("BENCH_ONLY");
const fixture = JSON.parse(await Deno.readTextFile("tests/fixtures/recorded_session.json")) as {
  durationMs: number;
  batches: Array<{ events: RrwebEvent[] }>;
};

const serve = (store: StreamStore) => benchServer(store);

async function start(url: string) {
  const res = await fetch(`${url}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ projectKey: KEY, meta: { url: "https://shop.example/", userAgent: "bench" } }),
  });
  return await res.json() as { sessionId: string; token: string };
}

function send(url: string, s: { sessionId: string; token: string }, seq: number, events: unknown[]) {
  return fetch(`${url}/api/sessions/${s.sessionId}/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${s.token}` },
    body: JSON.stringify({ writerId: "bench", seq, sentAt: Date.now(), events }),
  });
}

async function liveTail(url: string, viewers: number) {
  const s = await start(url);
  await send(url, s, 0, [{ type: 4, timestamp: Date.now(), data: { href: "https://shop.example/" } }]);
  const abort = new AbortController();
  const arrivals = new Map<number, number[]>();
  const views = Array.from({ length: viewers }, () =>
    view(url, s.sessionId, (events) => {
      const now = performance.now();
      for (const e of events) {
        const n = (e.data as { n?: number })?.n;
        if (n !== undefined) arrivals.set(n, [...arrivals.get(n) ?? [], now]);
      }
    }, abort.signal));
  await new Promise((r) => setTimeout(r, 500));
  const samples: number[] = [];
  const fromSend: number[] = [];
  for (let n = 1; n <= SAMPLES; n++) {
    const sent = performance.now();
    const res = await send(url, s, n, [{ type: 5, timestamp: Date.now(), data: { tag: "bench", n } }]);
    const acked = performance.now();
    await res.body?.cancel();
    const deadline = Date.now() + 5000;
    while ((arrivals.get(n)?.length ?? 0) < viewers && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    // A viewer may see the event before the writer reads the ack; that counts as 0.
    for (const at of arrivals.get(n) ?? []) {
      samples.push(Math.max(0, at - acked));
      fromSend.push(at - sent);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  // Stopping the session ends every viewer's stream from the server side; the abort is a backstop
  // (an aborted fetch body does not always settle its pending read on Deno).
  await fetch(`${url}/api/sessions/${s.sessionId}/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.token}` },
  })
    .then((r) => r.body?.cancel());
  abort.abort();
  await Promise.race([Promise.all(views), new Promise((r) => setTimeout(r, 2000))]);
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    sendP50: percentile(fromSend, 50),
    sendP99: percentile(fromSend, 99),
    received: samples.length / (SAMPLES * viewers),
  };
}

/** Posts the fixture again and again, shifted in time, until it covers `minutes`. */
async function longSession(url: string, minutes: number) {
  const s = await start(url);
  let seq = 0;
  let events = 0;
  for (const shifted of fixtureFor(fixture, minutes)) {
    const res = await send(url, s, seq++, shifted);
    await res.body?.cancel();
    events += shifted.length;
  }
  await fetch(`${url}/api/sessions/${s.sessionId}/stop`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.token}` },
  });
  return { id: s.sessionId, batches: seq, events };
}

async function firstFrame(url: string, id: string) {
  const t0 = performance.now();
  let firstSnapshot = 0;
  const abort = new AbortController();
  await view(url, id, (events) => {
    if (!firstSnapshot && events.some((e) => e.type === 2)) firstSnapshot = performance.now() - t0;
  }, abort.signal);
  return { firstSnapshot, total: performance.now() - t0 };
}

/**
 * In Chromium, from navigation start: when the replay's first frame is painted (the first animation frame after
 * the one in which rrweb's iframe first showed a built page: that frame has been drawn by then) and when the
 * player has every event. Median of {@link BROWSER_RUNS} runs.
 */
async function browserFirstFrame(url: string, id: string, events: number) {
  const browser = await launchBrowser();
  try {
    const runs: Array<
      Record<"first" | "replay" | "static" | "total" | "html" | "scripts" | "streamOpened" | "firstBatch", number>
    > = [];
    for (let i = 0; i < BROWSER_RUNS; i++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.addInitScript((expected: number) => {
        const marks: Record<string, number> = {};
        (globalThis as unknown as { __marks: Record<string, number> }).__marks = marks;
        // Breakdown: when the session stream is opened, and when its first batch arrives.
        const Native = globalThis.EventSource;
        globalThis.EventSource = class extends Native {
          constructor(url: string | URL, init?: EventSourceInit) {
            super(url, init);
            marks.streamOpened ??= performance.now();
            this.addEventListener("events", () => marks.firstBatch ??= performance.now());
          }
        };
        // The static first frame the server wrote (islands/player/FirstFrame.tsx): painted by the first animation
        // frame after its document has loaded (its stylesheets are inline; images may still be on their way).
        document.addEventListener("load", (event) => {
          const target = event.target as Element | null;
          if (target?.matches?.("iframe.rp-first-frame")) requestAnimationFrame((now) => marks.staticFirst ??= now);
        }, true);
        let built = false;
        const frame = (now: number) => {
          if (built) {
            marks.first ??= now;
          } else {
            const iframe = document.querySelector<HTMLIFrameElement>('[data-testid="player"] iframe');
            const body = iframe?.contentDocument?.body;
            built = !!body && body.childElementCount > 0 && iframe!.offsetWidth > 0 &&
              getComputedStyle(iframe!).visibility !== "hidden";
          }
          const player = document.querySelector('[data-testid="player"]');
          if (Number(player?.getAttribute("data-events")) >= expected) marks.total ??= now;
          if (marks.first === undefined || marks.total === undefined) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }, events);
      await page.goto(`${url}/sessions/${id}`, { waitUntil: "commit" });
      await page.waitForFunction(
        () => (globalThis as unknown as { __marks: Record<string, number> }).__marks.total !== undefined,
        undefined,
        { timeout: 120_000 },
      );
      const marks = await page.evaluate(() => {
        const marks = (globalThis as unknown as { __marks: Record<string, number> }).__marks;
        const own = {
          first: Math.min(marks.first ?? Number.NaN, marks.staticFirst ?? Infinity),
          replay: marks.first ?? Number.NaN,
          static: marks.staticFirst ?? Number.NaN,
          total: marks.total,
          streamOpened: marks.streamOpened ?? Number.NaN,
          firstBatch: marks.firstBatch ?? Number.NaN,
        };
        const scripts = (performance.getEntriesByType("resource") as PerformanceResourceTiming[])
          .filter((e) => e.name.endsWith(".js"));
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return { ...own, html: nav.responseEnd, scripts: Math.max(...scripts.map((e) => e.responseEnd)) };
      });
      runs.push(marks);
      await page.close();
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      first: median(runs.map((r) => r.first)),
      firstMin: Math.min(...runs.map((r) => r.first)),
      firstMax: Math.max(...runs.map((r) => r.first)),
      replay: median(runs.map((r) => r.replay)),
      static: median(runs.map((r) => r.static)),
      total: median(runs.map((r) => r.total)),
      html: median(runs.map((r) => r.html)),
      scripts: median(runs.map((r) => r.scripts)),
      streamOpened: median(runs.map((r) => r.streamOpened)),
      firstBatch: median(runs.map((r) => r.firstBatch)),
    };
  } finally {
    await browser.close();
  }
}

/** Creates sessions spread over the last 7 days, each stopped, some with errors. */
async function populate(store: StreamStore, count: number) {
  let clock = Date.now() - 7 * 86_400_000;
  const step = (7 * 86_400_000) / count;
  const sessions = new Sessions({ store, now: () => clock, leaseMs: Infinity }); // time is simulated here
  const queue = Array.from({ length: count }, (_, i) => i);
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      clock += step;
      const meta = await sessions.create({
        url: i % 2 ? "https://shop.example/checkout" : "https://shop.example/",
        userId: `user-${i}`,
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
      });
      const events: RrwebEvent[] = [{ type: 4, timestamp: clock, data: { href: "https://shop.example/" } }];
      if (i % 10 === 0) events.push({ type: 5, timestamp: clock + 1, data: { tag: "replaya.error", payload: {} } });
      await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events });
      await sessions.stop(meta.id);
    }
  }));
}

async function listTimes(url: string) {
  const out: Record<string, number> = {};
  for (
    const [label, query] of [["unfiltered", ""], ["url contains", "?url=checkout"], ["has errors", "?errors=yes"], [
      "one user (full scan)",
      "?user=user-4242",
    ]]
  ) {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      const res = await fetch(`${url}/${query}`);
      await res.text();
      times.push(performance.now() - t0);
    }
    out[label] = percentile(times, 50);
  }
  return out;
}

const live: string[][] = [];
const load: string[][] = [];
const steps: string[][] = [];
const list: string[][] = [];
const withBrowser = browserAvailable();

async function measure(label: string, open: () => Promise<StreamStore>) {
  const progress = (what: string) => console.error(`[${label}] ${what}…`);
  progress("live tail");
  let store = await open();
  let server = await serve(store);
  for (const viewers of ONLY === "first-frame" ? [] : [1, 50]) {
    const r = await liveTail(server.url, viewers);
    live.push([
      label,
      String(viewers),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      r.sendP50.toFixed(1),
      r.sendP99.toFixed(1),
      `${(100 * r.received).toFixed(1)}%`,
    ]);
  }
  progress("30-minute session");
  const session = await longSession(server.url, 30);
  const f = await firstFrame(server.url, session.id);
  const b = withBrowser ? await browserFirstFrame(server.url, session.id, session.events) : undefined;
  load.push([
    label,
    `${session.batches} batches, ${session.events} events`,
    f.firstSnapshot.toFixed(0),
    f.total.toFixed(0),
    b ? `${b.first.toFixed(0)} (${b.firstMin.toFixed(0)}–${b.firstMax.toFixed(0)})` : "skipped",
    b ? b.total.toFixed(0) : "skipped",
  ]);
  if (b) {
    steps.push([
      label,
      ...[b.html, b.static, b.scripts, b.streamOpened, b.firstBatch, b.replay, b.first].map((ms) => ms.toFixed(0)),
    ]);
  }
  await server.close();
  await store.close();
  if (ONLY === "first-frame") return;
  store = await open();
  progress(`populating ${LIST_SESSIONS} sessions`);
  const t0 = performance.now();
  await populate(store, LIST_SESSIONS);
  const populated = ((performance.now() - t0) / 1000).toFixed(0);
  server = await serve(store);
  const times = await listTimes(server.url);
  for (const [filter, ms] of Object.entries(times)) list.push([label, filter, ms.toFixed(1), `${populated} s`]);
  await server.close();
  await store.close();
}

console.error(`load average at start: ${(await Deno.readTextFile("/proc/loadavg")).trim()}`);
const dir = await Deno.makeTempDir({ prefix: "replaya-bench-" });
let n = 0;
await measure("sqlite (embedded)", () => Promise.resolve(SqliteStore.open({ path: `${dir}/bench-${n++}.db` })));
if (liteAvailable()) {
  const lite = await startLite();
  await measure("s2-lite (in memory)", () =>
    S2Store.connect({
      accessToken: "bench",
      basin: `replaya-bench-${n++}`,
      accountEndpoint: lite.url,
      basinEndpoint: lite.url,
    }));
  await lite.stop();
} else {
  printSkipNotice();
}
await Deno.remove(dir, { recursive: true });

const loadEnd = (await Deno.readTextFile("/proc/loadavg")).trim();
console.log(`\nload average at the end: ${loadEnd}`);
console.log(`\nLive tail: ingest ack → event on a viewer's SSE stream (${SAMPLES} events)\n`);
console.log("(a viewer often has the event before the writer has read its ack; that counts as 0)\n");
console.log(
  table(["backend", "viewers", "ack→viewer p50 ms", "p99 ms", "send→viewer p50 ms", "p99 ms", "delivered"], live),
);
console.log(`\nA 30-minute session generated from the fixture\n`);
console.log(
  table([
    "backend",
    "session",
    "first snapshot on SSE ms",
    "SSE fully read ms",
    `browser first frame painted ms, median (min–max of ${BROWSER_RUNS})`,
    "browser fully loaded ms",
  ], load),
);
console.log(`\nThe browser's first frame, step by step (ms from navigation start, medians)\n`);
console.log(
  table([
    "backend",
    "HTML received",
    "static first frame painted",
    "scripts received",
    "stream opened",
    "first batch",
    "replay's first frame painted",
    "first frame painted",
  ], steps),
);
console.log(`\nList page with ${LIST_SESSIONS.toLocaleString("en")} sessions over 7 days (median of 15 requests)\n`);
console.log(table(["backend", "filter", "p50 ms", "populate time"], list));
