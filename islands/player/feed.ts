/**
 * Derives the activity feed (clicks, pages, inputs, errors, console, network,
 * custom events, identify, gaps) from rrweb events, incrementally, in stream
 * order.
 * @module
 */
import {
  EventType,
  type FrictionKind,
  type FrictionReport,
  IncrementalSource,
  MouseInteraction,
  type RrwebEvent,
} from "@replaya/recorder/wire";
import { isRecord } from "./guards.ts";
import { NodeIndex } from "./nodes.ts";
import { formatBytes, formatRequestTime, plural, shorten } from "./format.ts";

/** What a feed item stands for; also its `data-kind` in the page. */
export type FeedKind =
  | "click"
  | "page"
  | "input"
  | "error"
  | "console"
  | "network"
  | "track"
  | "identify"
  | "gap"
  | "friction";

/** One row of the activity feed. */
export interface FeedItem {
  /** Unique and stable across updates (used as the render key). */
  key: string;
  kind: FeedKind;
  /** Capture time of the event, ms since the epoch. */
  ts: number;
  /** Main line. */
  text: string;
  /** Secondary line: URL, status and duration, stack frame… */
  detail?: string;
  /** Console level (`log`, `warn`, …), or `error` for errors and failed requests. */
  level?: string;
  /** HTTP status of a network request (0 when it failed). */
  status?: number;
  /** End of a gap: capture time of the first event after it. */
  endTs?: number;
  /** Events dropped in a gap. */
  droppedEvents?: number;
  /** Target node of a click or input. */
  nodeId?: number;
  /** Repeats collapsed into this row (see {@link isRepeat}); absent or 1 for a single event. */
  count?: number;
  /** Capture time of the last repeat collapsed into this row. */
  lastTs?: number;
  /** Inputs: how many different fields the collapsed changes touched. */
  fields?: number;
  /** Network requests: what the recorder captured. */
  request?: NetworkDetails;
  /** Friction rows: the signal's kind. */
  friction?: FrictionKind;
}

/** A friction signal as the session page hands it to the player (from the server's report, report.ts). */
export type FrictionSignalProp = FrictionReport["signals"][number];

/** How each signal reads in the feed and on the timeline. */
export const FRICTION_LABEL: Record<FrictionKind, string> = {
  rage: "Rage click",
  dead: "Dead click",
  error_click: "Error click",
  thrash: "Thrashing",
  abandoned_form: "Abandoned form",
};

/**
 * Feed rows for the friction signals the server found: "Rage click on
 * button#buy “Buy now”", the count and page below. Sorted by time; keys
 * apart from the event rows'.
 */
export function frictionFeedItems(signals: readonly FrictionSignalProp[]): FeedItem[] {
  return signals
    .filter((s) => Number.isFinite(s.at) && s.kind in FRICTION_LABEL)
    .map((s, i): FeedItem => {
      const label = FRICTION_LABEL[s.kind] + (s.kind === "thrash" && s.detail ? ` (${s.detail})` : "");
      const on = s.element
        ? ` on ${shorten(s.element, MAX_TEXT)}`
        : s.nodeId !== undefined
        ? ` on node #${s.nodeId}`
        : "";
      const what = s.kind === "abandoned_form"
        ? plural(s.count ?? 1, "field")
        : s.kind === "rage"
        ? plural(s.count ?? 3, "click")
        : s.kind === "thrash"
        ? plural(s.count ?? 1, s.detail === "focus" ? "focus change" : "reversal")
        : undefined;
      const detail = [what, s.page ? shorten(s.page, MAX_TEXT) : undefined].filter(Boolean).join(" · ");
      return {
        key: `x${i}`,
        kind: "friction",
        ts: s.at,
        text: `${label}${on}`,
        ...(detail ? { detail } : {}),
        friction: s.kind,
        ...(s.nodeId !== undefined ? { nodeId: s.nodeId } : {}),
      };
    })
    .sort((a, b) => a.ts - b.ts);
}

/**
 * The feed with `extra` rows (sorted by time) merged in by time; at the same
 * time the event's own row comes first (a rage click's clicks, then the
 * signal). The same array when there is nothing to merge.
 */
export function mergeFeed(items: readonly FeedItem[], extra: readonly FeedItem[]): readonly FeedItem[] {
  if (!extra.length) return items;
  const out: FeedItem[] = [];
  let j = 0;
  for (const item of items) {
    while (j < extra.length && extra[j].ts < item.ts) out.push(extra[j++]);
    out.push(item);
  }
  while (j < extra.length) out.push(extra[j++]);
  return out;
}

