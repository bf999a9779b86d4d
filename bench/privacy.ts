/**
 * The privacy section of `deno task bench:ingest`: what server-side redaction
 * costs per MiB of events (the fixture, encoded with it on and off in the same
 * run), and what encryption at rest adds (bytes stored for the fixture through
 * an encrypted SQLite store against a plain one, and sealing time per MiB).
 * Runs alone too: `deno run -A bench/privacy.ts`.
 *
 * @module
 */

import { encodeEvents, SEALED_HEADERS } from "../lib/sessions/codec.ts";
import { createRedactor, redactEvents } from "../lib/sessions/redact.ts";
import { Sessions } from "../lib/sessions/service.ts";
import { withEncryption } from "../lib/store/encrypted.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { meteredBytes, readAll, type StreamStore } from "../lib/store/mod.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { table } from "./report.ts";

const ROUNDS = Number(Deno.env.get("BENCH_PRIVACY_ROUNDS") ?? 20);

/** Prints the redaction and encryption tables for the fixture's batches. */
export async function privacyReport(batches: { events: RrwebEvent[] }[]): Promise<void> {
  const redactor = createRedactor();
  const mib = batches.reduce((n, b) => n + JSON.stringify(b.events).length, 0) / 1024 / 1024;
  // Alternating rounds, so both sides see the same machine; copies are made outside the timed part.
  const times = { off: 0, on: 0, redactOnly: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const redact of [false, true]) {
      const copies = batches.map((b) => structuredClone(b.events));
      const start = performance.now();
      for (const [seq, events] of copies.entries()) {
        const t = performance.now();
        if (redact) await redactEvents(events, redactor);
        times.redactOnly += redact ? performance.now() - t : 0;
        await encodeEvents({ writerId: "w", batch: seq, events });
      }
      times[redact ? "on" : "off"] += performance.now() - start;
    }
  }
  const rate = (ms: number) => (mib * ROUNDS / (ms / 1000)).toFixed(1);
  console.log(`\nRedaction: the fixture's ${mib.toFixed(2)} MiB of event JSON, encoded ${ROUNDS}× each way\n`);
  console.log(table(["encode path", "MiB/s", "ms per MiB"], [
    ["redaction off (JSON + gzip)", rate(times.off), (times.off / ROUNDS / mib).toFixed(1)],
    ["redaction on (scan + JSON + gzip)", rate(times.on), (times.on / ROUNDS / mib).toFixed(1)],
    ["the scan alone", rate(times.redactOnly), (times.redactOnly / ROUNDS / mib).toFixed(1)],
  ]));

  const plain = await storedBytes(batches, (store) => Promise.resolve(store));
  const key = crypto.getRandomValues(new Uint8Array(32));
  const sealed = await storedBytes(
    batches,
    (store) => withEncryption(store, { masterKey: key, sealHeaders: SEALED_HEADERS }),
  );
  console.log(`\nEncryption at rest: the fixture recorded as one session, metered bytes of its stream\n`);
  console.log(table(["store", "bytes", "records", "overhead", "write+read ms"], [
    ["plain", String(plain.bytes), String(plain.records), "", plain.ms.toFixed(0)],
    [
      "encrypted (AES-256-GCM)",
      String(sealed.bytes),
      String(sealed.records),
      `+${sealed.bytes - plain.bytes} B (${(100 * (sealed.bytes - plain.bytes) / plain.bytes).toFixed(2)}%)`,
      sealed.ms.toFixed(0),
    ],
  ]));
}

/** Records the fixture through Sessions on a fresh SQLite file (wrapped by `wrap`) and sums its stream's metered bytes. */
async function storedBytes(
  batches: { events: RrwebEvent[] }[],
  wrap: (store: StreamStore) => Promise<StreamStore>,
): Promise<{ bytes: number; records: number; ms: number }> {
  const dir = await Deno.makeTempDir({ prefix: "replaya-privacy-" });
  const inner = SqliteStore.open({ path: `${dir}/replaya.db` });
  try {
    const start = performance.now();
    const sessions = new Sessions({ store: await wrap(inner) });
    const meta = await sessions.create({ url: "https://shop.example/", userAgent: "bench", userId: "user-42" });
    for (const [seq, batch] of batches.entries()) {
      await sessions.appendEvents(meta.id, { writerId: "w", batch: seq, events: structuredClone(batch.events) });
    }
    await sessions.stop(meta.id);
    for await (const _ of sessions.read(meta.id)) { /* decrypts everything once */ }
    const ms = performance.now() - start;
    let bytes = 0;
    let records = 0;
    for await (const r of readAll(inner, `sessions/${meta.id}`)) {
      bytes += meteredBytes({ body: r.body, headers: r.headers, timestamp: r.timestamp });
      records++;
    }
    return { bytes, records, ms };
  } finally {
    await inner.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const fixture = JSON.parse(await Deno.readTextFile("tests/fixtures/recorded_session.json")) as {
    batches: { events: RrwebEvent[] }[];
  };
  await privacyReport(fixture.batches);
}
