/**
 * How a session is laid out in its stream, and how it is read back.
 *
 * ```
 * seq 0   fence "active"
 * seq 1   meta       JSON SessionMeta
 * seq …   events     gzip(JSON rrweb events), one record per recorder batch,
 *                    framed across consecutive records when larger than one record
 * seq …   heartbeat  empty, keeps the lease
 * seq n   fence "stopped"  ┐ one append
 * seq n+1 stop       JSON  ┘
 * ```
 *
 * Header names are one letter because they are stored (and metered) on every
 * record: `k` kind, `w` writer id, `b` batch seq, `s` counts, `u` identified
 * user, `x` friction signals decided in the batch (rage, dead, error click,
 * thrash; only when any), `f` frame (`i/n`, only when a batch spans records), `z` the batch's JSON bytes
 * (only on large batches: readers take them from their budget before reading the rest). The reader drops
 * a (writer, batch) it has already seen, so retries are harmless.
 *
 * @module
 */

import type { Header, RecordInput, StoredRecord } from "../store/mod.ts";
import { gunzipSync } from "node:zlib";
import { concatBytes, gzip, INFLATE_SLICE } from "../bytes.ts";
import { type ByteBudget, slicer } from "../async.ts";
import type { FrictionCounts, RrwebEvent, SessionMeta, StopInfo } from "@replaya/recorder/wire";
import { addPageUrls, type BatchStats, statsOf } from "./events.ts";
import { BATCH_KINDS } from "./friction.ts";

/** Record kinds, in the `kind` header. */
export type RecordKind = "meta" | "events" | "heartbeat" | "stop";

/** What a reader yields, in stream order. `seqNum` is the item's last record (resume after it). */
export type SessionItem =
  | { kind: "meta"; seqNum: number; meta: SessionMeta }
  | EventsItem
  | { kind: "heartbeat"; seqNum: number; timestamp: number }
  | { kind: "stop"; seqNum: number; stop: StopInfo };

/**
 * One recorder batch, as stored: `gz` is the gzip of its events' JSON. The
 * read routes send the JSON on as it inflates ({@link jsonPieces}), never
 * holding it whole; `json` inflates it whole and `events` parses it, each on
 * first use (a parsed batch takes several times its JSON's memory).
 */
export interface EventsItem {
  kind: "events";
  seqNum: number;
  writerId: string;
  batch: number;
  /** The batch's records' bodies, in order: together, the gzip of its JSON. */
  gz: Uint8Array[];
  readonly json: Uint8Array;
  readonly events: RrwebEvent[];
  stats: BatchStats;
}

/** Headers that hold what bodies would (the identified user, the pages visited): sealed too under encryption at rest. */
export const SEALED_HEADERS = ["u", "g"];

/**
 * Largest body of one record: 1 MiB metered minus room for our headers, as
 * sealed under encryption at rest too (`u` and `g` grow to base64 of 40 bytes
 * more, the body by 40: ~1.8 KiB at most, lib/store/encrypted.ts).
 */
export const MAX_RECORD_BODY = 1024 * 1024 - 2048;

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Builds the meta record. */
export function metaRecord(meta: SessionMeta): RecordInput {
  return { body: utf8.encode(JSON.stringify(meta)), headers: [["k", "meta"]], timestamp: meta.createdAt };
}

/** Builds the stop record (appended after the `stopped` fence). */
export function stopRecord(stop: StopInfo): RecordInput {
  return { body: utf8.encode(JSON.stringify(stop)), headers: [["k", "stop"]], timestamp: stop.stoppedAt };
}

/** Builds a heartbeat record. */
export function heartbeatRecord(timestamp: number): RecordInput {
  return { body: new Uint8Array(0), headers: [["k", "heartbeat"]], timestamp };
}

/**
 * Encodes one recorder batch as records: gzip'd JSON, split into frames when
 * it does not fit one record. Each element of the result is one record, to be
 * appended in order (one record per append when framed, since each is ~1 MiB).
 */
