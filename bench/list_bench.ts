/**
 * `deno task bench:list`: the session list and the disk at scale, embedded store.
 *
 * 1. Populates BENCH_LIST_SESSIONS (default 100,000) sessions over 30 days
 *    straight into a SQLite store (no HTTP): the records the server writes
 *    (session stream, index, day summaries, user streams), built with
 *    lib/sessions' own functions, appended in group commits under a clock
 *    that moves with them.
 * 2. Times the list: unfiltered, URL, errors and user filters (a user seen
 *    only 27 days ago, one seen in the last hour, the busiest, an unknown
 *    one), p50 of several runs; a filter that stops early is continued as a
 *    user would, and every request counts.
 * 3. Disk: file + WAL per session-minute, against S2's metered bytes, for this
 *    data set and for sessions of the recorded fixture written through the
 *    session service.
 * 4. Retention: moves the clock past it, sweeps (and vacuums), and reports the
 *    file before and after and the longest event-loop block meanwhile.
 */

import { SqliteStore } from "../lib/store/sqlite.ts";
import { type AppendItem, meteredBytes, type StreamStore } from "../lib/store/mod.ts";
import { Sessions } from "../lib/sessions/service.ts";
import { listSessions, type SessionFilter } from "../lib/sessions/list.ts";
import { encodeEvents, metaRecord, stopRecord } from "../lib/sessions/codec.ts";
import { INDEX_STREAM, newSessionId, streamOf } from "../lib/sessions/ids.ts";
import {
  addStats,
  appendSummary,
  type EndSummary,
  startSummary,
  type SummaryRecord,
} from "../lib/sessions/summaries.ts";
import { statsOf } from "../lib/sessions/events.ts";
import { appendUserSummary } from "../lib/sessions/users.ts";
import type { RrwebEvent, SessionMeta } from "@replaya/recorder/wire";
import { percentile, table } from "./report.ts";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const SESSIONS = Number(Deno.env.get("BENCH_LIST_SESSIONS") ?? 100_000);
const FIXTURE_SESSIONS = Number(Deno.env.get("BENCH_LIST_FIXTURE_SESSIONS") ?? 200);
const RUNS = Number(Deno.env.get("BENCH_LIST_RUNS") ?? 5);
const DAYS = 30;
const DAY = 86_400_000;
const RETENTION_SECS = DAYS * 86_400;
const DELETE_EMPTY_SECS = 24 * 3_600;
const CHUNK = 500;
const OLD_USER = "Old.User@example.com";
const RECENT_USER = "recent-user@example.com";
const UNKNOWN_USER = "nobody@example.com";
const AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";
const PATHS = ["/", "/products", "/products/42", "/cart", "/checkout", "/account", "/search?q=", "/blog/post"];
const utf8 = new TextEncoder();

console.log(`load average at start: ${Deno.loadavg().map((n) => n.toFixed(2)).join(" ")}`);

/** A small deterministic PRNG (mulberry32), so every run writes the same data set. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Plan {
  createdAt: number;
  durationMs: number;
  url: string;
  userId?: string;
  /** Identified by a batch (`replaya.identify`), not at start. */
  identifyLater: boolean;
  errors: number;
  live: boolean;
}

/** Sessions oldest first: 70% identified (half at start, half by a batch), users skewed, 10% with errors. */
function plans(end: number): Plan[] {
  const random = rng(11);
  const pool = Math.max(10, Math.floor(SESSIONS / 5));
  const out: Plan[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const identified = random() < 0.7;
    out.push({
      createdAt: end - DAYS * DAY + 60_000 + Math.floor(random() * (DAYS * DAY - 3_600_000)),
      durationMs: 20_000 + Math.floor(random() * random() * 12 * 60_000),
      url: `https://shop.example${PATHS[Math.floor(random() * PATHS.length)]}`,
      userId: identified ? `user-${String(Math.floor(pool * random() ** 2)).padStart(6, "0")}` : undefined,
      identifyLater: random() < 0.5,
      errors: random() < 0.1 ? 1 + Math.floor(random() * 3) : 0,
      live: false,
    });
  }
  const at = (ago: number, userId: string, identifyLater: boolean): Plan => ({
    createdAt: end - ago,
    durationMs: 90_000,
    url: "https://shop.example/account",
    userId,
    identifyLater,
    errors: 0,
    live: false,
  });
  out.push(at(27 * DAY, OLD_USER, false), at(27 * DAY + 3_600_000, OLD_USER, true), at(27.5 * DAY, OLD_USER, false));
  out.push(
    at(50 * 60_000, RECENT_USER, false),
    at(30 * 60_000, RECENT_USER, true),
    at(10 * 60_000, RECENT_USER, false),
  );
  out.sort((a, b) => a.createdAt - b.createdAt);
  // The newest few are still recording.
  for (const plan of out.slice(-10)) plan.live = plan.createdAt > end - 3_600_000 && plan.userId === undefined;
  return out;
}

