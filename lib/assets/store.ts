/**
 * Where cached assets live, through the {@link StreamStore} interface only
 * (so on S2 and in the embedded store alike):
 *
 * - `assets/<sha256>`: the asset's bytes, content-addressed, in records of at
 *   most ~1 MiB (the store's record limit), headers `i` (part), `n` (parts),
 *   `z` (size), `t` (content type). Each part is appended with `matchSeqNum`,
 *   so two writers never interleave; a copy is complete when its last part
 *   is there, and readers take the newest complete copy. A copy is written
 *   again when the newest is older than a day and the asset is still in use,
 *   and these streams keep their records two days longer than sessions, so
 *   an asset outlives every session that references it.
 * - `assets/by-url/<sha256 of the URL>`: JSON `{h, t, z}` per fetch; the last
 *   record is the URL's current asset, its timestamp when it was fetched.
 * - `assets/by-session/<session id>`: JSON arrays of `{u, h, t}` (cached) or
 *   `{u, e}` (not cached, and why): the session's URL → asset map the player
 *   rewrites its events with. Default retention, like the session.
 *
 * @module
 */

import {
  AlreadyExistsError,
  MAX_BATCH_BYTES,
  NotFoundError,
  readAll,
  SeqMismatchError,
  type StoredRecord,
  type StreamConfig,
  type StreamStore,
} from "../store/mod.ts";

/** A stored asset. */
export interface StoredAsset {
  hash: string;
  type: string;
  size: number;
}

/** A URL's current asset and when it was fetched (ms). */
export interface UrlEntry extends StoredAsset {
  at: number;
}

/** One line of a session's asset map: the URL's asset, or why it is not cached. */
export type SessionEntry = { u: string; h: string; t: string } | { u: string; e: string };

/** A session's asset map, as the player gets it. */
export interface SessionAssets {
  /** URL as recorded → its cached asset. */
  assets: Record<string, { hash: string; type: string }>;
  /** URL as recorded → why it is not cached. */
  failed: Record<string, string>;
}

/** Body bytes per part: a record's 1 MiB metered limit, less room for its headers. */
export const PART_BYTES = MAX_BATCH_BYTES - 1024;
/** A SHA-256 in hex: the only asset names there are. */
export const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Entries per session-map record (URLs are at most 4 KiB each: a record stays well under 1 MiB). */
const ENTRIES_PER_RECORD = 100;

const utf8 = new TextEncoder();

/** The SHA-256 of bytes or a string, in hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? utf8.encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The stream of an asset's bytes. */
export const contentStream = (hash: string) => `assets/${hash}`;
/** The stream of a URL's fetches. */
export const urlStream = async (url: string) => `assets/by-url/${await sha256Hex(url)}`;
/** The stream of a session's asset map. */
export const sessionStream = (sessionId: string) => `assets/by-session/${sessionId}`;

/** Where the newest complete copy of an asset is. */
interface Copy extends StoredAsset {
  start: number;
  parts: number;
  /** When it was written (its last part's timestamp). */
  at: number;
}

/** Options of the asset store. */
export interface AssetStoreOptions {
  /** Configuration of content streams: the store's default retention plus two days (see the module doc). */
  contentConfig?: StreamConfig;
  now?: () => number;
}

/** Content-addressed asset storage and the URL and session maps; see the module doc. */
export class AssetStore {
  readonly #store: StreamStore;
  readonly #contentConfig: StreamConfig | undefined;
  readonly #now: () => number;

