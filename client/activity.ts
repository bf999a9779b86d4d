/**
 * Readable activity lines from rrweb events, for `sessions tail` and the
 * MCP `tail_session` tool: page views, clicks, inputs (never their values),
 * errors and failed requests. Element names come from the page's snapshot
 * and its mutations (a small id → element map per page), so a click reads
 * `click button#buy "Buy now"`.
 *
 * @module
 */

import { EventType, IncrementalSource, MouseInteraction, type RrwebEvent } from "../recorder/src/wire.ts";

/** One line of activity. */
export interface Activity {
  at: number;
  kind: "page" | "click" | "input" | "error" | "network" | "gap";
  text: string;
}

interface SerializedNode {
  id?: number;
  type?: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  textContent?: string;
  childNodes?: SerializedNode[];
}

const MAX_NODES = 50_000;
const MAX_TEXT = 40;

/** Turns a session's events into activity, remembering the page's elements between batches. */
export class ActivityReader {
  #nodes = new Map<number, { tag: string; label: string; parent?: number }>();
  #texts = new Map<number, { parent: number; text: string }>();
  #lastInput = new Map<number, number>();

  /** The activity lines of one batch of events, in order. */
  read(events: RrwebEvent[]): Activity[] {
    const out: Activity[] = [];
    for (const event of events) {
      const line = this.#one(event);
      if (line) out.push(line);
    }
    return out;
  }

  #one(event: RrwebEvent): Activity | undefined {
    const data = (event.data ?? {}) as Record<string, unknown>;
    const at = event.timestamp;
    switch (event.type) {
      case EventType.Meta:
        return typeof data.href === "string" ? { at, kind: "page", text: `page ${data.href}` } : undefined;
      case EventType.FullSnapshot:
        this.#nodes.clear();
        this.#texts.clear();
        this.#walk(data.node as SerializedNode | undefined, undefined);
        return undefined;
      case EventType.IncrementalSnapshot:
        if (data.source === IncrementalSource.Mutation) {
          for (const add of (Array.isArray(data.adds) ? data.adds : []) as Array<Record<string, unknown>>) {
            this.#walk(
              add.node as SerializedNode | undefined,
              typeof add.parentId === "number" ? add.parentId : undefined,
            );
          }
        } else if (data.source === IncrementalSource.MouseInteraction) {
          if (data.type === MouseInteraction.Click || data.type === MouseInteraction.DblClick) {
            const what = data.type === MouseInteraction.DblClick ? "double-click" : "click";
            return { at, kind: "click", text: `${what} ${this.describe(data.id)}` };
          }
        } else if (data.source === IncrementalSource.Input && typeof data.id === "number") {
          // One line per field per 2 s of typing, never the value.
          const last = this.#lastInput.get(data.id);
          this.#lastInput.set(data.id, at);
          if (last !== undefined && at - last < 2000) return undefined;
          return { at, kind: "input", text: `input ${this.describe(data.id)}` };
        }
        return undefined;
      case EventType.Custom: {
        const payload = (data.payload ?? {}) as Record<string, unknown>;
        if (data.tag === "replaya.error") {
          return { at, kind: "error", text: `error ${short(String(payload.message ?? "Error"), 160)}` };
        }
        if (data.tag === "replaya.network") {
          const status = Number(payload.status ?? 0);
          if (status >= 400 || status === 0 || payload.error) {
            return {
              at,
              kind: "network",
              text: `request failed ${payload.method ?? ""} ${payload.url ?? ""} ${status || payload.error || ""}`
                .replace(/\s+/g, " ").trim(),
            };
          }
        }
        if (data.tag === "replaya.gap") return { at, kind: "gap", text: "gap: the recorder dropped events here" };
        return undefined;
      }
    }
    return undefined;
  }

  /** `tag#id.class "text"` of a node, or `node <id>` when unknown. */
  describe(id: unknown): string {
    const node = typeof id === "number" ? this.#nodes.get(id) : undefined;
    if (!node) {
      const text = typeof id === "number" ? this.#texts.get(id) : undefined;
      return text ? this.describe(text.parent) : `node ${id}`;
    }
    let text = "";
    for (const [, t] of this.#texts) {
      if (t.parent === id && t.text) {
        text = t.text;
        break;
      }
    }
    return text ? `${node.label} "${short(text, MAX_TEXT)}"` : node.label;
  }

  #walk(root: SerializedNode | undefined, parent: number | undefined): void {
    const stack: Array<[SerializedNode, number | undefined]> = root ? [[root, parent]] : [];
    while (stack.length) {
      const [node, parentId] = stack.pop()!;
      if (typeof node?.id !== "number" || this.#nodes.size >= MAX_NODES) continue;
      if (node.type === 2 && typeof node.tagName === "string") {
        this.#nodes.set(node.id, { tag: node.tagName, label: label(node), parent: parentId });
      } else if (node.type === 3 && parentId !== undefined && typeof node.textContent === "string") {
        const text = node.textContent.replace(/\s+/g, " ").trim();
        if (text) this.#texts.set(node.id, { parent: parentId, text });
      }
      for (const child of Array.isArray(node.childNodes) ? node.childNodes : []) stack.push([child, node.id]);
    }
  }
}

function label(node: SerializedNode): string {
  const attrs = node.attributes ?? {};
  let out = node.tagName!.toLowerCase();
  if (typeof attrs.id === "string" && attrs.id) out += `#${attrs.id}`;
  if (typeof attrs.class === "string" && attrs.class.trim()) {
    out += attrs.class.trim().split(/\s+/).slice(0, 2).map((c) => `.${c}`).join("");
  }
  if (typeof attrs.name === "string" && attrs.name) out += `[name=${attrs.name}]`;
  return out;
}

function short(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** `HH:MM:SS` (UTC) of a time, for activity lines. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