/** One batch per started minute: a page view, pointer moves, clicks, the errors and the identify. */
function batchesOf(plan: Plan, random: () => number): RrwebEvent[][] {
  const minutes = Math.max(1, Math.ceil(plan.durationMs / 60_000));
  return Array.from({ length: minutes }, (_, m) => {
    const t0 = plan.createdAt + m * 60_000;
    const t1 = Math.min(plan.createdAt + plan.durationMs, t0 + 59_000);
    const events: RrwebEvent[] = [{ type: 4, timestamp: t0, data: { href: plan.url, width: 1280, height: 800 } }];
    for (let i = 0; i < 12; i++) {
      const timestamp = t0 + Math.floor(((t1 - t0) * (i + 1)) / 13);
      const positions = [{ x: Math.floor(random() * 1280), y: Math.floor(random() * 800), id: 12, timeOffset: 0 }];
      events.push({ type: 3, timestamp, data: { source: 1, positions } });
      if (i % 4 === 3) events.push({ type: 3, timestamp, data: { source: 2, type: 2, id: 40 + i, x: 10, y: 20 } });
    }
    if (m === 0 && plan.userId && plan.identifyLater) {
      events.push({
        type: 5,
        timestamp: t0 + 500,
        data: { tag: "replaya.identify", payload: { userId: plan.userId } },
      });
    }
    if (m === minutes - 1) {
      for (let e = 0; e < plan.errors; e++) {
        const payload = { message: "TypeError: x is undefined", stack: "at checkout (app.js:1:2)" };
        events.push({ type: 5, timestamp: t1, data: { tag: "replaya.error", payload } });
      }
    }
    return events;
  });
}

/** Counts what is appended, in S2's metered bytes. */
const metered = { bytes: 0 };
function count(items: AppendItem[]): AppendItem[] {
  for (const item of items) metered.bytes += meteredBytes(item);
  return items;
}

/** Writes one session as the server would: its stream, the index, the day summaries, its user's stream. */
async function writeSession(store: StreamStore, plan: Plan, random: () => number): Promise<void> {
  const meta: SessionMeta = {
    id: newSessionId(plan.createdAt),
    createdAt: plan.createdAt,
    url: plan.url,
    userAgent: AGENT,
    userId: plan.identifyLater ? undefined : plan.userId,
  };
  const stream = streamOf(meta.id);
  const items: AppendItem[] = [{ fence: "active", timestamp: plan.createdAt }, metaRecord(meta)];
  const counts = { events: 0, clicks: 0, pages: 0, errors: 0, lastEventAt: plan.createdAt } as Omit<
    EndSummary,
    "k" | "id" | "endedAt" | "reason"
  >;
  for (const [batch, events] of batchesOf(plan, random).entries()) {
    items.push(...await encodeEvents({ writerId: "w0", batch, events }));
    addStats(counts, statsOf(events));
  }
  const summary = startSummary(meta);
  const writes: Promise<unknown>[] = [];
  const summaryRecord = (record: SummaryRecord, at: number) => {
    count([{ body: utf8.encode(JSON.stringify(record)), timestamp: at }]);
    writes.push(appendSummary(store, plan.createdAt, record, at));
  };
  writes.push(
    store.append(INDEX_STREAM, count([{ body: utf8.encode(JSON.stringify(summary)), timestamp: plan.createdAt }])),
  );
  const userRecord = (record: SummaryRecord, at: number) => {
    count([{ body: utf8.encode(JSON.stringify(record)), timestamp: at }]);
    writes.push(appendUserSummary(store, plan.userId!, record, at));
  };
  summaryRecord(summary, plan.createdAt);
  // The user's stream gets the start when the user is known: at start, or when the identifying batch arrives.
  if (plan.userId) userRecord({ ...summary, userId: plan.userId }, plan.createdAt + (plan.identifyLater ? 500 : 0));
  if (!plan.live) {
    const endedAt = plan.createdAt + plan.durationMs;
    const end: EndSummary = { k: "end", id: meta.id, endedAt, reason: "stop", ...counts };
    items.push(
      { fence: "stopped", timestamp: endedAt },
      stopRecord({ stoppedAt: endedAt, reason: "stop", summary: end }),
    );
    summaryRecord(end, endedAt);
    if (plan.userId) userRecord(end, endedAt);
  }
  writes.push(store.append(stream, count(items)));
  await Promise.all(writes);
}

