/**
 * Names the element a friction signal points at, for the report: a short
 * selector-like handle plus its visible text (`button#buy “Buy now”`), from
 * the session's full snapshots and mutation adds, read in stream order. The
 * index is bounded (nodes kept, text read); form fields are named by their
 * label-like attributes, never their value. The player has its own, richer
 * labeller (islands/player/nodes.ts): islands and the server share no code
 * but the wire types.
 *
 * @module
 */

const DOCUMENT = 0;
const ELEMENT = 2;
const TEXT = 3;
const MAX_NODES = 200_000;
const MAX_LABEL = 40;
const MAX_TEXT_VISITS = 200;
const MAX_CLIMB = 6;
const INTERACTIVE = new Set(["a", "button", "input", "select", "textarea", "label", "summary", "option"]);
const ROLES = new Set(["button", "link", "tab", "menuitem", "checkbox", "radio", "switch", "option"]);
const FIELDS = new Set(["input", "select", "textarea"]);
const NO_TEXT = new Set(["script", "style", "noscript", "template"]);

interface Node {
  tag?: string;
  /** The document itself (a page scroll's target). */
  document?: boolean;
  attrs?: Record<string, unknown>;
  text?: string;
  parent?: number;
  children: number[];
}

/** Node id → element handle, for one page at a time (ids restart with each full snapshot). */
export class ElementIndex {
  #nodes = new Map<number, Node>();

  /** Starts over from a full snapshot's root node. */
  reset(root: unknown): void {
    this.#nodes.clear();
    this.#add(root, undefined);
  }

  /** A mutation's adds (removed ids keep their entry: a signal may name a node that is gone now). */
  applyMutation(data: Record<string, unknown>): void {
    if (!Array.isArray(data.adds)) return;
    for (const add of data.adds) {
      if (isObject(add) && typeof add.parentId === "number") this.#add(add.node, add.parentId);
    }
  }

  /** `tag#id “text”` for the node (or its closest interactive ancestor); undefined when unknown. */
  describe(id: number | undefined): string | undefined {
    let node = id === undefined ? undefined : this.#nodes.get(id);
    if (node?.document) return "document";
    if (node && node.tag === undefined && node.parent !== undefined) node = this.#nodes.get(node.parent);
    if (!node?.tag) return undefined;
    for (let cursor: Node | undefined = node, i = 0; cursor && i < MAX_CLIMB; i++) {
      if (cursor.tag && isInteractive(cursor)) {
        node = cursor;
        break;
      }
      cursor = cursor.parent === undefined ? undefined : this.#nodes.get(cursor.parent);
    }
    const attr = (name: string) => typeof node!.attrs?.[name] === "string" ? (node!.attrs[name] as string).trim() : "";
    let handle = node.tag!;
    if (attr("id")) handle += `#${short(attr("id"))}`;
    else if (attr("name")) handle += `[name=${short(attr("name"))}]`;
    else if (attr("class")) handle += `.${short(attr("class").split(/\s+/)[0])}`;
    const text = (FIELDS.has(node.tag!) ? "" : this.#textOf(node)) || attr("aria-label") || attr("title") ||
      attr("alt") || attr("placeholder");
    return text ? `${handle} “${short(text)}”` : handle;
  }

  #textOf(node: Node): string {
    const parts: string[] = [];
    const stack = [...node.children].reverse();
    for (let visits = 0; stack.length && visits < MAX_TEXT_VISITS && parts.join(" ").length < MAX_LABEL; visits++) {
      const child = this.#nodes.get(stack.pop()!);
      if (!child) continue;
      if (child.text) parts.push(child.text);
      else if (child.tag && !NO_TEXT.has(child.tag) && !FIELDS.has(child.tag)) {
        for (let i = child.children.length - 1; i >= 0; i--) stack.push(child.children[i]);
      }
    }
    return parts.join(" ").replace(/\s+/g, " ").trim();
  }

  #add(root: unknown, parent: number | undefined): void {
    const stack: Array<{ node: unknown; parent: number | undefined }> = [{ node: root, parent }];
    while (stack.length && this.#nodes.size < MAX_NODES) {
      const { node, parent } = stack.pop()!;
      if (!isObject(node) || typeof node.id !== "number") continue;
      const entry: Node = { parent, children: [] };
      if (node.type === DOCUMENT) entry.document = true;
      if (node.type === ELEMENT && typeof node.tagName === "string") {
        entry.tag = node.tagName.toLowerCase();
        if (isObject(node.attributes)) entry.attrs = node.attributes;
      } else if (node.type === TEXT && typeof node.textContent === "string" && node.isStyle !== true) {
        entry.text = node.textContent.slice(0, MAX_LABEL * 4);
      }
      this.#nodes.set(node.id, entry);
      if (parent !== undefined) this.#nodes.get(parent)?.children.push(node.id);
      const children = Array.isArray(node.childNodes) ? node.childNodes : [];
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], parent: node.id });
    }
  }
}

function isInteractive(node: Node): boolean {
  const role = node.attrs?.role;
  return INTERACTIVE.has(node.tag!) || (typeof role === "string" && ROLES.has(role));
}

function short(value: string): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > MAX_LABEL ? `${flat.slice(0, MAX_LABEL - 1)}…` : flat;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
