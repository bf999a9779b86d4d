/**
 * The session list, newest first, paged with a cursor, filtered on the server
 * with no database: it scans the per-day summary streams newest day first,
 * within a scan budget, and says when it stopped early. A user filter reads
 * that user's stream instead (`users.ts`), whole, in one request.
 *
 * @module
 */

import type { FrictionCounts, FrictionKind, SessionRow as Row } from "@replaya/recorder/wire";
import { dayOfSummaryStream, readDay, type SessionSummary, SUMMARY_PREFIX } from "./summaries.ts";
import { createdAtOf, isSessionId } from "./ids.ts";
import type { Sessions, SessionStatus } from "./service.ts";
import { readUser, sameUser } from "./users.ts";

/** Filters from the list page's GET form. */
export interface SessionFilter {
  /** The user id, exactly (case and surrounding spaces ignored): the sessions in that user's stream. */
  userId?: string;
  /** Exact source (site or app name). */
  source?: string;
  /** Case-insensitive substring of the entry URL. */
  urlContains?: string;
  status?: "live" | "ended";
  hasErrors?: boolean;
  /** Inclusive range on the start time, ms since the epoch. */
  from?: number;
  to?: number;
  /** Sessions with this friction signal (`any`: with any); from the end summary or a live session's running counts. */
  friction?: FrictionFilter;
}

/** The friction filter's values (`abandoned` is the abandoned-form signal). */
export const FRICTION_FILTERS = ["rage", "dead", "error_click", "thrash", "abandoned", "any"] as const;
export type FrictionFilter = typeof FRICTION_FILTERS[number];

/** The list's orders: newest first (the default), or most friction signals first. */
export type SessionSort = "newest" | "friction";

/** A row of the list: the wire row, with what the server knows besides. */
export interface SessionRow extends Row {
  ended: boolean;
  durationMs: number;
}

