/**
 * Timeline markers derived from the feed (clicks, inputs, page changes,
 * errors, console errors and warnings, failed requests, recorder gaps,
 * friction signals),
 * positioned as offsets from the session start, and the geometry the
 * timeline needs: which markers are under the pointer, which offset a
 * pointer position means.
 * @module
 */
import type { FeedItem } from "./feed.ts";
import { plural } from "./format.ts";

/** Kinds of marker drawn on the timeline, each with its own colour. */
export type MarkerKind = "click" | "input" | "page" | "error" | "console" | "network" | "gap" | "friction";

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
  /** Console markers: `error` or `warn`. */
  level?: string;
}

/** Legend entries, in display order. */
export const MARKER_LEGEND: ReadonlyArray<{ kind: MarkerKind | "inactive"; label: string }> = [
  { kind: "click", label: "Click" },
  { kind: "input", label: "Input" },
  { kind: "page", label: "Page" },
  { kind: "error", label: "Error" },
  { kind: "console", label: "Console" },
  { kind: "network", label: "Failed request" },
  { kind: "friction", label: "Friction" },
  { kind: "gap", label: "Dropped" },
  { kind: "inactive", label: "Inactive" },
];

const NOUN: Record<Exclude<MarkerKind, "gap">, [string, string]> = {
  click: ["click", "clicks"],
  input: ["input", "inputs"],
  page: ["page change", "page changes"],
  error: ["error", "errors"],
  console: ["console message", "console messages"],
  network: ["failed request", "failed requests"],
  friction: ["friction signal", "friction signals"],
};

/**
 * The marker kind of a feed item, or undefined for rows the timeline does
 * not mark: console messages below warnings, successful requests, custom
 * events, identify.
 */
export function markerKindOf(item: FeedItem): MarkerKind | undefined {
  switch (item.kind) {
    case "click":
    case "input":
    case "page":
    case "error":
    case "gap":
    case "friction":
      return item.kind;
    case "console":
      return item.level === "error" || item.level === "warn" ? "console" : undefined;
    case "network":
      return item.level === "error" ? "network" : undefined;
    default:
      return undefined;
  }
}

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
  const lastOfKind = new Map<string, { marker: TimelineMarker; count: number; text: string }>();
  const spacing = Math.max(0, total) * minSpacing;
  for (const item of items) {
    const kind = markerKindOf(item);
    if (!kind) continue;
    const at = clamp(item.ts - origin, 0, total);
    if (kind === "gap") {
      const end = clamp((item.endTs ?? item.ts) - origin, at, total);
      markers.push({ key: item.key, kind, at, end, label: item.text });
      continue;
    }
    const level = kind === "console" ? item.level : undefined;
    const count = item.count ?? 1;
    const group = `${kind}:${level ?? ""}`;
    const previous = lastOfKind.get(group);
    if (previous && at - previous.marker.at < spacing) {
      previous.count += count;
      previous.marker.label = `${plural(previous.count, ...NOUN[kind])} (first: ${previous.text})`;
      continue;
    }
    const label = count > 1 ? `${item.text} (×${count})` : item.text;
    const marker: TimelineMarker = { key: item.key, kind, at, label, ...(level ? { level } : {}) };
    markers.push(marker);
    lastOfKind.set(group, { marker, count, text: item.text });
  }
  return markers;
}

/**
 * The markers within `tolerance` (ms) of `offset`, nearest first; a gap band
 * counts when the offset is inside it. What the timeline's hover tip lists.
 */
export function markersNear(
  markers: readonly TimelineMarker[],
  offset: number,
  tolerance: number,
  limit = 4,
): TimelineMarker[] {
  const distance = (marker: TimelineMarker) => {
    if (marker.end !== undefined && offset >= marker.at && offset <= marker.end) return 0;
    return Math.min(Math.abs(offset - marker.at), Math.abs(offset - (marker.end ?? marker.at)));
  };
  return markers
    .map((marker) => ({ marker, d: distance(marker) }))
    .filter(({ d }) => d <= tolerance)
    .sort((a, b) => a.d - b.d || a.marker.at - b.marker.at)
    .slice(0, limit)
    .map(({ marker }) => marker);
}

/**
 * The offset a pointer at `x` (px from the track's left edge) means on a
 * track `width` px wide. Within `snap` px of either edge it is exactly the
 * start or the end, so a click at the right edge lands on the last event.
 */
export function offsetAtPosition(x: number, width: number, total: number, snap = 4): number {
  if (!(width > 0) || !(total > 0)) return 0;
  if (x <= snap) return 0;
  if (x >= width - snap) return total;
  return clamp(x / width, 0, 1) * total;
}

/** Position of an offset on the timeline, in percent (0–100). */
export function percentOf(offset: number, total: number): number {
  if (!(total > 0)) return 0;
  return clamp((offset / total) * 100, 0, 100);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), Math.max(min, max));
}
