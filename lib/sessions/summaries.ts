/**
 * Session summaries without a database: small JSON records in one append-only
 * stream per UTC day (`summaries/<inverted yyyymmdd>`, newest day first in a
 * listing). A `start` record is written when a session starts, an `end`
 * record when it stops, a `deleted` record when it is deleted; merging them
 * by id gives each session's row.
 *
 * @module
 */

import Bowser from "bowser";
import { readAll, type StoredRecord, type StreamStore } from "../store/mod.ts";
import type { SessionCounts, SessionEnd, SessionMeta, SessionStart } from "@replaya/recorder/wire";
import type { BatchStats } from "./events.ts";
import { addCounts } from "./friction.ts";

/** Prefix of the day streams. */
export const SUMMARY_PREFIX = "summaries/";

/** Written when a session starts. */
export interface StartSummary extends SessionStart {
  k: "start";
}

/** Written when a session stops. */
export interface EndSummary extends SessionEnd {
  k: "end";
}

/** Written when a session is deleted from the dashboard. */
export interface DeletedSummary {
  k: "deleted";
  id: string;
}

/** One record of a day stream. */
export type SummaryRecord = StartSummary | EndSummary | DeletedSummary;

/** A session's row: its start merged with its end, when it has ended. */
export interface SessionSummary extends SessionStart {
  ended: boolean;
  end?: Omit<SessionEnd, "id">;
}

/** The day stream a session's summaries go to. */
export function summaryStreamOf(createdAt: number): string {
  const day = Number(new Date(createdAt).toISOString().slice(0, 10).replaceAll("-", ""));
  return SUMMARY_PREFIX + String(99_999_999 - day).padStart(8, "0");
}

/** The UTC day (ms at 00:00) of a day stream, for date-range filters. */
export function dayOfSummaryStream(stream: string): number {
  const day = String(99_999_999 - Number(stream.slice(SUMMARY_PREFIX.length)));
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
}

/** What a user agent says, parsed once (bowser). */
export interface AgentFacts {
  browser?: string;
  browserVersion?: string;
  os?: string;
  device?: string;
}

/** Browser, OS and device class from a user agent. */
export function describeAgent(userAgent: string | undefined): AgentFacts {
  if (!userAgent) return {};
  const parsed = Bowser.parse(userAgent);
  return {
    browser: parsed.browser.name,
    browserVersion: parsed.browser.version,
    os: parsed.os.name,
    device: parsed.platform.type,
  };
}

/** The start summary of a new session. */
export function startSummary(meta: SessionMeta): StartSummary {
  const { browser, os, device } = describeAgent(meta.userAgent);
  return {
    k: "start",
    id: meta.id,
    createdAt: meta.createdAt,
    url: meta.url,
    source: meta.source,
    userId: meta.userId,
    browser,
    os,
    device,
  };
}

/** Adds one batch's stats to running counts. */
export function addStats(counts: SessionCounts & { userId?: string; lastEventAt: number }, stats: BatchStats): void {
  counts.events += stats.n;
  counts.clicks += stats.c;
  counts.pages += stats.p;
  counts.errors += stats.e;
  if (stats.d) counts.dropped = (counts.dropped ?? 0) + stats.d;
  if (stats.u) counts.userId = stats.u;
  if (stats.x) counts.friction = addCounts(counts.friction ?? {}, stats.x);
  counts.lastEventAt = Math.max(counts.lastEventAt, stats.t1);
}

/** Appends a summary record to its day stream, stamped `now` (the caller's clock). */
export async function appendSummary(
  store: StreamStore,
  createdAt: number,
  record: SummaryRecord,
  now: number,
): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(record));
  await store.append(summaryStreamOf(createdAt), [{ body, timestamp: now }]);
}

/** Reads a whole day stream and merges its records into rows, newest first. */
export async function readDay(
  store: StreamStore,
  stream: string,
): Promise<{ rows: SessionSummary[]; scanned: number }> {
  return await mergeSummaries(readAll(store, stream));
}

/**
 * Merges summary records (`start`, `end`, `deleted`, in any order, repeats
 * allowed) into rows, newest first: a row per started session that is not
 * deleted, with its end when it has one. Day streams and user streams
 * (`users.ts`) hold the same records.
 */
export async function mergeSummaries(
  records: AsyncIterable<StoredRecord>,
): Promise<{ rows: SessionSummary[]; scanned: number }> {
  const starts = new Map<string, SessionSummary>();
  const ends = new Map<string, EndSummary>();
  const deleted = new Set<string>();
  let scanned = 0;
  const text = new TextDecoder();
  for await (const record of records) {
    scanned++;
    const summary = JSON.parse(text.decode(record.body)) as SummaryRecord;
    if (summary.k === "start") {
      const { k: _k, ...start } = summary;
      starts.set(summary.id, { ...start, ended: false });
    } else if (summary.k === "end") ends.set(summary.id, summary);
    else deleted.add(summary.id);
  }
  const rows: SessionSummary[] = [];
  for (const [id, row] of starts) {
    if (deleted.has(id)) continue;
    const end = ends.get(id);
    if (end) {
      const { k: _k, id: _id, ...rest } = end;
      row.ended = true;
      row.end = rest;
      row.userId = end.userId ?? row.userId;
    }
    rows.push(row);
  }
  // Ids start with the inverted creation time: ascending id = newest first.
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { rows, scanned };
}
