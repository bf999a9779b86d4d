/**
 * The embedded backend: one SQLite file (node:sqlite, WAL) with S2's stream
 * semantics, so `deno task start` needs nothing else.
 *
 * Appends that arrive in the same event-loop turn share one transaction
 * (group commit). Followers are woken in-process right after the commit, so
 * live tailing never polls. Retention and delete-on-empty are applied by the
 * store itself on a timer, on a worker thread with its own connection, in
 * small statements, and the pages they free are given back to the file
 * system (incremental auto-vacuum); checkpoints (copying the WAL back into
 * the file, and its fsync) run there too, never on the event loop.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Worker as NodeWorker } from "node:worker_threads";
import {
  AlreadyExistsError,
  FencingMismatchError,
  InvalidError,
  NotFoundError,
  SeqMismatchError,
  StoreError,
  UnavailableError,
} from "./errors.ts";
import {
  type AppendAck,
  type AppendItem,
  type AppendOptions,
  type FollowOptions,
  type Header,
  isFence,
  type ListOptions,
  type ListResult,
  meteredBytes,
  type ReadOptions,
  type ReadResult,
  type StoredRecord,
  type StoreInfo,
  type StreamConfig,
  type StreamPosition,
  type StreamStore,
} from "./types.ts";
import { listLimit, readLimits, validateBatch, validateStreamName } from "./validate.ts";
import { log } from "../log.ts";
import type { CheckpointReply, CheckpointRequest, SweepRequest, SweepStep } from "./sqlite_checkpointer.ts";

export type { SweepStep } from "./sqlite_checkpointer.ts";

/** Options for {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Path of the database file (created with its folder if missing). */
  path: string;
  /** Config for streams created implicitly by an append. */
  defaultStreamConfig?: StreamConfig;
  /** How often retention runs; default 60 s. */
  sweepIntervalMs?: number;
  /**
   * A file made before incremental auto-vacuum (which has to be chosen before
   * any table exists) is rewritten once at open to switch it on, when it is at
   * most this big (default 64 MiB, about half a second); a bigger one keeps
   * working without giving space back, and says how to switch it.
   */
  vacuumOnOpenMaxBytes?: number;
  /** The clock, for tests of retention. */
  now?: () => number;
  /**
   * Bounds of one sweep step on the worker (tests make them small): statements per step (default unbounded:
   * the step's time bounds it) and rows per expiry statement (default 256).
   */
  sweepStep?: { statements?: number; maxRows?: number };
  /** Called after each sweep step, with what it did (tests and benchmarks). */
  onSweepStep?: (step: SweepStep) => void;
}

interface StreamRow {
  id: number;
  fence: string;
  next_seq: number;
  last_ts: number;
  retention_ms: number | null;
  due_at: number | null;
}

/** A stream the sweep has to look at. */
interface DueRow {
  id: number;
  name: string;
  retention_ms: number | null;
  delete_on_empty_ms: number;
  created_at: number;
}

interface PendingAppend {
  stream: string;
  items: AppendItem[];
  options: AppendOptions;
  resolve: (ack: AppendAck) => void;
  reject: (error: unknown) => void;
}

interface RecordRow {
  seq: number;
  ts: number;
  command: number;
  headers: string | null;
  body: Uint8Array;
}

