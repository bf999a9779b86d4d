/**
 * The replay's images and fonts: the session's asset map from the server's
 * cache (`GET /api/sessions/{id}/assets`), the rewrite of recorded URLs to
 * the cached copies (`/api/assets/{hash}`, on the dashboard's own origin)
 * before events reach rrweb, and the tally behind the "could not be loaded"
 * notice. Without a cache (or when the map cannot be had) events pass
 * unchanged and the replay loads assets from the recorded site, as before.
 * Whatever the cache, URLs on the viewer's own network are taken out before
 * rrweb sees them ({@link intranetBlocker}).
 * @module
 */
import type { RrwebEvent } from "@replaya/recorder/wire";
import { attributeWithoutIntranetUrls, cssWithoutIntranetUrls, type IntranetOptions } from "../../shared/intranet.ts";

/** What the player knows of the session's cached assets. */
export interface AssetMap {
  /** The server's asset cache is on. */
  enabled: boolean;
  /** Recorded URL → the cached copy's URL. */
  urls: Map<string, string>;
}

/** No cache, nothing rewritten. */
export const NO_ASSETS: AssetMap = { enabled: false, urls: new Map() };

/** How long the player waits for the map before replaying without it. */
const MAP_TIMEOUT_MS = 3_000;
const HASH = /^[0-9a-f]{64}$/;

/** Builds the map from the server's answer (anything malformed is left out). */
export function parseAssetMap(body: unknown, apiBase: string, origin: string): AssetMap {
  if (typeof body !== "object" || body === null) return NO_ASSETS;
  const { enabled, assets } = body as { enabled?: unknown; assets?: unknown };
  const urls = new Map<string, string>();
  const base = new URL(apiBase || "/", origin);
  if (typeof assets === "object" && assets !== null) {
    for (const [url, asset] of Object.entries(assets)) {
      const hash = (asset as { hash?: unknown } | null)?.hash;
      if (typeof hash === "string" && HASH.test(hash)) urls.set(url, new URL(`/api/assets/${hash}`, base).href);
    }
  }
  return { enabled: enabled === true, urls };
}

/**
 * Fetches the session's asset map; never rejects (no map, an error or no
 * answer within 3 s is {@link NO_ASSETS}).
 */
