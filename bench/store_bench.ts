/**
 * `deno task bench:store`: both backends side by side in one run.
 *
 * - Append throughput: 1, 10 and 100 concurrent streams, each appending
 *   batches of 20 records of 8 KiB back to back.
 * - Follow latency: from an append's ack to a live follower receiving the
 *   record, p50 and p99.
 *
 * The S2 column is a real in-memory s2-lite on loopback (skipped with a note
 * when it is not installed).
 */

import { SqliteStore } from "../lib/store/sqlite.ts";
import { S2Store } from "../lib/store/s2.ts";
import type { StreamStore } from "../lib/store/mod.ts";
import { liteAvailable, printSkipNotice, startLite } from "../tests/support/s2_lite.ts";
import { percentile, table } from "./report.ts";

const RECORD_BYTES = 8 * 1024;
const BATCH = 20;
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 3);
const LATENCY_SAMPLES = Number(Deno.env.get("BENCH_SAMPLES") ?? 300);

async function throughput(store: StreamStore, streams: number) {
  const body = crypto.getRandomValues(new Uint8Array(RECORD_BYTES));
  const run = crypto.randomUUID().slice(0, 8);
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  let records = 0;
  await Promise.all(Array.from({ length: streams }, async (_, i) => {
    const name = `bench/${run}/${i}`;
    while (performance.now() < deadline) {
      const now = Date.now();
      await store.append(name, Array.from({ length: BATCH }, () => ({ body, timestamp: now })));
      records += BATCH;
    }
  }));
  const secs = (performance.now() - started) / 1000;
  return { recordsPerSec: records / secs, mibPerSec: (records * RECORD_BYTES) / secs / 1024 / 1024 };
}

async function followLatency(store: StreamStore) {
  const name = `bench/latency/${crypto.randomUUID()}`;
  const body = crypto.getRandomValues(new Uint8Array(512));
  await store.append(name, [{ body, timestamp: Date.now() }]);
  const abort = new AbortController();
  const received = new Map<number, number>();
  let notify: (() => void) | undefined;
  const follower = (async () => {
    for await (const r of store.follow(name, { from: 1, signal: abort.signal })) {
      received.set(r.seqNum, performance.now());
      notify?.();
    }
  })();
  await new Promise((r) => setTimeout(r, 300)); // let the follower reach the tail
  const fromAck: number[] = [];
  const fromCall: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const calledAt = performance.now();
    const ack = await store.append(name, [{ body, timestamp: Date.now() }]);
    const ackedAt = performance.now();
    const seq = ack.start.seqNum;
    while (!received.has(seq)) await new Promise<void>((r) => notify = r);
    // A follower can see the record before the writer sees its ack; that counts as 0.
    fromAck.push(Math.max(0, received.get(seq)! - ackedAt));
    fromCall.push(received.get(seq)! - calledAt);
    await new Promise((r) => setTimeout(r, 2));
  }
  abort.abort();
  await follower;
  return {
    p50: percentile(fromAck, 50),
    p99: percentile(fromAck, 99),
    callP50: percentile(fromCall, 50),
    callP99: percentile(fromCall, 99),
  };
}

async function measure(label: string, store: StreamStore) {
  const rows: string[][] = [];
  for (const streams of [1, 10, 100]) {
    const t = await throughput(store, streams);
    rows.push([
      label,
      `append, ${streams} stream${streams > 1 ? "s" : ""}`,
      t.recordsPerSec.toFixed(0),
      t.mibPerSec.toFixed(1),
      "",
      "",
    ]);
  }
  const l = await followLatency(store);
  rows.push([label, "follow latency: ack → follower", "", "", l.p50.toFixed(2), l.p99.toFixed(2)]);
  rows.push([label, "follow latency: append call → follower", "", "", l.callP50.toFixed(2), l.callP99.toFixed(2)]);
  return rows;
}

const rows: string[][] = [];
const dir = await Deno.makeTempDir({ prefix: "replaya-bench-" });
const sqlite = SqliteStore.open({ path: `${dir}/bench.db` });
rows.push(...await measure("sqlite (embedded)", sqlite));
await sqlite.close();
await Deno.remove(dir, { recursive: true });

if (liteAvailable()) {
  const lite = await startLite();
  const s2 = await S2Store.connect({
    accessToken: "bench",
    basin: "replaya-bench",
    accountEndpoint: lite.url,
    basinEndpoint: lite.url,
  });
  rows.push(...await measure("s2-lite (in memory)", s2));
  await s2.close();
  await lite.stop();
} else {
  printSkipNotice();
}

console.log(
  `\nStore benchmark: ${
    RECORD_BYTES / 1024
  } KiB records, batches of ${BATCH}, ${SECONDS} s per run, ${LATENCY_SAMPLES} latency samples\n`,
);
console.log(table(["backend", "measure", "records/s", "MiB/s", "p50 ms", "p99 ms"], rows));
