/**
 * Running counts of live sessions (events, clicks, pages, errors, dropped,
 * last event time) for the list, which otherwise only has a live session's
 * start summary. Kept in memory, per process, from each batch's stats header
 * (`s=n,c,p,e,t1,d`; bodies are never inflated):
 *
 * - a session this process writes is counted as its appends are acknowledged:
 *   no read at all;
 * - any other live session (another process writes it, or it began before
 *   this process started) is read from where this process last counted, at
 *   most one read (≤ 1,000 records, ≤ 1 MiB) per look. A long session is
 *   caught up over a few looks (a list page load each) and then followed
 *   incrementally; until then its counts are `partial` (a lower bound).
 *
 * Batches are counted once per (writer, batch), as the decoder and the final
 * scan do, remembering the last 32 batch numbers of each writer (a recorder
 * sends in order and retries only its latest batches). At most 10,000
 * sessions are kept (least recently looked at or written dropped); a stopped
 * or deleted session is dropped at once. Memory: ~1 KiB per session with a
 * few page loads.
 *
 * @module
 */

import type { SessionCounts } from "@replaya/recorder/wire";
import type { AppendAck, RecordInput, StoredRecord, StreamStore } from "../store/mod.ts";
import { batchStatsOf, kindOf } from "./codec.ts";
import { createdAtOf, streamOf } from "./ids.ts";
import { addStats } from "./summaries.ts";

/** A live session's counts so far. */
export interface RunningCounts extends SessionCounts {
  lastEventAt: number;
  /** Not every record has been counted yet (a lower bound): the next look reads on. */
  partial?: boolean;
}

/** Batch numbers remembered per writer for dedupe. */
const RECENT_BATCHES = 32;
/** How long a tail seen by `settle` stands in for asking the store again. */
const TAIL_FRESH_MS = 1_000;

interface Entry {
  /** `userId` too, when a batch identified the user (addStats); not part of the counts shown. */
  counts: SessionCounts & { lastEventAt: number; userId?: string };
  /** The next seq number to count; everything before it is counted. */
  next: number;
  /** Per writer: batch numbers at or below `floor` count as seen, and those in `recent`. */
  writers: Map<string, { floor: number; recent: Set<number> }>;
  /** The stream's tail as `settle` last saw it, and when. */
  tail?: { seqNum: number; at: number };
}

/** Options of {@link RunningTally}. */
export interface RunningTallyOptions {
  /** Sessions kept (default 10,000). */
  maxSessions?: number;
  /** Records and metered bytes one look may read (defaults 1,000 and 1 MiB: one store read). */
  readCount?: number;
  readBytes?: number;
  now?: () => number;
}

/**
 * The running counts of live sessions, in memory.
 *
 * @example
 * const tally = new RunningTally(store);
 * tally.started(id, ack.end.seqNum);           // Sessions.create
 * tally.appended(id, ack, record);             // each acknowledged append
 * const { events, errors, partial } = await tally.counts(id);
 */
export class RunningTally {
  #store: StreamStore;
  #entries = new Map<string, Entry>();
  #looking = new Map<string, Promise<RunningCounts>>();
  #max: number;
  #readCount: number;
  #readBytes: number;
  #now: () => number;

  constructor(store: StreamStore, options: RunningTallyOptions = {}) {
    this.#store = store;
    this.#max = options.maxSessions ?? 10_000;
    this.#readCount = options.readCount ?? 1_000;
    this.#readBytes = options.readBytes ?? 1024 * 1024;
    this.#now = options.now ?? Date.now;
  }

  /** A session this process created: everything before `next` (its fence and metadata) is counted. */
  started(id: string, next: number): void {
    this.#put(id, { counts: zero(id), next, writers: new Map() });
  }

  /**
   * An acknowledged append of one record (an events record, or a heartbeat
   * without `record`). Counted when it follows what is counted; after a gap
   * (another process wrote in between) the next look reads the gap, this
   * record included.
   */
  appended(id: string, ack: AppendAck, record?: RecordInput): void {
    const entry = this.#entries.get(id);
    if (!entry || entry.next !== ack.start.seqNum) return;
    if (record) this.#count(entry, { ...record, seqNum: ack.start.seqNum, headers: record.headers ?? [] });
    entry.next = ack.end.seqNum;
    this.#put(id, entry);
  }

  /** The stream's tail as `Sessions.settle` just saw it, so the next look need not ask again. */
  sawTail(id: string, seqNum: number): void {
    const entry = this.#entries.get(id);
    if (entry) entry.tail = { seqNum, at: this.#now() };
  }

  /** The session stopped or was deleted: its final counts are in its end summary. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  /** Sessions kept. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A live session's counts: exact when everything up to the tail is counted
   * (always, for a session this process writes alone), else after at most one
   * bounded read from where counting stopped. Concurrent looks share one read.
   * Throws the store's NotFoundError for a missing session.
   */
  counts(id: string): Promise<RunningCounts> {
    let pending = this.#looking.get(id);
    if (!pending) {
      pending = this.#look(id).finally(() => this.#looking.delete(id));
      this.#looking.set(id, pending);
    }
    return pending;
  }

  async #look(id: string): Promise<RunningCounts> {
    const entry: Entry = this.#entries.get(id) ?? { counts: zero(id), next: 0, writers: new Map() };
    this.#put(id, entry);
    const seen = entry.tail && this.#now() - entry.tail.at <= TAIL_FRESH_MS ? entry.tail.seqNum : undefined;
    entry.tail = undefined;
    const tail = seen ?? (await this.#store.checkTail(streamOf(id))).seqNum;
    if (entry.next < tail) {
      const from = entry.next;
      const read = await this.#store.read(streamOf(id), {
        from: { seqNum: from },
        count: this.#readCount,
        bytes: this.#readBytes,
      });
      // Appends acknowledged meanwhile may have counted some of these already: only what lies past `next` counts.
      for (const record of read.records) {
        if (record.seqNum < entry.next) continue;
        this.#count(entry, record);
        entry.next = record.seqNum + 1;
      }
      entry.next = Math.max(entry.next, read.next);
    }
    const { userId: _userId, ...counts }: RunningCounts & { userId?: string } = { ...entry.counts };
    if (entry.next < tail) counts.partial = true;
    return counts;
  }

  #count(entry: Entry, record: StoredRecord): void {
    if (kindOf(record) !== "events") return;
    const stats = batchStatsOf(record);
    if (!stats) return; // a frame after the first carries no counts
    const headers = new Map(record.headers);
    const writer = headers.get("w") ?? "";
    const batch = Number(headers.get("b"));
    let seen = entry.writers.get(writer);
    if (!seen) entry.writers.set(writer, seen = { floor: -1, recent: new Set() });
    if (batch <= seen.floor || seen.recent.has(batch)) return; // a retried batch
    seen.recent.add(batch);
    if (seen.recent.size > RECENT_BATCHES) {
      const oldest = Math.min(...seen.recent);
      seen.recent.delete(oldest);
      seen.floor = Math.max(seen.floor, oldest);
    }
    addStats(entry.counts, stats);
  }

  #put(id: string, entry: Entry): void {
    this.#entries.delete(id); // re-insert: Map order is least-recently-used first
    this.#entries.set(id, entry);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

function zero(id: string): SessionCounts & { lastEventAt: number } {
  return { events: 0, clicks: 0, pages: 0, errors: 0, lastEventAt: createdAtOf(id) };
}