/** A network request as the recorder captured it (no headers, no bodies). */
export interface NetworkDetails {
  method: string;
  url: string;
  /** HTTP status; 0 when the request failed. */
  status: number;
  failed: boolean;
  durationMs?: number;
  /** Response size in bytes, when the recorder captured it. */
  size?: number;
  /** `fetch` or `xhr`. */
  type?: string;
}

/** Tabs of the feed panel. */
export type FeedTab = "activity" | "console" | "network";

/** What an input shows instead of its value: the recorder masks values, and so does the feed. */
export const MASKED_VALUE = "••••";

const MAX_TEXT = 300;

/** Identical rows of one kind this close together collapse into one row with a count (a rage click, a log loop). */
export const REPEAT_WINDOW_MS = 2_000;
/**
 * Inputs into different fields this close together come from one action: a
 * toggle the page mirrors into other fields, a "select all". One row. The
 * recorder stamps the trigger's own input 13–52 ms before the ones its handler
 * sets (measured in Chromium on a 2-core machine, more under load), and no
 * person moves to another field and types in 150 ms.
 */
export const INPUT_BURST_MS = 150;

/**
 * Whether `next` (the event after `previous` in the feed) collapses into
 * `previous`'s row: keystrokes into one field; inputs of one burst
 * ({@link INPUT_BURST_MS}) or with the same description; identical clicks,
 * console messages, errors and custom events within {@link REPEAT_WINDOW_MS}.
 * Pages, requests, identify and gaps are never collapsed.
 */
export function isRepeat(previous: FeedItem, next: Omit<FeedItem, "key">): boolean {
  if (previous.kind !== next.kind) return false;
  const since = next.ts - (previous.lastTs ?? previous.ts);
  if (since < 0) return false;
  switch (next.kind) {
    case "input":
      if (next.nodeId !== undefined && next.nodeId === previous.nodeId) return true;
      return since <= INPUT_BURST_MS || (since <= REPEAT_WINDOW_MS && next.text === previous.text);
    case "click":
    case "console":
    case "error":
    case "track":
      return since <= REPEAT_WINDOW_MS && next.text === previous.text && next.detail === previous.detail &&
        next.level === previous.level;
    default:
      return false;
  }
}

/** Builds feed items from events pushed in stream order; `items` is a fresh array after each change. */
export class FeedBuilder {
  #items: FeedItem[] = [];
  #snapshot: readonly FeedItem[] = [];
  #changed = false;
  #nodes = new NodeIndex();
  #lastHref: string | undefined;
  #openGaps: FeedItem[] = [];
  #next = 0;
  // Input rows: the target described in the row, and the fields their changes touched.
  #inputs = new Map<string, { target: string; nodes: Set<number | undefined> }>();

  /** The items so far, sorted by time. The same array until the next change. */
  get items(): readonly FeedItem[] {
    if (this.#changed) {
      this.#snapshot = this.#items.slice();
      this.#changed = false;
    }
    return this.#snapshot;
  }

  /** Adds the items for these events. */
  push(events: readonly RrwebEvent[]): void {
    for (const event of events) this.#take(event);
  }

  #take(event: RrwebEvent): void {
    if (this.#openGaps.length && !isGap(event)) this.#closeGaps(event.timestamp);
    const data = isRecord(event.data) ? event.data : {};
    switch (event.type) {
      case EventType.FullSnapshot:
        this.#nodes.reset(data.node);
        break;
      case EventType.Meta:
        if (typeof data.href === "string" && data.href !== this.#lastHref) {
          this.#lastHref = data.href;
          this.#add({ kind: "page", ts: event.timestamp, text: shorten(data.href, MAX_TEXT) });
        }
        break;
      case EventType.IncrementalSnapshot:
        this.#incremental(event.timestamp, data);
        break;
      case EventType.Custom:
        this.#custom(event.timestamp, data);
        break;
    }
  }

