/**
 * Finds the images and fonts a batch of rrweb events references: `src`,
 * `srcset`, `poster`, icons and preloads in full snapshots and added nodes,
 * the same attributes when a mutation changes them, and `url()` in style
 * attributes, `<style>` text, captured stylesheets (`_cssText`), stylesheet
 * rules and declarations (`@font-face` sources included). rrweb records
 * these URLs absolute, so only `http:` and `https:` URLs are kept, exactly
 * as written: the player rewrites the same strings.
 *
 * @module
 */

import { srcsetCandidates } from "../../shared/intranet.ts";

/** What kind of element or rule referenced a URL (for the notice, and the Accept header). */
export type AssetKind = "image" | "font";

/** One referenced asset. */
export interface AssetRef {
  url: string;
  kind: AssetKind;
}

/** At most this many URLs are taken from one batch (a page is rarely above a few hundred). */
export const MAX_URLS_PER_BATCH = 1_000;
/** Longer URLs are not cached (they would bloat every map record). */
export const MAX_URL_LENGTH = 4_096;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null;

// rrweb's event types and incremental sources used here.
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
const SOURCE = { mutation: 0, styleSheetRule: 8, font: 10, styleDeclaration: 13, adoptedStyleSheet: 15 };
const ELEMENT = 2;
const TEXT = 3;

/** Attributes whose value is one URL, on any element. */
const URL_ATTRIBUTES = new Set(["src", "poster", "background", "xlink:href"]);
/** Elements whose `src` is an image (a script's, a frame's or a video's is not); mutations name no element. */
const IMAGE_SRC_ELEMENTS = new Set(["", "img", "input", "source", "image"]);

/**
 * Every distinct image or font URL in `events`, in order of appearance.
 *
 * @example
 * assetUrls([{ type: 2, timestamp: 0, data: { node } }]); // [{ url: "https://shop.example/logo.png", kind: "image" }]
 */
export function assetUrls(events: readonly unknown[], limit = MAX_URLS_PER_BATCH): AssetRef[] {
  const found = new Map<string, AssetKind>();
  const add = (url: string, kind: AssetKind) => {
    const trimmed = url.trim();
    if (found.size >= limit || found.has(trimmed) || trimmed.length > MAX_URL_LENGTH) return;
    if (!/^https?:\/\/[^\s]/i.test(trimmed)) return;
    found.set(trimmed, kind);
  };
  const css = (text: unknown) => {
    if (typeof text === "string" && text.includes("url(")) {
      for (const { url, kind } of cssUrls(text)) add(url, kind);
    }
  };
  const attributes = (tagName: string, attrs: Json) => {
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "style") {
        if (isObject(value)) {
          // A style mutation: property → value, or [value, priority].
          for (const v of Object.values(value)) css(Array.isArray(v) ? v[0] : v);
        } else css(value);
        continue;
      }
      if (typeof value !== "string") continue;
      if (name === "_cssText") css(value);
      else if (name === "srcset" || name === "imagesrcset") { for (const url of srcsetUrls(value)) add(url, "image"); }
      else if (name === "src" && !IMAGE_SRC_ELEMENTS.has(tagName)) continue;
      else if (URL_ATTRIBUTES.has(name)) add(value, "image");
      else if (name === "href" && (tagName === "image" || tagName === "link")) {
        const kind = tagName === "link" ? linkKind(attrs) : "image";
        if (kind) add(value, kind);
      }
    }
  };
  const node = (serialized: unknown, inStyle = false) => {
    if (!isObject(serialized)) return;
    if (serialized.type === TEXT) {
      if (inStyle || serialized.isStyle) css(serialized.textContent);
      return;
    }
    const tagName = typeof serialized.tagName === "string" ? serialized.tagName.toLowerCase() : "";
    if (serialized.type === ELEMENT && isObject(serialized.attributes)) attributes(tagName, serialized.attributes);
    if (Array.isArray(serialized.childNodes)) {
      for (const child of serialized.childNodes) node(child, tagName === "style");
    }
  };
  for (const event of events) {
    if (!isObject(event) || !isObject(event.data)) continue;
    const data = event.data;
    if (event.type === FULL_SNAPSHOT) node(data.node);
    if (event.type !== INCREMENTAL) continue;
    switch (data.source) {
      case SOURCE.mutation:
        for (const added of arrayOf(data.adds)) node(added.node);
        for (const changed of arrayOf(data.attributes)) {
          if (isObject(changed.attributes)) attributes("", changed.attributes);
        }
        for (const text of arrayOf(data.texts)) css(text.value);
        break;
      case SOURCE.styleSheetRule:
        for (const rule of arrayOf(data.adds)) css(rule.rule);
        break;
      case SOURCE.styleDeclaration:
        if (isObject(data.set)) css(data.set.value);
        break;
      case SOURCE.adoptedStyleSheet:
        for (const sheet of arrayOf(data.styles)) for (const rule of arrayOf(sheet.rules)) css(rule.rule);
        break;
      case SOURCE.font:
        css(data.fontSource);
        break;
    }
  }
  return [...found].map(([url, kind]) => ({ url, kind }));
}

function arrayOf(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** A `<link>`'s asset kind: icons and image or font preloads; nothing else (stylesheets are captured inline). */
function linkKind(attrs: Json): AssetKind | undefined {
  const rel = String(attrs.rel ?? "").toLowerCase().split(/\s+/);
  if (rel.includes("icon") || rel.includes("apple-touch-icon")) return "image";
  if (rel.includes("preload") || rel.includes("prefetch")) {
    if (attrs.as === "image") return "image";
    if (attrs.as === "font") return "font";
  }
  return undefined;
}

/**
 * The `url()`s of a piece of CSS: quoted or not, escaped quotes kept. URLs
 * inside an `@font-face` rule are fonts, every other one an image.
 */
export function cssUrls(text: string): AssetRef[] {
  const out: AssetRef[] = [];
  const pattern = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)/gi;
  for (const match of text.matchAll(pattern)) {
    const url = match[1] ?? match[2] ?? match[3] ?? "";
    if (url) out.push({ url, kind: insideFontFace(text, match.index) ? "font" : "image" });
  }
  return out;
}

/** Whether position `at` of `text` is inside an `@font-face { … }` block. */
function insideFontFace(text: string, at: number): boolean {
  const open = text.lastIndexOf("{", at);
  if (open < 0 || text.lastIndexOf("}", at) > open) return false;
  return /@font-face\s*$/i.test(text.slice(Math.max(0, open - 40), open));
}

/**
 * The URLs of a `srcset` (HTML's candidate-string syntax): a URL is a run of
 * non-space characters, trailing commas end a candidate, and descriptors
 * (`2x`, `640w`) run to the next comma.
 *
 * @example
 * srcsetUrls("a.png 1x, b.png 2x"); // ["a.png", "b.png"]
 */
export function srcsetUrls(srcset: string): string[] {
  return srcsetCandidates(srcset).map((candidate) => candidate.url);
}
