/**
 * Validates and trims the metadata a recorder sends when a session starts.
 * Unknown fields are dropped; strings are bounded; URLs lose their query and
 * fragment unless the recorder was allowed to keep them (it strips first).
 *
 * @module
 */

import type { PageMeta } from "@replaya/recorder/wire";

const MAX_TRAITS_JSON = 4096;

/** Parses `meta` from a start request; throws with a readable message. */
export function parseMeta(value: unknown): PageMeta {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("meta must be an object");
  const m = value as Record<string, unknown>;
  const url = text(m.url, 2048);
  if (!url || !/^https?:\/\//i.test(url)) throw new Error("meta.url must be an http(s) URL");
  const traits = m.traits;
  if (traits !== undefined && (typeof traits !== "object" || traits === null || Array.isArray(traits))) {
    throw new Error("meta.traits must be an object");
  }
  if (traits && JSON.stringify(traits).length > MAX_TRAITS_JSON) {
    throw new Error(`meta.traits must be at most ${MAX_TRAITS_JSON} bytes of JSON`);
  }
  return {
    url,
    referrer: text(m.referrer, 2048),
    userAgent: text(m.userAgent, 512),
    viewport: size(m.viewport),
    screen: size(m.screen),
    language: text(m.language, 35),
    timezone: text(m.timezone, 64),
    source: text(m.source, 100),
    userId: text(m.userId, 200),
    traits: traits as Record<string, unknown> | undefined,
    recorderVersion: text(m.recorderVersion, 32),
  };
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" && value.length > 0 ? value.slice(0, max) : undefined;
}

function size(value: unknown): { width: number; height: number } | undefined {
  const v = value as { width?: unknown; height?: unknown } | undefined;
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0 && n < 100_000;
  return v && ok(v.width) && ok(v.height) ? { width: Math.round(v.width), height: Math.round(v.height) } : undefined;
}
