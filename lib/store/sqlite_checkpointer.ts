/**
 * The embedded store's background worker (see `sqlite.ts`), run on a worker
 * thread with its own connection, so the event loop never waits for the disk
 * on the store's background work:
 *
 * - `checkpoint`: copies the WAL back into the database file and fsyncs it. A
 *   passive checkpoint never blocks the store's writer, and when it copies
 *   the whole WAL it also cuts the file to its size (what makes a vacuum
 *   visible).
 * - `sweep`: one bounded step of the retention sweep — expires due streams'
 *   records in small statements (each its own short transaction, so the
 *   store's writer waits for one at most), deletes streams that are empty and
 *   old enough, then gives free pages back (`incremental_vacuum`), for at most
 *   `budgetMs` or `statements` statements; the store sends steps until one
 *   says `done`. This connection never checkpoints inside a statement (SQLite's
 *   auto-checkpoint would run one, copy and fsync included, at the commit of
 *   whichever statement crossed 1,000 WAL pages); the step checkpoints between
 *   its statements instead, every {@link CHECKPOINT_EVERY_MS} and after each
 *   vacuum statement (it writes a WAL page per page it moves), so the WAL stays
 *   far below the store's own backstop (see `sqlite.ts`) and a statement's time
 *   is its own.
 *
 * The store's writer goes first: while it waits for the write lock (it never
 * waits on the event loop; it retries on a timer, see `sqlite.ts`), it raises
 * a shared counter (`workerData.gate`), and the sweep waits for it to come
 * down before its next statement.
 *
 * Messages: `{ id, op: "checkpoint", path }` → `{ id, ok, result: { busy, log, checkpointed } }`;
 * `{ id, op: "sweep", path, … }` → `{ id, ok, sweep: SweepStep }`;
 * `{ id, op: "close" }` → `{ id, ok }` (the store then terminates the worker).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

/** One step of the sweep asked of the worker. */
export interface SweepRequest {
  id: number;
  op: "sweep";
  path: string;
  /** The store's clock when the sweep began: what is due and what is expired. */
  now: number;
  /** Whether the file gives space back (auto_vacuum = INCREMENTAL). */
  incremental: boolean;
  /** The previous step was already giving pages back (so even a few free pages are worth finishing). */
  vacuuming: boolean;
  /** Wall time one step may take. */
  budgetMs: number;
  /** Statements one step runs at most. */
  statements: number;
  /** Rows one expiry statement deletes at most. */
  maxRows: number;
  /** Pages one vacuum statement gives back at most. */
  maxPages: number;
  /** Free pages below this many are left for new records to reuse. */
  minFreePages: number;
}

/** What one sweep step did. */
export interface SweepStep {
  /** Nothing is due and nothing is left to give back: the sweep is over. */
  done: boolean;
  vacuuming: boolean;
  /** Records deleted by retention. */
  expired: number;
  /** Streams deleted for being empty (their followers have to be woken). */
  dropped: string[];
  /** Pages given back to the file system. */
  freed: number;
  statements: number;
  /** The longest statement, in ms (on the worker's thread). */
  longestMs: number;
  /** The longest checkpoint between statements, in ms (it does not hold the write lock). */
  longestCheckpointMs: number;
}

/** A request to the worker. */
export type CheckpointRequest =
  | { id: number; op: "checkpoint"; path: string }
  | SweepRequest
  | { id: number; op: "close" };

/** Its answer. */
export type CheckpointReply =
  | { id: number; ok: true; result?: { busy: number; log: number; checkpointed: number }; sweep?: SweepStep }
  | { id: number; ok: false; error: string };

interface DueRow {
  id: number;
  name: string;
  retention_ms: number | null;
  delete_on_empty_ms: number;
  created_at: number;
}

/** A statement aims at this long (the store's writer may wait for one). */
const STATEMENT_TARGET_MS = 4;

