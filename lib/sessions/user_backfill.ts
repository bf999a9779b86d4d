/**
 * Brings sessions recorded before the user index (`users.ts`) into it: walks
 * the day streams (`summaries/…`), and for every identified session whose
 * user stream lacks its `start` (or, once ended, its `end`) summary, appends
 * what is missing. It is
 *
 * - idempotent: a user's stream is read before it is written, and only the
 *   records it lacks are appended (a second run writes nothing);
 * - resumable: each finished day is recorded in `backfill/users`, and a run
 *   skips the days recorded there (a day cut short is done again, and the
 *   check above keeps it free of duplicates); a `done` record ends it for
 *   good, once per store (per stream prefix, since the prefix wrapper scopes
 *   every name);
 * - safe with several processes on one basin: a run first claims
 *   `backfill/users` with an append conditioned on its tail (`matchSeqNum`),
 *   renews the claim with every record, and stops when another process's
 *   append got there first; an unexpired claim of another process makes
 *   others wait for it;
 * - bounded in memory (one day's summaries at a time) and paced (a pause after
 *   every write), so ingest keeps the store to itself.
 *
 * @module
 */

import { NotFoundError, readAll, SeqMismatchError, type StoredRecord, type StreamStore } from "../store/mod.ts";
import { sleep } from "../async.ts";
import { log } from "../log.ts";
import { type EndSummary, type StartSummary, SUMMARY_PREFIX, type SummaryRecord } from "./summaries.ts";
import { normalizeUserId, userStreamOf } from "./users.ts";
import { batchStatsOf } from "./codec.ts";
import { streamOf } from "./ids.ts";

/** The backfill's progress and claims. */
export const BACKFILL_STREAM = "backfill/users";

/** A record of {@link BACKFILL_STREAM}. */
type Progress =
  | { k: "claim"; p: string; until: number }
  | { k: "day"; p: string; until: number; day: string; written: number }
  | { k: "done"; p: string };

/** Options for {@link backfillUserIndex}. */
export interface BackfillOptions {
  store: StreamStore;
  /** This process, in claims (default: random). */
  process?: string;
  now?: () => number;
  signal?: AbortSignal;
  /** Pause after every write to a user stream (default 20 ms: at most 50 writes a second). */
  pauseMs?: number;
  /** A claim lapses this long after its last record (default 5 min). */
  leaseMs?: number;
  /** Called after each write to a user stream (tests). */
  onWrite?: (stream: string, records: number) => void | Promise<void>;
}

/** What a run did. */
export interface BackfillResult {
  /** `done`: finished now or before; `busy`: another process holds the claim (until `retryAt`); `aborted`. */
  state: "done" | "busy" | "aborted";
  /** Day streams read by this run. */
  days: number;
  /** Records appended to user streams by this run. */
  written: number;
  retryAt?: number;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();
/** Records per append to a user stream (well under the store's 1,000 records and 1 MiB). */
const APPEND_MAX = 100;

/** Runs the backfill once: to the end, until another process holds it, or until the signal aborts. */
export async function backfillUserIndex(options: BackfillOptions): Promise<BackfillResult> {
  const { store, signal } = options;
  const now = options.now ?? Date.now;
  const me = options.process ?? crypto.randomUUID();
  const leaseMs = options.leaseMs ?? 300_000;
  const pauseMs = options.pauseMs ?? 20;
  const result: BackfillResult = { state: "done", days: 0, written: 0 };

  const progress = await readProgress(store);
  if (progress.done) return result;
  const holder = progress.claim;
  if (holder && holder.p !== me && holder.until > now()) return { ...result, state: "busy", retryAt: holder.until };
  let tail = progress.tail;
  /** Appends a progress record if nobody else has since this run's last one; false when another process has. */
  const mark = async (record: Progress): Promise<boolean> => {
    try {
      await store.append(BACKFILL_STREAM, [{ body: utf8.encode(JSON.stringify(record)), timestamp: now() }], {
        matchSeqNum: tail,
      });
      tail++;
      return true;
    } catch (error) {
      if (error instanceof SeqMismatchError) return false;
      throw error;
    }
  };
  const lost = (): BackfillResult => ({ ...result, state: "busy", retryAt: now() + leaseMs });
  if (!await mark({ k: "claim", p: me, until: now() + leaseMs })) return lost();
  let renewedAt = now();

  for await (const day of dayStreams(store)) {
    if (progress.days.has(day)) continue;
    if (signal?.aborted) break;
    let written = 0;
    for (const [stream, records] of await missingByUser(store, day)) {
      if (signal?.aborted) break;
      const missing = await notIn(store, stream, records);
      for (let i = 0; i < missing.length; i += APPEND_MAX) {
        const items = missing.slice(i, i + APPEND_MAX).map((r) => ({
          body: utf8.encode(JSON.stringify(r)),
          timestamp: now(),
        }));
        await store.append(stream, items);
        written += items.length;
        await options.onWrite?.(stream, items.length);
      }
      if (missing.length > 0) await sleep(pauseMs, signal);
      // Keep the claim while a long day goes on.
      if (now() - renewedAt > leaseMs / 3) {
        if (!await mark({ k: "claim", p: me, until: now() + leaseMs })) return lost();
        renewedAt = now();
      }
    }
    result.written += written;
    if (signal?.aborted) break; // this day is not finished: the next run does it again
    result.days++;
    if (!await mark({ k: "day", p: me, until: now() + leaseMs, day, written })) return lost();
    renewedAt = now();
  }
  if (signal?.aborted) {
    await mark({ k: "claim", p: me, until: 0 }); // released: the next run need not wait for the lease
    return { ...result, state: "aborted" };
  }
  if (!await mark({ k: "done", p: me })) return lost();
  if (result.written > 0) log.info("user index backfilled", { days: result.days, records: result.written });
  return result;
}

/**
 * Runs the backfill in the background until it is done: after `delayMs` (so
 * start-up and the first requests go first), again when another process's
 * claim lapses, and after a failure (a minute later); stops at `signal`.
 */
export async function runUserBackfill(
  options: BackfillOptions & { delayMs?: number; retryMs?: number },
): Promise<void> {
  const { signal } = options;
  const now = options.now ?? Date.now;
  await sleep(options.delayMs ?? 30_000, signal);
  while (!signal?.aborted) {
    try {
      const outcome = await backfillUserIndex(options);
      if (outcome.state !== "busy") return;
      await sleep(Math.max(1_000, (outcome.retryAt ?? 0) - now()), signal);
    } catch (error) {
      if (signal?.aborted) return;
      log.warn("user index backfill failed; it retries", {}, error);
      await sleep(options.retryMs ?? 60_000, signal);
    }
  }
}

/** What {@link BACKFILL_STREAM} says: finished, the days done, the latest claim, its tail. */
async function readProgress(
  store: StreamStore,
): Promise<{ done: boolean; days: Set<string>; claim?: { p: string; until: number }; tail: number }> {
  const state = { done: false, days: new Set<string>(), claim: undefined as { p: string; until: number } | undefined };
  let tail = 0;
  for await (const record of orNothing(readAll(store, BACKFILL_STREAM))) {
    tail = record.seqNum + 1;
    const entry = JSON.parse(text.decode(record.body)) as Progress;
    if (entry.k === "done") state.done = true;
    else {
      state.claim = { p: entry.p, until: entry.until };
      if (entry.k === "day") state.days.add(entry.day);
    }
  }
  // Command records (none are written here) would move the tail too.
  if (tail > 0) tail = await store.checkTail(BACKFILL_STREAM).then((t) => t.seqNum);
  return { ...state, tail };
}

/** Every day stream, in listing order (newest day first), a page at a time. */
async function* dayStreams(store: StreamStore): AsyncIterable<string> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.listStreams({ prefix: SUMMARY_PREFIX, startAfter, limit: 100 });
    yield* page.names;
    if (!page.hasMore || page.names.length === 0) return;
    startAfter = page.names.at(-1);
  }
}

