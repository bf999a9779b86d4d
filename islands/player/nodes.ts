/**
 * A light index of the recorded page's nodes, built from full snapshots and
 * mutations in stream order, so a click or input can be labelled with its
 * target ("button “Buy now”") without asking the replayer, whose mirror only
 * holds the DOM at the current playback time.
 * @module
 */
import { isRecord } from "./guards.ts";
import { shorten } from "./format.ts";

/** rrweb-snapshot's serialized node types. */
const NodeType = { Document: 0, DocumentType: 1, Element: 2, Text: 3, CDATA: 4, Comment: 5 } as const;

interface Entry {
  type: number;
  tag?: string;
  attributes?: Record<string, unknown>;
  text?: string;
  parent?: number;
  children: number[];
}

// Elements a click usually means, even when it landed on an icon inside them.
const INTERACTIVE_TAGS = new Set(["a", "button", "input", "select", "textarea", "label", "summary", "option"]);
const INTERACTIVE_ROLES = new Set(["button", "link", "tab", "menuitem", "checkbox", "radio", "switch", "option"]);
// Their text is code or styling, never a label.
const SKIP_TEXT_TAGS = new Set(["script", "style", "noscript", "template"]);
// Form fields: their text content is (or may become) user input, never shown.
const FIELD_TAGS = new Set(["input", "select", "textarea"]);
// Too broad to name a click target by.
const DOCUMENT_TAGS = new Set(["html", "head", "body"]);

// Read better than the tag name in "Click on link “Pricing”".
const TAG_NOUN: Record<string, string> = { a: "link", img: "image" };

const MAX_ANCESTORS = 6;
const MAX_NAMELESS_CLIMB = 3;
const MAX_TEXT_NODES_VISITED = 300;
const MAX_LABEL = 40;

/** Node id → short description, kept current by {@link NodeIndex.reset} and {@link NodeIndex.applyMutation}. */
export class NodeIndex {
  #nodes = new Map<number, Entry>();

  /** Number of nodes indexed. */
  get size(): number {
    return this.#nodes.size;
  }

  /** Starts over from a full snapshot's root node (ids restart with each snapshot). */
  reset(root: unknown): void {
    this.#nodes.clear();
    this.#addTree(root, undefined);
  }

  /** Applies an rrweb mutation's adds, removes and text changes. */
  applyMutation(data: unknown): void {
    if (!isRecord(data)) return;
    for (const remove of arrayOf(data.removes)) {
      if (isRecord(remove) && typeof remove.id === "number") this.#remove(remove.id);
    }
    for (const add of arrayOf(data.adds)) {
      if (!isRecord(add) || typeof add.parentId !== "number") continue;
      const nextId = typeof add.nextId === "number" ? add.nextId : undefined;
      this.#addTree(add.node, add.parentId, nextId);
    }
    for (const change of arrayOf(data.texts)) {
      if (!isRecord(change) || typeof change.id !== "number") continue;
      const entry = this.#nodes.get(change.id);
      // Entries are our own copies: the snapshot events the replayer uses stay untouched.
      if (entry && typeof change.value === "string") entry.text = change.value;
    }
  }

  /**
   * Describes the node with this id, preferring the closest interactive
   * ancestor (a click on an icon inside a button names the button). Form
   * fields are named by label-like attributes only, never their value.
   */
  describe(id: number): string | undefined {
    let entry = this.#nodes.get(id);
    if (entry && entry.type !== NodeType.Element && entry.parent !== undefined) entry = this.#nodes.get(entry.parent);
    if (!entry || entry.type !== NodeType.Element) return undefined;
    const ancestors: Entry[] = [];
    for (let cursor: Entry | undefined = entry; cursor && ancestors.length < MAX_ANCESTORS;) {
      if (cursor.type === NodeType.Element) ancestors.push(cursor);
      cursor = cursor.parent === undefined ? undefined : this.#nodes.get(cursor.parent);
    }
    const interactive = ancestors.find(isInteractive);
    if (interactive) return this.#label(interactive);
    // An unnamed target (an icon, a bare <span>) is better named by a close ancestor.
    for (const candidate of ancestors.slice(0, MAX_NAMELESS_CLIMB)) {
      if (DOCUMENT_TAGS.has(candidate.tag ?? "")) break;
      const label = this.#label(candidate);
      if (label !== candidate.tag) return label;
    }
    return this.#label(entry);
  }