/** While sweeping, the WAL is checkpointed (PASSIVE, between statements) this often. */
const CHECKPOINT_EVERY_MS = 10;

/** The sweep waits this long at most for the store's writer before its next statement. */
const YIELD_MAX_MS = 200;

const port = parentPort!;
/** How many of the store's writes are waiting for the write lock. */
const gate = new Int32Array((workerData as { gate?: SharedArrayBuffer } | undefined)?.gate ?? new SharedArrayBuffer(4));
const reply = (message: CheckpointReply) => port.postMessage(message);
let db: DatabaseSync | undefined;
let sql: Record<string, StatementSync> | undefined;
/** Rows per expiry statement, per stream (a row's cost depends on where it lies), and pages per vacuum step. */
const chunks = new Map<number, number>();
let vacuumChunk = 64;

function open(path: string): { db: DatabaseSync; sql: Record<string, StatementSync> } {
  if (!db) {
    db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 0");
    sql = {
      due: db.prepare(
        `SELECT id, name, retention_ms, delete_on_empty_ms, created_at FROM streams
         WHERE due_at <= ? ORDER BY due_at LIMIT 100`,
      ),
      expire: db.prepare(
        `DELETE FROM records WHERE stream_id = ?1 AND seq IN
           (SELECT seq FROM records WHERE stream_id = ?1 AND arrived < ?2 ORDER BY seq LIMIT ?3)`,
      ),
      stream: db.prepare("SELECT name, created_at, delete_on_empty_ms, retention_ms FROM streams WHERE id = ?"),
      firstArrival: db.prepare("SELECT arrived FROM records WHERE stream_id = ? ORDER BY seq LIMIT 1"),
      setDue: db.prepare("UPDATE streams SET due_at = ? WHERE id = ?"),
      deleteStream: db.prepare("DELETE FROM streams WHERE id = ?"),
      freePages: db.prepare("PRAGMA freelist_count"),
    };
  }
  return { db, sql: sql! };
}

/** Lets the store's waiting writes go first. */
function yieldToWriters(): void {
  const until = performance.now() + YIELD_MAX_MS;
  for (let waiting = Atomics.load(gate, 0); waiting > 0 && performance.now() < until; waiting = Atomics.load(gate, 0)) {
    Atomics.wait(gate, 0, waiting, 5);
  }
}

/** The next chunk: aims a statement at the target, at most doubling, growing only while statements are full. */
function adapt(size: number, ms: number, full: boolean, max: number): number {
  const next = ms > 0 ? Math.round((size * STATEMENT_TARGET_MS) / ms) : size * 2;
  return Math.max(1, Math.min(next, full ? size * 2 : size, max));
}

