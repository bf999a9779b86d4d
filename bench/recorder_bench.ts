/**
 * `deno task bench:recorder`: what the recorder costs the page it records, in
 * Chromium, side by side with no recorder and with stock rrweb.
 *
 * The page has 10,000 elements (2,500 list items of four elements each) and a
 * script that makes 200 mutations every 100 ms (100 text changes, 100 class
 * changes). Three variants, `BENCH_RUNS` runs each (default 3), alternating,
 * each run in a fresh context of the same browser:
 *
 * - no recorder;
 * - the RePlaya recorder (the built IIFE, `deno task build`, loaded with the
 *   snippet from a real RePlaya server on loopback, uploading to it);
 * - stock `rrweb@2.2.2` `record()` with its default options, events discarded.
 *
 * Measured with a buffered PerformanceObserver for long tasks and CDP
 * Performance metrics: the long task containing the first full snapshot,
 * rrweb's serialisation (Meta → FullSnapshot timestamps) and how long the task
 * goes on after it, script time over the run (`ScriptDuration`) and what it
 * adds over no recorder, long tasks after the first snapshot, the JS heap
 * after a forced GC, the script's bytes on the wire and the bytes uploaded.
 *
 * Environment: BENCH_SECONDS (default 5; 20 is the reference figure quoted in
 * README.md), BENCH_RUNS (default 3). Prints the load average at start and end.
 *
 * @module
 */

import type { CDPSession, Page } from "playwright-core";
import { benchServer, KEY } from "./server.ts";
import { snippet } from "@replaya/recorder/snippet";
import { browserAvailable, launchBrowser } from "../tests/support/browser.ts";
import { table } from "./report.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 3);
const IIFE = new URL("../recorder/dist/replaya.iife.js", import.meta.url);
const RRWEB = new URL("../node_modules/.deno/rrweb@2.2.2/node_modules/rrweb/dist/rrweb.umd.min.cjs", import.meta.url);

type Variant = "none" | "replaya" | "rrweb";
const VARIANTS: Variant[] = ["none", "replaya", "rrweb"];
const LABEL: Record<Variant, string> = {
  none: "no recorder",
  replaya: "RePlaya recorder",
  rrweb: "stock rrweb@2.2.2 record",
};

/** One run's figures (ms unless said otherwise). */
interface Run {
  /** Duration of the long task containing the FullSnapshot emit; 0 when it fit in under 50 ms. */
  snapshotTask?: number;
  /** Meta → FullSnapshot timestamps: rrweb's serialisation. */
  serialise?: number;
  /** How long the snapshot's task went on after the FullSnapshot emit. */
  tail?: number;
  /** Long tasks starting after the snapshot's task (after load without a recorder). */
  longAfter: number;
  /** Their total duration. */
  longAfterMs: number;
  /** ScriptDuration over the run. */
  script: number;
  /** JSHeapUsedSize after a forced GC (bytes). */
  heap: number;
  /** The recorder script's encoded bytes on the wire. */
  scriptBytes: number;
  /** Request bodies sent to the ingest API (bytes). */
  uploaded: number;
}