export async function encodeEvents(options: {
  writerId: string;
  batch: number;
  events: RrwebEvent[];
  maxBody?: number;
  /** Friction signals the detector decided in this batch. */
  friction?: FrictionCounts;
}): Promise<RecordInput[]> {
  const { writerId, batch, events } = options;
  const maxBody = options.maxBody ?? MAX_RECORD_BODY;
  const json = utf8.encode(JSON.stringify(events));
  const body = await gzip(json);
  const timestamp = events.reduce((min, e) => Math.min(min, e.timestamp), Infinity);
  const stats = statsOf(events);
  const base: Header[] = [["k", "events"], ["w", writerId], ["b", String(batch)]];
  const parts = Math.max(1, Math.ceil(body.length / maxBody));
  return Array.from({ length: parts }, (_, i) => {
    const headers: Header[] = [...base];
    if (i === 0) {
      headers.push(["s", `${stats.n},${stats.c},${stats.p},${stats.e},${stats.t1}${stats.d ? `,${stats.d}` : ""}`]);
      if (stats.u) headers.push(["u", stats.u]);
      const g = pageUrlsHeader(stats.g);
      if (g) headers.push(["g", g]);
      const x = frictionHeader(options.friction);
      if (x) headers.push(["x", x]);
      // A large batch says its size up front, so a reader takes its whole cost from its budget at once.
      if (parts > 1 || json.length > LARGE_BATCH_BYTES) headers.push(["z", String(json.length)]);
    }
    if (parts > 1) headers.push(["f", `${i}/${parts}`]);
    return { body: body.subarray(i * maxBody, (i + 1) * maxBody), headers, timestamp };
  });
}

/** A record's kind. */
export function kindOf(record: StoredRecord): RecordKind | undefined {
  return record.headers.find(([name]) => name === "k")?.[1] as RecordKind | undefined;
}

/** The (writer, batch) an events record belongs to, for dedupe. */
export function batchKeyOf(record: StoredRecord): string {
  const headers = new Map(record.headers);
  return `${headers.get("w")}:${headers.get("b")}`;
}

/** The counts on the first record of an events batch; undefined on other records. */
export function batchStatsOf(record: StoredRecord): BatchStats | undefined {
  const headers = new Map(record.headers);
  const value = headers.get("s");
  if (value === undefined) return undefined;
  const [n, c, p, e, t1, d = 0] = value.split(",").map(Number);
  const stats: BatchStats = { n, c, p, e, d, t0: record.timestamp, t1, u: headers.get("u") };
  const x = headers.get("x");
  if (x !== undefined) stats.x = parseFrictionHeader(x);
  const g = headers.get("g");
  if (g !== undefined) stats.g = parsePageUrls(g);
  return stats;
}

/**
 * Bytes of the `g` header at most: the record's 2 KiB of header room
 * (MAX_RECORD_BODY) also holds `u` (≤ 200 characters) and the rest (~150),
 * sealed or not.
 */
export const MAX_PAGE_URLS_HEADER = 512;

/** The `g` header: the batch's page URLs as a JSON array, as many as fit {@link MAX_PAGE_URLS_HEADER}. */
function pageUrlsHeader(urls: string[] | undefined): string | undefined {
  const kept: string[] = [];
  for (const url of urls ?? []) {
    // Browsers' hrefs are ASCII (percent-encoded), so a cut URL always fits; anything else may not.
    if (utf8.encode(JSON.stringify([...kept, url])).length > MAX_PAGE_URLS_HEADER) continue;
    kept.push(url);
  }
  return kept.length > 0 ? JSON.stringify(kept) : undefined;
}

/** The `g` header (a JSON array of page URLs); anything malformed is no URL. */
function parsePageUrls(value: string): string[] {
  const urls: string[] = [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) addPageUrls(urls, parsed);
  } catch {
    // A damaged header costs the filter its URLs, not the read.
  }
  return urls;
}

/** The `x` header: batch friction counts in {@link BATCH_KINDS} order; undefined when all are 0. */
export function frictionHeader(counts: FrictionCounts | undefined): string | undefined {
  const values = BATCH_KINDS.map((kind) => counts?.[kind] ?? 0);
  return values.some((n) => n > 0) ? values.join(",") : undefined;
}

