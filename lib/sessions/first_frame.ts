/**
 * A recording's first frame as a static HTML document: the first full
 * snapshot (rrweb's serialized DOM) written back as HTML, so the session page
 * can show it in a sandboxed `<iframe srcdoc>` before any of the player's code
 * has arrived (rrweb-player then takes over from the same snapshot).
 *
 * The snapshot comes from visitors' browsers, so it is hostile input: only
 * elements and attributes with well-formed names are written, every value is
 * escaped, and what could run or fetch on its own goes (scripts, event
 * handlers, `javascript:` URLs, frames' sources, plugins, `<base>`, refreshes,
 * preloads). The iframe's sandbox (no tokens: no scripts, no forms, a unique
 * origin) and the page's CSP stay the real fences; this keeps the document
 * inert even without them. Stylesheets come inlined (`_cssText`, as rrweb
 * captured them); images load from where the recording points, as the
 * replay's do.
 *
 * @module
 */

import type { RrwebEvent } from "@replaya/recorder/wire";

/** The first frame: the document, and the recorded viewport it was laid out in. */
export interface FirstFrame {
  html: string;
  width: number;
  height: number;
}

/** Beyond this much HTML the page is not inlined (the player shows the frame when it is ready). */
export const MAX_FIRST_FRAME_BYTES = 1_500_000;
const MAX_NODES = 100_000;
const MAX_DEPTH = 400;

const NAME = /^[a-zA-Z][a-zA-Z0-9-]*$/;
const ATTRIBUTE = /^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/;
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "source",
  "track",
  "wbr",
]);
/** Elements that are dropped with everything inside them. */
const DROPPED = new Set(["script", "noscript", "object", "embed", "applet", "base", "template", "portal"]);
/** Attributes holding a URL that is followed or run. */
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href", "poster", "data", "background"]);

interface SerializedNode {
  type: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
  name?: string;
}

/**
 * The first frame of `events` (a session's first events, in order): the
 * first full snapshot after a Meta event, written as HTML. Undefined when
 * there is none, it is malformed, or it is too large to inline.
 */
export function firstFrameOf(events: readonly RrwebEvent[]): FirstFrame | undefined {
  let viewport: { width: number; height: number } | undefined;
  for (const event of events) {
    const data = event.data as { width?: unknown; height?: unknown; node?: unknown } | undefined;
    if (event.type === 4) {
      const { width, height } = data ?? {};
      viewport = typeof width === "number" && typeof height === "number" && width > 0 && height > 0
        ? { width: Math.round(width), height: Math.round(height) }
        : undefined;
    } else if (event.type === 2 && viewport) {
      const html = snapshotHtml(data?.node);
      return html === undefined ? undefined : { html, ...viewport };
    }
  }
  return undefined;
}

/** A serialized document as HTML; undefined when malformed or over the limits. */
export function snapshotHtml(root: unknown): string | undefined {
  const out: string[] = ["<!DOCTYPE html>"];
  let bytes = 0;
  let nodes = 0;
  const write = (text: string) => {
    out.push(text);
    bytes += text.length;
  };
  const visit = (node: SerializedNode, depth: number, parent: string): boolean => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH || bytes > MAX_FIRST_FRAME_BYTES) return false;
    switch (node.type) {
      case 0:
        return children(node, depth, parent);
      case 2:
        return element(node, depth);
      case 3: {
        const text = typeof node.textContent === "string" ? node.textContent : "";
        write(parent === "style" ? rawStyle(text) : escapeText(text));
        return true;
      }
      default:
        // Doctypes (the frame is always standards mode), comments and CDATA are not written.
        return true;
    }
  };
  const children = (node: SerializedNode, depth: number, parent: string): boolean => {
    if (!Array.isArray(node.childNodes)) return true;
    for (const child of node.childNodes) {
      if (child === null || typeof child !== "object" || !visit(child, depth + 1, parent)) return false;
    }
    return true;
  };
  const element = (node: SerializedNode, depth: number): boolean => {
    const tag = typeof node.tagName === "string" ? node.tagName.toLowerCase() : "";
    if (!NAME.test(tag) || DROPPED.has(tag)) return true;
    const attributes = node.attributes && typeof node.attributes === "object" ? node.attributes : {};
    if (tag === "meta" && ("http-equiv" in attributes || "charset" in attributes)) return true;
    const cssText = typeof attributes._cssText === "string" ? attributes._cssText : undefined;
    if (tag === "link") {
      // A stylesheet rrweb inlined becomes its text; other links (preloads, icons, prefetches) go.
      if (cssText !== undefined) write(`<style>${rawStyle(cssText)}</style>`);
      else if (String(attributes.rel ?? "").toLowerCase() === "stylesheet") {
        write(`<link${attributesHtml(attributes)}>`);
      }
      return true;
    }
    write(`<${tag}${attributesHtml(attributes, tag)}>`);
    if (VOID.has(tag)) return true;
    if (tag === "style" && cssText !== undefined) write(rawStyle(cssText));
    else if (tag !== "iframe" && !children(node, depth, tag)) return false;
    write(`</${tag}>`);
    return true;
  };
  if (root === null || typeof root !== "object" || !visit(root as SerializedNode, 0, "")) return undefined;
  const html = out.join("");
  return html.length > MAX_FIRST_FRAME_BYTES ? undefined : html;
}

function attributesHtml(attributes: Record<string, unknown>, tag = ""): string {
  let html = "";
  for (const [rawName, value] of Object.entries(attributes)) {
    const name = rawName.toLowerCase();
    if (!ATTRIBUTE.test(name) || name.startsWith("on") || name.startsWith("rr_") || name === "_csstext") continue;
    if (name === "srcdoc" || (tag === "iframe" && name === "src")) continue;
    if (value === null || value === undefined || value === false || typeof value === "object") continue;
    const text = value === true ? "" : String(value);
    if (URL_ATTRIBUTES.has(name) && /^(javascript|vbscript):/i.test(text.replace(/[\s\p{Cc}]/gu, ""))) continue;
    html += ` ${name}="${escapeAttribute(text)}"`;
  }
  const { rr_width: width, rr_height: height, rr_dataURL: dataUrl } = attributes;
  // A blocked element keeps its box, as rrweb's rebuild draws it.
  if (typeof width === "string" && typeof height === "string") {
    html += ` style="${escapeAttribute(`width:${width};height:${height}`)}"`;
  }
  // A canvas or image rrweb inlined.
  if (tag === "img" && typeof dataUrl === "string" && dataUrl.startsWith("data:image/")) {
    html += ` src="${escapeAttribute(dataUrl)}"`;
  }
  return html;
}

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;");
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => c === "&" ? "&amp;" : c === '"' ? "&quot;" : c === "<" ? "&lt;" : "&gt;");
}

/** CSS inside `<style>`: raw text, except nothing may close the element early. */
function rawStyle(css: string): string {
  return css.replace(/<\/(style)/gi, "<\\/$1");
}