/** The file and its WAL, in bytes. */
function sizeOf(path: string): { file: number; wal: number } {
  const stat = (p: string) => {
    try {
      return Deno.statSync(p).size;
    } catch {
      return 0;
    }
  };
  return { file: stat(path), wal: stat(`${path}-wal`) };
}

/** The gaps between timer ticks while it runs: how long the event loop was blocked (longest, p99). */
function loopProbe(): () => { longest: number; p99: number } {
  const gaps: number[] = [];
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  return () => {
    running = false;
    tick();
    return { longest: gaps.reduce((a, b) => Math.max(a, b), 0), p99: percentile(gaps, 99) };
  };
}

/**
 * A full garbage collection, run before each timed sweep: populating and listing leave about 60 MB of garbage,
 * and V8's memory reducer collects it (a compacting mark-compact, 30–120 ms on the event loop) as soon as the
 * loop goes quiet, which is when the sweep starts; without this the probe times that, not the sweep.
 */
const collectGarbage: () => void = (() => {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as (options?: object) => void;
    // "last-resort": V8's memory-reducing collection (compacting, several rounds), what the memory reducer would do.
    return () => gc({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    return () => {};
  }
})();

/** What the sweep's worker steps did (statements, the longest one on the worker's thread). */
const sweepSteps = { steps: 0, statements: 0, longestMs: 0, longestCheckpointMs: 0 };

const mib = (bytes: number) => (bytes / 1_048_576).toFixed(1);
const kb = (bytes: number) => (bytes / 1000).toFixed(1);

// 1. Populate.
const dir = await Deno.makeTempDir({ prefix: "replaya-list-bench-" });
const path = `${dir}/replaya.db`;
const end = Date.UTC(2026, 10, 30, 12);
let clock = end - DAYS * DAY;
const store = SqliteStore.open({
  path,
  now: () => clock,
  sweepIntervalMs: 3_600_000,
  onSweepStep: (step) => {
    sweepSteps.steps++;
    sweepSteps.statements += step.statements;
    sweepSteps.longestMs = Math.max(sweepSteps.longestMs, step.longestMs);
    sweepSteps.longestCheckpointMs = Math.max(sweepSteps.longestCheckpointMs, step.longestCheckpointMs);
  },
  defaultStreamConfig: { retentionAgeSecs: RETENTION_SECS, deleteOnEmptyMinAgeSecs: DELETE_EMPTY_SECS },
});
const sessions = new Sessions({ store, now: () => clock });
const all = plans(end);
const random = rng(7);
let sessionMinutes = 0;
const populateStarted = performance.now();
for (let i = 0; i < all.length; i += CHUNK) {
  const chunk = all.slice(i, i + CHUNK);
  clock = chunk.at(-1)!.createdAt;
  await Promise.all(chunk.map((plan) => {
    sessionMinutes += plan.durationMs / 60_000;
    return writeSession(store, plan, random);
  }));
}
clock = end;
const populateMs = performance.now() - populateStarted;
const populated = sizeOf(path);
console.log(
  `\nPopulated ${all.length} sessions over ${DAYS} days in ${(populateMs / 1000).toFixed(1)} s ` +
    `(${(all.length / (populateMs / 1000)).toFixed(0)} sessions/s)\n`,
);

// 2. The list.
interface Timed {
  ms: number;
  requests: number;
  rows: number;
  scanned: number;
}

/** One list view as a user gets it: the first page, continued while it stops early and is not full. */
async function view(filter: SessionFilter): Promise<Timed> {
  const started = performance.now();
  let requests = 0;
  let rows = 0;
  let scanned = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await listSessions(sessions, { filter, cursor, limit: 50, now: clock });
    requests++;
    rows += page.rows.length;
    scanned += page.scanned;
    if (!page.stoppedEarly || rows >= 50 || !page.next) break;
    cursor = page.next;
  }
  return { ms: performance.now() - started, requests, rows, scanned };
}