const utf8 = new TextEncoder();
const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  retention_ms INTEGER,
  delete_on_empty_ms INTEGER NOT NULL DEFAULT 0,
  fence TEXT NOT NULL DEFAULT '',
  next_seq INTEGER NOT NULL DEFAULT 0,
  last_ts INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER
);
CREATE TABLE IF NOT EXISTS records (
  stream_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  arrived INTEGER NOT NULL,
  command INTEGER NOT NULL,
  headers TEXT,
  body BLOB NOT NULL,
  PRIMARY KEY (stream_id, seq)
);
CREATE INDEX IF NOT EXISTS records_by_time ON records (stream_id, ts);
`;

/** A step of the sweep holds the event loop this long at most (then yields a macrotask). */
const SLICE_MS = 8;
/** The sweep waits for a checkpoint this often. */
const REST_EVERY_MS = 100;
/** Records one sweep statement deletes at most, and pages one vacuum step gives back at most. */
const MAX_EXPIRE_CHUNK = 256;
const MAX_VACUUM_CHUNK = 256;
/** Free pages below this many are left for new records to reuse. */
const VACUUM_MIN_FREE_PAGES = 256;
/** A sweep step on the worker runs for this long at most (then the store may close, or the next step is sent). */
const SWEEP_STEP_MS = 50;
/** A write that finds the lock taken retries this often, and gives up after {@link BUSY_GIVE_UP_MS}. */
const BUSY_RETRY_MS = 1;
const BUSY_GIVE_UP_MS = 5_000;
/** The WAL file is cut back to this size whenever it restarts. */
const WAL_SIZE_LIMIT = 4 * 1024 * 1024;
/** The WAL is checkpointed this long after a write (on the checkpointer's thread). */
const CHECKPOINT_AFTER_MS = 250;
/** A WAL this long (4 MiB, SQLite's default) is checkpointed by the commit that grew it, if the checkpointer has not caught up. */
const WAL_BACKSTOP_PAGES = 1_000;

/**
 * SQLite-backed {@link StreamStore}.
 *
 * @example
 * const store = SqliteStore.open({ path: "./data/replaya.db" });
 * await store.append("sessions/x", [{ body: new Uint8Array([1]), timestamp: Date.now() }]);
 */
export class SqliteStore implements StreamStore {
  readonly info: StoreInfo;
  #db: DatabaseSync;
  #now: () => number;
  #defaults: StreamConfig;
  #pending: PendingAppend[] = [];
  #flushScheduled = false;
  #waiters = new Map<string, Set<() => void>>();
  #sweepTimer: ReturnType<typeof setInterval>;
  #sweeping?: Promise<void>;
  #incremental: boolean;
  /** Pages one vacuum step gives back, adapted so that a step takes about half a slice. */
  #vacuumChunk = 64;
  #checkpointer: Checkpointer;
  #checkpointTimer?: ReturnType<typeof setTimeout>;
  #checkpointing?: Promise<CheckpointReply>;
  /** Written to since the last checkpoint began. */
  #dirty = false;
  #closed = false;
  #sql: Record<string, StatementSync>;
  /** Since when writes have found the lock taken, and whether the worker has been told. */
  #busySince?: number;
  #waitingWrite = false;
  #path: string;
  #sweepStep: { statements: number; maxRows: number };
  #onSweepStep?: (step: SweepStep) => void;

  private constructor(options: SqliteStoreOptions) {
    this.info = { backend: "sqlite", location: options.path };
    this.#now = options.now ?? Date.now;
    this.#path = options.path;
    this.#sweepStep = {
      statements: options.sweepStep?.statements ?? Number.MAX_SAFE_INTEGER,
      maxRows: options.sweepStep?.maxRows ?? MAX_EXPIRE_CHUNK,
    };
    this.#onSweepStep = options.onSweepStep;
    this.#defaults = options.defaultStreamConfig ?? {};
    const dir = options.path.replace(/[/\\][^/\\]*$/, "");
    if (dir && dir !== options.path) Deno.mkdirSync(dir, { recursive: true });
    this.#db = new DatabaseSync(options.path);
    // Auto-vacuum must be chosen before the first table exists.
    if (!this.#db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get()) {
      this.#db.exec("PRAGMA auto_vacuum = INCREMENTAL");
    }
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    // Checkpoints run on the checkpointer's thread (see #checkpoint); the one SQLite runs inside a commit is
    // only a backstop (a WAL can restart only once a checkpoint has caught up with the writer).
    this.#db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}; PRAGMA wal_autocheckpoint = ${WAL_BACKSTOP_PAGES};`);
    this.#checkpointer = new Checkpointer(options.path);
    this.#db.exec(SCHEMA);
    this.#migrate();
    this.#incremental = this.#switchToIncrementalVacuum(options.path, options.vacuumOnOpenMaxBytes ?? 64 * 1024 * 1024);
    // From now on a write that finds the lock taken (by the worker's sweep) retries on a timer instead of
    // sleeping on the event loop in SQLite's busy handler (see #writing).
    this.#db.exec("PRAGMA busy_timeout = 0");
    const db = this.#db;
    this.#sql = {
      stream: db.prepare("SELECT id, fence, next_seq, last_ts, retention_ms, due_at FROM streams WHERE name = ?"),
      create: db.prepare(
        "INSERT INTO streams (name, created_at, retention_ms, delete_on_empty_ms, due_at) VALUES (?, ?, ?, ?, ?)",
      ),
      update: db.prepare("UPDATE streams SET fence = ?, next_seq = ?, last_ts = ?, due_at = ? WHERE id = ?"),
      insert: db.prepare(
        "INSERT INTO records (stream_id, seq, ts, arrived, command, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      rangeBySeq: db.prepare(
        `SELECT seq, ts, command, headers, body FROM records
         WHERE stream_id = ? AND seq >= ? AND arrived >= ? ORDER BY seq LIMIT ?`,
      ),
      firstAtTime: db.prepare(
        "SELECT seq FROM records WHERE stream_id = ? AND ts >= ? ORDER BY ts, seq LIMIT 1",
      ),
      list: db.prepare(
        "SELECT name FROM streams WHERE name > ? AND name >= ? AND (? IS NULL OR name < ?) ORDER BY name LIMIT ?",
      ),
      deleteRecords: db.prepare("DELETE FROM records WHERE stream_id = ?"),
      deleteStream: db.prepare("DELETE FROM streams WHERE id = ?"),
      expire: db.prepare(
        `DELETE FROM records WHERE stream_id = ?1 AND seq IN
           (SELECT seq FROM records WHERE stream_id = ?1 AND arrived < ?2 ORDER BY seq LIMIT ?3)`,
      ),
      due: db.prepare(
        `SELECT id, name, retention_ms, delete_on_empty_ms, created_at FROM streams
         WHERE due_at <= ? ORDER BY due_at LIMIT 100`,
      ),
      setDue: db.prepare("UPDATE streams SET due_at = ? WHERE id = ?"),
      nameOf: db.prepare("SELECT name FROM streams WHERE id = ?"),
      config: db.prepare("SELECT retention_ms, delete_on_empty_ms FROM streams WHERE id = ?"),
      firstArrival: db.prepare("SELECT arrived FROM records WHERE stream_id = ? ORDER BY seq LIMIT 1"),
      freePages: db.prepare("PRAGMA freelist_count"),
    };
    this.#sweepTimer = setInterval(() => {
      this.sweep().catch((error) => log.warn("sqlite sweep failed; the next one retries", {}, error));
    }, options.sweepIntervalMs ?? 60_000);
    Deno.unrefTimer(Number(this.#sweepTimer));
  }

  /** Opens (or creates) the database file. */
  static open(options: SqliteStoreOptions): SqliteStore {
    return new SqliteStore(options);
  }

  async createStream(name: string, config: StreamConfig = {}): Promise<void> {
    this.#assertOpen();
    validateStreamName(name);
    await this.#writing(() => {
      if (this.#row(name)) throw new AlreadyExistsError(`stream ${name}`);
      this.#create(name, config);
    });
  }

  // deno-lint-ignore require-await -- async, so a synchronous throw becomes a rejection
  async getStreamConfig(name: string): Promise<StreamConfig> {
    this.#assertOpen();
    const { id } = this.#existing(name);
    const row = this.#sql.config.get(id) as { retention_ms: number | null; delete_on_empty_ms: number };
    return {
      retentionAgeSecs: row.retention_ms === null ? undefined : row.retention_ms / 1000,
      deleteOnEmptyMinAgeSecs: row.delete_on_empty_ms / 1000,
    };
  }

  // deno-lint-ignore require-await -- async, so a synchronous throw becomes a rejection
  async append(stream: string, items: AppendItem[], options: AppendOptions = {}): Promise<AppendAck> {
    this.#assertOpen();
    validateStreamName(stream);
    validateBatch(items, options);
    return new Promise((resolve, reject) => {
      this.#pending.push({ stream, items, options, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // A macrotask, so appends from requests arriving together join the group.
        setTimeout(() => this.#flush(), 0);
      }
    });
  }

  /** Commits every pending append in one transaction, then wakes followers. */
  #flush(): void {
    this.#flushScheduled = false;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return;
    const outcomes: Array<{ ok: true; ack: AppendAck } | { ok: false; error: unknown }> = [];
    const touched = new Set<string>();
    try {
      if (!this.#begin()) {
        // The sweep's worker holds the write lock for one short statement: retry soon, with what came meanwhile.
        this.#pending = group.concat(this.#pending);
        this.#flushScheduled = true;
        setTimeout(() => this.#flush(), BUSY_RETRY_MS);
        return;
      }
      for (const append of group) {
        try {
          outcomes.push({ ok: true, ack: this.#write(append) });
          touched.add(append.stream);
        } catch (error) {
          if (!(error instanceof StoreError)) throw error;
          outcomes.push({ ok: false, error });
        }
      }
      this.#db.exec("COMMIT");
      this.#wrote();
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      const failure = new UnavailableError("sqlite write failed", { cause: error });
      for (const append of group) append.reject(failure);
      return;
    }
    group.forEach((append, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) append.resolve(outcome.ack);
      else append.reject(outcome.error);
    });
    for (const stream of touched) this.#wake(stream);
  }

  /**
   * BEGIN IMMEDIATE, or false when another connection (the sweep's worker)
   * holds the write lock: the caller retries on a timer, and the worker
   * waits for it before its next statement. Throws once that has gone on
   * for {@link BUSY_GIVE_UP_MS}, or on any other error.
   */
  #begin(): boolean {
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      if (!isBusy(error)) throw error;
      this.#busySince ??= performance.now();
      if (performance.now() - this.#busySince > BUSY_GIVE_UP_MS) {
        this.#busySince = undefined;
        if (this.#waitingWrite) this.#checkpointer.writerDone();
        this.#waitingWrite = false;
        throw error;
      }
      if (!this.#waitingWrite) this.#checkpointer.writerWaiting();
      this.#waitingWrite = true;
      return false;
    }
    this.#busySince = undefined;
    if (this.#waitingWrite) this.#checkpointer.writerDone();
    this.#waitingWrite = false;
    return true;
  }

  /** Runs `write` in a write transaction, waiting (on timers, not the event loop) while the lock is taken. */
  async #writing<T>(write: () => T): Promise<T> {
    while (!this.#begin()) await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    try {
      const result = write();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Writes one batch inside the open transaction; checks come before any write. */
  #write({ stream, items, options }: PendingAppend): AppendAck {
    const row = this.#row(stream) ?? this.#create(stream, this.#defaults);
    if (options.matchSeqNum !== undefined && options.matchSeqNum !== row.next_seq) {
      throw new SeqMismatchError(row.next_seq);
    }
    if (options.fencingToken !== undefined && options.fencingToken !== row.fence) {
      throw new FencingMismatchError(row.fence);
    }
    const arrived = this.#now();
    const start = { seqNum: row.next_seq, timestamp: row.last_ts };
    let { fence, next_seq: seq, last_ts: lastTs } = row;
    let firstTs = -1;
    for (const item of items) {
      // Client timestamps are capped at arrival and never decrease (S2's rules).
      const ts = Math.max(Math.min(item.timestamp ?? arrived, arrived), lastTs);
      if (firstTs < 0) firstTs = ts;
      if (isFence(item)) {
        fence = item.fence;
        this.#sql.insert.run(row.id, seq, ts, arrived, 1, null, utf8.encode(item.fence));
      } else {
        const headers = item.headers?.length ? JSON.stringify(item.headers) : null;
        this.#sql.insert.run(row.id, seq, ts, arrived, 0, headers, item.body);
      }
      lastTs = ts;
      seq++;
    }
    // The sweep looks at the stream when its oldest record expires (records arrive in seq order); a stream's
    // first records replace the time it could have been deleted for being empty.
    const expiresAt = row.retention_ms === null ? null : arrived + row.retention_ms + 1;
    const due = expiresAt === null
      ? row.due_at
      : row.next_seq === 0 || row.due_at === null
      ? expiresAt
      : Math.min(row.due_at, expiresAt);
    this.#sql.update.run(fence, seq, lastTs, due, row.id);
    row.due_at = due;
    start.timestamp = firstTs;
    const end = { seqNum: seq, timestamp: lastTs };
    return { start, end, tail: end };
  }

  // deno-lint-ignore require-await -- async, so a synchronous throw becomes a rejection
  async read(stream: string, options: ReadOptions = {}): Promise<ReadResult> {
    this.#assertOpen();
    const row = this.#existing(stream);
    const tail = { seqNum: row.next_seq, timestamp: row.last_ts };
    const start = this.#startSeq(row, options.from ?? { seqNum: 0 });
    const { records, next } = this.#readRange(row, start, options);
    return { records, next, tail };
  }

  #startSeq(row: StreamRow, from: NonNullable<ReadOptions["from"]>): number {
    if ("seqNum" in from) return Math.max(0, from.seqNum);
    if ("tailOffset" in from) return Math.max(0, row.next_seq - from.tailOffset);
    const hit = this.#sql.firstAtTime.get(row.id, from.timestamp) as { seq: number } | undefined;
    return hit?.seq ?? row.next_seq;
  }

  /** Reads data records from `start`, skipping commands, within count/bytes limits. */
  #readRange(row: StreamRow, start: number, options: ReadOptions) {
    const { count: limit, bytes: byteLimit } = readLimits(options);
    // Expired records are invisible at once, as in S2; the sweep removes them later.
    const cutoff = row.retention_ms === null ? 0 : this.#now() - row.retention_ms;
    const rows = this.#sql.rangeBySeq.all(row.id, start, cutoff, limit) as unknown as RecordRow[];
    const records: StoredRecord[] = [];
    let next = start;
    let size = 0;
    for (const r of rows) {
      const headers: Header[] = r.headers ? JSON.parse(r.headers) : [];
      const metered = meteredBytes({ body: r.body, headers, timestamp: r.ts });
      if (size > 0 && size + metered > byteLimit) break;
      size += metered;
      next = r.seq + 1;
      if (r.command) continue;
      records.push({ seqNum: r.seq, timestamp: r.ts, headers, body: new Uint8Array(r.body) });
    }
    // Nothing visible from `start` on: it is past the tail (clamped, as S2 reads are) or expired.
    if (rows.length === 0) next = row.next_seq;
    return { records, next };
  }

  async *follow(stream: string, options: FollowOptions = {}): AsyncIterable<StoredRecord> {
    const { signal, onCaughtUp } = options;
    let next = options.from ?? 0;
    while (!signal?.aborted) {
      this.#assertOpen();
      const row = this.#existing(stream);
      const { records, next: after } = this.#readRange(row, next, {});
      if (after !== next) {
        next = after;
        for (const record of records) yield record;
        continue;
      }
      onCaughtUp?.(row.next_seq);
      // Registered synchronously after the read, so no commit can slip between.
      await this.#waitForAppend(stream, signal);
    }
  }

  #waitForAppend(stream: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(stream);
      if (!set) this.#waiters.set(stream, set = new Set());
      const wake = () => {
        set.delete(wake);
        if (set.size === 0 && this.#waiters.get(stream) === set) this.#waiters.delete(stream);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      set.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }

  #wake(stream: string): void {
    for (const wake of [...this.#waiters.get(stream) ?? []]) wake();
  }

  // deno-lint-ignore require-await -- async, so a synchronous throw becomes a rejection
  async checkTail(stream: string): Promise<StreamPosition> {
    this.#assertOpen();
    const row = this.#existing(stream);
    return { seqNum: row.next_seq, timestamp: row.last_ts };
  }

  // deno-lint-ignore require-await -- async, so a synchronous throw becomes a rejection
  async listStreams(options: ListOptions = {}): Promise<ListResult> {
    this.#assertOpen();
    const prefix = options.prefix ?? "";
    const limit = listLimit(options);
    const upper = prefixUpperBound(prefix);
    const rows = this.#sql.list.all(options.startAfter ?? "", prefix, upper, upper, limit + 1) as Array<
      { name: string }
    >;
    const names = rows.slice(0, limit).map((r) => r.name);
    return { names, hasMore: rows.length > limit };
  }

  async deleteStream(stream: string): Promise<void> {
    this.#assertOpen();
    const row = this.#row(stream);
    if (row) await this.#drop(row.id);
    this.#wake(stream);
  }

  /**
   * Applies retention and delete-on-empty now, then gives the freed pages
   * back to the file system; the store also runs this on a timer. Only
   * streams that are due are visited (`due_at`: when their oldest record
   * expires, or when they may be deleted for being empty), records are
   * deleted a chunk at a time and the file shrinks a few pages at a time.
   * The work runs on the worker thread, in steps of at most
   * {@link SWEEP_STEP_MS}; the event loop only sends them. Should the worker
   * fail, the sweep runs here instead, yielding every few milliseconds. One
   * sweep runs at a time; a call during one joins it.
   */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnWorker().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  async #sweepOnWorker(): Promise<void> {
    const now = this.#now();
    const request: Omit<SweepRequest, "id"> = {
      op: "sweep",
      path: this.#path,
      now,
      incremental: this.#incremental,
      vacuuming: false,
      budgetMs: SWEEP_STEP_MS,
      statements: this.#sweepStep.statements,
      maxRows: this.#sweepStep.maxRows,
      maxPages: MAX_VACUUM_CHUNK,
      minFreePages: VACUUM_MIN_FREE_PAGES,
    };
    while (!this.#closed) {
      const reply = await this.#checkpointer.sweep(request);
      if (!reply.ok) {
        if (!this.#checkpointer.failed) throw new UnavailableError(`sqlite sweep failed: ${reply.error}`);
        log.warn("sqlite sweep worker failed; sweeping on the event loop from now on", { error: reply.error });
        return await this.#sweepInSteps();
      }
      const step = reply.sweep!;
      // Streams deleted for being empty: their followers end (NotFoundError on their next read).
      for (const name of step.dropped) this.#wake(name);
      this.#onSweepStep?.(step);
      if (step.done) return;
      request.vacuuming = step.vacuuming;
    }
  }

  /** The sweep on the event loop, in slices (used only when the worker thread has failed). */
  async #sweepInSteps(): Promise<void> {
    // Resting lets the checkpointer catch up with what the sweep wrote, so the WAL restarts and stays short
    // and SQLite's own checkpoint (inside a commit, on this thread) is not needed.
    const pace = pacer(() => this.#checkpoint());
    const now = this.#now();
    for (let due = this.#dueStreams(now); due.length > 0; due = this.#dueStreams(now)) {
      for (const stream of due) {
        await this.#sweepStream(stream, now, pace);
        if (this.#closed) return;
      }
    }
    await this.#vacuum(pace);
  }

  #dueStreams(now: number): DueRow[] {
    return this.#closed ? [] : this.#sql.due.all(now) as unknown as DueRow[];
  }

  /** Expires one stream's records in chunks, then deletes it if it is empty and old enough, or sets when it is due next. */
  async #sweepStream(s: DueRow, now: number, pace: () => Promise<void>): Promise<void> {
    // Still the same stream after a pause (deleted meanwhile, its id may have been given to a new one)?
    const same = () => !this.#closed && (this.#sql.nameOf.get(s.id) as { name: string } | undefined)?.name === s.name;
    if (s.retention_ms !== null) {
      const cutoff = now - s.retention_ms;
      // Records to delete per step, adapted per stream: what a row costs depends on where it lies.
      let chunk = 32;
      for (let more = true; more;) {
        if (!same()) return;
        const started = performance.now();
        const { changes } = this.#sql.expire.run(s.id, cutoff, chunk);
        this.#wrote();
        more = Number(changes) >= chunk;
        chunk = adapt(chunk, performance.now() - started, more, MAX_EXPIRE_CHUNK);
        await pace();
      }
    }
    if (!same()) return;
    const first = this.#sql.firstArrival.get(s.id) as { arrived: number } | undefined;
    if (!first && s.delete_on_empty_ms > 0 && s.created_at + s.delete_on_empty_ms < now) {
      await this.#drop(s.id);
      this.#wake(s.name);
    } else {
      const due = first
        ? (s.retention_ms === null ? null : first.arrived + s.retention_ms + 1)
        : (s.delete_on_empty_ms > 0 ? s.created_at + s.delete_on_empty_ms + 1 : null);
      this.#sql.setDue.run(due, s.id);
      this.#wrote();
    }
    await pace();
  }

  /**
   * Gives free pages back to the file system with `PRAGMA incremental_vacuum`,
   * a few at a time, then checkpoints so the file itself shrinks (in WAL mode
   * the database file is only cut at a checkpoint) and cuts the WAL.
   */
  async #vacuum(pace: () => Promise<void>): Promise<void> {
    if (!this.#incremental || this.#closed || this.#freePages() < VACUUM_MIN_FREE_PAGES) return;
    for (let free = this.#freePages(); free > 0 && !this.#closed; free = this.#freePages()) {
      const pages = Math.min(this.#vacuumChunk, free);
      const started = performance.now();
      // Each row of the pragma is one page freed: it must be stepped to the end (`exec` and `run` step once).
      this.#db.prepare(`PRAGMA incremental_vacuum(${pages})`).all();
      this.#wrote();
      this.#vacuumChunk = adapt(pages, performance.now() - started, pages === this.#vacuumChunk, MAX_VACUUM_CHUNK);
      await pace();
    }
    const reply = await this.#checkpoint();
    // Everything copied back: cutting the WAL file is all that is left, a few milliseconds here.
    if (!this.#closed && reply.ok && reply.result && reply.result.log === reply.result.checkpointed) {
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
  }

  /** Something was committed: a checkpoint follows within {@link CHECKPOINT_AFTER_MS}. */
  #wrote(): void {
    this.#dirty = true;
    if (this.#checkpointTimer !== undefined || this.#checkpointing || this.#closed) return;
    this.#checkpointTimer = setTimeout(() => void this.#checkpoint(), CHECKPOINT_AFTER_MS);
    Deno.unrefTimer(Number(this.#checkpointTimer));
  }

  /**
   * Checkpoints now, on the checkpointer's thread (one at a time). Should the
   * worker fail, SQLite's own checkpoints inside commits take over.
   */
  #checkpoint(): Promise<CheckpointReply> {
    clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = undefined;
    if (this.#closed) return Promise.resolve({ id: 0, ok: false, error: "closed" });
    this.#checkpointing ??= (async () => {
      this.#dirty = false;
      const reply = await this.#checkpointer.checkpoint();
      if (!reply.ok && !this.#closed) {
        log.warn("sqlite checkpointer failed; checkpoints run inside commits from now on", { error: reply.error });
        this.#db.exec("PRAGMA wal_autocheckpoint = 1000");
      }
      return reply;
    })().finally(() => {
      this.#checkpointing = undefined;
      if (this.#dirty) this.#wrote();
    });
    return this.#checkpointing;
  }

  #freePages(): number {
    return (this.#sql.freePages.get() as { freelist_count: number }).freelist_count;
  }

  /** Adds `due_at` to a file made before it, due now, so the first sweep visits every stream once. */
  #migrate(): void {
    const columns = this.#db.prepare("PRAGMA table_info(streams)").all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === "due_at")) {
      this.#db.exec(`ALTER TABLE streams ADD COLUMN due_at INTEGER;
        UPDATE streams SET due_at = 0 WHERE retention_ms IS NOT NULL OR delete_on_empty_ms > 0;`);
    }
    this.#db.exec("CREATE INDEX IF NOT EXISTS streams_due ON streams (due_at)");
  }

  /**
   * Whether the file gives space back (`auto_vacuum = INCREMENTAL`). A file
   * made before that is rewritten once (VACUUM) when it is small; a big one
   * is left as it is, with a warning saying how to switch it offline.
   */
  #switchToIncrementalVacuum(path: string, maxBytes: number): boolean {
    const mode = () => (this.#db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum;
    if (mode() === 2) return true;
    if (mode() === 1) return false; // FULL: SQLite already shrinks the file at every commit
    const { page_count: pages } = this.#db.prepare("PRAGMA page_count").get() as { page_count: number };
    const { page_size: pageSize } = this.#db.prepare("PRAGMA page_size").get() as { page_size: number };
    if (pages * pageSize <= maxBytes) {
      this.#db.exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;");
      return mode() === 2;
    }
    log.warn(
      "sqlite file does not give space back (auto_vacuum off); to switch, stop RePlaya and run " +
        "sqlite3 <file> 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;' (rewrites the file; needs as much free disk again)",
      { path, mib: Math.round((pages * pageSize) / 1_048_576) },
    );
    return false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    for (const stream of [...this.#waiters.keys()]) this.#wake(stream);
    await this.#sweeping?.catch(() => {}); // it stops at its next step
    clearTimeout(this.#checkpointTimer);
    await this.#checkpointing;
    await this.#checkpointer.close();
    this.#db.close(); // the last connection: SQLite checkpoints and removes the WAL
  }

  async #drop(id: number): Promise<void> {
    try {
      await this.#writing(() => {
        this.#sql.deleteRecords.run(id);
        this.#sql.deleteStream.run(id);
      });
      this.#wrote();
    } catch (error) {
      throw new UnavailableError("sqlite delete failed", { cause: error });
    }
  }

  #row(name: string): StreamRow | undefined {
    return this.#sql.stream.get(name) as StreamRow | undefined;
  }

  #existing(name: string): StreamRow {
    validateStreamName(name);
    const row = this.#row(name);
    if (!row) throw new NotFoundError(`stream ${name}`);
    return row;
  }

  #create(name: string, config: StreamConfig): StreamRow {
    const retention = config.retentionAgeSecs ?? this.#defaults.retentionAgeSecs;
    if (retention !== undefined && !(retention > 0)) throw new InvalidError("retention age must be > 0");
    const deleteOnEmpty = config.deleteOnEmptyMinAgeSecs ?? this.#defaults.deleteOnEmptyMinAgeSecs ?? 0;
    const now = this.#now();
    // Due when it may be deleted for being empty; an append makes it due when its first record expires.
    const due = deleteOnEmpty > 0 ? now + deleteOnEmpty * 1000 + 1 : null;
    this.#wrote();
    const result = this.#sql.create.run(
      name,
      now,
      retention === undefined ? null : retention * 1000,
      deleteOnEmpty * 1000,
      due,
    );
    return {
      id: Number(result.lastInsertRowid),
      fence: "",
      next_seq: 0,
      last_ts: 0,
      retention_ms: retention === undefined ? null : retention * 1000,
      due_at: due,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new UnavailableError("store is closed");
  }
}

/**
 * Checkpoints and sweep steps on a worker thread (`sqlite_checkpointer.ts`)
 * with its own connection, one request at a time; the worker starts on the first one, and
 * keeps the process alive only while a request is pending (a script that
 * never closes its store still exits). A worker that fails answers every
 * request not ok.
 */
class Checkpointer {
  #worker?: NodeWorker;
  /** How many of the store's writes wait for the write lock (the worker's sweep lets them go first). */
  #gate = new Int32Array(new SharedArrayBuffer(4));
  #failed?: string;
  #next = 0;
  #waiting = new Map<number, (reply: CheckpointReply) => void>();

  constructor(readonly path: string) {}

  checkpoint(): Promise<CheckpointReply> {
    return this.#call({ op: "checkpoint", path: this.path });
  }

  /** One step of the sweep (see `sqlite_checkpointer.ts`). */
  sweep(request: Omit<SweepRequest, "id">): Promise<CheckpointReply> {
    return this.#call(request);
  }

  /** A write of the store is waiting for the lock: the sweep pauses before its next statement. */
  writerWaiting(): void {
    Atomics.add(this.#gate, 0, 1);
  }

  /** That write got the lock (or gave up). */
  writerDone(): void {
    Atomics.sub(this.#gate, 0, 1);
    Atomics.notify(this.#gate, 0);
  }

  /** Why the worker failed, once it has (it is not restarted). */
  get failed(): string | undefined {
    return this.#failed;
  }

  /** Closes the worker's connection and ends the worker. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    await this.#call({ op: "close" });
    this.#worker = undefined;
    await worker.terminate();
  }

  #call(request: DistributiveOmit<CheckpointRequest, "id">): Promise<CheckpointReply> {
    const id = ++this.#next;
    if (this.#failed) return Promise.resolve({ id, ok: false, error: this.#failed });
    const worker = this.#worker ??= this.#start();
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      worker.ref();
      worker.postMessage({ ...request, id } as CheckpointRequest);
    });
  }

  #start(): NodeWorker {
    const worker = new NodeWorker(new URL("./sqlite_checkpointer.ts", import.meta.url), {
      name: "replaya-sqlite-checkpointer",
      workerData: { gate: this.#gate.buffer },
    });
    worker.on("message", (data: CheckpointReply) => {
      this.#waiting.get(data.id)?.(data);
      this.#waiting.delete(data.id);
      if (this.#waiting.size === 0) worker.unref();
    });
    worker.on("error", (error: Error) => {
      this.#failed = error.message || "checkpointer worker failed";
      this.#worker = undefined;
      void worker.terminate();
      for (const [waiting, resolve] of this.#waiting) resolve({ id: waiting, ok: false, error: this.#failed });
      this.#waiting.clear();
    });
    worker.unref();
    return worker;
  }
}

/**
 * A pacer for background work: `await pace()` after each small step yields a
 * macrotask once the steps since the last yield have held the loop for a
 * slice, and waits for `rest` instead every {@link REST_EVERY_MS}.
 */
function pacer(rest: () => Promise<unknown>): () => Promise<void> {
  let since = performance.now();
  let rested = since;
  return async () => {
    const now = performance.now();
    if (now - since < SLICE_MS) return;
    if (now - rested >= REST_EVERY_MS) {
      await rest();
      rested = performance.now();
    } else await new Promise((resolve) => setTimeout(resolve, 0));
    since = performance.now();
  };
}

/**
 * The next chunk size: aims a step at half a slice, at most doubling (the cost of a step varies: a vacuum
 * step that has to move pages costs far more than one that cuts free pages off the end), growing only
 * while steps are full.
 */
function adapt(size: number, ms: number, full: boolean, max: number): number {
  const target = SLICE_MS / 2;
  const next = ms > 0 ? Math.round((size * target) / ms) : size * 2;
  return Math.max(8, Math.min(next, full ? size * 2 : size, max));
}

/** SQLite's SQLITE_BUSY ("database is locked"): node:sqlite gives only the message. */
function isBusy(error: unknown): boolean {
  return error instanceof Error && /database is (locked|busy)/.test(error.message);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The smallest string greater than every string starting with `prefix`, or null. */
function prefixUpperBound(prefix: string): string | null {
  if (prefix === "") return null;
  const chars = [...prefix];
  const last = chars.pop()!.codePointAt(0)!;
  return chars.join("") + String.fromCodePoint(last + 1);
}
