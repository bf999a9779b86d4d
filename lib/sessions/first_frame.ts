/**
 * A recording's first frame as a static HTML document: the first full
 * snapshot (rrweb's serialized DOM) written back as HTML, so the session page
 * can show it in a sandboxed `<iframe srcdoc>` before any of the player's code
 * has arrived (rrweb-player then takes over from the same snapshot).
 *
 * The snapshot comes from visitors' browsers, so it is hostile input: only
 * elements and attributes with well-formed names are written (lower-cased
 * before any check), every value is escaped, and what could run or fetch on
 * its own goes (scripts, event handlers, `javascript:` URLs, frames, plugins,
 * `<base>`, refreshes, preloads). CSS is the one raw text, and holds no `<`:
 * inside `<svg>` and `<math>` the parser reads `<style>`'s content as markup,
 * so there it is escaped like any text. The iframe's sandbox (no tokens: no
 * scripts, no forms, a unique origin) and the page's CSP stay the real
 * fences; this keeps the document inert even without them. Stylesheets come
 * inlined (`_cssText`, as rrweb captured them); images load from where the
 * recording points, as the replay's do, but never from the viewer's own
 * network (loopback, private and link-local addresses, single-label names:
 * shared/intranet.ts).
 *
 * @module
 */

import type { RrwebEvent } from "@replaya/recorder/wire";
import { attributeWithoutIntranetUrls, cssWithoutIntranetUrls, type IntranetOptions } from "../../shared/intranet.ts";

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
const DROPPED = new Set([
  "script",
  "noscript",
  "object",
  "embed",
  "applet",
  "base",
  "template",
  "portal",
  "iframe",
  "frame",
  "frameset",
]);
/** Elements whose content the HTML parser reads as foreign content (SVG, MathML), where `<style>` is not raw text. */
const FOREIGN = new Set(["svg", "math"]);
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
 * there is none, it is malformed, or it is too large to inline. `options`
 * say which URLs count as the viewer's network (loopback ones may stay for
 * a dashboard opened on loopback, as in the player).
 */
export function firstFrameOf(events: readonly RrwebEvent[], options: IntranetOptions = {}): FirstFrame | undefined {
  let viewport: { width: number; height: number } | undefined;
  for (const event of events) {
    const data = event.data as { width?: unknown; height?: unknown; node?: unknown } | undefined;
    if (event.type === 4) {
      const { width, height } = data ?? {};
      viewport = typeof width === "number" && typeof height === "number" && width > 0 && height > 0
        ? { width: Math.round(width), height: Math.round(height) }
        : undefined;
    } else if (event.type === 2 && viewport) {
      const html = snapshotHtml(data?.node, options);
      return html === undefined ? undefined : { html, ...viewport };
    }
  }
  return undefined;
}

/** A serialized document as HTML; undefined when malformed or over the limits. */
export function snapshotHtml(root: unknown, options: IntranetOptions = {}): string | undefined {
  const out: string[] = ["<!DOCTYPE html>"];
  let bytes = 0;
  let nodes = 0;
  const write = (text: string) => {
    out.push(text);
    bytes += text.length;
  };
  const visit = (node: SerializedNode, depth: number, foreign: boolean): boolean => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH || bytes > MAX_FIRST_FRAME_BYTES) return false;
    switch (node.type) {
      case 0:
        return children(node, depth, foreign);
      case 2:
        return element(node, depth, foreign);
      case 3:
        write(escapeText(typeof node.textContent === "string" ? node.textContent : ""));
        return true;
      default:
        // Doctypes (the frame is always standards mode), comments and CDATA are not written.
        return true;
    }
  };
  const children = (node: SerializedNode, depth: number, foreign: boolean): boolean => {
    if (!Array.isArray(node.childNodes)) return true;
    for (const child of node.childNodes) {
      if (child === null || typeof child !== "object" || !visit(child, depth + 1, foreign)) return false;
    }
    return true;
  };
  const element = (node: SerializedNode, depth: number, foreign: boolean): boolean => {
    const tag = typeof node.tagName === "string" ? node.tagName.toLowerCase() : "";
    if (!NAME.test(tag) || DROPPED.has(tag)) return true;
    const attributes = lowerCased(node.attributes);
    if (tag === "meta" && (attributes.has("http-equiv") || attributes.has("charset"))) return true;
    const cssText = attributes.get("_csstext");
    const inForeign = foreign || FOREIGN.has(tag);
    if (tag === "link") {
      // A stylesheet rrweb inlined becomes its text; other links (preloads, icons, prefetches) go.
      if (typeof cssText === "string") write(`<style>${styleText(cssText, inForeign, options)}</style>`);
      else if (String(attributes.get("rel") ?? "").toLowerCase() === "stylesheet") {
        write(`<link${attributesHtml(attributes, "link", options)}>`);
      }
      return true;
    }
    write(`<${tag}${attributesHtml(attributes, tag, options)}>`);
    if (VOID.has(tag)) return true;
    // A style's content is its text alone: an element inside it would be written as tags in raw text.
    if (tag === "style") write(styleText(typeof cssText === "string" ? cssText : textOf(node), inForeign, options));
    else if (!children(node, depth, inForeign)) return false;
    write(`</${tag}>`);
    return true;
  };
  if (root === null || typeof root !== "object" || !visit(root as SerializedNode, 0, false)) return undefined;
  const html = out.join("");
  return html.length > MAX_FIRST_FRAME_BYTES ? undefined : html;
}

