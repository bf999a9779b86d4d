/**
 * The opt-in asset cache (`REPLAYA_ASSET_CACHE`): after ingest has stored a
 * batch, the batch's image and font URLs are fetched in the background and
 * kept in the store, and each session gets a URL → asset map the player
 * rewrites its replay with, so replays outlive the recorded site's images.
 *
 * Ingest never waits for it: {@link AssetCache.observe} only schedules work.
 * One queue per process, capped (URLs beyond it are dropped and tried again
 * when a later batch names them); a few fetches at a time; each URL fetched
 * once per process while its result is fresh, and not at all while the
 * store's entry for it is younger than a day (other processes share that).
 *
 * @module
 */

import { log } from "../log.ts";
import type { StreamStore } from "../store/mod.ts";
import { type AssetKind, assetUrls } from "./extract.ts";
import { fetchAsset, type FetchAssetOptions } from "./fetch.ts";
import { AssetStore, type SessionAssets, type SessionEntry } from "./store.ts";

/** Options of the asset cache. */
export interface AssetCacheOptions {
  store: StreamStore;
  /** Limits and policy of each fetch. */
  fetch: Omit<FetchAssetOptions, "signal">;
  /** Retention of the session streams (seconds): content streams keep their records two days longer. */
  retentionSecs?: number;
  deleteOnEmptySecs?: number;
  /** Fetches at a time (default 4). */
  concurrency?: number;
  /** URLs waiting at most (default 1,000). */
  maxQueued?: number;
  /** A URL's stored asset is used without fetching it again for this long (default one day). */
  refreshMs?: number;
  now?: () => number;
}

/** What the cache has done since it started (for tests and logs). */
export interface AssetCacheStats {
  fetched: number;
  failed: number;
  /** URLs answered from the store's index without a fetch. */
  indexed: number;
  /** URLs dropped because the queue was full. */
  dropped: number;
}

/** A failed fetch is tried again after this long (the site may be back). */
const FAILURE_TTL_MS = 10 * 60_000;
/** URL results remembered per process. */
const MAX_RECENT = 10_000;
/** Sessions whose already-mapped URLs are remembered (so each batch does not map them again). */
const MAX_SESSIONS = 1_000;
const TWO_DAYS_SECS = 2 * 86_400;

interface Job {
  kind: AssetKind;
  sessions: Set<string>;
}

/** The cache; see the module doc. */
export class AssetCache {
  readonly assets: AssetStore;
  readonly stats: AssetCacheStats = { fetched: 0, failed: 0, indexed: 0, dropped: 0 };
  readonly #fetch: Omit<FetchAssetOptions, "signal">;
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  /** URL → its entry and when it was learned. */
  readonly #recent = new Map<string, { entry: SessionEntry; at: number }>();
  /** Queued or running fetches by URL (a URL named by several sessions is fetched once). */
  readonly #jobs = new Map<string, Job>();
  readonly #queue: string[] = [];
  readonly #mapped = new Map<string, Set<string>>();
  readonly #pending = new Map<string, SessionEntry[]>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #running = new Set<Promise<void>>();
  #work = 0;
  #idle: Array<() => void> = [];