  #incremental(ts: number, data: Record<string, unknown>): void {
    switch (data.source) {
      case IncrementalSource.Mutation:
        this.#nodes.applyMutation(data);
        break;
      case IncrementalSource.MouseInteraction: {
        if (data.type !== MouseInteraction.Click && data.type !== MouseInteraction.DblClick) break;
        const nodeId = typeof data.id === "number" ? data.id : undefined;
        const target = nodeId === undefined ? undefined : this.#nodes.describe(nodeId) ?? `node #${nodeId}`;
        const verb = data.type === MouseInteraction.DblClick ? "Double-click" : "Click";
        this.#add({ kind: "click", ts, text: target ? `${verb} on ${target}` : verb, nodeId });
        break;
      }
      case IncrementalSource.Input: {
        // Programmatic changes are not the visitor's input.
        if (data.userTriggered === false) break;
        const nodeId = typeof data.id === "number" ? data.id : undefined;
        const target = nodeId === undefined ? "a field" : this.#nodes.describe(nodeId) ?? `node #${nodeId}`;
        this.#add({ kind: "input", ts, text: `Input in ${target}`, detail: MASKED_VALUE, nodeId, count: 1 });
        break;
      }
    }
  }

  #custom(ts: number, data: Record<string, unknown>): void {
    const tag = typeof data.tag === "string" ? data.tag : "";
    const payload = isRecord(data.payload) ? data.payload : {};
    const str = (key: string) => typeof payload[key] === "string" ? payload[key] as string : "";
    const num = (key: string) =>
      typeof payload[key] === "number" && Number.isFinite(payload[key]) ? payload[key] as number : undefined;
    switch (tag) {
      case "replaya.page": // an in-page navigation (pushState, back…): a page row, like a page load's Meta
        if (str("href") && str("href") !== this.#lastHref) {
          this.#lastHref = str("href");
          this.#add({ kind: "page", ts, text: shorten(str("href"), MAX_TEXT) });
        }
        break;
      case "replaya.error": {
        const line = num("line");
        const where = str("source") ? `${str("source")}${line ? `:${line}` : ""}` : firstStackFrame(str("stack"));
        this.#add({
          kind: "error",
          ts,
          text: shorten(str("message") || "Error", MAX_TEXT),
          detail: where ? shorten(where, MAX_TEXT) : undefined,
          level: "error",
        });
        break;
      }
      case "replaya.console": {
        const level = str("level") || "log";
        this.#add({ kind: "console", ts, text: shorten(str("message"), MAX_TEXT), level });
        break;
      }
      case "replaya.network": {
        const status = num("status") ?? 0;
        const failed = status === 0 || payload.error === true;
        const duration = num("durationMs");
        const size = num("size");
        const method = (str("method") || "GET").toUpperCase();
        const parts = [failed ? "failed" : String(status)];
        if (duration !== undefined) parts.push(formatRequestTime(duration));
        if (size !== undefined) parts.push(formatBytes(size));
        this.#add({
          kind: "network",
          ts,
          text: shorten(`${method} ${str("url")}`, MAX_TEXT),
          detail: parts.join(" · "),
          status,
          level: failed || status >= 400 ? "error" : undefined,
          request: {
            method: shorten(method, 20),
            url: shorten(str("url"), 2_000),
            status,
            failed,
            durationMs: duration,
            size,
            type: str("type") || undefined,
          },
        });
        break;
      }
      case "replaya.identify":
        this.#add({ kind: "identify", ts, text: `Identified as ${shorten(str("userId") || "unknown", 80)}` });
        break;
      case "replaya.gap": {
        const dropped = num("droppedEvents") ?? 0;
        const bytes = num("droppedBytes");
        const from = num("from");
        const to = num("to");
        const span = from !== undefined && to !== undefined ? `, captured over ${formatGapSpan(to - from)}` : "";
        const item = this.#add({
          kind: "gap",
          ts,
          text: str("reason") === "session_ended"
            ? `${plural(dropped, "event")} lost: the previous session had ended before they could be delivered`
            : str("reason") === "unscanned"
            ? `${plural(dropped, "event")} not stored: the server could not scan them for personal data in time`
            : gapLabel(dropped),
          detail: bytes ? `${formatBytes(bytes)} lost${span}` : undefined,
          droppedEvents: dropped,
          endTs: ts,
        });
        this.#openGaps.push(item);
        break;
      }
      case "replaya.track":
        this.#add({ kind: "track", ts, text: shorten(str("name") || "Custom event", MAX_TEXT) });
        break;
      default:
        // Custom events from the host page's own rrweb calls: show their tag.
        if (tag) this.#add({ kind: "track", ts, text: shorten(tag, MAX_TEXT) });
    }
  }

  #closeGaps(ts: number): void {
    for (const gap of this.#openGaps) this.#replace(gap, { ...gap, endTs: Math.max(gap.ts, ts) });
    this.#openGaps = [];
  }

  #add(fields: Omit<FeedItem, "key">): FeedItem {
    const items = this.#items;
    const last = items[items.length - 1];
    if (last && isRepeat(last, fields)) return this.#collapse(last, fields);
    const item: FeedItem = { key: `f${this.#next++}`, ...fields };
    if (item.kind === "input") {
      this.#inputs.set(item.key, { target: item.text, nodes: new Set([item.nodeId]) });
      item.fields = 1;
    }
    // Batches arrive in order; a late event is placed by time all the same.
    if (!items.length || items[items.length - 1].ts <= item.ts) items.push(item);
    else items.splice(indexAtTime(items, item.ts) + 1, 0, item);
    this.#changed = true;
    return item;
  }

  #collapse(row: FeedItem, repeat: Omit<FeedItem, "key">): FeedItem {
    const merged: FeedItem = { ...row, count: (row.count ?? 1) + 1, lastTs: repeat.ts };
    const input = this.#inputs.get(row.key);
    if (input) {
      input.nodes.add(repeat.nodeId);
      merged.fields = input.nodes.size;
      merged.text = input.nodes.size > 1
        ? `${input.target} and ${plural(input.nodes.size - 1, "other field", "other fields")}`
        : input.target;
    }
    this.#replace(row, merged);
    return merged;
  }

  #replace(old: FeedItem, next: FeedItem): void {
    const at = this.#items.lastIndexOf(old);
    if (at < 0) return;
    this.#items[at] = next;
    const open = this.#openGaps.indexOf(old);
    if (open >= 0) this.#openGaps[open] = next;
    this.#changed = true;
  }
}