/** A page of the list. */
export interface SessionPage {
  rows: SessionRow[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next?: string;
  /** The scan budget ran out before the page was full; `next` continues the scan. */
  stoppedEarly: boolean;
  /** Summary records read. */
  scanned: number;
}

/** Options for {@link listSessions}. */
export interface ListQuery {
  filter?: SessionFilter;
  /** The id of the last row already shown. */
  cursor?: string;
  limit?: number;
  /** How many summary records one request may read (default 50,000). */
  budget?: number;
  now?: number;
  sort?: SessionSort;
}

/** The list filters from a query string (`user`, `source`, `url`, `status`, `errors`, `from`, `to`); invalid values are ignored. */
export function filterFromQuery(query: Record<string, string>): SessionFilter {
  const day = (value: string | undefined, end: boolean) => {
    if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
    const ms = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : end ? ms + 86_399_999 : ms;
  };
  return {
    userId: query.user?.trim() || undefined,
    source: query.source?.trim() || undefined,
    urlContains: query.url?.trim() || undefined,
    status: query.status === "live" || query.status === "ended" ? query.status : undefined,
    hasErrors: query.errors === "yes" ? true : query.errors === "no" ? false : undefined,
    from: day(query.from, false),
    to: day(query.to, true),
    friction: (FRICTION_FILTERS as readonly string[]).includes(query.friction ?? "")
      ? query.friction as FrictionFilter
      : undefined,
  };
}

/** The order from a query string's `sort` (anything else is newest first). */
export function sortFromQuery(query: Record<string, string>): SessionSort {
  return query.sort === "friction" ? "friction" : "newest";
}

/** A row's friction signals: its end summary's, or a live session's running counts. */
export function frictionOf(
  row: { end?: { friction?: FrictionCounts }; running?: { friction?: FrictionCounts } },
): FrictionCounts {
  return row.end?.friction ?? row.running?.friction ?? {};
}

/** All signals of a row, for sorting. */
export function frictionTotal(counts: FrictionCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
}

function hasFriction(counts: FrictionCounts, filter: FrictionFilter): boolean {
  if (filter === "any") return frictionTotal(counts) > 0;
  const kind: FrictionKind = filter === "abandoned" ? "abandoned_form" : filter;
  return (counts[kind] ?? 0) > 0;
}

/** Whether any filter is set. */
export function isFiltered(filter: SessionFilter = {}): boolean {
  return Object.values(filter).some((v) => v !== undefined && v !== "");
}

/**
 * Lists sessions newest first. Rows without an end record are settled (a
 * lapsed lease is stopped now), so "live" is always the truth.
 *
 * @example
 * const page = await listSessions(sessions, { filter: { hasErrors: true }, limit: 50 });
 */
export async function listSessions(sessions: Sessions, query: ListQuery = {}): Promise<SessionPage> {
  const { filter = {}, limit = 50, budget = 50_000 } = query;
  const cursor = query.cursor && isSessionId(query.cursor) ? query.cursor : undefined;
  const now = query.now ?? Date.now();
  if (query.sort === "friction") return await listByFriction(sessions, filter, query.cursor, limit, budget, now);
  if (filter.userId) return await listUser(sessions, filter, cursor, limit, now);
  const rows: SessionRow[] = [];
  let scanned = 0;
  let examined = 0;
  for (const day of await dayStreams(sessions, filter, cursor)) {
    const { rows: summaries, scanned: read } = await readDay(sessions.store, day);
    scanned += read;
    const unseen = summaries.filter((s) => !cursor || s.id > cursor);
    examined += unseen.length;
    const candidates = unseen.filter((s) => matchesStatic(s, filter));
    for (const summary of candidates) {
      const row = await settleRow(sessions, summary, now);
      if (!matchesStatus(row, filter)) continue;
      rows.push(row);
      if (rows.length === limit) return { rows, next: row.id, stoppedEarly: false, scanned };
    }
    // Stop only after examining something new, so "continue" always makes progress.
    if (scanned >= budget && examined > 0) {
      const last = summaries.at(-1)?.id;
      return { rows, next: last, stoppedEarly: last !== undefined, scanned };
    }
  }
  return { rows, stoppedEarly: false, scanned };
}

/**
 * The user filter: the user's stream holds every session of the user (start,
 * end and deleted records), so one read answers it whatever the store holds.
 * A session is listed under each user id it was known by.
 */
async function listUser(
  sessions: Sessions,
  filter: SessionFilter,
  cursor: string | undefined,
  limit: number,
  now: number,
): Promise<SessionPage> {
  const { rows: summaries, scanned } = await readUser(sessions.store, filter.userId!);
  const others: SessionFilter = { ...filter, userId: undefined };
  const rows: SessionRow[] = [];
  for (const summary of summaries) {
    if (cursor && summary.id <= cursor) continue;
    if (!matchesStatic(summary, others)) continue;
    const row = await settleRow(sessions, summary, now);
    if (!matchesStatus(row, filter)) continue;
    rows.push(row);
    if (rows.length === limit) return { rows, next: row.id, stoppedEarly: false, scanned };
  }
  return { rows, stoppedEarly: false, scanned };
}

/**
 * Most friction first (then newest first), from the summaries alone: every
 * matching row within the scan budget is ranked, so this order reads whole
 * day streams up to the budget even for one page (a date range narrows it).
 * The cursor is `<signals>.<id>` of the last row shown. Live sessions rank by
 * their running counts, which may grow between pages.
 */
async function listByFriction(
  sessions: Sessions,
  filter: SessionFilter,
  rawCursor: string | undefined,
  limit: number,
  budget: number,
  now: number,
): Promise<SessionPage> {
  const match = rawCursor?.match(/^(\d{1,9})\.(\d{13}[a-z0-9]{12})$/);
  const after = match ? { total: Number(match[1]), id: match[2] } : undefined;
  let summaries: SessionSummary[] = [];
  let scanned = 0;
  let stoppedEarly = false;
  if (filter.userId) ({ rows: summaries, scanned } = await readUser(sessions.store, filter.userId));
  else {
    for (const day of await dayStreams(sessions, filter)) {
      if (scanned >= budget) {
        stoppedEarly = true;
        break;
      }
      const read = await readDay(sessions.store, day);
      scanned += read.scanned;
      summaries.push(...read.rows);
    }
  }
  const ranked: Array<{ row: SessionRow; total: number }> = [];
  for (const summary of summaries.filter((s) => matchesStatic(s, filter))) {
    const row = await settleRow(sessions, summary, now);
    if (matchesStatus(row, filter)) ranked.push({ row, total: frictionTotal(frictionOf(row)) });
  }
  ranked.sort((a, b) => b.total - a.total || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0));
  const start = after
    ? ranked.findIndex((r) => r.total < after.total || (r.total === after.total && r.row.id > after.id))
    : 0;
  const page = start < 0 ? [] : ranked.slice(start, start + limit);
  const last = page.at(-1);
  const more = start >= 0 && start + limit < ranked.length;
  return {
    rows: page.map((r) => r.row),
    next: more && last ? `${last.total}.${last.row.id}` : undefined,
    stoppedEarly,
    scanned,
  };
}