  constructor(store: StreamStore, options: AssetStoreOptions = {}) {
    this.#store = store;
    this.#contentConfig = options.contentConfig;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Stores `bytes` under their SHA-256 unless a complete copy younger than
   * `freshMs` is there already. Returns the asset.
   */
  async put(bytes: Uint8Array, type: string, freshMs = 86_400_000): Promise<StoredAsset> {
    const hash = await sha256Hex(bytes);
    const asset = { hash, type, size: bytes.length };
    const stream = contentStream(hash);
    const existing = await this.#newestCopy(hash);
    if (existing && this.#now() - existing.at < freshMs) return asset;
    if (!existing) {
      await this.#store.createStream(stream, this.#contentConfig).catch((error) => {
        if (!(error instanceof AlreadyExistsError)) throw error;
      });
    }
    const parts = Math.max(1, Math.ceil(bytes.length / PART_BYTES));
    let seq = (await this.#store.checkTail(stream)).seqNum;
    for (let i = 0; i < parts; i++) {
      try {
        await this.#store.append(stream, [{
          body: bytes.subarray(i * PART_BYTES, (i + 1) * PART_BYTES),
          headers: [["i", String(i)], ["n", String(parts)], ["z", String(bytes.length)], ["t", type]],
          timestamp: this.#now(),
        }], { matchSeqNum: seq++ });
      } catch (error) {
        // Another writer is storing the same bytes right now: its copy will do.
        if (error instanceof SeqMismatchError) return asset;
        throw error;
      }
    }
    return asset;
  }

  /** The asset's type, size and bytes (streamed part by part), or undefined when there is no complete copy. */
  async open(hash: string): Promise<(StoredAsset & { body: ReadableStream<Uint8Array> }) | undefined> {
    if (!HASH_PATTERN.test(hash)) return undefined;
    const copy = await this.#newestCopy(hash);
    if (!copy) return undefined;
    const store = this.#store;
    let next = copy.start;
    const end = copy.start + copy.parts;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { records } = await store.read(contentStream(hash), { from: { seqNum: next }, count: end - next });
        const record = records[0];
        if (!record || record.seqNum !== next || header(record, "i") !== String(next - copy.start)) {
          return controller.error(new Error(`asset ${hash} is missing part ${next - copy.start}`));
        }
        for (const r of records) {
          if (r.seqNum !== next || r.seqNum >= end) break;
          controller.enqueue(r.body);
          next++;
        }
        if (next >= end) controller.close();
      },
    }, { highWaterMark: 0 });
    return { hash, type: copy.type, size: copy.size, body };
  }

  /** The newest complete copy: the last part at the tail, or (after a writer stopped mid-copy) the one before. */
  async #newestCopy(hash: string): Promise<Copy | undefined> {
    const stream = contentStream(hash);
    let last: number;
    try {
      last = (await this.#store.checkTail(stream)).seqNum - 1;
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    for (let tries = 0; tries < 3 && last >= 0; tries++) {
      const { records } = await this.#store.read(stream, { from: { seqNum: last }, count: 1 });
      const record = records[0];
      if (!record || record.seqNum !== last) return undefined; // expired
      const i = Number(header(record, "i"));
      const parts = Number(header(record, "n"));
      if (!Number.isSafeInteger(i) || !Number.isSafeInteger(parts) || parts < 1) return undefined;
      if (i === parts - 1) {
        return {
          hash,
          type: header(record, "t") ?? "application/octet-stream",
          size: Number(header(record, "z")),
          start: last - i,
          parts,
          at: record.timestamp,
        };
      }
      last = last - i - 1; // an unfinished copy: try the one before it
    }
    return undefined;
  }

  /** The asset `url` was last fetched as, or undefined. */
  async lookupUrl(url: string): Promise<UrlEntry | undefined> {
    try {
      const { records } = await this.#store.read(await urlStream(url), { from: { tailOffset: 1 }, count: 1 });
      const record = records.at(-1);
      if (!record) return undefined;
      const { h, t, z } = JSON.parse(new TextDecoder().decode(record.body));
      if (typeof h !== "string" || !HASH_PATTERN.test(h) || typeof t !== "string") return undefined;
      return { hash: h, type: t, size: Number(z) || 0, at: record.timestamp };
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Records that `url` was fetched as `asset`, now. */
  async indexUrl(url: string, asset: StoredAsset): Promise<void> {
    const body = utf8.encode(JSON.stringify({ h: asset.hash, t: asset.type, z: asset.size }));
    await this.#store.append(await urlStream(url), [{ body, timestamp: this.#now() }]);
  }

  /** Adds entries to a session's asset map. */
  async addToSession(sessionId: string, entries: SessionEntry[]): Promise<void> {
    const records = [];
    for (let i = 0; i < entries.length; i += ENTRIES_PER_RECORD) {
      const body = utf8.encode(JSON.stringify(entries.slice(i, i + ENTRIES_PER_RECORD)));
      records.push({ body, timestamp: this.#now() });
    }
    // Each record is small; a batch stays far below the store's 1 MiB (≤ 100 entries of ≤ 4 KiB URLs per record).
    for (let i = 0; i < records.length; i += 2) {
      await this.#store.append(sessionStream(sessionId), records.slice(i, i + 2));
    }
  }

  /**
   * A session's asset map: a cached entry wins over a failure of the same
   * URL (the copy stored earlier still serves), the newest cached one over
   * older ones.
   */
  async sessionAssets(sessionId: string): Promise<SessionAssets> {
    const out: SessionAssets = { assets: {}, failed: {} };
    try {
      for await (const record of readAll(this.#store, sessionStream(sessionId))) {
        let entries: unknown;
        try {
          entries = JSON.parse(new TextDecoder().decode(record.body));
        } catch {
          continue;
        }
        for (const entry of Array.isArray(entries) ? entries : []) {
          if (typeof entry?.u !== "string") continue;
          if (typeof entry.h === "string" && HASH_PATTERN.test(entry.h) && typeof entry.t === "string") {
            out.assets[entry.u] = { hash: entry.h, type: entry.t };
            delete out.failed[entry.u];
          } else if (typeof entry.e === "string" && !(entry.u in out.assets)) {
            out.failed[entry.u] = entry.e;
          }
        }
      }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    return out;
  }

  /** Forgets a session's asset map (the assets stay: other sessions may use them; retention removes them). */
  async deleteSession(sessionId: string): Promise<void> {
    await this.#store.deleteStream(sessionStream(sessionId));
  }
}

function header(record: StoredRecord, name: string): string | undefined {
  return record.headers.find(([n]) => n === name)?.[1];
}
