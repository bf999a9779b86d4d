/**
 * Friction signals found in rrweb events at ingest, batch by batch: rage
 * clicks, dead clicks, error clicks, thrashing (scroll reversals, repeated
 * focus on one field) and abandoned forms. Pure functions over events and a
 * small carried state ({@link FrictionState}), so a signal whose window spans
 * two batches is still found; every part of the state is bounded.
 *
 * The state lives in memory per session (`Sessions`). After a server restart
 * (or when another process takes the session) it starts empty: a click in the
 * last batch before the restart is never judged dead or an error click, a
 * rage burst or a thrash straddling it is missed, and fields touched before it
 * are not counted as an abandoned form. The report (report.ts) runs the same
 * detector over the whole stream and has no such limit.
 *
 * @module
 */

import {
  EventType,
  type FrictionCounts,
  type FrictionKind,
  type FrictionSignal,
  IncrementalSource,
  type RrwebEvent,
} from "@replaya/recorder/wire";
import { customTag, isClick, isPageView } from "./events.ts";

/** Thresholds; defaults follow what PostHog, Sentry and Clarity document (see README, "Friction signals"). */
export interface FrictionConfig {
  /** Rage click: at least this many clicks… */
  rageClicks: number;
  /** …each within this many px of the last one… */
  rageRadiusPx: number;
  /** …from first to last within this many ms. */
  rageWindowMs: number;
  /** Dead click: no DOM change, page view, focus, input or request within this many ms. */
  deadWindowMs: number;
  /** Error click: an uncaught error within this many ms of the click. */
  errorWindowMs: number;
  /** Scroll thrash: this many direction reversals… */
  scrollReversals: number;
  /** …within this many ms… */
  scrollWindowMs: number;
  /** …each after a run of at least this many px. */
  scrollMinPx: number;
  /** Focus thrash: this many focus events on one field within `focusWindowMs`. */
  focusRepeats: number;
  focusWindowMs: number;
}

/** The defaults (REPLAYA_FRICTION_* in lib/config.ts override them). */
export const DEFAULT_FRICTION: FrictionConfig = {
  rageClicks: 3,
  rageRadiusPx: 30,
  rageWindowMs: 1_000,
  deadWindowMs: 2_500,
  errorWindowMs: 1_000,
  scrollReversals: 3,
  scrollWindowMs: 2_000,
  scrollMinPx: 100,
  focusRepeats: 4,
  focusWindowMs: 10_000,
};

/** The kinds counted in a batch's stats header, in header order (abandoned forms are decided at the end). */
export const BATCH_KINDS: readonly FrictionKind[] = ["rage", "dead", "error_click", "thrash"];

// Bounds of the carried state.
const MAX_PENDING = 64;
const MAX_RAGE = 32;
const MAX_FIELDS = 32;
const MAX_PAGES = 16;
const MAX_SUBMITS = 4_096;
const MAX_SNAPSHOT_NODES = 200_000;

interface PendingClick {
  at: number;
  nodeId?: number;
}

/** What carries from one batch to the next; plain JSON, every list bounded. */
export interface FrictionState {
  /** Latest capture time seen. */
  now: number;
  /** Clicks whose dead window is still open. */
  pending: PendingClick[];
  /** Recent clicks, for error clicks (an error may follow a response). */
  clicks: PendingClick[];
  /** The last focus event, so a click that focused a field is not dead. */
  lastFocus?: { id: number; at: number };
  /** Recent clicks for rage detection, and whether they already made a signal. */
  rage: Array<{ at: number; x: number; y: number; nodeId?: number }>;
  rageOpen: boolean;
  /** Scrolls: the target, its last position, the current run's direction and length, recent reversals. */
  scroll: { id?: number; pos?: number; dir: number; run: number; reversals: number[]; open: boolean };
  /** Focus events per field id (recent times), and whether the field's thrash is already counted. */
  focus: Array<{ id: number; times: number[]; open: boolean }>;
  /** Fields touched since the last submit, per page view. */
  touched: Array<{ page: number; at: number; fields: number[] }>;
  page: number;
  /** Node ids of submit controls on the current page. */
  submits: number[];
  /** Signals decided between batches (by {@link advanceFriction}), reported with the next batch or at the end. */
  carried: FrictionSignal[];
}

