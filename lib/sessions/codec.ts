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
 * thrash; only when any), `f` frame (`i/n`, only when a batch spans records). The reader drops
 * a (writer, batch) it has already seen, so retries are harmless.
 *
 * @module
 */

import type { Header, RecordInput, StoredRecord } from "../store/mod.ts";
import { concatBytes, gunzip, gzip } from "../bytes.ts";
import { slicer } from "../async.ts";
import type { FrictionCounts, RrwebEvent, SessionMeta, StopInfo } from "@replaya/recorder/wire";
import { addPageUrls, type BatchStats, statsOf } from "./events.ts";
import { BATCH_KINDS } from "./friction.ts";

/** Record kinds, in the `kind` header. */
export type RecordKind = "meta" | "events" | "heartbeat" | "stop";

/** What a reader yields, in stream order. `seqNum` is the item's last record (resume after it). */
export type SessionItem =
  | { kind: "meta"; seqNum: number; meta: SessionMeta }
  | { kind: "events"; seqNum: number; writerId: string; batch: number; events: RrwebEvent[]; stats: BatchStats }
  | { kind: "heartbeat"; seqNum: number; timestamp: number }
  | { kind: "stop"; seqNum: number; stop: StopInfo };

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
  const body = await gzip(utf8.encode(JSON.stringify(events)));
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
}

/**
 * Turns stored records back into session items: reassembles frames, drops
 * duplicate batches and truncated frames. Feed records in stream order.
 *
 * @example
 * const reader = new SessionDecoder();
 * for (const record of records) for (const item of await reader.push(record)) console.log(item.kind);
 */
export class SessionDecoder {
  #seen = new Set<string>();
  // Inflating a batch and parsing it resolves without a macrotask: without one now and then, a reader of a long
  // session would decode all of it before a byte of its response is written, holding up every other request.
  #pace = slicer(DECODE_SLICE_MS);
  #frames = new Map<string, PartialFrame>();
  /** Batches dropped because they were seen before. */
  duplicates = 0;
  /** Frames dropped because they were never completed. */
  truncated = 0;

  /**
   * Decodes one record; returns zero or one item. With `decode: false` a
   * completed batch is only remembered (for dedupe), not inflated or returned.
   */
  async push(record: StoredRecord, decode = true): Promise<SessionItem[]> {
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
      if (frame) this.truncated++; // a new frame interrupts an unfinished one
      frame = { batch, parts: [], total: count, stats: batchStatsOf(record)! };
      this.#frames.set(writerId, frame);
    } else if (!frame || frame.batch !== batch || frame.parts.length !== index) {
      if (frame) this.#frames.delete(writerId);
      this.truncated++;
      return [];
    }
    frame.parts.push(record.body);
    if (frame.parts.length < frame.total) return [];
    this.#frames.delete(writerId);
    const key = `${writerId}:${batch}`;
    if (this.#seen.has(key)) {
      this.duplicates++;
      return [];
    }
    this.#seen.add(key);
    if (!decode) return [];
    // Our own records, checked at ingest: bigger slices read faster.
    const json = await gunzip(concatBytes(frame.parts), 256 * 1024 * 1024, 64 * 1024);
    const events = JSON.parse(text.decode(json)) as RrwebEvent[];
    await this.#pace();
    return [{ kind, seqNum, writerId, batch, events, stats: frame.stats }];
  }
}
