/**
 * Timeline markers (clicks, page changes, errors, recorder gaps) derived from
 * the feed, positioned as offsets from the session start.
 * @module
 */
import type { FeedItem } from "./feed.ts";
import { plural } from "./format.ts";

/** Kinds of marker drawn on the timeline, each with its own colour. */
export type MarkerKind = "click" | "page" | "error" | "gap";

/** One mark on the timeline. */
export interface TimelineMarker {
  /** Stable render key. */
  key: string;
  kind: MarkerKind;
  /** Offset from the session start, ms. */
  at: number;
  /** For gaps: where the band ends (offset, ms). */
  end?: number;
  /** Tooltip text. */
  label: string;
}

/** Legend entries, in display order. */
export const MARKER_LEGEND: ReadonlyArray<{ kind: MarkerKind; label: string }> = [
  { kind: "click", label: "Click" },
  { kind: "page", label: "Page change" },
  { kind: "error", label: "Error" },
  { kind: "gap", label: "Dropped events" },
];

const MARKED = new Set<string>(["click", "page", "error", "gap"]);
const NOUN: Record<Exclude<MarkerKind, "gap">, [string, string]> = {
  click: ["click", "clicks"],
  page: ["page change", "page changes"],
  error: ["error", "errors"],
};

/**
 * Markers for the feed items of the marked kinds. Points of one kind closer
 * than `minSpacing` of the total are merged into the first ("3 clicks") so a
 * busy session stays readable; gap bands are never merged.
 */
export function timelineMarkers(
  items: readonly FeedItem[],
  origin: number,
  total: number,
  minSpacing = 0.004,
): TimelineMarker[] {
  const markers: TimelineMarker[] = [];
  const lastOfKind = new Map<MarkerKind, { marker: TimelineMarker; count: number; text: string }>();
  const spacing = Math.max(0, total) * minSpacing;
  for (const item of items) {
    if (!MARKED.has(item.kind)) continue;
    const kind = item.kind as MarkerKind;
    const at = clamp(item.ts - origin, 0, total);
    if (kind === "gap") {
      const end = clamp((item.endTs ?? item.ts) - origin, at, total);
      markers.push({ key: item.key, kind, at, end, label: item.text });
      continue;
    }
    const previous = lastOfKind.get(kind);
    if (previous && at - previous.marker.at < spacing) {
      previous.count++;
      previous.marker.label = `${plural(previous.count, ...NOUN[kind])} (first: ${previous.text})`;
      continue;
    }
    const marker: TimelineMarker = { key: item.key, kind, at, label: item.text };
    markers.push(marker);
    lastOfKind.set(kind, { marker, count: 1, text: item.text });
  }
  return markers;
}

/** Position of an offset on the timeline, in percent (0–100). */
export function percentOf(offset: number, total: number): number {
  if (!(total > 0)) return 0;
  return clamp((offset / total) * 100, 0, 100);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), Math.max(min, max));
}
