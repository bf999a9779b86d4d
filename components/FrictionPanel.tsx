/**
 * The session page's friction report panel, server-rendered from the
 * report (lib/sessions/report.ts): the signals with their time and element,
 * pages and time on each, errors, where the session ended, and links to the
 * same report as Markdown and JSON. Times are offsets from the session's
 * start, as in the player.
 *
 * @module
 */

import type { FrictionKind, FrictionReport } from "@replaya/recorder/wire";
import { formatDuration } from "./format.ts";

const LABEL: Record<FrictionKind, string> = {
  rage: "Rage click",
  dead: "Dead click",
  error_click: "Error click",
  thrash: "Thrashing",
  abandoned_form: "Abandoned form",
};

/** `m:ss` from the session's start. */
function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * The panel: `loading` while the player asks for the report, `report` undefined when it could not be built
 * (the store failed), which it says.
 */
export function FrictionPanel({ id, report, loading }: { id: string; report?: FrictionReport; loading?: boolean }) {
  const links = (
    <span class="report-links">
      <a href={`/api/sessions/${id}/report.md`}>Markdown</a> · <a href={`/api/sessions/${id}/report`}>JSON</a>
    </span>
  );
  if (!report && loading) {
    return (
      <section class="friction-report" data-testid="friction-report" data-state="loading">
        <h2>Friction report</h2>
        <p class="muted">Building the report… {links}</p>
      </section>
    );
  }
  if (!report) {
    return (
      <section class="friction-report" data-testid="friction-report" data-state="failed">
        <h2>Friction report</h2>
        <p class="muted">The report could not be built just now; reload to try again. {links}</p>
      </section>
    );
  }
  const at = (ms: number) => clock(ms - report.startedAt);
  return (
    <section class="friction-report" data-testid="friction-report" data-signals={report.signals.length}>
      <h2>
        Friction report {links}
      </h2>
      {report.live && <p class="muted">Live: as of when it was built; abandoned forms are decided at the end.</p>}
      {report.truncated && (
        <p class="notice" data-testid="report-truncated">
          The report stopped at its {report.truncated.reason}{" "}
          limit ({report.truncated.limit}); it covers the session up to {at(report.endedAt)}.
        </p>
      )}
      <h3>Signals</h3>
      {report.signals.length === 0 ? <p class="muted">None found.</p> : (
        <table class="report-table">
          <thead>
            <tr>
              <th>At</th>
              <th>Signal</th>
              <th>Element</th>
              <th>Page</th>
            </tr>
          </thead>
          <tbody>
            {report.signals.map((s, i) => (
              <tr key={i} data-testid="report-signal" data-kind={s.kind}>
                <td>{at(s.at)}</td>
                <td>
                  {LABEL[s.kind]}
                  {s.detail ? ` (${s.detail})` : ""}
                  {!s.count
                    ? ""
                    : s.kind === "abandoned_form"
                    ? ` (${s.count} field${s.count === 1 ? "" : "s"})`
                    : ` ×${s.count}`}
                </td>
                <td>{s.element ?? (s.nodeId !== undefined ? `node #${s.nodeId}` : "—")}</td>
                <td class="url">{s.page ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Pages</h3>
      {report.pages.length === 0 ? <p class="muted">None recorded.</p> : (
        <ol class="report-pages">
          {report.pages.map((p, i) => (
            <li key={i}>
              {at(p.at)} <span class="url">{p.url}</span> <span class="muted">({formatDuration(p.durationMs)})</span>
            </li>
          ))}
        </ol>
      )}
      {report.errors.length > 0 && (
        <>
          <h3>Errors</h3>
          <ul class="report-errors">
            {report.errors.map((e, i) => <li key={i}>{at(e.at)} {e.message}</li>)}
          </ul>
        </>
      )}
      <h3>Where it ended</h3>
      <p data-testid="report-ended">
        {report.ended.page ? <span class="url">{report.ended.page}</span> : "Unknown page"}
        {report.ended.lastAction
          ? `; last: ${report.ended.lastAction}${
            report.ended.lastActionAt !== undefined ? ` at ${at(report.ended.lastActionAt)}` : ""
          }`
          : ""}
        {report.live ? " (still live)" : report.ended.reason === "lease_expired" ? " (the recorder went quiet)" : ""}
      </p>
    </section>
  );
}
