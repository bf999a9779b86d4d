/**
 * One row of the session list, shared by the server-rendered table and the
 * live "new sessions" island (so it must stay client-safe).
 *
 * @module
 */

import type { SessionRow as Row } from "@replaya/recorder/wire";
import { formatDuration, formatTime, shortUrl } from "./format.ts";

/** The table's column headings. */
export const COLUMNS = [
  "Status",
  "Started",
  "Duration",
  "User",
  "Source",
  "Entry URL",
  "Pages",
  "Events",
  "Errors",
  "Browser",
  "OS",
  "Device",
];

/** A `<tr>` for one session. */
export function SessionRow({ row }: { row: Row }) {
  const count = (n: number | undefined) => (row.end ? String(n ?? 0) : "—");
  return (
    <tr data-testid="session-row" data-session={row.id} data-status={row.live ? "live" : "ended"}>
      <td>
        <StatusBadge live={row.live} disconnected={row.disconnected} dropped={row.end?.dropped} />
      </td>
      <td>
        <a href={`/sessions/${row.id}`}>{formatTime(row.createdAt)}</a>
      </td>
      <td>{row.durationMs === undefined ? "—" : formatDuration(row.durationMs)}</td>
      <td>{row.userId ?? <span class="muted">anonymous</span>}</td>
      <td>{row.source ?? "—"}</td>
      <td class="url" title={row.url}>{shortUrl(row.url)}</td>
      <td class="num">{count(row.end?.pages)}</td>
      <td class="num">{count(row.end?.events)}</td>
      <td class={`num${(row.end?.errors ?? 0) > 0 ? " has-errors" : ""}`}>{count(row.end?.errors)}</td>
      <td>{row.browser ?? "—"}</td>
      <td>{row.os ?? "—"}</td>
      <td>{row.device ?? "—"}</td>
    </tr>
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