  #label(entry: Entry): string {
    const tag = entry.tag ?? "element";
    const attr = (name: string) => {
      const value = entry.attributes?.[name];
      return typeof value === "string" ? value.trim() : "";
    };
    const text = FIELD_TAGS.has(tag) ? "" : this.#textOf(entry);
    const name = text || attr("aria-label") || attr("title") || attr("alt") || attr("placeholder");
    if (name) return `${TAG_NOUN[tag] ?? tag} “${shorten(name, MAX_LABEL)}”`;
    if (attr("id")) return `${tag}#${shorten(attr("id"), MAX_LABEL)}`;
    if (attr("name")) return `${tag}[name=${shorten(attr("name"), MAX_LABEL)}]`;
    const firstClass = attr("class").split(/\s+/)[0];
    if (firstClass) return `${tag}.${shorten(firstClass, MAX_LABEL)}`;
    return tag;
  }

  #textOf(entry: Entry): string {
    const parts: string[] = [];
    let length = 0;
    let visited = 0;
    const stack = [...entry.children].reverse();
    while (stack.length && visited < MAX_TEXT_NODES_VISITED && length < MAX_LABEL * 2) {
      const node = this.#nodes.get(stack.pop()!);
      visited++;
      if (!node) continue;
      if (node.type === NodeType.Text && node.text) {
        const piece = node.text.replace(/\s+/g, " ").trim();
        if (piece) {
          parts.push(piece);
          length += piece.length + 1;
        }
      } else if (
        node.type === NodeType.Element && !SKIP_TEXT_TAGS.has(node.tag ?? "") && !FIELD_TAGS.has(node.tag ?? "")
      ) {
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]);
      }
    }
    return parts.join(" ");
  }

  #addTree(root: unknown, parent: number | undefined, nextId?: number): void {
    const stack: Array<{ node: unknown; parent: number | undefined; nextId?: number }> = [
      { node: root, parent, nextId },
    ];
    while (stack.length) {
      const { node, parent, nextId } = stack.pop()!;
      if (!isRecord(node) || typeof node.id !== "number" || typeof node.type !== "number") continue;
      const id = node.id;
      // A re-added id is a move: detach it from its old parent, keep its subtree.
      const previous = this.#nodes.get(id);
      if (previous) this.#detach(id);
      const children = arrayOf(node.childNodes);
      const entry: Entry = { type: node.type, parent, children: previous && !children.length ? previous.children : [] };
      if (node.type === NodeType.Element && typeof node.tagName === "string") {
        entry.tag = node.tagName.toLowerCase();
        if (isRecord(node.attributes)) entry.attributes = node.attributes;
      } else if (node.type === NodeType.Text && typeof node.textContent === "string" && node.isStyle !== true) {
        entry.text = node.textContent;
      }
      this.#nodes.set(id, entry);
      if (parent !== undefined) this.#attach(parent, id, nextId);
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i], parent: id });
    }
  }

  #attach(parent: number, id: number, nextId?: number): void {
    const parentEntry = this.#nodes.get(parent);
    if (!parentEntry) return;
    const at = nextId === undefined ? -1 : parentEntry.children.indexOf(nextId);
    if (at < 0) parentEntry.children.push(id);
    else parentEntry.children.splice(at, 0, id);
  }

  #detach(id: number): void {
    const entry = this.#nodes.get(id);
    if (entry?.parent === undefined) return;
    const siblings = this.#nodes.get(entry.parent)?.children;
    const at = siblings?.indexOf(id) ?? -1;
    if (siblings && at >= 0) siblings.splice(at, 1);
  }

  #remove(id: number): void {
    this.#detach(id);
    const stack = [id];
    while (stack.length) {
      const current = stack.pop()!;
      const entry = this.#nodes.get(current);
      if (!entry) continue;
      this.#nodes.delete(current);
      stack.push(...entry.children);
    }
  }
}

function isInteractive(entry: Entry): boolean {
  if (entry.tag && INTERACTIVE_TAGS.has(entry.tag)) return true;
  const role = entry.attributes?.role;
  return typeof role === "string" && INTERACTIVE_ROLES.has(role);
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
