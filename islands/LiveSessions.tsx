/**
 * The session list, kept current while it is open:
 *
 * - new sessions arrive without a reload over the index feed
 *   (`/api/sessions/feed`, SSE), on the first unfiltered page (`enabled`);
 * - times are relative ("3 min ago", the absolute time in the title) and live
 *   durations run on, refreshed every 30 s: the server renders absolute times,
 *   which never go stale;
 * - live rows' running counts (pages, events, errors, activity) are refreshed
 *   every 10 s while the tab is visible, from `GET /api/sessions?status=live`;
 * - sorting by duration, activity or errors reorders the rows of this page
 *   (the list is read newest first): headings are links (`?sort=`) the server
 *   honours too, sorted here without a reload.
 *
 * @module
 */

import { useEffect, useMemo, useState } from "preact/hooks";
import type { SessionRow as Row } from "@replaya/recorder/wire";
import { SessionRow, SessionTableHead, type SortKey, sortRows } from "../components/SessionRow.tsx";

/** Props of {@link LiveSessions}. */
export interface LiveSessionsProps {
  /** Off on filtered or later pages, where new sessions would not belong. */
  enabled: boolean;
  /** The page's rows, in the scan's order (newest first). */
  rows?: Row[];
  sort?: SortKey;
  /** The page's query string without `sort` (filters and cursor), for the sort links. */
  query?: string;
}

/** How often relative times and live durations are redrawn. */
const CLOCK_MS = 30_000;
/** How often live rows' counts are asked for while the tab is visible. */
const COUNTS_MS = 10_000;
/** A new session's first counts are asked for this soon after it arrives. */
const FIRST_COUNTS_MS = 2_000;

/** The list page's link for a sort. */
export function sortHref(query: string, sort: SortKey): string {
  const params = new URLSearchParams(query);
  params.delete("sort");
  if (sort !== "started") params.set("sort", sort);
  const search = params.toString();
  return search ? `/?${search}` : "/";
}

/** The session table (and, above it, the sessions started since the page opened). */
export default function LiveSessions(
  { enabled, rows = [], sort: initialSort = "started", query = "" }: LiveSessionsProps,
) {
  const [fresh, setFresh] = useState<Row[]>([]);
  // The feed is positioned before it answers, so once open no new session can be missed.
  const [connected, setConnected] = useState(false);
  const [now, setNow] = useState<number | undefined>(undefined);
  const [sort, setSort] = useState<SortKey>(initialSort);
  const [updates, setUpdates] = useState<Map<string, Partial<Row>>>(new Map());
  const [countsDue, setCountsDue] = useState(0);

  useEffect(() => {
    const tick = () => setNow(Date.now());
    tick();
    const timer = setInterval(tick, CLOCK_MS);
    document.addEventListener("visibilitychange", tick);
    return () => (clearInterval(timer), document.removeEventListener("visibilitychange", tick));
  }, []);

  useEffect(() => {
    if (!enabled) return;
    const source = new EventSource("/api/sessions/feed");
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener("session", (event) => {
      try {
        const start = JSON.parse((event as MessageEvent).data);
        setFresh((current) =>
          current.some((r) => r.id === start.id)
            ? current
            : [{ ...start, live: true, durationMs: undefined }, ...current]
        );
        setCountsDue(Date.now() + FIRST_COUNTS_MS);
      } catch {
        // a malformed entry is skipped, the feed goes on
      }
    });
    return () => source.close();
  }, [enabled]);

  const anyLive = fresh.length > 0 || rows.some((r) => r.live);
  useEffect(() => {
    if (!anyLive) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async () => {
      if (stopped) return;
      if (document.visibilityState === "visible") {
        try {
          const res = await fetch("/api/sessions?status=live&limit=200", { headers: { accept: "application/json" } });
          if (res.ok) {
            const page = await res.json() as { sessions: Row[] };
            if (!stopped) setUpdates((old) => new Map([...old, ...liveUpdates(page.sessions)]));
          }
        } catch {
          // offline for a moment: the next refresh tries again
        }
      }
      if (!stopped) timer = setTimeout(refresh, COUNTS_MS);
    };
    timer = setTimeout(refresh, countsDue > Date.now() ? countsDue - Date.now() : COUNTS_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [anyLive, countsDue]);

  const current = (row: Row): Row => {
    const update = updates.get(row.id);
    return update ? { ...row, ...update } : row;
  };
  const shown = useMemo(() => sortRows(rows.map(current), sort, now), [rows, updates, sort, now]);
  const onSort = (key: SortKey) => {
    setSort(key);
    history.replaceState(null, "", sortHref(query, key));
  };

  return (
    <>
      {fresh.length === 0
        ? <div data-testid="live-sessions" data-count="0" data-connected={String(connected)} />
        : (
          <section
            class="new-sessions"
            data-testid="live-sessions"
            data-count={fresh.length}
            data-connected={String(connected)}
          >
            <h2>
              New since you opened this page <span class="badge live">{fresh.length}</span>
            </h2>
            <div class="table-wrap">
              <table class="sessions">
                <SessionTableHead />
                <tbody>{fresh.map((row) => <SessionRow key={row.id} row={current(row)} now={now} />)}</tbody>
              </table>
            </div>
          </section>
        )}
      {rows.length > 0 && (
        <>
          {sort === "friction" && (
            <p class="sort-note muted" data-testid="sort-note">
              Most friction signals first, over the sessions the server scanned.{" "}
              <a href={sortHref(query, "started")}>
                Newest first
              </a>
            </p>
          )}
          {sort !== "started" && sort !== "friction" && (
            <p class="sort-note muted" data-testid="sort-note">
              Sorted by {sort === "activity" ? "clicks per minute" : sort} within the {rows.length}{" "}
              {rows.length === 1 ? "session" : "sessions"} of this page: the list is read newest first.{" "}
              <a
                href={sortHref(query, "started")}
                onClick={(event) => (event.preventDefault(), onSort("started"))}
              >
                Newest first
              </a>
            </p>
          )}
          <div class="table-wrap">
            <table class="sessions" data-testid="sessions" data-sort={sort}>
              <SessionTableHead sort={sort} hrefFor={(key) => sortHref(query, key)} onSort={onSort} />
              <tbody>{shown.map((row) => <SessionRow key={row.id} row={row} now={now} />)}</tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

/** What a refresh changes in the rows it lists: live status, running counts, duration. */
export function liveUpdates(sessions: Row[]): Map<string, Partial<Row>> {
  const updates = new Map<string, Partial<Row>>();
  for (const s of sessions) {
    if (typeof s?.id !== "string") continue;
    updates.set(s.id, { live: s.live, disconnected: s.disconnected, running: s.running, durationMs: s.durationMs });
  }
  return updates;
}