/** An empty state, for a new session. */
export function newFrictionState(): FrictionState {
  return {
    now: 0,
    pending: [],
    clicks: [],
    rage: [],
    rageOpen: false,
    scroll: { dir: 0, run: 0, reversals: [], open: false },
    focus: [],
    touched: [],
    page: 0,
    submits: [],
    carried: [],
  };
}

/** Counts signals by kind. */
export function countSignals(signals: readonly FrictionSignal[]): FrictionCounts {
  const counts: FrictionCounts = {};
  for (const s of signals) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
  return counts;
}

/** Adds counts into `into`. */
export function addCounts(into: FrictionCounts, more: FrictionCounts | undefined): FrictionCounts {
  for (const [kind, n] of Object.entries(more ?? {}) as Array<[FrictionKind, number]>) {
    if (n) into[kind] = (into[kind] ?? 0) + n;
  }
  return into;
}

/**
 * Runs the detector over one batch (events in capture order), updating
 * `state` in place; returns the signals decided in this batch. A click's dead
 * window may close in a later batch: it is then decided there.
 */
export function detectFriction(
  events: readonly RrwebEvent[],
  state: FrictionState,
  config: FrictionConfig = DEFAULT_FRICTION,
): FrictionSignal[] {
  const out: FrictionSignal[] = state.carried;
  state.carried = [];
  for (const event of events) {
    const at = event.timestamp;
    if (!Number.isFinite(at)) continue;
    // A late event (clock corrections) never moves time back.
    state.now = Math.max(state.now, at);
    settlePending(state, config, out);
    const data = isObject(event.data) ? event.data : {};
    // A page view (a load, or a single-page app's navigation) answers every open click and leaves the page.
    if (isPageView(event) || event.type === EventType.FullSnapshot) {
      respond(state);
      if (isPageView(event)) state.page++;
      else indexSubmits(state, data.node);
      continue;
    }
    if (event.type === EventType.Custom) {
      const tag = customTag(event);
      if (tag === "replaya.network") {
        respond(state);
        const method = isObject(data.payload) && typeof data.payload.method === "string" ? data.payload.method : "GET";
        if (method.toUpperCase() !== "GET" && method.toUpperCase() !== "HEAD") submitted(state);
      } else if (tag === "replaya.error") errorAfterClicks(state, config, at, out);
      continue;
    }
    if (event.type !== EventType.IncrementalSnapshot) continue;
    const nodeId = typeof data.id === "number" && Number.isSafeInteger(data.id) ? data.id : undefined;
    switch (data.source) {
      case IncrementalSource.Mutation:
        respond(state);
        indexSubmits(state, data.adds, true);
        break;
      case IncrementalSource.Input:
        respond(state);
        if (data.userTriggered !== false && nodeId !== undefined) touch(state, at, nodeId);
        break;
      case IncrementalSource.Scroll:
        scrolled(state, config, at, nodeId, data, out);
        break;
      case IncrementalSource.MouseInteraction:
        if (isClick(event)) clicked(state, config, at, nodeId, data, out);
        else if (data.type === FOCUS && nodeId !== undefined) {
          respond(state);
          focused(state, config, at, nodeId, out);
        }
        break;
    }
  }
  return out;
}

/**
 * Advances time without events (a heartbeat at `now`, server time less the
 * clock tolerance), so a click followed by nothing at all is judged dead.
 */
export function advanceFriction(state: FrictionState, now: number, config: FrictionConfig = DEFAULT_FRICTION): void {
  if (!Number.isFinite(now) || now <= state.now) return;
  state.now = now;
  settlePending(state, config, state.carried);
  if (state.carried.length > MAX_PENDING) state.carried.splice(0, state.carried.length - MAX_PENDING);
}

/**
 * The signals decided at the session's end: forms whose fields were touched
 * and never submitted (one per page view). Clicks whose window is still open
 * are not judged: the visitor may have left through them.
 */
