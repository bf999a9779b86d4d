/**
 * `JSON.stringify` in slices. A full snapshot of a large page is megabytes
 * of JSON: stringified in one go it holds the main thread for tens of
 * milliseconds. `JsonJob` writes the same text (plain data: no `toJSON`
 * on large containers) piece by piece, each small subtree natively, and
 * stops whenever its time slice is used up.
 * @module
 */
import { utf8Length } from "./size.ts";

/**
 * Containers with at most this many objects inside are stringified natively,
 * in one call (~100 KB of JSON, well under a millisecond): a mutation event of
 * hundreds of nodes goes in one call, and only snapshots are taken apart.
 */
const SMALL = 2000;
/** Deeper than this is taken for a cycle (JSON.stringify would throw too). */
const MAX_DEPTH = 2000;

type Container = Record<string, unknown> | unknown[];

/** Whether `value` holds at most SMALL objects (counting stops past that). */
function small(value: object): boolean {
  // Only objects go on the stack: most values are strings and numbers.
  const stack: object[] = [value];
  let n = 0;
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (++n > SMALL) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item !== null && typeof item === "object") stack.push(item);
      }
    } else {
      for (const k in v) {
        const item = (v as Record<string, unknown>)[k];
        if (item !== null && typeof item === "object") stack.push(item);
      }
    }
  }
  return true;
}

interface Frame {
  value: Container;
  keys?: string[];
  i: number;
  written: number;
}

/** One value being serialised; `run` until it returns the text. */
export class JsonJob {
  #parts: string[] = [];
  #stack: Frame[] = [];
  #text?: string;
  /** UTF-8 bytes written so far (all of them once done). */
  bytes = 0;

  constructor(value: unknown) {
    if (value !== null && typeof value === "object" && !small(value)) this.#open("", value as Container);
    else this.#text = JSON.stringify(value) ?? "null";
    if (this.#text !== undefined) this.bytes = utf8Length(this.#text);
  }

  /** Works while `timeLeft()` is positive; returns the JSON text once complete. */
  run(timeLeft: () => number): string | undefined {
    const stack = this.#stack;
    while (this.#text === undefined) {
      if (timeLeft() <= 0) return undefined;
      // A few items per clock read: reading the clock is not free either.
      for (let n = 0; n < 8 && stack.length > 0; n++) this.#step(stack[stack.length - 1]);
      if (stack.length === 0) {
        this.#text = this.#parts.join("");
        this.#parts = [];
      }
    }
    return this.#text;
  }

  #emit(text: string): void {
    this.#parts.push(text);
    this.bytes += utf8Length(text);
  }

  #open(prefix: string, value: Container): void {
    if (this.#stack.length >= MAX_DEPTH) throw new TypeError("replaya: event too deep to serialise");
    const array = Array.isArray(value);
    this.#emit(prefix + (array ? "[" : "{"));
    this.#stack.push({ value, keys: array ? undefined : Object.keys(value), i: 0, written: 0 });
  }

  #step(f: Frame): void {
    const length = f.keys ? f.keys.length : (f.value as unknown[]).length;
    if (f.i >= length) {
      this.#emit(f.keys ? "}" : "]");
      this.#stack.pop();
      return;
    }
    const key = f.keys?.[f.i];
    const v = key === undefined ? (f.value as unknown[])[f.i] : (f.value as Record<string, unknown>)[key];
    f.i++;
    // JSON.stringify leaves these out of objects (and writes null in arrays).
    const skipped = v === undefined || typeof v === "function" || typeof v === "symbol";
    if (skipped && key !== undefined) return;
    const prefix = (f.written++ > 0 ? "," : "") + (key === undefined ? "" : JSON.stringify(key) + ":");
    if (v !== null && typeof v === "object" && !small(v)) this.#open(prefix, v as Container);
    else this.#emit(prefix + (skipped ? "null" : JSON.stringify(v) ?? "null"));
  }
}