/** The attributes by lower-cased name, the first of a name winning (as the HTML parser keeps the first). */
function lowerCased(attributes: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (attributes === null || typeof attributes !== "object") return out;
  for (const [name, value] of Object.entries(attributes)) {
    const lower = name.toLowerCase();
    if (!out.has(lower)) out.set(lower, value);
  }
  return out;
}

function attributesHtml(attributes: Map<string, unknown>, tag: string, options: IntranetOptions): string {
  let html = "";
  for (const [name, value] of attributes) {
    if (!ATTRIBUTE.test(name) || name.startsWith("on") || name.startsWith("rr_") || name === "_csstext") continue;
    if (name === "srcdoc") continue;
    if (value === null || value === undefined || value === false || typeof value === "object") continue;
    const text = value === true ? "" : String(value);
    if (URL_ATTRIBUTES.has(name) && /^(javascript|vbscript):/i.test(text.replace(/[\s\p{Cc}]/gu, ""))) continue;
    const safe = attributeWithoutIntranetUrls(name, text, options);
    if (safe !== undefined) html += ` ${name}="${escapeAttribute(safe)}"`;
  }
  const width = attributes.get("rr_width");
  const height = attributes.get("rr_height");
  const dataUrl = attributes.get("rr_dataurl");
  // A blocked element keeps its box, as rrweb's rebuild draws it.
  if (typeof width === "string" && typeof height === "string") {
    html += ` style="${escapeAttribute(cssWithoutIntranetUrls(`width:${width};height:${height}`, options))}"`;
  }
  // A canvas or image rrweb inlined.
  if (tag === "img" && typeof dataUrl === "string" && dataUrl.startsWith("data:image/")) {
    html += ` src="${escapeAttribute(dataUrl)}"`;
  }
  return html;
}

/** A style element's text: the text nodes inside it, as rrweb recorded them. */
function textOf(node: SerializedNode): string {
  const texts = Array.isArray(node.childNodes) ? node.childNodes.filter((child) => child?.type === 3) : [];
  return texts.map((child) => typeof child.textContent === "string" ? child.textContent : "").join("");
}

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;");
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (c) => c === "&" ? "&amp;" : c === '"' ? "&quot;" : c === "<" ? "&lt;" : "&gt;");
}

/**
 * CSS for inside `<style>`, without URLs on the viewer's network. In HTML it is
 * raw text, so it holds no `<` at all (`\3c ` is the same character to CSS):
 * nothing can end the element or open another, whatever the parser makes of
 * the elements around it. In SVG and MathML the parser reads it as markup, so
 * there it is escaped like any text (the parser decodes it back).
 */
function styleText(css: string, foreign: boolean, options: IntranetOptions): string {
  const safe = cssWithoutIntranetUrls(css, options);
  // `<!--` is CSS's ignorable CDO token, which a legacy stylesheet may open with; escaped, it would become a selector.
  return foreign ? escapeText(safe) : safe.replace(/<!--/g, "").replace(/</g, "\\3c ");
}