export function finishFriction(state: FrictionState): FrictionSignal[] {
  const out = [...state.carried];
  state.carried = [];
  out.push(
    ...state.touched.filter((t) => t.fields.length > 0).map((t): FrictionSignal => ({
      kind: "abandoned_form",
      at: t.at,
      nodeId: t.fields.at(-1),
      count: t.fields.length,
    })),
  );
  state.touched = [];
  state.pending = [];
  return out;
}

const FOCUS = 5;
const FOCUS_BEFORE_CLICK_MS = 1_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Something happened on the page: every open click got a response. */
function respond(state: FrictionState): void {
  // An error click is decided when the error comes, so a response only clears the dead window.
  state.pending = [];
}

function settlePending(state: FrictionState, config: FrictionConfig, out: FrictionSignal[]): void {
  while (state.pending.length && state.now - state.pending[0].at > config.deadWindowMs) {
    const click = state.pending.shift()!;
    out.push({ kind: "dead", at: click.at, nodeId: click.nodeId });
  }
}

function errorAfterClicks(state: FrictionState, config: FrictionConfig, at: number, out: FrictionSignal[]): void {
  // The latest click within the window is the one the error followed; each click counts once.
  const click = state.clicks.findLast((c) => at - c.at <= config.errorWindowMs);
  if (click) out.push({ kind: "error_click", at: click.at, nodeId: click.nodeId });
  state.clicks = [];
  // The error is the page's response: no click before it is dead.
  state.pending = [];
}

function clicked(
  state: FrictionState,
  config: FrictionConfig,
  at: number,
  nodeId: number | undefined,
  data: Record<string, unknown>,
  out: FrictionSignal[],
): void {
  if (nodeId !== undefined && state.submits.includes(nodeId)) submitted(state);
  state.clicks.push({ at, nodeId });
  while (state.clicks.length > MAX_RAGE || at - state.clicks[0].at > config.errorWindowMs) state.clicks.shift();
  // rrweb records a field's focus before the click that caused it: that click had its response.
  const focusedIt = state.lastFocus !== undefined && state.lastFocus.id === nodeId &&
    at - state.lastFocus.at <= FOCUS_BEFORE_CLICK_MS;
  if (!focusedIt) state.pending.push({ at, nodeId });
  if (state.pending.length > MAX_PENDING) state.pending.shift(); // oldest undecided: dropped, not counted
  const x = Number(data.x), y = Number(data.y);
  const last = state.rage.at(-1);
  const near = last !== undefined && Number.isFinite(x) && Number.isFinite(y) &&
    Math.hypot(x - last.x, y - last.y) <= config.rageRadiusPx;
  if (!near) {
    state.rage = [];
    state.rageOpen = false;
  }
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  state.rage.push({ at, x, y, nodeId });
  while (state.rage.length && at - state.rage[0].at > config.rageWindowMs) state.rage.shift();
  if (state.rage.length > MAX_RAGE) state.rage.shift();
  if (state.rage.length === 1) state.rageOpen = false;
  if (!state.rageOpen && state.rage.length >= config.rageClicks) {
    state.rageOpen = true;
    const first = state.rage[0];
    out.push({ kind: "rage", at: first.at, nodeId: first.nodeId ?? nodeId, count: state.rage.length });
    // The burst is one rage click, not several dead ones.
    state.pending = state.pending.filter((c) => c.at < first.at);
  } else if (state.rageOpen) {
    state.pending = state.pending.filter((c) => c.at < at);
  }
}

