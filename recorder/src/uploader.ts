/**
 * Moves buffered events to the server: session start/resume, flush timing,
 * retries with backoff, token refresh, session replacement, heartbeats and
 * the keepalive flush when the page is hidden. One regular request is in
 * flight at a time so batches arrive in seq order.
 * @module
 */
import { backoffDelay } from "./backoff.ts";
import { encodeBody, FLUSH_THRESHOLD_BYTES, keepaliveBudget, MAX_BATCH_BYTES } from "./batch.ts";
import type { Batch, EventBuffer } from "./buffer.ts";
import type { SendResult, Transport } from "./transport.ts";
import type { Credentials, GapPayload, PageMeta } from "./wire.ts";

/** Flush interval while nobody watches live. */
export const FLUSH_INTERVAL_MS = 1000;
/** Flush interval while someone watches live. */
export const WATCHED_FLUSH_INTERVAL_MS = 100;
/** Heartbeat period while visible and otherwise idle. */
export const HEARTBEAT_MS = 15_000;
/** Consecutive rejected batches after which the recorder gives up. */
export const MAX_CONSECUTIVE_REJECTS = 5;
/** While closing, a batch the server could not take for now is sent again this many times... */
export const CLOSE_RETRIES = 3;
/** ...waiting at most this long before each (a stop should not hang on a long Retry-After). */
const CLOSE_RETRY_MAX_MS = 2000;

/** Timers and time, injected for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** What the uploader needs from its surroundings. */
export interface UploaderDeps {
  transport: Transport;
  buffer: EventBuffer;
  clock: Clock;
  random(): number;
  /** Random id of this page load. */
  writerId: string;
  projectKey: string;
  /** Session meta, built when a session is started. */
  meta(): PageMeta;
  /** A session was established or its token changed: persist it. */
  onSession(credentials: Credentials): void;
  /**
   * The session was replaced mid-recording; the buffer is empty and wants a
   * full snapshot, then a gap marker for `lost` (what the old session could
   * not take), when anything was lost.
   */
  onNewSession(lost?: GapPayload): void;
  /** Events had been dropped and an upload just succeeded: a full snapshot re-syncs the replay. */
  onResync(): void;
  /** The server refuses this recorder for good. */
  onFatal(reason: string): void;
  /** Reports a problem (the caller limits it to one warning per page). */
  warn(message: string): void;
  /** Whether the page is visible (heartbeats only then). */
  isVisible(): boolean;
}

/** Uploads one writer's events to one session at a time. */
export class Uploader {
  #d: UploaderDeps;
  #cred?: Credentials;
  #establishing = false;
  #closed = false;
  #inFlight = 0;
  #pendingWork = new Set<Promise<unknown>>();
  #attempts = 0;
  #retryAt = 0;
  #rejects = 0;
  #watched = false;
  #lastFlushAt = -Infinity;
  #lastSentAt: number;
  #timer: unknown;
  #timerAt = Infinity;

  /** @param deps collaborators; nothing happens until `connect`. */
  constructor(deps: UploaderDeps) {
    this.#d = deps;
    this.#lastSentAt = deps.clock.now();
    // Events serialised in idle time become sendable then: plan a flush for them.
    deps.buffer.onReady = () => this.#plan();
  }

  /** Current session credentials, once established. */
  get credentials(): Credentials | undefined {
    return this.#cred;
  }

  /** True while the server reports a live viewer. */
  get watched(): boolean {
    return this.#watched;
  }

  /** Starts a session, resuming `resume` when given; retries with backoff. */
  connect(resume?: Credentials): void {
    this.#track(this.#establish(resume, false));
  }

  /** Events were added or visibility changed: (re)plan the next flush. */
  notify(): void {
    this.#plan();
  }

  /**
   * Sends everything buffered with keepalive requests of at most 60 KiB
   * each, one after the other (browsers cap keepalive bytes in flight).
   * The first request is issued before this returns.
   */
  flushHidden(): void {
    const cred = this.#cred;
    if (this.#closed || !cred) return;
    const { buffer, transport, writerId, clock } = this.#d;
    // Nothing may wait for idle time that will not come.
    buffer.drain();
    const budget = keepaliveBudget(writerId);
    const fits = (b: Batch) => b.bytes + b.entries.length <= budget;
    const pieces = buffer.batches.filter((b) => !b.inFlight && fits(b));
    for (let b = buffer.seal(budget); b; b = buffer.seal(budget)) {
      // A single event over the limit waits for a regular request.
      if (fits(b)) pieces.push(b);
    }
    if (pieces.length === 0) return;
    this.#cancelTimer();
    for (const p of pieces) p.inFlight = true;
    this.#inFlight++;
    const run = async () => {
      let ok = true;
      for (const piece of pieces) {
        if (ok) {
          const body = encodeBody(
            writerId,
            piece.seq,
            clock.now(),
            piece.entries.map((e) => e.json),
          );
          this.#lastSentAt = clock.now();
          const r = await transport.sendKeepalive(cred, body);
          ok = r.kind === "ok";
          // No resync snapshot here: the page is going away.
          if (r.kind === "ok") this.#accept(piece, r, cred, false);
        }
        // Failed pieces are retried by the regular path.
        piece.inFlight = false;
      }
    };
    this.#track(
      run().finally(() => {
        this.#inFlight--;
        this.#plan();
      }),
    );
  }