  constructor(options: AssetCacheOptions) {
    const retention = options.retentionSecs;
    this.assets = new AssetStore(options.store, {
      contentConfig: retention === undefined
        ? undefined
        : { retentionAgeSecs: retention + TWO_DAYS_SECS, deleteOnEmptyMinAgeSecs: options.deleteOnEmptySecs },
      now: options.now,
    });
    this.#fetch = options.fetch;
    this.#concurrency = options.concurrency ?? 4;
    this.#maxQueued = options.maxQueued ?? 1_000;
    this.#refreshMs = options.refreshMs ?? 86_400_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Schedules the assets of a stored batch; returns at once. The events are
   * looked at on a later task, never on the ingest request's.
   */
  observe(sessionId: string, events: readonly unknown[]): void {
    if (this.#abort.signal.aborted || events.length === 0) return;
    this.#later(() => this.#take(sessionId, events));
  }

  /** The session's URL → asset map. */
  sessionAssets(sessionId: string): Promise<SessionAssets> {
    return this.assets.sessionAssets(sessionId);
  }

  /** Forgets a session's map. */
  async deleteSession(sessionId: string): Promise<void> {
    this.#mapped.delete(sessionId);
    await this.assets.deleteSession(sessionId);
  }

  /** Resolves once nothing is scheduled, queued, running or waiting to be written. */
  idle(): Promise<void> {
    if (this.#work === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Stops: drops the queue, aborts fetches, waits for the work in flight to
   * end, and writes the map entries already learned (call it before closing
   * the store).
   */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#work -= this.#timers.size;
    this.#timers.clear();
    this.#work -= this.#queue.length;
    this.#queue.length = 0;
    await Promise.allSettled([...this.#running]);
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [sessionId, entries] of pending) {
      await this.assets.addToSession(sessionId, entries).catch((error) => {
        log.warn("asset cache: could not write a session's map at shutdown", {}, error);
      });
    }
    this.#settle();
  }

  #later(fn: () => void | Promise<void>): void {
    this.#work++;
    const timer = setTimeout(async () => {
      this.#timers.delete(timer);
      try {
        await fn();
      } catch (error) {
        log.warn("asset cache step failed", {}, error);
      } finally {
        this.#work--;
        this.#settle();
      }
    }, 0);
    this.#timers.add(timer);
  }

  #settle(): void {
    if (this.#work > 0) return;
    const waiting = this.#idle;
    this.#idle = [];
    for (const resolve of waiting) resolve();
  }

  #take(sessionId: string, events: readonly unknown[]): void {
    const refs = assetUrls(events);
    if (refs.length === 0) return;
    let mapped = this.#mapped.get(sessionId);
    if (mapped) this.#mapped.delete(sessionId); // re-inserted: most recent last
    else mapped = new Set();
    this.#mapped.set(sessionId, mapped);
    if (this.#mapped.size > MAX_SESSIONS) this.#mapped.delete(this.#mapped.keys().next().value!);
    const now = this.#now();
    for (const { url, kind } of refs) {
      if (mapped.has(url)) continue;
      const known = this.#recent.get(url);
      if (known && now - known.at < ("e" in known.entry ? FAILURE_TTL_MS : this.#refreshMs)) {
        mapped.add(url);
        this.#enqueueEntry(sessionId, known.entry);
        continue;
      }
      const job = this.#jobs.get(url);
      if (job) {
        job.sessions.add(sessionId);
        mapped.add(url);
        continue;
      }
      if (this.#queue.length >= this.#maxQueued) {
        this.stats.dropped++;
        continue;
      }
      mapped.add(url);
      this.#jobs.set(url, { kind, sessions: new Set([sessionId]) });
      this.#queue.push(url);
      this.#work++;
      this.#drain();
    }
  }

  #drain(): void {
    while (this.#running.size < this.#concurrency && this.#queue.length > 0) {
      const url = this.#queue.shift()!;
      const job = this.#jobs.get(url)!;
      const run = this.#resolve(url, job.kind).catch((error): SessionEntry => {
        log.warn("asset cache: could not store an asset", {}, error);
        return { u: url, e: "store_error" };
      }).then((entry) => {
        this.#jobs.delete(url);
        this.#recent.delete(url);
        this.#recent.set(url, { entry, at: this.#now() });
        if (this.#recent.size > MAX_RECENT) this.#recent.delete(this.#recent.keys().next().value!);
        for (const sessionId of job.sessions) this.#enqueueEntry(sessionId, entry);
      }).finally(() => {
        this.#running.delete(run);
        this.#work--;
        if (!this.#abort.signal.aborted) this.#drain();
        this.#settle();
      });
      this.#running.add(run);
    }
  }

  /** The URL's entry: the store's when fresh, else fetched now (or the stored one when the fetch fails). */
  async #resolve(url: string, kind: AssetKind): Promise<SessionEntry> {
    const known = await this.assets.lookupUrl(url);
    if (known && this.#now() - known.at < this.#refreshMs) {
      this.stats.indexed++;
      return { u: url, h: known.hash, t: known.type };
    }
    const result = await fetchAsset(url, kind, { ...this.#fetch, signal: this.#abort.signal });
    if (!result.ok) {
      this.stats.failed++;
      // The site is away or changed: the copy stored before still shows what the visitor saw.
      return known ? { u: url, h: known.hash, t: known.type } : { u: url, e: result.reason };
    }
    this.stats.fetched++;
    const asset = await this.assets.put(result.bytes, result.type, this.#refreshMs);
    await this.assets.indexUrl(url, asset);
    return { u: url, h: asset.hash, t: asset.type };
  }

  /** Queues a map entry for the session; entries that arrive together are written as one record. */
  #enqueueEntry(sessionId: string, entry: SessionEntry): void {
    if (this.#abort.signal.aborted) return;
    const pending = this.#pending.get(sessionId);
    if (pending) return void pending.push(entry);
    this.#pending.set(sessionId, [entry]);
    this.#later(async () => {
      const entries = this.#pending.get(sessionId) ?? [];
      this.#pending.delete(sessionId);
      await this.assets.addToSession(sessionId, entries);
    });
  }
}