const busiest = (() => {
  const counts = new Map<string, number>();
  for (const plan of all) if (plan.userId) counts.set(plan.userId, (counts.get(plan.userId) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0];
})();
const cases: Array<[string, SessionFilter]> = [
  ["unfiltered", {}],
  ["URL contains /checkout", { urlContains: "/checkout" }],
  ["with errors", { hasErrors: true }],
  ["user seen 27 days ago", { userId: OLD_USER.toLowerCase() }],
  ["user seen in the last hour", { userId: RECENT_USER }],
  [`busiest user (${busiest[1]} sessions)`, { userId: busiest[0] }],
  ["unknown user", { userId: UNKNOWN_USER }],
];
const listRows: string[][] = [];
for (const [label, filter] of cases) {
  await view(filter); // warm-up
  const runs: Timed[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await view(filter));
  const p50 = percentile(runs.map((t) => t.ms), 50);
  const first = runs[0];
  listRows.push([label, p50.toFixed(1), String(first.requests), String(first.rows), String(first.scanned)]);
}
console.log(`List, first page of 50 (p50 of ${RUNS} runs; a page that stops early is continued)\n`);
console.log(table(["filter", "p50 ms", "requests", "rows", "records read"], listRows));

// 3. Disk.
const populatedTotal = populated.file + populated.wal;
const sizeRows = [[
  `list data set (${all.length} sessions)`,
  mib(populated.file),
  mib(populated.wal),
  sessionMinutes.toFixed(0),
  kb(populatedTotal / sessionMinutes),
  kb(metered.bytes / sessionMinutes),
  (populatedTotal / metered.bytes).toFixed(2),
]];

/** Sessions of the recorded fixture through the session service, batches interleaved as concurrent recorders send them. */
async function fixtureSizes(): Promise<string[]> {
  const fixture = JSON.parse(await Deno.readTextFile("tests/fixtures/recorded_session.json")) as {
    durationMs: number;
    batches: Array<{ events: RrwebEvent[] }>;
  };
  const fdir = await Deno.makeTempDir({ prefix: "replaya-list-bench-" });
  const fpath = `${fdir}/replaya.db`;
  const fstore = SqliteStore.open({ path: fpath, defaultStreamConfig: { retentionAgeSecs: RETENTION_SECS } });
  let bytes = 0;
  const counting: StreamStore = Object.assign(Object.create(null), {
    info: fstore.info,
    createStream: fstore.createStream.bind(fstore),
    getStreamConfig: fstore.getStreamConfig.bind(fstore),
    append: (stream: string, items: AppendItem[], options?: Parameters<StreamStore["append"]>[2]) => {
      for (const item of items) bytes += meteredBytes(item);
      return fstore.append(stream, items, options);
    },
    read: fstore.read.bind(fstore),
    follow: fstore.follow.bind(fstore),
    checkTail: fstore.checkTail.bind(fstore),
    listStreams: fstore.listStreams.bind(fstore),
    deleteStream: fstore.deleteStream.bind(fstore),
    close: fstore.close.bind(fstore),
  });
  const fsessions = new Sessions({ store: counting });
  const first = fixture.batches[0].events[0].timestamp;
  const ids = await Promise.all(
    Array.from(
      { length: FIXTURE_SESSIONS },
      async (_, i) =>
        (await fsessions.create({ url: "https://shop.example/", userAgent: AGENT, userId: `user-${i}` })).id,
    ),
  );
  const shift = Date.now() - first;
  for (const [batch, { events }] of fixture.batches.entries()) {
    const shifted = events.map((e) => ({ ...e, timestamp: e.timestamp + shift }));
    await Promise.all(ids.map((id) => fsessions.appendEvents(id, { writerId: "w0", batch, events: shifted })));
  }
  await Promise.all(ids.map((id) => fsessions.stop(id)));
  const size = sizeOf(fpath);
  await fstore.close();
  await Deno.remove(fdir, { recursive: true });
  const minutes = (FIXTURE_SESSIONS * fixture.durationMs) / 60_000;
  return [
    `recorded fixture (${FIXTURE_SESSIONS} sessions)`,
    mib(size.file),
    mib(size.wal),
    minutes.toFixed(0),
    kb((size.file + size.wal) / minutes),
    kb(bytes / minutes),
    ((size.file + size.wal) / bytes).toFixed(2),
  ];
}
sizeRows.push(await fixtureSizes());
console.log(`\nDisk (file + WAL) per session-minute, against S2's metered bytes\n`);
console.log(
  table(
    ["data", "file MiB", "WAL MiB", "session-min", "KB/session-min", "metered KB/session-min", "disk/metered"],
    sizeRows,
  ),
);

// 4. Retention, with a session still recording meanwhile (one append every 20 ms), to see what ingest waits.
interface SweepTimes {
  ms: number;
  block: { longest: number; p99: number };
  append: { p99: number; longest: number; count: number };
  steps: typeof sweepSteps;
}
async function timedSweep(): Promise<SweepTimes> {
  Object.assign(sweepSteps, { steps: 0, statements: 0, longestMs: 0, longestCheckpointMs: 0 });
  collectGarbage();
  const appends: number[] = [];
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const started = performance.now();
      await store.append("bench/ingest-during-sweep", [{ body: utf8.encode("x".repeat(2_000)), timestamp: clock }]);
      appends.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const stop = loopProbe();
  const started = performance.now();
  await store.sweep();
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 20));
  const block = stop();
  writing = false;
  await writer;
  return {
    ms,
    block,
    append: { p99: percentile(appends, 99), longest: Math.max(...appends), count: appends.length },
    steps: { ...sweepSteps },
  };
}
// The first sweep catches up with everything that fell due while populating (no timer ran); the second is a
// sweep of a steady minute; the third comes after the clock moved past every session's retention.
const first = await timedSweep();
const beforeExpiry = sizeOf(path);
const idle = await timedSweep();
clock = end + DAYS * DAY + 2 * DAY;
const expire = await timedSweep();
const after = sizeOf(path);
const sweepRow = (label: string, size: { file: number; wal: number }, t: SweepTimes) => [
  label,
  mib(size.file),
  mib(size.wal),
  t.ms.toFixed(0),
  t.block.longest.toFixed(1),
  t.block.p99.toFixed(1),
  `${t.append.p99.toFixed(1)} / ${t.append.longest.toFixed(1)} (${t.append.count})`,
  `${t.steps.steps} / ${t.steps.statements} / ${t.steps.longestMs.toFixed(1)} / ${
    t.steps.longestCheckpointMs.toFixed(1)
  }`,
];
console.log(
  `\nRetention sweeps (file and WAL after each; the vacuum included where the store has one; ` +
    `file before retention ${mib(beforeExpiry.file)} MiB + WAL ${mib(beforeExpiry.wal)} MiB, ` +
    `after ${mib(after.file)} MiB + WAL ${mib(after.wal)} MiB)\n`,
);
console.log(table([
  "sweep",
  "file MiB",
  "WAL MiB",
  "sweep ms",
  "longest event-loop block ms",
  "p99 block ms",
  "append during sweep p99 / longest ms (n)",
  "worker steps / statements / longest statement / longest checkpoint ms",
], [
  sweepRow("first, catching up after populating", beforeExpiry, first),
  sweepRow("next, nothing due", beforeExpiry, idle),
  sweepRow("after every session's retention", after, expire),
]));
console.log(`\nload average at end: ${Deno.loadavg().map((n) => n.toFixed(2)).join(" ")}`);

await store.close();
await Deno.remove(dir, { recursive: true });
