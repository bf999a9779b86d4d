/**
 * Plain-text tables for people (the CLI's default output).
 *
 * @module
 */

import type { FrictionCounts, SessionRow } from "../recorder/src/wire.ts";
import type { SessionDetails } from "../client/api.ts";

/** The list as an aligned table. */
export function formatList(rows: SessionRow[]): string {
  const header = ["ID", "STARTED (UTC)", "DURATION", "STATUS", "CLICKS", "ERRORS", "FRICTION", "USER", "URL"];
  const lines = rows.map((row) => {
    const counts = row.end ?? row.running;
    return [
      row.id,
      new Date(row.createdAt).toISOString().slice(0, 16).replace("T", " "),
      duration(row.durationMs),
      row.live ? (row.disconnected ? "disconnected" : "live") : "ended",
      String(counts?.clicks ?? 0),
      String(counts?.errors ?? 0),
      friction(counts?.friction),
      row.userId ?? "",
      shorten(row.url, 60),
    ];
  });
  return table([header, ...lines]);
}

/** One session's details as `key  value` lines. */
export function formatDetails(details: SessionDetails): string {
  const { meta, end } = details;
  const pairs: Array<[string, string | undefined]> = [
    ["id", meta.id],
    ["status", details.live ? (details.disconnected ? "live (disconnected)" : "live") : "ended"],
    ["started", new Date(meta.createdAt).toISOString()],
    ["url", meta.url],
    ["user", meta.userId],
    ["source", meta.source],
    ["project", meta.project],
    ["user agent", meta.userAgent],
    ["viewport", meta.viewport && `${meta.viewport.width}×${meta.viewport.height}`],
  ];
  if (end) {
    pairs.push(
      ["ended", new Date(end.endedAt).toISOString()],
      ["reason", end.reason],
      ["duration", duration(end.lastEventAt - meta.createdAt)],
      ["events", String(end.events)],
      ["clicks", String(end.clicks)],
      ["pages", String(end.pages)],
      ["errors", String(end.errors)],
      ["friction", friction(end.friction) || "none"],
    );
  }
  return table(pairs.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== ""));
}

function friction(counts: FrictionCounts | undefined): string {
  return Object.entries(counts ?? {}).filter(([, n]) => n).map(([kind, n]) => `${kind}:${n}`).join(" ");
}

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  const s = Math.round(ms / 1000);
  return s < 60
    ? `${s}s`
    : s < 3600
    ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")).join(
    "\n",
  );
}
