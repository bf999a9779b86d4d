/**
 * Who is watching which live session, across every server process on one
 * store, so ingest on any process can tell the recorder to flush fast.
 *
 * Each process counts its own viewers. While a session has viewers here, the
 * process appends `{p, id, u}` (process, session, watched-until) to the
 * `live/watched` stream when the first viewer arrives and every `refreshMs`
 * after, and `u: 0` when the last one leaves. Every process follows the
 * stream, so a viewer on B makes A answer `watched: true` within one follow
 * delivery; a process that dies stops refreshing and its claims lapse after
 * `ttlMs`. Cost: one ~70-byte record per watched session per process every
 * `refreshMs` (5 s), kept for an hour.
 *
 * @module
 */

import { log } from "../log.ts";
import { followSidecar, type StoredRecord, type StreamStore } from "../store/mod.ts";

/** The stream of watch claims. */
export const WATCHED_STREAM = "live/watched";

/** A claim: process `p` has viewers of session `id` until `u` (ms; 0 = no longer). */
interface Claim {
  p: string;
  id: string;
  u: number;
}

/** Options for {@link Watchers}. */
export interface WatchersOptions {
  now?: () => number;
  /** How long a claim holds without a refresh (default 15 s). */
  ttlMs?: number;
  /** How often claims are refreshed while viewers stay (default 5 s). */
  refreshMs?: number;
}

/** Viewer counts here, and claims from every process. */
export class Watchers {
  readonly process = crypto.randomUUID().slice(0, 12);
  #store: StreamStore;
  #now: () => number;
  #ttlMs: number;
  #refreshMs: number;
  #local = new Map<string, number>();
  #remote = new Map<string, Map<string, number>>();
  #shared = false;

  constructor(store: StreamStore, options: WatchersOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.#refreshMs = options.refreshMs ?? 5_000;
  }

  /**
   * Shares this process's viewers through the store and learns the others'
   * until `signal` aborts. Without it, only viewers here count.
   */
  async start(signal: AbortSignal): Promise<void> {
    await followSidecar(this.#store, WATCHED_STREAM, {
      config: { retentionAgeSecs: 3600 },
      from: (tail) => Math.max(0, tail - 1000), // recent claims; older ones have lapsed or will be refreshed
      signal,
      onRecord: (record) => this.#apply(record),
      what: "live viewers",
    });
    this.#shared = true;
    const timer = setInterval(() => this.#refresh(), this.#refreshMs);
    signal.addEventListener("abort", () => {
      clearInterval(timer);
      this.#shared = false;
    }, { once: true });
  }

  /** Counts a viewer of `id` here; call the returned function when it leaves. */
  watch(id: string): () => void {
    const count = (this.#local.get(id) ?? 0) + 1;
    this.#local.set(id, count);
    if (count === 1) this.#claim([id], this.#now() + this.#ttlMs);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#local.get(id) ?? 1) - 1;
      if (left > 0) return void this.#local.set(id, left);
      this.#local.delete(id);
      this.#claim([id], 0);
    };
  }

  /** Whether anyone, on any process, is watching `id` live. */
  isWatched(id: string): boolean {
    if (this.#local.has(id)) return true;
    const claims = this.#remote.get(id);
    if (!claims) return false;
    const now = this.#now();
    for (const [process, until] of claims) {
      if (until > now) return true;
      claims.delete(process);
    }
    this.#remote.delete(id);
    return false;
  }

  /** Viewers on this process. */
  get localCount(): number {
    let n = 0;
    for (const count of this.#local.values()) n += count;
    return n;
  }

  #apply(record: StoredRecord): void {
    let claim: Claim;
    try {
      claim = JSON.parse(new TextDecoder().decode(record.body));
    } catch {
      return;
    }
    if (claim.p === this.process || typeof claim.id !== "string" || typeof claim.u !== "number") return;
    let claims = this.#remote.get(claim.id);
    if (claim.u <= this.#now()) {
      claims?.delete(claim.p);
      if (claims?.size === 0) this.#remote.delete(claim.id);
      return;
    }
    if (!claims) this.#remote.set(claim.id, claims = new Map());
    claims.set(claim.p, claim.u);
  }

  #refresh(): void {
    const ids = [...this.#local.keys()];
    if (ids.length > 0) this.#claim(ids, this.#now() + this.#ttlMs);
    for (const id of [...this.#remote.keys()]) this.isWatched(id); // drops lapsed claims
  }

  /** Appends claims (at most 1000 per append); a failure only delays other processes' view. */
  #claim(ids: string[], until: number): void {
    if (!this.#shared) return;
    const now = this.#now();
    const utf8 = new TextEncoder();
    for (let i = 0; i < ids.length; i += 1000) {
      const records = ids.slice(i, i + 1000).map((id) => ({
        body: utf8.encode(JSON.stringify({ p: this.process, id, u: until } satisfies Claim)),
        timestamp: now,
      }));
      this.#store.append(WATCHED_STREAM, records).catch((error) => {
        log.warn("sharing live viewers failed; other processes see them at the next refresh", {}, error);
      });
    }
  }
}
