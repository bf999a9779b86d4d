/**
 * A session's friction report: pages visited (time on each), friction
 * signals with their time and element, errors, and where the session ended.
 * Built by reading the session's stream once, in order, and running the
 * ingest detector (friction.ts) over it batch by batch, so the report finds
 * what ingest counted, and abandoned forms too once the session has ended.
 * Bounded: at most `maxEvents` events and `maxMs` of reading, and at most
 * so many signals, pages and errors; when a bound stops it, the report says
 * `truncated` and covers the session up to `endedAt`. Deterministic: the
 * same stream gives the same report, so an ended session's is kept (256
 * per process) and later requests read only its first records and tail.
 *
 * @module
 */

import { EventType, type FrictionReport, IncrementalSource, type RrwebEvent } from "@replaya/recorder/wire";
import { customTag, isClick, isPageView, pageUrlOf } from "./events.ts";
import { ElementIndex } from "./elements.ts";
import {
  advanceFriction,
  countSignals,
  detectFriction,
  finishFriction,
  type FrictionConfig,
  newFrictionState,
} from "./friction.ts";
import type { Sessions } from "./service.ts";

/** Bounds of one report (defaults in {@link REPORT_LIMITS}). */
export interface ReportLimits {
  /** Events read at most. */
  maxEvents: number;
  /** Reading time at most, ms (by `clock`). */
  maxMs: number;
  maxSignals: number;
  maxPages: number;
  maxErrors: number;
}

/** The defaults: a long session (a few hours of activity) fits; a report never holds a request for long. */
export const REPORT_LIMITS: ReportLimits = {
  maxEvents: 200_000,
  maxMs: 2_000,
  maxSignals: 200,
  maxPages: 200,
  maxErrors: 100,
};

/** Options of {@link buildReport}. */
export interface ReportOptions {
  limits?: Partial<ReportLimits>;
  /** The clock the time bound is measured with (default `performance.now`). */
  clock?: () => number;
  /** Thresholds (default: the service's). */
  friction?: FrictionConfig;
}

/** Same as the server's clock tolerance: a heartbeat advances the detector to its time less this. */
const CLOCK_SKEW_MS = 2_000;
const MAX_TEXT = 300;
/** Reports of ended sessions kept per service (an ended stream never changes), newest use last. */
const CACHED_REPORTS = 256;
const cache = new WeakMap<Sessions, Map<string, FrictionReport>>();

/** Interactions remembered for naming signals (a signal refers to one of the last few). */
const MAX_SEEN = 4_096;

/**
 * The report of ended session `id` if one was built already, without reading anything: the session page
 * renders it at once, and otherwise lets the player ask for it once the replay shows (a long session's
 * report reads the whole stream, which the first frame must not wait for).
 */
export function cachedReport(sessions: Sessions, id: string): FrictionReport | undefined {
  const known = cache.get(sessions)?.get(id);
  return known && structuredClone(known);
}

/**
 * The report of session `id`, or undefined when there is no such session.
 *
 * @example
 * const report = await buildReport(sessions, id);
 * if (report) console.log(renderReportMarkdown(report));
 */
