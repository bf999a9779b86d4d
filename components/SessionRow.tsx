/**
 * One row of the session list and the table's header, shared by the
 * server-rendered page and the list island (islands/LiveSessions.tsx), so it
 * must stay client-safe. Without `now` (the server's render, and the island's
 * first one) times are absolute; with it (the island, refreshed each 30 s)
 * they are relative, the absolute time always in the title.
 *
 * @module
 */

import type { FrictionCounts, FrictionKind, SessionRow as Row } from "@replaya/recorder/wire";
import { formatDuration, formatRate, formatTime, relativeTime, shortUrl } from "./format.ts";

/**
 * What the list can be sorted by, within the page of rows shown; `started` (newest first) is the scan's order.
 * `friction` is ranked by the server (list.ts) over every session it scans, so its heading is a plain link.
 */
export type SortKey = "started" | "duration" | "activity" | "errors" | "friction";

/** The sort keys, for parsing a query. */
export const SORT_KEYS: readonly SortKey[] = ["started", "duration", "activity", "errors", "friction"];

/** Sort keys the server orders by (a page load), rather than the rows shown. */
export const SERVER_SORTS: readonly SortKey[] = ["friction"];

/** Friction signal kinds as the list names them. */
const FRICTION_NAMES: Record<FrictionKind, string> = {
  rage: "rage click",
  dead: "dead click",
  error_click: "error click",
  thrash: "thrashing",
  abandoned_form: "abandoned form",
};

/** A row's friction signals: final once ended, running while live (abandoned forms are counted at the end). */
export function frictionCountsOf(row: Row): FrictionCounts {
  return row.end?.friction ?? row.running?.friction ?? {};
}

/** All of a row's friction signals. */
export function frictionTotalOf(row: Row): number {
  return Object.values(frictionCountsOf(row)).reduce((sum, n) => sum + (n ?? 0), 0);
}

/** "2 rage clicks, 1 dead click", or undefined when none. */
export function frictionTitle(counts: FrictionCounts): string | undefined {
  const parts = (Object.keys(FRICTION_NAMES) as FrictionKind[]).filter((k) => counts[k]).map((k) =>
    `${counts[k]} ${FRICTION_NAMES[k]}${counts[k] === 1 ? "" : "s"}`
  );
  return parts.length ? parts.join(", ") : undefined;
}

/** A column of the table: its heading, its sort key when sortable, and its cells' class. */
export interface Column {
  label: string;
  sort?: SortKey;
  className?: string;
  title?: string;
}

/** The table's columns (widths in static/app.css, so 1280 px fit without scrolling). */
export const COLUMNS: readonly Column[] = [
  { label: "Status", className: "c-status" },
  { label: "Started", sort: "started", className: "c-started", title: "Newest first" },
  { label: "Duration", sort: "duration", className: "c-duration", title: "Longest first" },
  { label: "Activity", sort: "activity", className: "c-activity", title: "Clicks per minute, busiest first" },
  { label: "User", className: "c-user" },
  { label: "Source", className: "c-source" },
  { label: "Entry URL", className: "c-url" },
  { label: "Pages", className: "c-num" },
  { label: "Events", className: "c-num" },
  { label: "Errors", sort: "errors", className: "c-num", title: "Most errors first" },
  { label: "Friction", sort: "friction", className: "c-num", title: "Most friction signals first (all sessions)" },
  { label: "Client", className: "c-client", title: "Browser · OS · device" },
];

/** A row's counts: final once ended, running while live (`partial`: a lower bound); undefined when unknown. */
export function countsOf(
  row: Row,
): { pages: number; events: number; errors: number; clicks: number; partial?: boolean } | undefined {
  if (row.end) return row.end;
  return row.running;
}

/** The row's duration: to the last event once ended, to `now` while live (when given). */
export function durationOf(row: Row, now?: number): number | undefined {
  if (row.live && now !== undefined) return Math.max(0, now - row.createdAt);
  return row.durationMs;
}

/** Clicks per minute over the session so far (at least a minute, so a short session does not spike). */
export function activityOf(row: Row, now?: number): number | undefined {
  const counts = countsOf(row);
  const duration = durationOf(row, now);
  if (!counts || duration === undefined) return undefined;
  return counts.clicks / (Math.max(duration, 60_000) / 60_000);
}

/** The rows in the order of `sort`: ties (and `started`) keep the scan's newest-first order. */
export function sortRows(rows: readonly Row[], sort: SortKey, now?: number): Row[] {
  const key = (row: Row): number => {
    if (sort === "duration") return durationOf(row, now) ?? -1;
    if (sort === "activity") return activityOf(row, now) ?? -1;
    if (sort === "errors") return countsOf(row)?.errors ?? -1;
    if (sort === "friction") return frictionTotalOf(row);
    return 0;
  };
  if (sort === "started") return [...rows];
  return rows.map((row, i) => ({ row, i, k: key(row) })).sort((a, b) => b.k - a.k || a.i - b.i).map((x) => x.row);
}