  /**
   * Ends uploading: waits briefly for requests in flight, optionally sends
   * the remaining batches once each, then optionally tells the server to stop.
   */
  async close(opts: { flush: boolean; sendStop: boolean }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer();
    await this.#idle(5000);
    const cred = this.#cred;
    const { buffer, transport, writerId, clock } = this.#d;
    if (cred && opts.flush) {
      buffer.drain();
      for (
        let b = buffer.next(MAX_BATCH_BYTES);
        b;
        b = buffer.next(MAX_BATCH_BYTES)
      ) {
        const body = encodeBody(
          writerId,
          b.seq,
          clock.now(),
          b.entries.map((e) => e.json),
        );
        let r = await transport.send(cred, body);
        // The server could not take it for now (a restart, a 429): tried again a few times, briefly.
        for (let attempt = 1; r.kind === "retry" && attempt <= CLOSE_RETRIES; attempt++) {
          await this.#sleep(Math.min(CLOSE_RETRY_MAX_MS, this.#retryDelay(attempt, r.retryAfterMs)));
          r = await transport.send(cred, body);
        }
        if (r.kind !== "ok") {
          // Ending anyway: no later batch or session carries a gap marker, so at least say what was lost.
          const lost = buffer.discard();
          const why = r.kind === "session_lost" ? "the session had ended" : "the server did not take them";
          if (lost) this.#d.warn(`replaya: ${lost.droppedEvents} events were not delivered: ${why}`);
          break;
        }
        buffer.remove(b);
      }
    }
    if (cred && opts.sendStop) {
      await transport.stop(cred, {
        writerId,
        seq: buffer.nextSeq,
        reason: "stop",
      });
    }
    buffer.clear(false);
  }

  /**
   * Drops unsent events and forgets the session; `connect()` then starts a
   * new one. Returns what was dropped, for a gap marker in the new session.
   */
  reset(): GapPayload | undefined {
    this.#cancelTimer();
    this.#cred = undefined;
    const lost = this.#d.buffer.discard();
    this.#closed = false;
    this.#attempts = 0;
    this.#retryAt = 0;
    return lost;
  }

  #track(p: Promise<unknown>): void {
    const guarded = p.catch(() => {});
    this.#pendingWork.add(guarded);
    guarded.finally(() => this.#pendingWork.delete(guarded));
  }