export async function loadAssetMap(apiBase: string, sessionId: string, signal?: AbortSignal): Promise<AssetMap> {
  const timeout = AbortSignal.timeout(MAP_TIMEOUT_MS);
  try {
    const url = `${apiBase.replace(/\/+$/, "")}/api/sessions/${encodeURIComponent(sessionId)}/assets`;
    const res = await fetch(url, {
      credentials: "same-origin",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!res.ok) return NO_ASSETS;
    return parseAssetMap(await res.json(), apiBase, globalThis.location?.origin ?? "http://localhost");
  } catch {
    return NO_ASSETS;
  }
}

// Incremental sources that can carry asset URLs: mutations, stylesheet rules, fonts, declarations, adopted sheets.
const URL_SOURCES = new Set([0, 8, 10, 13, 15]);

/**
 * A function that rewrites every cached URL in an event (attributes,
 * srcsets, `url()` in styles and captured stylesheets) to its cached copy,
 * and returns other events as they are. URLs are matched whole, as the
 * recording wrote them: bounded by quotes, brackets, spaces or commas, so a
 * URL that merely starts like a cached one is left alone.
 *
 * @example
 * const rewrite = assetRewriter(new Map([["https://shop.example/a.png", "https://replay.example/api/assets/…"]]));
 * replayer.addEvent(rewrite(event));
 */
export function assetRewriter(urls: ReadonlyMap<string, string>): (event: RrwebEvent) => RrwebEvent {
  if (urls.size === 0) return (event) => event;
  // The URLs as they appear inside JSON strings, longest first so the longest match wins.
  const forms = new Map<string, string>();
  for (const [from, to] of urls) forms.set(JSON.stringify(from).slice(1, -1), JSON.stringify(to).slice(1, -1));
  const alternatives = [...forms.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(?<=[\\s"'(,])(?:${alternatives.join("|")})(?=[\\s"'),\\\\])`, "g");
  return (event) => {
    const data = event.data as { source?: unknown } | undefined;
    if (event.type !== 2 && !(event.type === 3 && URL_SOURCES.has(data?.source as number))) return event;
    const json = JSON.stringify(event);
    let changed = false;
    const rewritten = json.replace(pattern, (match) => {
      changed = true;
      return forms.get(match) ?? match;
    });
    return changed ? JSON.parse(rewritten) : event;
  };
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null;
const objects = (value: unknown): Json[] => Array.isArray(value) ? value.filter(isObject) : [];

/**
 * A function that takes every URL on the viewer's own network (loopback,
 * private and link-local addresses, single-label names: shared/intranet.ts)
 * out of an event before rrweb sees it, wherever the asset cache would find
 * one: such attributes are removed, srcset candidates dropped, and CSS
 * `url()`s and strings emptied. A recording is written by whoever holds the
 * public key, and without this it could make the viewer's browser call
 * `http://192.168.1.1/reboot`. An event without such URLs is returned as it
 * is (one read-only walk); one with them as a changed copy, so the feed keeps
 * what was recorded.
 *
 * @example
 * const block = intranetBlocker({ allowLoopback: isLoopbackHost(location.hostname) });
 * replayer.addEvent(block(event));
 */
export function intranetBlocker(options: IntranetOptions = {}): (event: RrwebEvent) => RrwebEvent {
  return (event) => {
    const data = event.data as { source?: unknown } | undefined;
    if (event.type !== 2 && !(event.type === 3 && URL_SOURCES.has(data?.source as number))) return event;
    if (!blockIntranetUrls(event, options, false)) return event;
    const copy = structuredClone(event);
    blockIntranetUrls(copy, options, true);
    return copy;
  };
}

/** Whether `event` has URLs on the intranet; with `apply`, takes them out in place. */
function blockIntranetUrls(event: RrwebEvent, options: IntranetOptions, apply: boolean): boolean {
  let found = false;
  /** `holder[key]` becomes `safe` when that differs; undefined removes it (null for a mutation: rrweb's "removed"). */
  const update = (holder: Json, key: string, value: unknown, safe: string | undefined, removed?: null) => {
    if (safe === value) return;
    found = true;
    if (!apply) return;
    if (safe !== undefined) holder[key] = safe;
    else if (removed === null) holder[key] = null;
    else delete holder[key];
  };
  const css = (holder: object, key: string) => {
    const value = (holder as Json)[key];
    if (typeof value === "string") update(holder as Json, key, value, cssWithoutIntranetUrls(value, options));
  };
  const attributes = (attrs: Json, removed?: null) => {
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "style" && isObject(value)) {
        // A style mutation: property → value, or [value, priority].
        for (const [property, v] of Object.entries(value)) {
          if (Array.isArray(v)) css(v, "0");
          else css(value, property);
        }
      } else if (typeof value === "string") {
        update(attrs, name, value, attributeWithoutIntranetUrls(name.toLowerCase(), value, options), removed);
      }
    }
  };
  const node = (serialized: unknown, inStyle = false) => {
    if (!isObject(serialized)) return;
    if (serialized.type === 3 && (inStyle || serialized.isStyle)) css(serialized, "textContent");
    if (isObject(serialized.attributes)) attributes(serialized.attributes);
    const tagName = typeof serialized.tagName === "string" ? serialized.tagName.toLowerCase() : "";
    for (const child of objects(serialized.childNodes)) node(child, tagName === "style");
  };
  const data = event.data as Json;
  if (event.type === 2) node(data.node);
  else {
    switch (data.source) {
      case 0: // mutation
        for (const added of objects(data.adds)) node(added.node);
        for (const changed of objects(data.attributes)) {
          if (isObject(changed.attributes)) attributes(changed.attributes, null);
        }
        // Which texts are a style's is not said: every one is read as CSS (only URL strings and url()s change).
        for (const text of objects(data.texts)) css(text, "value");
        break;
      case 8: // stylesheet rule
        for (const rule of objects(data.adds)) css(rule, "rule");
        css(data, "replace");
        css(data, "replaceSync");
        break;
      case 10: // font: a CSS source list
        css(data, "fontSource");
        break;
      case 13: // style declaration
        if (isObject(data.set)) css(data.set, "value");
        break;
      case 15: // adopted stylesheets
        for (const sheet of objects(data.styles)) for (const rule of objects(sheet.rules)) css(rule, "rule");
        break;
    }
  }
  return found;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The assets the replay could not load, by URL, for the notice. */
export class AssetFailures {
  readonly #urls = new Set<string>();

  /** Counts a failed URL once; returns whether it was new. */
  add(url: string): boolean {
    if (!url || url.startsWith("data:") || url.startsWith("blob:") || this.#urls.has(url)) return false;
    this.#urls.add(url);
    return true;
  }

  get count(): number {
    return this.#urls.size;
  }

  /** The hosts they came from, most failures first. */
  hosts(origin: string): string[] {
    const counts = new Map<string, number>();
    for (const url of this.#urls) {
      const host = hostOf(url, origin);
      counts.set(host, (counts.get(host) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1]).map(([host]) => host);
  }
}

/** `shop.example`, or "the asset cache" for a cached copy that failed. */
function hostOf(url: string, origin: string): string {
  try {
    const parsed = new URL(url, origin);
    if (parsed.origin === origin && parsed.pathname.startsWith("/api/assets/")) return "the asset cache";
    return parsed.host;
  } catch {
    return "an invalid address";
  }
}

/** The notice's text: how many, from where, and what would help. */
export function assetNotice(count: number, hosts: readonly string[], cacheEnabled: boolean): string {
  const what = count === 1 ? "1 image" : `${count} images`;
  const where = hosts.length <= 2 ? hosts.join(" and ") : `${hosts.slice(0, 2).join(", ")} and others`;
  const fix = cacheEnabled
    ? "they were not cached when this session was recorded"
    : "enable the asset cache (REPLAYA_ASSET_CACHE) to keep a copy of each recording's images";
  return `${what} could not be loaded from ${where}: ${fix}.`;
}