function scrolled(
  state: FrictionState,
  config: FrictionConfig,
  at: number,
  nodeId: number | undefined,
  data: Record<string, unknown>,
  out: FrictionSignal[],
): void {
  const x = Number(data.x), y = Number(data.y);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  const s = state.scroll;
  if (s.id !== nodeId || s.pos === undefined) {
    state.scroll = { id: nodeId, pos: y !== 0 || x === 0 ? y : x, dir: 0, run: 0, reversals: [], open: false };
    return;
  }
  const pos = y;
  const delta = pos - s.pos;
  s.pos = pos;
  if (delta === 0) return;
  const dir = Math.sign(delta);
  if (dir === s.dir || s.dir === 0) {
    s.dir = dir;
    s.run += Math.abs(delta);
    return;
  }
  // A reversal counts after a long enough run the other way.
  if (s.run >= config.scrollMinPx) s.reversals.push(at);
  s.dir = dir;
  s.run = Math.abs(delta);
  while (s.reversals.length && at - s.reversals[0] > config.scrollWindowMs) s.reversals.shift();
  if (s.reversals.length === 0) s.open = false;
  if (s.reversals.length > config.scrollReversals + 1) s.reversals.shift();
  if (!s.open && s.reversals.length >= config.scrollReversals) {
    s.open = true;
    out.push({ kind: "thrash", at: s.reversals[0], nodeId, count: s.reversals.length, detail: "scroll" });
  }
}

function focused(
  state: FrictionState,
  config: FrictionConfig,
  at: number,
  nodeId: number,
  out: FrictionSignal[],
): void {
  state.lastFocus = { id: nodeId, at };
  let field = state.focus.find((f) => f.id === nodeId);
  if (!field) {
    field = { id: nodeId, times: [], open: false };
    state.focus.push(field);
    if (state.focus.length > MAX_FIELDS) state.focus.shift();
  }
  field.times.push(at);
  while (field.times.length && at - field.times[0] > config.focusWindowMs) field.times.shift();
  if (field.times.length > config.focusRepeats) field.times.shift();
  if (field.times.length === 1) field.open = false;
  if (!field.open && field.times.length >= config.focusRepeats) {
    field.open = true;
    out.push({ kind: "thrash", at: field.times[0], nodeId, count: field.times.length, detail: "focus" });
  }
}

function touch(state: FrictionState, at: number, nodeId: number): void {
  let page = state.touched.find((t) => t.page === state.page);
  if (!page) {
    page = { page: state.page, at, fields: [] };
    state.touched.push(page);
    if (state.touched.length > MAX_PAGES) state.touched.shift();
  }
  page.at = at;
  if (!page.fields.includes(nodeId)) {
    page.fields.push(nodeId);
    if (page.fields.length > MAX_FIELDS) page.fields.shift();
  } else {
    // Most recent last: the report names the last field touched.
    page.fields.splice(page.fields.indexOf(nodeId), 1);
    page.fields.push(nodeId);
  }
}

/** A submit (a click on a submit control, or a request that sends data): the page's touched fields are not abandoned. */
function submitted(state: FrictionState): void {
  state.touched = state.touched.filter((t) => t.page !== state.page);
}

/**
 * Remembers the submit controls (`button` without another type,
 * `input type=submit|image`) of a full snapshot or a mutation's adds; a full
 * snapshot starts the list over. Bounded in nodes visited and ids kept.
 */
function indexSubmits(state: FrictionState, root: unknown, adds = false): void {
  if (!adds) state.submits = [];
  const stack: unknown[] = adds
    ? (Array.isArray(root) ? root.map((a) => isObject(a) ? a.node : undefined) : [])
    : [root];
  let visited = 0;
  while (stack.length && visited++ < MAX_SNAPSHOT_NODES) {
    const node = stack.pop();
    if (!isObject(node)) continue;
    if (typeof node.tagName === "string" && typeof node.id === "number" && isSubmitControl(node)) {
      state.submits.push(node.id);
      if (state.submits.length > MAX_SUBMITS) state.submits.shift();
    }
    if (Array.isArray(node.childNodes)) { for (const child of node.childNodes) stack.push(child); }
  }
}

function isSubmitControl(node: Record<string, unknown>): boolean {
  const tag = String(node.tagName).toLowerCase();
  const attributes = isObject(node.attributes) ? node.attributes : {};
  const type = typeof attributes.type === "string" ? attributes.type.toLowerCase() : "";
  if (tag === "button") return type === "" || type === "submit";
  return tag === "input" && (type === "submit" || type === "image");
}