/** Parses the `x` header; anything not a count is 0. */
export function parseFrictionHeader(value: string): FrictionCounts {
  const counts: FrictionCounts = {};
  value.split(",").slice(0, BATCH_KINDS.length).forEach((part, i) => {
    const n = Number(part);
    if (Number.isSafeInteger(n) && n > 0) counts[BATCH_KINDS[i]] = n;
  });
  return counts;
}

/** A reader decodes for this long at most before it lets the event loop run (see SessionDecoder). */
const DECODE_SLICE_MS = 8;

interface PartialFrame {
  batch: number;
  parts: Uint8Array[];
  total: number;
  stats: BatchStats;
  /** Bytes of the decoder's budget it holds. */
  held: number;
  /** Whether its first record said its size (`z`), so that was taken with the rest. */
  sized: boolean;
}

/** Batches inflated to more than this hold bytes of the decoder's budget (see {@link SessionDecoder}). */
export const LARGE_BATCH_BYTES = 1024 * 1024;

/**
 * Turns stored records back into session items: reassembles frames, drops
 * duplicate batches and truncated frames. Feed records in stream order.
 *
 * With a `budget`, what a large batch holds (the records of a batch framed
 * across several, and a batch that inflates past {@link LARGE_BATCH_BYTES})
 * is taken from it before it is held, and given back when the next record is
 * pushed or the decoder is closed: however many readers there are, large
 * batches in flight stay within the budget.
 *
 * @example
 * const reader = new SessionDecoder();
 * for (const record of records) for (const item of await reader.push(record)) console.log(item.kind);
 */
export class SessionDecoder {
  #seen = new Set<string>();
  #budget?: ByteBudget;
  #inflates: boolean;
  /** The frame of the item returned last: what it holds of the budget is given back at the next push. */
  #last?: PartialFrame;
  // Inflating a batch and parsing it resolves without a macrotask: without one now and then, a reader of a long
  // session would decode all of it before a byte of its response is written, holding up every other request.
  #pace = slicer(DECODE_SLICE_MS);
  #frames = new Map<string, PartialFrame>();
  /** Batches dropped because they were seen before. */
  duplicates = 0;
  /** Frames dropped because they were never completed. */
  truncated = 0;

  /**
   * `budget`: what large batches hold is taken from it. `inflates`: the reader will inflate large batches whole
   * (`json`, `events`), so their JSON counts too; readers that send `jsonPieces` on hold only the records.
   */
  constructor(options: { budget?: ByteBudget; inflates?: boolean } = {}) {
    this.#budget = options.budget;
    this.#inflates = options.inflates ?? true;
  }