function sweepStep(request: SweepRequest): SweepStep {
  const { db, sql } = open(request.path);
  const deadline = performance.now() + request.budgetMs;
  const step: SweepStep = {
    done: false,
    vacuuming: request.vacuuming,
    expired: 0,
    dropped: [],
    freed: 0,
    statements: 0,
    longestMs: 0,
    longestCheckpointMs: 0,
  };
  let checkpointed = performance.now();
  const spent = () => step.statements >= request.statements || performance.now() >= deadline;
  const timed = <T>(run: () => T, vacuum = false): [T, number] => {
    yieldToWriters();
    const started = performance.now();
    const result = run();
    const ms = performance.now() - started;
    step.statements++;
    step.longestMs = Math.max(step.longestMs, ms);
    if (vacuum || started + ms - checkpointed >= CHECKPOINT_EVERY_MS) {
      checkpoint(db, step);
      checkpointed = performance.now();
    }
    return [result, ms];
  };
  // Expire what is due, stream by stream; a stream left half-way stays due and is continued by the next step.
  for (let due = sql.due.all(request.now) as unknown as DueRow[]; due.length > 0;) {
    for (const s of due) {
      if (s.retention_ms !== null) {
        const cutoff = request.now - s.retention_ms;
        for (let more = true; more;) {
          if (spent()) return step;
          const chunk = Math.min(chunks.get(s.id) ?? Math.min(32, request.maxRows), request.maxRows);
          const [{ changes }, ms] = timed(() => sql.expire.run(s.id, cutoff, chunk));
          step.expired += Number(changes);
          more = Number(changes) >= chunk;
          chunks.set(s.id, adapt(chunk, ms, more, request.maxRows));
        }
      }
      if (spent()) return step;
      timed(() => settle(db, sql, s, request.now, step));
      chunks.delete(s.id);
    }
    due = sql.due.all(request.now) as unknown as DueRow[];
  }
  // Then give the freed pages back, a few at a time.
  const free = () => (sql.freePages.get() as { freelist_count: number }).freelist_count;
  if (request.incremental && (request.vacuuming || free() >= request.minFreePages)) {
    step.vacuuming = true;
    for (let left = free(); left > 0; left = free()) {
      if (spent()) return step;
      const pages = Math.min(vacuumChunk, left, request.maxPages);
      // Each row of the pragma is one page freed: it must be stepped to the end.
      const [, ms] = timed(() => db.prepare(`PRAGMA incremental_vacuum(${pages})`).all(), true);
      step.freed += pages;
      vacuumChunk = adapt(pages, ms, pages === vacuumChunk, request.maxPages);
    }
  }
  step.done = true;
  step.vacuuming = false;
  return step;
}

/** Copies the WAL back (PASSIVE: the store's writer goes on meanwhile); returns whether all of it was. */
function checkpoint(db: DatabaseSync, step?: SweepStep): boolean {
  const started = performance.now();
  const { log, checkpointed } = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
    log: number;
    checkpointed: number;
  };
  if (step) step.longestCheckpointMs = Math.max(step.longestCheckpointMs, performance.now() - started);
  return log === checkpointed;
}

/**
 * After its expired records are gone: deletes the stream if it is empty and
 * past its delete-on-empty age, else sets when it is due next — in one write
 * transaction, so an append cannot slip between the check and the delete.
 */
function settle(db: DatabaseSync, sql: Record<string, StatementSync>, s: DueRow, now: number, step: SweepStep): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    const row = sql.stream.get(s.id) as
      | { name: string; created_at: number; delete_on_empty_ms: number; retention_ms: number | null }
      | undefined;
    // Deleted meanwhile (and its id perhaps given to a new stream): nothing to do.
    if (row && row.name === s.name) {
      const first = sql.firstArrival.get(s.id) as { arrived: number } | undefined;
      if (!first && row.delete_on_empty_ms > 0 && row.created_at + row.delete_on_empty_ms < now) {
        sql.deleteStream.run(s.id);
        step.dropped.push(s.name);
      } else {
        const due = first
          ? (row.retention_ms === null ? null : first.arrived + row.retention_ms + 1)
          : (row.delete_on_empty_ms > 0 ? row.created_at + row.delete_on_empty_ms + 1 : null);
        sql.setDue.run(due, s.id);
      }
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

port.on("message", (data: CheckpointRequest) => {
  try {
    if (data.op === "close") {
      db?.close();
      db = undefined;
      sql = undefined;
      reply({ id: data.id, ok: true });
      return;
    }
    if (data.op === "sweep") {
      const sweep = sweepStep(data);
      // Keep the WAL short: copy back what the step wrote, here, on this thread; at the end, when all of it
      // is copied, cut the WAL file too (quick then, and it holds the writer for that moment only).
      const { db } = open(data.path);
      if (checkpoint(db, sweep) && sweep.done) db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
      reply({ id: data.id, ok: true, sweep });
      return;
    }
    const result = open(data.path).db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
      busy: number;
      log: number;
      checkpointed: number;
    };
    reply({ id: data.id, ok: true, result: { ...result } });
  } catch (error) {
    reply({ id: data.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