  #idle(maxMs: number): Promise<void> {
    if (this.#pendingWork.size === 0) return Promise.resolve();
    let timer: unknown;
    const limit = new Promise<void>((resolve) => {
      timer = this.#d.clock.setTimeout(resolve, maxMs);
    });
    return Promise.race([
      Promise.all([...this.#pendingWork]).then(() => {}),
      limit,
    ]).finally(() => this.#d.clock.clearTimeout(timer));
  }

  /** Never earlier than Retry-After, and never a tight loop when it says 0. */
  #retryDelay(attempt: number, retryAfterMs: number | undefined): number {
    return Math.max(retryAfterMs ?? 0, backoffDelay(attempt, this.#d.random));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#d.clock.setTimeout(resolve, ms));
  }

  async #establish(resume: Credentials | undefined, midSession: boolean) {
    if (this.#establishing) return;
    this.#establishing = true;
    const { transport, projectKey } = this.#d;
    try {
      let attempt = 0;
      while (!this.#closed) {
        const r = await transport.start({
          projectKey,
          ...(resume ? { resume } : {}),
          meta: this.#d.meta(),
        });
        if (this.#closed) return;
        if (r.kind === "ok") {
          const fresh = !resume || !r.resumed ||
            r.sessionId !== resume.sessionId;
          this.#cred = { sessionId: r.sessionId, token: r.token };
          if (fresh && midSession) {
            // Buffered events belong to the old session's timeline: the new one records that they were lost.
            this.#d.onNewSession(this.#d.buffer.discard());
          }
          this.#attempts = 0;
          this.#retryAt = 0;
          this.#d.onSession(this.#cred);
          return;
        }
        if (r.kind === "rejected") {
          if (resume) {
            resume = undefined;
            continue;
          }
          this.#d.onFatal(`replaya: session start rejected (HTTP ${r.status})`);
          return;
        }
        attempt++;
        await this.#sleep(this.#retryDelay(attempt, r.retryAfterMs));
      }
    } finally {
      this.#establishing = false;
      this.#plan();
    }
  }

  #sessionLost(): void {
    this.#cred = undefined;
    this.#d.onNewSession(this.#d.buffer.discard());
    this.#track(this.#establish(undefined, false));
  }

  #refreshToken(old: Credentials): void {
    this.#cred = undefined;
    this.#track(this.#establish(old, true));
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#d.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #plan(): void {
    const { buffer, clock } = this.#d;
    if (
      this.#closed || !this.#cred || this.#establishing || this.#inFlight > 0
    ) {
      this.#cancelTimer();
      return;
    }
    const now = clock.now();
    let due: number;
    if (
      buffer.batches.some((b) => !b.inFlight) ||
      buffer.pendingBytes >= FLUSH_THRESHOLD_BYTES
    ) due = now;
    else if (buffer.pendingCount > 0) {
      due = this.#lastFlushAt +
        (this.#watched ? WATCHED_FLUSH_INTERVAL_MS : FLUSH_INTERVAL_MS);
    } else if (this.#d.isVisible()) due = this.#lastSentAt + HEARTBEAT_MS;
    else {
      this.#cancelTimer();
      return;
    }
    due = Math.max(due, this.#retryAt, now);
    if (this.#timer !== undefined && this.#timerAt <= due) return;
    this.#cancelTimer();
    this.#timerAt = due;
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#track(this.#pump());
    }, due - now);
  }

  async #pump(): Promise<void> {
    const { buffer, clock, transport, writerId } = this.#d;
    const cred = this.#cred;
    if (this.#closed || !cred || this.#establishing || this.#inFlight > 0) {
      return;
    }
    const now = clock.now();
    if (now < this.#retryAt) return this.#plan();
    let batch = buffer.next(MAX_BATCH_BYTES);
    if (!batch) {
      if (!this.#d.isVisible() || now - this.#lastSentAt < HEARTBEAT_MS) {
        return this.#plan();
      }
      batch = buffer.sealEmpty();
    }
    batch.inFlight = true;
    this.#inFlight++;
    this.#lastFlushAt = this.#lastSentAt = now;
    let r: SendResult;
    try {
      const body = encodeBody(
        writerId,
        batch.seq,
        now,
        batch.entries.map((e) => e.json),
      );
      r = await transport.send(cred, body);
    } catch {
      r = { kind: "retry" };
    }
    batch.inFlight = false;
    this.#inFlight--;
    this.#handle(batch, r, cred);
    this.#plan();
  }

  #accept(
    batch: Batch,
    r: { watched: boolean; token?: string },
    cred: Credentials,
    resync: boolean,
  ): void {
    this.#d.buffer.remove(batch);
    if (cred !== this.#cred) return;
    this.#attempts = 0;
    this.#retryAt = 0;
    this.#rejects = 0;
    this.#watched = r.watched;
    if (r.token && r.token !== cred.token) {
      this.#cred = { sessionId: cred.sessionId, token: r.token };
      this.#d.onSession(this.#cred);
    }
    if (resync && !this.#closed && this.#d.buffer.takeDropped()) {
      this.#d.onResync();
    }
  }

  #handle(batch: Batch, r: SendResult, cred: Credentials): void {
    if (r.kind === "ok") return this.#accept(batch, r, cred, true);
    // The session changed while this request was out: its outcome is moot.
    if (this.#closed || cred !== this.#cred) return;
    switch (r.kind) {
      case "retry":
        this.#attempts++;
        this.#retryAt = this.#d.clock.now() +
          this.#retryDelay(this.#attempts, r.retryAfterMs);
        return;
      case "rejected":
        this.#d.buffer.remove(batch);
        this.#d.warn(
          `replaya: server rejected a batch (HTTP ${r.status}); dropped it`,
        );
        if (++this.#rejects >= MAX_CONSECUTIVE_REJECTS) {
          this.#d.onFatal("replaya: server keeps rejecting batches");
        }
        return;
      case "session_lost":
        return this.#sessionLost();
      case "token_expired":
        return this.#refreshToken(cred);
    }
  }
}