function loadavg(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/** The 10,000-element page, with `head` for the variant. */
function pageHtml(head: string): string {
  const items: string[] = [];
  for (let i = 0; i < 2500; i++) {
    items.push(`<li class="row"><span>Item ${i}</span><a href="/item/${i}">open</a><b>${i % 97}</b></li>`);
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>
<script>window.__lt=[];new PerformanceObserver(function(l){for(const e of l.getEntries())__lt.push([e.startTime,e.duration])}).observe({type:"longtask",buffered:true});</script>
${head}<style>li{display:inline-block;margin:2px}.on{color:red}</style></head>
<body><ul id="list">${items.join("")}</ul>
<script>
(function(){var spans=document.querySelectorAll("#list span"),lis=document.querySelectorAll("#list li"),seed=1,tick=0;
function r(n){seed=(seed*16807)%2147483647;return seed%n}
setInterval(function(){tick++;for(var i=0;i<100;i++)spans[r(spans.length)].textContent="Item "+tick+"."+i;
for(var j=0;j<100;j++){var li=lis[r(lis.length)];li.className=li.className==="row"?"row on":"row"}},100);})();
</script></body></html>`;
}

function stockHead(): string {
  // Events are discarded; only the two timestamps the table needs are kept.
  return `<script>window.__ev=[];</script><script async src="/rrweb.js" onload="rrweb.record({emit:function(e){if(e.type===4||e.type===2)__ev.push([e.type,e.timestamp])}})"></script>`;
}

async function gunzipText(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Meta and FullSnapshot timestamps of the first snapshot seen in upload bodies. */
class UploadWatch {
  meta?: number;
  full?: number;
  bytes = 0;
  #work: Promise<void>[] = [];

  attach(page: Page): void {
    page.on("request", (req) => {
      if (!req.url().includes("/events")) return;
      const body = req.postDataBuffer();
      if (!body) return;
      this.bytes += body.byteLength;
      const gz = (req.headers()["content-encoding"] ?? "") === "gzip";
      this.#work.push(
        (async () => {
          const text = gz ? await gunzipText(new Uint8Array(body)) : new TextDecoder().decode(body);
          const parsed = JSON.parse(text) as { events: Array<{ type: number; timestamp: number }> };
          for (const e of parsed.events) {
            if (e.type === 4 && this.meta === undefined) this.meta = e.timestamp;
            if (e.type === 2 && this.full === undefined) this.full = e.timestamp;
          }
        })().catch(() => {}),
      );
    });
  }

  async settled(): Promise<void> {
    await Promise.all(this.#work);
  }
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send("Performance.getMetrics");
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

async function runOnce(browserNew: () => Promise<Page>, site: string, variant: Variant): Promise<Run> {
  const page = await browserNew();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "threadTicks" });
  await cdp.send("Network.enable");
  let scriptBytes = 0;
  const scriptIds = new Set<string>();
  cdp.on("Network.responseReceived", (e) => {
    if (/\/(recorder|rrweb)\.js/.test(e.response.url)) scriptIds.add(e.requestId);
  });
  cdp.on("Network.loadingFinished", (e) => {
    if (scriptIds.has(e.requestId)) scriptBytes += e.encodedDataLength;
  });
  const uploads = new UploadWatch();
  uploads.attach(page);
  await page.goto(`${site}/${variant}`, { waitUntil: "load" });
  await page.waitForTimeout(SECONDS * 1000);
  if (variant === "replaya") {
    // The snapshot is uploaded within a second or two; wait for it rather than guess.
    for (let i = 0; i < 100 && uploads.full === undefined; i++) await page.waitForTimeout(100);
  }
  await uploads.settled();
  const m = await metrics(cdp);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = (await metrics(cdp)).JSHeapUsedSize;
  const inPage = await page.evaluate(() => {
    const w = window as unknown as { __lt: [number, number][]; __ev?: [number, number][] };
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
    return { lt: w.__lt, ev: w.__ev ?? [], origin: performance.timeOrigin, loadEnd: nav?.loadEventEnd ?? 0 };
  });
  await page.context().close();

  let meta: number | undefined;
  let full: number | undefined;
  if (variant === "replaya") {
    meta = uploads.meta;
    full = uploads.full;
  } else if (variant === "rrweb") {
    meta = inPage.ev.find((e) => e[0] === 4)?.[1];
    full = inPage.ev.find((e) => e[0] === 2)?.[1];
  }
  const run: Run = { longAfter: 0, longAfterMs: 0, script: m.ScriptDuration * 1000, heap, scriptBytes, uploaded: 0 };
  run.uploaded = uploads.bytes;
  let after = inPage.loadEnd;
  if (full !== undefined) {
    const at = full - inPage.origin;
    const task = inPage.lt.find(([start, d]) => start <= at + 1 && at <= start + d + 1);
    run.snapshotTask = task ? task[1] : 0;
    run.tail = task ? task[0] + task[1] - at : undefined;
    run.serialise = meta !== undefined ? full - meta : undefined;
    after = task ? task[0] + task[1] : at;
  }
  const later = inPage.lt.filter(([start]) => start >= after);
  run.longAfter = later.length;
  run.longAfterMs = later.reduce((s, [, d]) => s + d, 0);
  return run;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const ms = (n: number | undefined) => n === undefined || Number.isNaN(n) ? "—" : `${Math.round(n)}`;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (!browserAvailable()) {
  console.log("bench:recorder skipped: no Chromium");
  Deno.exit(0);
}

const iife = await Deno.readFile(IIFE).catch(() => {
  throw new Error("recorder/dist/replaya.iife.js is missing: run `deno task build` first");
});
const rrwebJs = await Deno.readFile(RRWEB);

// The embedded store, in the server's own temporary folder.
const server = await benchServer(undefined, "replaya-recorder-bench-");

const heads: Record<Variant, string> = {
  none: "",
  replaya: snippet({ endpoint: server.url, projectKey: KEY }),
  rrweb: stockHead(),
};
const site = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/rrweb.js") {
    return new Response(rrwebJs, { headers: { "content-type": "application/javascript" } });
  }
  const variant = path.slice(1) as Variant;
  if (!VARIANTS.includes(variant)) return new Response("not found", { status: 404 });
  return new Response(pageHtml(heads[variant]), { headers: { "content-type": "text/html; charset=utf-8" } });
});
const siteUrl = `http://127.0.0.1:${site.addr.port}`;
console.error(`site: ${siteUrl} (pages /none, /replaya, /rrweb)`);

/** What the server sends for `/recorder.js` in each encoding (bytes of the body as sent). */
async function recorderOnTheWire(): Promise<Record<"br" | "gzip" | "identity", number>> {
  const sizes = { br: 0, gzip: 0, identity: 0 };
  for (const encoding of ["br", "gzip", "identity"] as const) {
    // Deno's fetch would inflate the body: the length comes from the header, checked against the encoding.
    const response = await fetch(`${server.url}/recorder.js`, { headers: { "Accept-Encoding": encoding } });
    await response.body?.cancel();
    const sent = response.headers.get("content-encoding") ?? "identity";
    if (sent !== encoding) throw new Error(`/recorder.js came as ${sent} when asked for ${encoding}`);
    sizes[encoding] = Number(response.headers.get("content-length"));
  }
  return sizes;
}
const wire = await recorderOnTheWire();

const loadStart = loadavg();
console.error(`bench:recorder: ${RUNS} runs × ${VARIANTS.length} variants × ${SECONDS} s (load ${loadStart})…`);
const browser = await launchBrowser();
const results: Record<Variant, Run[]> = { none: [], replaya: [], rrweb: [] };
try {
  for (let r = 0; r < RUNS; r++) {
    for (const variant of VARIANTS) {
      const run = await runOnce(async () => (await browser.newContext()).newPage(), siteUrl, variant);
      results[variant].push(run);
      console.error(`  run ${r + 1} ${variant}: ${JSON.stringify(run)}`);
    }
  }
} finally {
  await browser.close();
  await site.shutdown();
  await server.close();
}

const base = median(results.none.map((r) => r.script));
const each = <T extends number | undefined>(v: Variant, f: (r: Run) => T): T[] => results[v].map(f);
const list = (values: (number | undefined)[]) => values.map(ms).join(" / ");
const rows: string[][] = [
  [
    "long task containing the first full snapshot (ms)",
    "—",
    ...(["replaya", "rrweb"] as const).map((v) => list(each(v, (r) => r.snapshotTask))),
  ],
  [
    "snapshot serialisation, Meta → FullSnapshot (ms, median)",
    "—",
    ...(["replaya", "rrweb"] as const).map((v) =>
      ms(median(each(v, (r) => r.serialise).filter((n): n is number => n !== undefined)))
    ),
  ],
  [
    "snapshot task after the FullSnapshot emit (ms)",
    "—",
    ...(["replaya", "rrweb"] as const).map((v) => list(each(v, (r) => r.tail))),
  ],
  [`script time over ${SECONDS} s (ms, median)`, ...VARIANTS.map((v) => ms(median(each(v, (r) => r.script))))],
  [
    `script time added over ${SECONDS} s (ms, median)`,
    "—",
    ...(["replaya", "rrweb"] as const).map((v) => `+${ms(median(each(v, (r) => r.script)) - base)}`),
  ],
  [
    "long tasks after the first snapshot (count, total ms)",
    ...VARIANTS.map((v) => results[v].map((r) => `${r.longAfter} (${ms(r.longAfterMs)})`).join(" / ")),
  ],
  ["JS heap used after GC (median)", ...VARIANTS.map((v) => kib(median(each(v, (r) => r.heap))))],
  [
    "script bytes on the wire",
    "—",
    ...(["replaya", "rrweb"] as const).map((v) => kib(median(each(v, (r) => r.scriptBytes)))),
  ],
  ["bytes uploaded (median)", "—", kib(median(each("replaya", (r) => r.uploaded))), "— (discarded)"],
];
console.log(
  `\nbench:recorder — 10,000 elements, 200 mutations / 100 ms, ${RUNS} runs each, alternating, one Chromium\n`,
);
console.log(table(["", ...VARIANTS.map((v) => LABEL[v])], rows));
console.log(
  `\n/recorder.js as the server sends it: gzip ${wire.gzip} B, br ${wire.br} B, uncompressed ${wire.identity} B` +
    ` (gzip budget 30,000 B)`,
);
console.log(
  `recorder IIFE gzipped by CompressionStream's default level: ${await gzipSize(iife)} B;` +
    ` stock rrweb UMD ${kib(rrwebJs.byteLength)}, ${kib(await gzipSize(rrwebJs))} gzipped`,
);
console.log(`load average (uptime): start ${loadStart}, end ${loadavg()}`);
// Keep-alive connections the browser left behind would hold the process open.
Deno.exit(0);