/** The table head; sortable headings are links (`hrefFor`), which the island turns into instant sorts. */
export function SessionTableHead(
  { sort, hrefFor, onSort }: { sort?: SortKey; hrefFor?: (key: SortKey) => string; onSort?: (key: SortKey) => void },
) {
  return (
    <thead>
      <tr>
        {COLUMNS.map((col) => (
          <th
            key={col.label}
            class={col.className}
            aria-sort={col.sort && col.sort === sort ? "descending" : undefined}
          >
            {col.sort && hrefFor
              ? (
                <a
                  href={hrefFor(col.sort)}
                  class={`sort${col.sort === sort ? " active" : ""}`}
                  title={col.title}
                  data-sort={col.sort}
                  onClick={onSort && !SERVER_SORTS.includes(col.sort)
                    ? (event) => {
                      event.preventDefault();
                      onSort(col.sort!);
                    }
                    : undefined}
                >
                  {col.label}
                  {col.sort === sort ? " ↓" : ""}
                </a>
              )
              : <span title={col.title}>{col.label}</span>}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A `<tr>` for one session; `now` switches times to relative labels and runs live durations on. */
export function SessionRow({ row, now }: { row: Row; now?: number }) {
  const counts = countsOf(row);
  const count = (n: number | undefined) =>
    counts === undefined ? "—" : counts.partial ? `≥${(n ?? 0).toLocaleString("en")}` : (n ?? 0).toLocaleString("en");
  const countTitle = counts?.partial
    ? "Still counting this live session's records: at least this many"
    : row.live && counts
    ? "So far (live)"
    : undefined;
  const duration = durationOf(row, now);
  const activity = activityOf(row, now);
  const client = [row.browser, row.os, row.device].filter(Boolean).join(" · ");
  const errors = counts?.errors ?? 0;
  return (
    <tr data-testid="session-row" data-session={row.id} data-status={row.live ? "live" : "ended"}>
      <td class="c-status">
        <StatusBadge
          live={row.live}
          disconnected={row.disconnected}
          dropped={row.end?.dropped ?? row.running?.dropped}
        />
      </td>
      <td class="c-started">
        <a href={`/sessions/${row.id}`}>
          <TimeLabel ms={row.createdAt} now={now} />
        </a>
      </td>
      <td class="c-duration" title={endTitle(row)} data-testid="duration">
        {duration === undefined ? "—" : formatDuration(duration)}
      </td>
      <td class="c-activity" data-testid="activity" title={counts ? `${counts.clicks} clicks` : undefined}>
        {activity === undefined ? "—" : (
          <>
            <span class="activity-bar" aria-hidden="true">
              <span style={{ width: `${Math.min(100, Math.round(activity * 10))}%` }} />
            </span>
            {formatRate(activity)}
          </>
        )}
      </td>
      <td class="c-user" title={row.userId}>{row.userId ?? <span class="muted">anonymous</span>}</td>
      <td class="c-source" title={row.source}>{row.source ?? "—"}</td>
      <td class="url c-url" title={row.url}>{shortUrl(row.url)}</td>
      <td class="num" data-count="pages" title={countTitle}>{count(counts?.pages)}</td>
      <td class="num" data-count="events" title={countTitle}>{count(counts?.events)}</td>
      <td data-count="errors" title={countTitle} class={`num${errors > 0 ? " has-errors" : ""}`}>
        {count(counts?.errors)}
      </td>
      <td
        data-count="friction"
        title={frictionTitle(frictionCountsOf(row)) ?? countTitle}
        class={`num${frictionTotalOf(row) > 0 ? " has-friction" : ""}`}
      >
        {counts === undefined ? "—" : frictionTotalOf(row).toLocaleString("en")}
      </td>
      <td class="c-client" title={client || undefined}>{client || "—"}</td>
    </tr>
  );
}

/** The duration cell's title: when the session ended (and why), or that it is still live. */
function endTitle(row: Row): string {
  if (row.end) {
    const why = row.end.reason === "lease_expired" ? " (the recorder went quiet)" : "";
    return `Ended ${formatTime(row.end.endedAt)}${why}; last event ${formatTime(row.end.lastEventAt)}`;
  }
  if (row.live) {
    const last = row.running?.lastEventAt;
    return last && last > row.createdAt ? `Live; last event ${formatTime(last)}` : "Live";
  }
  return "Ended";
}

/**
 * A time: absolute on the server (a relative label rendered there would go
 * stale in the page), relative once the island knows `now`; the absolute time
 * is always the title.
 */
export function TimeLabel({ ms, now }: { ms: number; now?: number }) {
  const absolute = formatTime(ms);
  return (
    <time dateTime={new Date(ms).toISOString()} title={absolute} data-testid="time" data-relative={now !== undefined}>
      {now === undefined ? absolute : relativeTime(ms, now)}
    </time>
  );
}

/** Live, disconnected (live but quiet) or ended; "incomplete" when the recorder had to drop events. */
export function StatusBadge(
  { live, disconnected, dropped }: { live: boolean; disconnected?: boolean; dropped?: number },
) {
  return (
    <>
      {live
        ? disconnected
          ? <span class="badge quiet" data-testid="status" title="Nothing has arrived for a while">Disconnected</span>
          : <span class="badge live" data-testid="status">Live</span>
        : <span class="badge ended" data-testid="status">Ended</span>}
      {dropped
        ? (
          <span class="badge incomplete" data-testid="incomplete" title={`${dropped} events were lost`}>
            Incomplete
          </span>
        )
        : null}
    </>
  );
}