/** Day streams newest first, limited to the date range and to days at or before the cursor. */
async function dayStreams(sessions: Sessions, filter: SessionFilter, cursor?: string): Promise<string[]> {
  const days: string[] = [];
  let startAfter: string | undefined;
  do {
    const page = await sessions.store.listStreams({ prefix: SUMMARY_PREFIX, startAfter });
    days.push(...page.names);
    startAfter = page.hasMore ? page.names.at(-1) : undefined;
  } while (startAfter);
  const cursorDay = cursor ? dayStart(createdAtOf(cursor)) : Infinity;
  return days.filter((name) => {
    const day = dayOfSummaryStream(name);
    if (day > cursorDay) return false;
    if (filter.from !== undefined && day + 86_400_000 <= filter.from) return false;
    if (filter.to !== undefined && day > filter.to) return false;
    return true;
  });
}

function dayStart(ms: number): number {
  return ms - (ms % 86_400_000);
}

/** The first page's URL, or (once ended) any page's, in-page navigations included. */
function matchesUrl(s: SessionSummary, needle: string): boolean {
  return [s.url, ...(s.end?.urls ?? [])].some((url) => url.toLowerCase().includes(needle));
}

/** Filters that need only the summary (also for a session that has just started). */
export function matchesStatic(s: SessionSummary, f: SessionFilter): boolean {
  if (f.from !== undefined && s.createdAt < f.from) return false;
  if (f.to !== undefined && s.createdAt > f.to) return false;
  if (f.source && s.source !== f.source) return false;
  if (f.userId && !sameUser(s.userId, f.userId)) return false;
  if (f.urlContains && !matchesUrl(s, f.urlContains.toLowerCase())) return false;
  if (f.hasErrors !== undefined && s.ended && ((s.end?.errors ?? 0) > 0) !== f.hasErrors) return false;
  if (f.friction && s.ended && !hasFriction(s.end?.friction ?? {}, f.friction)) return false;
  return true;
}

/** Filters that need the settled status (a live session's errors are its running count). */
function matchesStatus(row: SessionRow, f: SessionFilter): boolean {
  if (f.status === "live" && !row.live) return false;
  if (f.status === "ended" && row.live) return false;
  const errors = row.end?.errors ?? row.running?.errors ?? 0;
  if (f.hasErrors !== undefined && (errors > 0) !== f.hasErrors) return false;
  if (f.friction && !hasFriction(frictionOf(row), f.friction)) return false;
  return true;
}

/** Turns a summary into a row; a session without an end record is checked (and stopped if lapsed). */
async function settleRow(sessions: Sessions, summary: SessionSummary, now: number): Promise<SessionRow> {
  if (summary.ended && summary.end) {
    return { ...summary, live: false, durationMs: Math.max(0, summary.end.lastEventAt - summary.createdAt) };
  }
  const status: SessionStatus = await sessions.settle(summary.id).catch(() => ({ live: false }));
  if (status.live) {
    return {
      ...summary,
      live: true,
      disconnected: status.disconnected,
      durationMs: Math.max(0, now - summary.createdAt),
      running: await sessions.running(summary.id).catch(() => undefined),
    };
  }
  const end = status.end;
  const row: SessionRow = { ...summary, live: false, ended: true, durationMs: 0 };
  if (end) {
    const { id: _id, ...rest } = end;
    row.end = rest;
    row.userId = end.userId ?? row.userId;
    row.durationMs = Math.max(0, end.lastEventAt - summary.createdAt);
  }
  return row;
}