/**
 * A day's identified sessions as the records their users' streams should
 * hold (`start` with the user id, `end` once ended), by user stream. A
 * session known by two user ids (one at start, another from a batch) goes to
 * both, as the session service writes it; deleted sessions to none.
 */
async function missingByUser(store: StreamStore, day: string): Promise<Map<string, SummaryRecord[]>> {
  const starts = new Map<string, StartSummary>();
  const ends = new Map<string, EndSummary>();
  const deleted = new Set<string>();
  for await (const record of orNothing(readAll(store, day))) {
    const summary = JSON.parse(text.decode(record.body)) as SummaryRecord;
    if (summary.k === "start") starts.set(summary.id, summary);
    else if (summary.k === "end") ends.set(summary.id, summary);
    else deleted.add(summary.id);
  }
  const byUser = new Map<string, SummaryRecord[]>();
  for (const [id, start] of starts) {
    if (deleted.has(id)) continue;
    const end = ends.get(id);
    const users = new Map<string, string>();
    // Not ended (live, or never settled): a batch may have identified it, which only its own stream says.
    const fromBatches = end ? [] : await batchUserIds(store, id);
    for (const userId of [start.userId, end?.userId, ...fromBatches]) {
      if (typeof userId === "string" && normalizeUserId(userId) !== "") users.set(normalizeUserId(userId), userId);
    }
    for (const userId of users.values()) {
      const stream = await userStreamOf(userId);
      const records = byUser.get(stream) ?? [];
      records.push({ ...start, userId });
      if (end) records.push(end);
      byUser.set(stream, records);
    }
  }
  return byUser;
}

/** The user ids a session's batches carry (their stats headers; bodies are not inflated). */
async function batchUserIds(store: StreamStore, id: string): Promise<string[]> {
  const users: string[] = [];
  for await (const record of orNothing(readAll(store, streamOf(id)))) {
    const userId = batchStatsOf(record)?.u;
    if (userId) users.push(userId);
  }
  return users;
}

/** The records a user's stream does not hold yet (by kind and session id); none for a session deleted there. */
async function notIn(store: StreamStore, stream: string, records: SummaryRecord[]): Promise<SummaryRecord[]> {
  const held = new Set<string>();
  for await (const record of orNothing(readAll(store, stream))) {
    const summary = JSON.parse(text.decode(record.body)) as SummaryRecord;
    held.add(`${summary.k}:${summary.id}`);
  }
  return records.filter((r) => !held.has(`deleted:${r.id}`) && !held.has(`${r.k}:${r.id}`));
}

/** A stream's records, or none when it does not exist. */
async function* orNothing(records: AsyncIterable<StoredRecord>): AsyncIterable<StoredRecord> {
  try {
    yield* records;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}