/** Feed items for a list of events (a convenience over {@link FeedBuilder}). */
export function deriveFeed(events: readonly RrwebEvent[]): readonly FeedItem[] {
  const builder = new FeedBuilder();
  builder.push(events);
  return builder.items;
}

function formatGapSpan(ms: number): string {
  return ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${Math.round(ms / 1000)} s`;
}

/** The label of a gap: "N events dropped by the recorder". */
export function gapLabel(droppedEvents: number): string {
  return `${plural(droppedEvents, "event")} dropped by the recorder`;
}

/** Index of the last item at or before `ts` (items sorted by time), or -1. */
export function indexAtTime(items: readonly FeedItem[], ts: number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].ts <= ts) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Tabs worth showing: Console and Network only when such items exist. */
export function availableTabs(items: readonly FeedItem[]): FeedTab[] {
  const tabs: FeedTab[] = ["activity"];
  if (items.some((item) => item.kind === "console")) tabs.push("console");
  if (items.some((item) => item.kind === "network")) tabs.push("network");
  return tabs;
}

/** Console levels, in the order the console pane's filters show them. */
export const CONSOLE_LEVELS: readonly string[] = ["error", "warn", "info", "log", "debug"];

/** The level a console-pane row files under: errors are `error`, console messages their own level. */
export function consoleLevelOf(item: FeedItem): string {
  if (item.kind === "error") return "error";
  return item.level && CONSOLE_LEVELS.includes(item.level) ? item.level : "log";
}

/** What the console pane shows: levels switched on, and text to look for (case-insensitive). */
export interface ConsoleFilter {
  levels: ReadonlySet<string>;
  query: string;
}

/** The console pane's rows (from {@link itemsForTab}) that pass the filter. */
export function filterConsole(items: readonly FeedItem[], filter: ConsoleFilter): readonly FeedItem[] {
  const query = filter.query.trim().toLowerCase();
  return items.filter((item) =>
    filter.levels.has(consoleLevelOf(item)) &&
    (!query || item.text.toLowerCase().includes(query) || (item.detail?.toLowerCase().includes(query) ?? false))
  );
}

/** Rows per console level, for the filter buttons. */
export function consoleLevelCounts(items: readonly FeedItem[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const level = consoleLevelOf(item);
    counts.set(level, (counts.get(level) ?? 0) + 1);
  }
  return counts;
}

/** The items a tab lists: everything, console messages with errors, or network requests. */
export function itemsForTab(items: readonly FeedItem[], tab: FeedTab): readonly FeedItem[] {
  switch (tab) {
    case "console":
      return items.filter((item) => item.kind === "console" || item.kind === "error");
    case "network":
      return items.filter((item) => item.kind === "network");
    default:
      return items;
  }
}

function isGap(event: RrwebEvent): boolean {
  return event.type === EventType.Custom && isRecord(event.data) && event.data.tag === "replaya.gap";
}

function firstStackFrame(stack: string): string {
  const frame = stack.split("\n").map((line) => line.trim()).find((line) =>
    line.startsWith("at ") || line.includes("@")
  );
  return frame ?? "";
}