export async function buildReport(
  sessions: Sessions,
  id: string,
  options: ReportOptions = {},
): Promise<FrictionReport | undefined> {
  const details = await sessions.details(id);
  if (!details) return undefined;
  // An ended session's report is built once (the page, the CLI and agents ask again); custom bounds are not cached.
  const cacheable = !details.live && !options.limits && !options.clock && !options.friction;
  const reports = cache.get(sessions) ?? new Map<string, FrictionReport>();
  cache.set(sessions, reports);
  const known = cacheable ? reports.get(id) : undefined;
  if (known) {
    reports.delete(id);
    reports.set(id, known);
    return structuredClone(known);
  }
  const limits = { ...REPORT_LIMITS, ...options.limits };
  const clock = options.clock ?? (() => performance.now());
  const config = options.friction ?? sessions.friction;
  const began = clock();
  const state = newFrictionState();
  const elements = new ElementIndex();
  const report: FrictionReport = {
    id,
    startedAt: details.meta.createdAt,
    endedAt: details.meta.createdAt,
    live: details.live,
    pages: [],
    signals: [],
    errors: [],
    counts: {},
    ended: {},
  };
  let page: string | undefined = details.meta.url;
  let events = 0;
  let stopped = false;
  const truncate = (reason: NonNullable<FrictionReport["truncated"]>["reason"], limit: number) => {
    report.truncated ??= { reason, limit };
  };
  // What an interaction's target and page were when it happened: a signal is decided later (a dead click
  // 2.5 s on, an abandoned form at the end), by then on another page whose node ids mean other elements.
  const seen = new Map<string, { element?: string; page?: string }>();
  const addSignals = (signals: ReturnType<typeof detectFriction>) => {
    for (const signal of signals) {
      if (report.signals.length >= limits.maxSignals) return truncate("signals", limits.maxSignals);
      const then = seen.get(`${signal.at}:${signal.nodeId}`) ?? { element: elements.describe(signal.nodeId), page };
      report.signals.push({
        ...signal,
        ...(then.element ? { element: then.element } : {}),
        ...(then.page ? { page: then.page } : {}),
      });
    }
  };

  read: for await (const item of sessions.read(id)) {
    if (item.kind === "heartbeat") {
      advanceFriction(state, item.timestamp - CLOCK_SKEW_MS, config);
      continue;
    }
    if (item.kind === "stop") {
      stopped = true;
      report.ended.reason = item.stop.reason;
      continue;
    }
    if (item.kind !== "events") continue;
    if (events + item.events.length > limits.maxEvents) {
      truncate("events", limits.maxEvents);
      break;
    }
    if (clock() - began > limits.maxMs) {
      truncate("time", limits.maxMs);
      break;
    }
    events += item.events.length;
    // Signals are named by the page as it was when they were decided: the batch is walked event by event.
    for (const event of item.events) {
      if (!Number.isFinite(event.timestamp)) continue;
      report.endedAt = Math.max(report.endedAt, event.timestamp);
      addSignals(detectFriction([event], state, config));
      const data = isObject(event.data) ? event.data : {};
      const href = pageUrlOf(event); // a page load, or an in-page navigation of a single-page app
      if (typeof href === "string") {
        page = shorten(href, 2_000);
        if (report.pages.at(-1)?.url !== page) {
          if (report.pages.length >= limits.maxPages) {
            truncate("pages", limits.maxPages);
            break read;
          }
          report.pages.push({ url: page, at: event.timestamp, durationMs: 0 });
        }
      } else if (event.type === EventType.FullSnapshot) elements.reset(data.node);
      else if (event.type === EventType.IncrementalSnapshot && data.source === IncrementalSource.Mutation) {
        elements.applyMutation(data);
      } else if (customTag(event) === "replaya.error") {
        if (report.errors.length >= limits.maxErrors) {
          truncate("errors", limits.maxErrors);
          break read;
        }
        const payload = isObject(data.payload) ? data.payload : {};
        const message = typeof payload.message === "string" && payload.message ? payload.message : "Error";
        report.errors.push({ at: event.timestamp, message: shorten(message, MAX_TEXT), ...(page ? { page } : {}) });
      }
      if (event.type === EventType.IncrementalSnapshot && typeof data.id === "number") {
        seen.set(`${event.timestamp}:${data.id}`, { element: elements.describe(data.id), page });
        if (seen.size > MAX_SEEN) seen.delete(seen.keys().next().value!);
      }
      const action = actionOf(event, elements);
      if (action) {
        report.ended.lastAction = action;
        report.ended.lastActionAt = event.timestamp;
      }
    }
    if (report.truncated) break;
  }
  // Abandoned forms are decided at the end: only for a session that has ended and was read to the end.
  if (stopped && !report.truncated) addSignals(finishFriction(state));
  if (stopped) report.live = false;
  report.signals.sort((a, b) => a.at - b.at || a.kind.localeCompare(b.kind));
  report.counts = countSignals(report.signals);
  report.pages.forEach((p, i) => {
    p.durationMs = Math.max(0, (report.pages[i + 1]?.at ?? report.endedAt) - p.at);
  });
  if (page) report.ended.page = page;
  // Not a time-truncated one: a later try may get further.
  if (cacheable && !report.live && report.truncated?.reason !== "time") {
    reports.set(id, structuredClone(report));
    if (reports.size > CACHED_REPORTS) reports.delete(reports.keys().next().value!);
  }
  return report;
}

/** What the visitor did, in a few words, for "where the session ended"; undefined for anything else. */
function actionOf(event: RrwebEvent, elements: ElementIndex): string | undefined {
  const data = isObject(event.data) ? event.data : {};
  const target = typeof data.id === "number" ? elements.describe(data.id) : undefined;
  const on = target ? ` on ${target}` : "";
  if (isPageView(event)) return "opened the page";
  if (event.type !== EventType.IncrementalSnapshot) return undefined;
  if (isClick(event)) return `clicked${on}`;
  if (data.source === IncrementalSource.Input && data.userTriggered !== false) {
    return `typed in ${target ?? "a field"}`;
  }
  if (data.source === IncrementalSource.Scroll) return "scrolled";
  return undefined;
}

function shorten(value: string, max: number): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
