/**
 * The friction report as Markdown: a pure function of the report, so the
 * same report always reads the same. Times are offsets from the session's
 * start (`m:ss`), the start itself in UTC. Everything that came from the
 * recorded page (URLs, element text, error messages) is escaped, so a page
 * cannot put links, HTML or table breaks into it.
 *
 * @module
 */

import type { FrictionKind, FrictionReport } from "@replaya/recorder/wire";

/** How each signal kind reads in the report. */
export const FRICTION_LABELS: Record<FrictionKind, string> = {
  rage: "Rage click",
  dead: "Dead click",
  error_click: "Error click",
  thrash: "Thrashing",
  abandoned_form: "Abandoned form",
};

/** Renders `report` as Markdown. */
export function renderReportMarkdown(report: FrictionReport): string {
  const at = (ms: number) => offset(ms - report.startedAt);
  const lines: string[] = [`# Friction report: session ${report.id}`, ""];
  const status = report.live ? "live" : `ended${report.ended.reason ? ` (${report.ended.reason})` : ""}`;
  lines.push(
    `- Started: ${new Date(report.startedAt).toISOString()}`,
    `- Duration: ${offset(report.endedAt - report.startedAt)} (${status})`,
    `- Signals: ${summary(report)}`,
  );
  if (report.truncated) {
    lines.push(
      `- Truncated: the report stopped at the ${report.truncated.reason} limit (${report.truncated.limit}); it covers the session up to ${
        at(report.endedAt)
      }`,
    );
  }
  lines.push("", "## Pages", "");
  if (!report.pages.length) lines.push("None recorded.");
  else {
    lines.push("| At | Time on page | URL |", "| --- | --- | --- |");
    for (const page of report.pages) lines.push(`| ${at(page.at)} | ${offset(page.durationMs)} | ${esc(page.url)} |`);
  }
  lines.push("", "## Signals", "");
  if (!report.signals.length) lines.push("None.");
  else {
    lines.push("| At | Signal | Element | Page |", "| --- | --- | --- | --- |");
    for (const s of report.signals) {
      const count = !s.count
        ? ""
        : s.kind === "abandoned_form"
        ? ` (${s.count} field${s.count === 1 ? "" : "s"})`
        : ` ×${s.count}`;
      const what = FRICTION_LABELS[s.kind] + (s.detail ? ` (${esc(s.detail)})` : "") + count;
      const element = s.element ? esc(s.element) : s.nodeId !== undefined ? `node ${s.nodeId}` : "";
      const node = s.element && s.nodeId !== undefined ? ` (node ${s.nodeId})` : "";
      lines.push(`| ${at(s.at)} | ${what} | ${element}${node} | ${s.page ? esc(s.page) : ""} |`);
    }
  }
  lines.push("", "## Errors", "");
  if (!report.errors.length) lines.push("None.");
  else {
    for (const error of report.errors) {
      lines.push(`- ${at(error.at)} ${esc(error.message)}${error.page ? ` (on ${esc(error.page)})` : ""}`);
    }
  }
  lines.push("", "## Where it ended", "");
  lines.push(`- Last page: ${report.ended.page ? esc(report.ended.page) : "unknown"}`);
  if (report.ended.lastAction) {
    const when = report.ended.lastActionAt !== undefined ? `${at(report.ended.lastActionAt)} ` : "";
    lines.push(`- Last action: ${when}${esc(report.ended.lastAction)}`);
  }
  lines.push(`- Status: ${status}`, "");
  return lines.join("\n");
}

function summary(report: FrictionReport): string {
  const parts = (Object.keys(FRICTION_LABELS) as FrictionKind[])
    .filter((kind) => report.counts[kind])
    .map((kind) => `${report.counts[kind]} ${FRICTION_LABELS[kind].toLowerCase()}`);
  return parts.length ? parts.join(", ") : "none";
}

/** `m:ss` (or `h:mm:ss`) of a duration in ms. */
function offset(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Page-supplied text as inert Markdown: one line, Markdown and HTML characters escaped. */
function esc(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ").replace(/[\\`*_{}[\]()<>#+!|~&-]/g, (c) => `\\${c}`);
}
