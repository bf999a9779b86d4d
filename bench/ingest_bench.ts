/**
 * `deno task bench:ingest`: the capture path's figures, both backends in one run.
 *
 * 1. Ingest throughput: 200 concurrent simulated sessions post the recorded
 *    fixture's batches (gzip, as the recorder sends them) to a real server
 *    process; events/s, batches/s and request latency p50/p99.
 * 2. Storage efficiency: bytes stored per session-minute for the fixture,
 *    against one uncompressed JSON record per event.
 * 3. Recorder size: the script-tag IIFE, minified and gzipped.
 * 4. Privacy (bench/privacy.ts): redaction's cost per MiB (on and off, same
 *    run) and encryption at rest's storage overhead.
 */

import { encodeEvents, metaRecord, stopRecord } from "../lib/sessions/codec.ts";
import { gzip } from "../lib/bytes.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { meteredBytes } from "../lib/store/mod.ts";
import { freePort, liteAvailable, printSkipNotice, startLite } from "../tests/support/s2_lite.ts";
import { percentile, table } from "./report.ts";
import { privacyReport } from "./privacy.ts";
import { BENCH_ENV, KEY } from "./server.ts";

const SESSIONS = Number(Deno.env.get("BENCH_SESSIONS") ?? 200);
const fixture = JSON.parse(await Deno.readTextFile("tests/fixtures/recorded_session.json")) as {
  durationMs: number;
  batches: Array<{ events: RrwebEvent[] }>;
};
const utf8 = new TextEncoder();

/** Starts `main.ts` as its own process, so client and server do not share an event loop. */
async function startServer(env: Record<string, string>) {
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "replaya-bench-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    env: {
      REPLAYA_PORT: String(port),
      REPLAYA_DATA_DIR: dataDir,
      ...BENCH_ENV,
      ...env,
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${url}/api/health`).then((r) => (r.body?.cancel(), r.ok), () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Each session's batches, rebased to start now and gzip'd up front (not timed). */
async function prepareBodies(): Promise<Uint8Array[][]> {
  const first = fixture.batches[0].events[0].timestamp;
  return await Promise.all(Array.from({ length: SESSIONS }, async () => {
    const shift = Date.now() - first;
    return await Promise.all(fixture.batches.map((batch, seq) =>
      gzip(utf8.encode(JSON.stringify({
        writerId: "bench",
        seq,
        sentAt: Date.now(),
        events: batch.events.map((e) => ({ ...e, timestamp: e.timestamp + shift })),
      })))
    ));
  }));
}

async function ingest(url: string) {
  const bodies = await prepareBodies();
  const latencies: number[] = [];
  let events = 0;
  let batches = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(bodies.map(async (sessionBodies) => {
    const res = await fetch(`${url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ projectKey: KEY, meta: { url: "https://shop.example/", userAgent: "bench" } }),
    });
    const { sessionId, token } = await res.json();
    for (const [seq, body] of sessionBodies.entries()) {
      const t0 = performance.now();
      const r = await fetch(`${url}/api/sessions/${sessionId}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip", authorization: `Bearer ${token}` },
        body: body as BodyInit,
      });
      await r.body?.cancel();
      latencies.push(performance.now() - t0);
      if (!r.ok) failures++;
      else {
        batches++;
        events += fixture.batches[seq].events.length;
      }
    }
  }));
  const secs = (performance.now() - started) / 1000;
  return {
    events: events / secs,
    batches: batches / secs,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures,
  };
}

const rows: string[][] = [];
async function measure(label: string, env: Record<string, string>) {
  const server = await startServer(env);
  try {
    const r = await ingest(server.url);
    rows.push([
      label,
      r.events.toFixed(0),
      r.batches.toFixed(0),
      r.p50.toFixed(1),
      r.p99.toFixed(1),
      String(r.failures),
    ]);
  } finally {
    await server.stop();
  }
}

await measure("sqlite (embedded)", {});
if (liteAvailable()) {
  const lite = await startLite();
  await measure("s2-lite (in memory)", { S2_ACCOUNT_ENDPOINT: lite.url, S2_BASIN: "replaya-bench" });
  await lite.stop();
} else {
  printSkipNotice();
}

const events = fixture.batches.flatMap((b) => b.events);
console.log(
  `\nIngest: ${SESSIONS} concurrent sessions × ${fixture.batches.length} recorded batches (${events.length} events each), gzip bodies\n`,
);
console.log(table(["backend", "events/s", "batches/s", "p50 ms", "p99 ms", "failed"], rows));

// Storage: the same codec the server uses, record by record, in S2's metered bytes.
let stored = meteredBytes({ fence: "active" }) + meteredBytes({ fence: "stopped" }) +
  meteredBytes(metaRecord({ id: "8".repeat(25), createdAt: 0, url: "https://shop.example/", userAgent: "bench" })) +
  meteredBytes(stopRecord({ stoppedAt: 0, reason: "stop" }));
for (const [seq, batch] of fixture.batches.entries()) {
  for (const record of await encodeEvents({ writerId: "w".repeat(12), batch: seq, events: batch.events })) {
    stored += meteredBytes(record);
  }
}
const naive = events.reduce((n, e) => n + meteredBytes({ body: utf8.encode(JSON.stringify(e)), timestamp: 0 }), 0);
const minutes = fixture.durationMs / 60_000;
console.log(`\nStorage for the fixture (${(fixture.durationMs / 1000).toFixed(1)} s, ${events.length} events)\n`);
console.log(table(["layout", "bytes", "bytes per session-minute", "share"], [
  [
    "one gzip record per batch (RePlaya)",
    String(stored),
    (stored / minutes).toFixed(0),
    `${(100 * stored / naive).toFixed(1)}%`,
  ],
  ["one JSON record per event", String(naive), (naive / minutes).toFixed(0), "100%"],
]));

const iife = await Deno.readFile("recorder/dist/replaya.iife.js");
const gz = (await gzip(iife)).length;
console.log(`\nRecorder (script-tag IIFE, rrweb included)\n`);
console.log(table(["build", "bytes", "KiB"], [
  ["minified", String(iife.length), (iife.length / 1024).toFixed(1)],
  ["minified + gzip", String(gz), (gz / 1024).toFixed(1)],
]));

await privacyReport(fixture.batches);