  /** Gives back everything held of the budget; call it when done reading. */
  close(): void {
    for (const frame of this.#frames.values()) this.#release(frame);
    this.#release(this.#last);
  }

  /**
   * Decodes one record; returns zero or one item. With `decode: false` a
   * completed batch is only remembered (for dedupe), not inflated or returned.
   */
  async push(record: StoredRecord, decode = true): Promise<SessionItem[]> {
    this.#release(this.#last); // the item returned before is done with
    const headers = new Map(record.headers);
    const kind = kindOf(record);
    const seqNum = record.seqNum;
    if (kind === "meta") return [{ kind, seqNum, meta: JSON.parse(text.decode(record.body)) }];
    if (kind === "stop") return [{ kind, seqNum, stop: JSON.parse(text.decode(record.body)) }];
    if (kind === "heartbeat") return [{ kind, seqNum, timestamp: record.timestamp }];
    if (kind !== "events") return [];
    const writerId = headers.get("w") ?? "";
    const batch = Number(headers.get("b"));
    const [index, count] = (headers.get("f") ?? "0/1").split("/").map(Number);
    let frame = this.#frames.get(writerId);
    if (index === 0) {
      if (frame) {
        this.truncated++; // a new frame interrupts an unfinished one
        this.#release(frame);
      }
      frame = { batch, parts: [], total: count, stats: batchStatsOf(record)!, held: 0, sized: false };
      this.#frames.set(writerId, frame);
      // What the whole batch will hold (its records, then its JSON), taken at once before any of it is kept.
      const size = Number(headers.get("z"));
      frame.sized = Number.isSafeInteger(size) && size > 0;
      const inflated = this.#inflates && frame.sized && size > LARGE_BATCH_BYTES ? size : 0;
      const need = (count > 1 ? count * record.body.length : 0) + inflated;
      if (decode && need > 0) await this.#hold(frame, need);
    } else if (!frame || frame.batch !== batch || frame.parts.length !== index) {
      if (frame) {
        this.#frames.delete(writerId);
        this.#release(frame);
      }
      this.truncated++;
      return [];
    }
    frame.parts.push(record.body);
    if (frame.parts.length < frame.total) return [];
    this.#frames.delete(writerId);
    this.#last = frame;
    const key = `${writerId}:${batch}`;
    if (this.#seen.has(key)) {
      this.duplicates++;
      return [];
    }
    this.#seen.add(key);
    if (!decode) return [];
    if (this.#inflates && !frame.sized) {
      const size = inflatedSize(frame.parts.at(-1)!); // written before `z`: its size is known only now
      if (size > LARGE_BATCH_BYTES) await this.#hold(frame, size);
    }
    await this.#pace();
    return [eventsItem(seqNum, writerId, batch, frame.parts, frame.stats)];
  }

  /** Takes `bytes` more for `frame`: what it held is given back and the sum taken at once (never waits holding). */
  async #hold(frame: PartialFrame, bytes: number): Promise<void> {
    if (!this.#budget) return;
    const total = frame.held + bytes;
    this.#release(frame);
    frame.held = await this.#budget.acquire(total);
  }

  #release(holder: { held: number } | undefined): void {
    if (!holder?.held) return;
    this.#budget?.release(holder.held);
    holder.held = 0;
  }
}

/** An events item whose JSON is inflated, and its events parsed, on first use. */
function eventsItem(seqNum: number, writerId: string, batch: number, gz: Uint8Array[], stats: BatchStats): EventsItem {
  let json: Uint8Array | undefined;
  let events: RrwebEvent[] | undefined;
  return {
    kind: "events",
    seqNum,
    writerId,
    batch,
    gz,
    stats,
    get json() {
      // Our own records, checked at ingest (16 MiB at most by default); the cap guards against a damaged store.
      if (json) return json;
      const out = gunzipSync(gz.length === 1 ? gz[0] : concatBytes(gz), { maxOutputLength: MAX_STORED_JSON });
      return json = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    },
    get events() {
      return events ??= JSON.parse(text.decode(this.json)) as RrwebEvent[];
    },
  };
}

/** The most a stored batch may inflate to. */
const MAX_STORED_JSON = 256 * 1024 * 1024;

/**
 * A batch's JSON in pieces as it inflates (the gzip fed in small slices, so no piece is more than ~1 MiB), for
 * sending on without holding it whole.
 */
export async function* jsonPieces(item: EventsItem): AsyncIterable<Uint8Array> {
  const inflate = new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  let total = 0;
  const slices = ReadableStream.from((function* () {
    for (const part of item.gz) {
      for (let at = 0; at < part.length; at += INFLATE_SLICE) yield part.subarray(at, at + INFLATE_SLICE);
    }
  })());
  for await (const piece of slices.pipeThrough(inflate)) {
    if ((total += piece.length) > MAX_STORED_JSON) throw new Error(`a stored batch inflates past ${MAX_STORED_JSON}`);
    yield piece;
  }
}

/** The size a gzip member says it inflates to (ISIZE, its last four bytes; modulo 4 GiB), from its last part. */
function inflatedSize(gz: Uint8Array): number {
  if (gz.length < 4) return 0;
  const end = gz.length;
  return (gz[end - 4] | (gz[end - 3] << 8) | (gz[end - 2] << 16) | (gz[end - 1] << 24)) >>> 0;
}
