/**
 * Server-side redaction: common PII in a recording is replaced with a marker
 * (`[redacted:email]`) before anything is stored. No I/O, no state.
 *
 * Every string value of an event is scanned, wherever it sits (text nodes,
 * attribute values, input values, mutation texts, custom and plugin payloads,
 * console and error messages, network URLs, identify traits, meta hrefs);
 * keys, numbers, booleans and structural strings (tag names, custom tags,
 * doctype ids) are never touched, so node ids and types, and so rrweb's DOM
 * structure, stay as they were. The identified user id is kept: it is the
 * identity the site chose to send, and the user index is keyed on it.
 *
 * Bounded time, because every visitor writes the input:
 * - every built-in pattern starts at a token boundary and has bounded,
 *   unambiguous quantifiers (no group that can split the same digits two
 *   ways), so each position is tried a bounded number of times; checks a
 *   regex cannot do (Luhn, IBAN mod 97, a phone's digit count) run on matches;
 * - configured patterns run on RE2 (re2js), which is linear in its input
 *   whatever the pattern: an operator's pattern cannot backtrack;
 * - strings longer than a window are scanned window by window, overlapping by
 *   the longest match, so one regex call never holds the event loop long;
 *   {@link redactEvents} yields between slices and gives up on a batch whose
 *   scan outlasts its budget ({@link RedactionBudgetError}): the caller then
 *   stores none of it.
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { RrwebEvent } from "@replaya/recorder/wire";

/** A named extra pattern from the configuration (REPLAYA_REDACT_PATTERNS), in RE2 syntax. */
export interface RedactPattern {
  name: string;
  source: string;
}

/** Longest extra pattern source, and how many there may be. */
export const MAX_PATTERN_LENGTH = 200;
export const MAX_PATTERNS = 20;

/** Keys whose string values are structure, not content. */
const STRUCTURAL_KEYS = new Set(["tagName", "tag", "publicId", "systemId", "userId", "rr_dataURL", "method"]);

/** A real data URL (images, fonts, canvas frames): binary payloads, left alone. */
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+[;,]/;

/** File extensions that are no top-level domain: `name@2x.png` in a srcset is an image, not an address. */
const FILE_TYPES =
  "png|jpe?g|gif|webp|avif|svg|ico|bmp|css|js|mjs|json|map|woff2?|ttf|otf|eot|mp[34]|webm|wav|pdf|html?";

// Each alternative is one named group; the replace callback validates what a regex cannot.
const BUILT_IN = [
  // JWT: three base64url segments, the first two JSON objects ("eyJ").
  String.raw`(?<jwt>(?<![\w-])eyJ[\w-]{4,8192}\.eyJ[\w-]{4,8192}\.[\w-]{0,8192})`,
  // Bearer tokens, as in an Authorization header.
  String.raw`(?<bearer>(?<![\w-])[Bb]earer[ \t]{1,8}[\w.~+/-]{8,4096}={0,2})`,
  // Emails: the local part and domain labels bounded (RFC 5321 lengths); not file names (`logo@2x.png`).
  String
    .raw`(?<email>(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,7}\.[A-Za-z]{2,63}(?![\w-])(?<!\.(?:${FILE_TYPES})))`,
  // IBAN: country, check digits, 11–30 alphanumerics, optionally in groups of four.
  String.raw`(?<iban>(?<![\w-])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![\w-]))`,
  // Card numbers: 13–19 digits, spaces or dashes between groups; a known network prefix (checked with Luhn).
  String.raw`(?<card>(?<![\w.+-])(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6[05])\d(?:[ -]?\d){11,17}(?![\w-]|\.\d))`,
  // Phone numbers: international (+, then one run of digits and separators, its digits counted in the callback:
  // a run of optional groups could split the same digits many ways) or North American with separators.
  String
    .raw`(?<phone>(?<![\w+.-])(?:\+\d[\d .()-]{5,24}\d|\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}[ .-]\d{3}[ .-]\d{4})(?![\w-]|\.\d))`,
];

/** Strings longer than this are scanned in windows of this size: no single regex call holds the event loop long. */
export const WINDOW_CHARS = 64 * 1024;
/** Context a window reads before its start, for the look-behinds (one character; some to spare). */
const CONTEXT_BEFORE = 16;
/** The longest built-in match (a JWT's three segments) plus its look-ahead: windows overlap by this much. */
const BUILT_IN_MAX_MATCH = 3 * 8192 + 16;
/**
 * Configured patterns can be unbounded (`[A-Z]{2,}`): in strings longer than a window, a match longer than this
 * may be cut at a window's end (its start is still redacted).
 */
const CUSTOM_MAX_MATCH = 4096;

/** A scan's steps: the generator yields between windows, so a caller can let the event loop run. */
type Scan = Generator<void, string>;

/** One pattern pass: every match replaced in a short string, or the matches of a window's chunk. */
interface Pass {
  /** How far a window's chunk reaches past the window, so a match starting in it is seen whole. */
  overlap: number;
  all(value: string): string;
  /** Matches in `chunk` from `from` on, in order: [start, end, replacement]. */
  matches(chunk: string, from: number): Iterable<[number, number, string]>;
}

/** A compiled redactor: the built-in patterns and the configured ones, in one pass each. */
export interface Redactor {
  /** Redacts one string (metadata, traits: a few KiB at most). */
  text(value: string): string;
  /** Redacts one string of any length in steps (see {@link redactEvents}). */
  scan(value: string): Scan;
}

/**
 * Compiles the built-in patterns and `extra` ones (validated: see
 * {@link validatePattern}). Compile once, use for every batch.
 */
export function createRedactor(extra: RedactPattern[] = []): Redactor {
  const builtIn = builtInPass();
  const custom = extra.map(({ name, source }) => customPass(RE2JS.compile(source), `[redacted:${name}]`));
  function* plain(value: string): Scan {
    // Cheap gate: every built-in pattern needs a digit, an "@", "eyJ" or "earer".
    let out = value.length < 7 || !MAYBE.test(value) ? value : yield* windowed(value, builtIn);
    for (const pass of custom) out = yield* windowed(out, pass);
    return out;
  }
  function* scan(value: string): Scan {
    const out = yield* plain(value);
    return out.includes("%") ? yield* percentEncoded(out, plain) : out;
  }
  // Most strings fit a window: replaced in one call each, no generator (a batch holds thousands of them).
  const short = (value: string): string => {
    let out = value.length < 7 || !MAYBE.test(value) ? value : builtIn.all(value);
    for (const pass of custom) out = pass.all(out);
    return out.includes("%") ? drain(percentEncoded(out, plain)) : out;
  };
  return { scan, text: (value) => value.length <= WINDOW_CHARS ? short(value) : drain(scan(value)) };
}

function builtInPass(): Pass {
  const source = BUILT_IN.join("|");
  const all = new RegExp(source, "g");
  const marker = (match: string, groups: Record<string, string | undefined>): string => {
    if (groups.card !== undefined) return luhn(match) ? "[redacted:card]" : match;
    if (groups.iban !== undefined) return ibanValid(match) ? "[redacted:iban]" : match;
    if (groups.phone !== undefined) return phoneDigits(match) ? "[redacted:phone]" : match;
    if (groups.email !== undefined) return "[redacted:email]";
    if (groups.jwt !== undefined) return "[redacted:jwt]";
    return "[redacted:token]";
  };
  return {
    overlap: BUILT_IN_MAX_MATCH,
    all: (value) => value.replace(all, (match, ...args) => marker(match, args[args.length - 1])),
    *matches(chunk, from) {
      const re = new RegExp(source, "g"); // its own lastIndex: a window's matches are taken while others wait
      re.lastIndex = from;
      for (let m = re.exec(chunk); m; m = re.exec(chunk)) {
        yield [m.index, m.index + m[0].length, marker(m[0], m.groups ?? {})];
      }
    },
  };
}

function customPass(re: RE2JS, marker: string): Pass {
  return {
    overlap: CUSTOM_MAX_MATCH,
    all: (value) => re.matcher(value).replaceAll(marker),
    *matches(chunk, from) {
      const m = re.matcher(chunk);
      for (let at = from; at <= chunk.length && m.find(at);) {
        yield [m.start(), m.end(), marker];
        at = m.end() > m.start() ? m.end() : m.end() + 1;
      }
    },
  };
}

/**
 * Applies `pass` to `value`; past one window, window by window (yielding after
 * each), each chunk reaching `overlap` beyond its window so a match that
 * starts inside it is replaced whole, and a little before it for look-behinds.
 */
function* windowed(value: string, pass: Pass): Scan {
  if (value.length <= WINDOW_CHARS) return pass.all(value);
  const out: string[] = [];
  let done = 0; // value[0, done) is in out
  let resume = 0; // where the scan goes on: after the last match, replaced or kept (a Luhn-invalid "card")
  for (let start = 0; start < value.length; start += WINDOW_CHARS) {
    const end = Math.min(value.length, start + WINDOW_CHARS);
    const base = Math.max(0, start - CONTEXT_BEFORE);
    const chunk = value.slice(base, Math.min(value.length, end + pass.overlap));
    for (const [from, to, replacement] of pass.matches(chunk, Math.max(resume, start) - base)) {
      if (base + from >= end) break; // the next window's
      resume = base + to;
      if (replacement === chunk.slice(from, to)) continue;
      out.push(value.slice(done, base + from), replacement);
      done = resume;
    }
    yield;
  }
  if (done === 0) return value; // nothing replaced: no copy
  out.push(value.slice(done));
  return out.join("");
}

/** Runs a scan to its end without letting go of the event loop (for short strings). */
function drain(scan: Scan): string {
  for (;;) {
    const step = scan.next();
    if (step.done) return step.value;
  }
}

/**
 * URLs carry PII percent-encoded (`?email=jane%40example.com`): each URL part
 * with an escape is decoded, redacted, and encoded again around the markers.
 * Split on the URL's delimiters (linear), not matched with a pattern.
 */
function* percentEncoded(value: string, redact: (value: string) => Scan): Scan {
  const parts = value.split(/([?&=/#;\s])/);
  let changed = false;
  let since = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i];
    if ((since += part.length) > WINDOW_CHARS) {
      since = 0;
      yield; // many short parts add up to a long string too
    }
    if (!ESCAPE.test(part)) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part.replace(/\+/g, " "));
    } catch {
      continue; // "100%" in a stylesheet, not an escape
    }
    const redacted = yield* redact(decoded);
    if (redacted === decoded) continue;
    parts[i] = redacted.split(/(\[redacted:[\w-]+\])/).map((p, j) => j % 2 ? p : encodeURIComponent(p)).join("");
    changed = true;
  }
  return changed ? parts.join("") : value;
}

const ESCAPE = /%[0-9A-Fa-f]{2}/;

const MAYBE = /[\d@]|eyJ|earer/;

/** A batch's scan outlasted its budget: none of it may be stored (it is not known to be redacted). */
export class RedactionBudgetError extends Error {
  override name = "RedactionBudgetError";
}

/** How {@link redactEvents} shares the event loop. */
export interface RedactPace {
  /** Work between two yields to the event loop, at most (default 10 ms). */
  sliceMs?: number;
  /** Time a whole batch may take, yields not counted (default 3 s); beyond it {@link RedactionBudgetError}. */
  budgetMs?: number;
  now?: () => number;
}

/** Characters scanned between two looks at the clock. */
const CHECK_EVERY_CHARS = 16 * 1024;

/** Default scan budget of one batch: a 16 MiB batch of ordinary pages scans in well under a second. */
export const REDACT_BUDGET_MS = 3_000;

/**
 * Redacts a batch of rrweb events in place (the batch belongs to the request
 * that parsed it) and resolves to it. An explicit stack, not recursion: a
 * deeply nested payload cannot overflow the call stack. The walk is
 * synchronous between looks at the clock (every ~16 Ki characters scanned);
 * once `sliceMs` of work is done it yields to the event loop and goes on
 * where it stopped, and strings longer than a window are scanned afterwards,
 * window by window, the same way. It throws {@link RedactionBudgetError} once
 * it has worked `budgetMs`: the events are then half-redacted and must be
 * dropped.
 */
export async function redactEvents<T extends RrwebEvent[]>(
  events: T,
  redactor: Redactor,
  pace: RedactPace = {},
): Promise<T> {
  const now = pace.now ?? (() => performance.now());
  const sliceMs = pace.sliceMs ?? 10;
  const budgetMs = pace.budgetMs ?? REDACT_BUDGET_MS;
  let sliceStart = now();
  let spent = 0;
  const due = () => now() - sliceStart >= sliceMs;
  const pause = async () => {
    spent += now() - sliceStart;
    if (spent > budgetMs) throw new RedactionBudgetError(`the batch could not be scanned within ${budgetMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 0));
    sliceStart = now();
  };
  const walk: Walk = { stack: [events], long: [] };
  while (walk.stack.length > 0) {
    walkSlice(walk, redactor, due);
    if (walk.stack.length > 0) await pause();
  }
  for (const [holder, key] of walk.long) {
    const value = holder[key as keyof typeof holder] as string;
    if (DATA_URL.test(value)) continue;
    const scan = redactor.scan(value);
    let step = scan.next();
    for (; !step.done; step = scan.next()) if (due()) await pause();
    (holder as Record<string, unknown>)[key] = step.value;
  }
  spent += now() - sliceStart;
  if (spent > budgetMs) throw new RedactionBudgetError(`the batch could not be scanned within ${budgetMs} ms`);
  return events;
}

type Container = unknown[] | Record<string, unknown>;

/** Where a walk is: containers (or the rest of one) still to visit, and strings left for the windowed scan. */
interface Walk {
  stack: Array<Container | Resume>;
  long: Array<[Container, string | number]>;
}

/** The rest of a container whose walk paused half-way: its keys (objects) and where to go on. */
class Resume {
  constructor(readonly node: Container, readonly keys: string[] | null, readonly at: number) {}
}

/**
 * Walks until nothing is left or a slice is used up (`due`, asked every
 * ~16 Ki characters), redacting strings that fit a window in place and
 * leaving longer ones in `walk.long`. Synchronous: the hot loop of ingest.
 */
function walkSlice(walk: Walk, redactor: Redactor, due: () => boolean): void {
  const { stack, long } = walk;
  let work = 0;
  /** One string: redacted now, or left for later; true when the slice is used up. */
  const visit = (holder: Container, key: string | number, item: string): boolean => {
    if (item.length > WINDOW_CHARS) {
      long.push([holder, key]);
      return false;
    }
    (holder as Record<string, unknown>)[key] = redactString(item, redactor);
    work += item.length;
    if (work < CHECK_EVERY_CHARS) return false;
    work = 0;
    return due();
  };
  while (stack.length > 0) {
    const entry = stack.pop()!;
    work += 16; // objects and arrays cost a little too, strings or not
    if (entry instanceof Resume || Array.isArray(entry)) {
      const node = entry instanceof Resume ? entry.node : entry;
      const keys = entry instanceof Resume ? entry.keys : null;
      const length = keys ? keys.length : (node as unknown[]).length;
      for (let i = entry instanceof Resume ? entry.at : 0; i < length; i++) {
        const key = keys ? keys[i] : i;
        const item = (node as Record<string | number, unknown>)[key];
        if (typeof item === "string") {
          if (keys && STRUCTURAL_KEYS.has(keys[i])) continue;
          if (visit(node, key, item)) {
            if (i + 1 < length) stack.push(new Resume(node, keys, i + 1));
            return;
          }
        } else if (typeof item === "object" && item !== null) stack.push(item as Container);
      }
    } else {
      for (const key in entry) {
        const item = entry[key];
        if (typeof item === "string") {
          if (STRUCTURAL_KEYS.has(key) || !visit(entry, key, item)) continue;
          // Rare: an object with enough text to use up a slice. Its remaining keys are listed to go on later.
          const keys = Object.keys(entry);
          stack.push(new Resume(entry, keys, keys.indexOf(key) + 1));
          return;
        } else if (typeof item === "object" && item !== null) stack.push(item as Container);
      }
    }
    if (work >= CHECK_EVERY_CHARS) {
      work = 0;
      if (due()) return;
    }
  }
}

/** Redacts every string value of a plain JSON value (session metadata, traits: a start body is 64 KiB at most). */
export function redactJson<T>(value: T, redactor: Redactor): T {
  if (typeof value === "string") return redactString(value, redactor) as T;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== "object" || item === null) continue;
    const record = item as Record<string, unknown>;
    for (const key in record) {
      const child = record[key];
      if (typeof child === "string") {
        if (!STRUCTURAL_KEYS.has(key)) record[key] = redactString(child, redactor);
      } else stack.push(child);
    }
  }
  return value;
}

function redactString(value: string, redactor: Redactor): string {
  return DATA_URL.test(value) ? value : redactor.text(value);
}

/** The Luhn checksum of the digits in `value`. */
export function luhn(value: string): boolean {
  const digits = value.replace(/\D/g, "");
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: the rearranged IBAN as a number is 1 mod 97. */
export function ibanValid(value: string): boolean {
  const iban = value.replace(/ /g, "");
  if (iban.length < 15 || iban.length > 34) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const n = code >= 65 ? code - 55 : code - 48; // A = 10 … Z = 35
    rest = n > 9 ? (rest * 100 + n) % 97 : (rest * 10 + n) % 97;
  }
  return rest === 1;
}

/** A phone number has 8–15 digits (E.164), or exactly 10 in the North American form. */
function phoneDigits(value: string): boolean {
  const n = value.replace(/\D/g, "").length;
  return n >= 8 && n <= 15 && (value.startsWith("+") || n === 10);
}

/**
 * Why an extra pattern was refused; undefined when it is fine. Patterns are
 * RE2 (linear time whatever the input): no look-arounds, no backreferences.
 */
export function validatePattern(source: string): string | undefined {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    return `must be 1–${MAX_PATTERN_LENGTH} characters`;
  }
  if (/\\[1-9]|\\k</.test(source)) return "uses a backreference (RE2 has none: it would take unbounded time)";
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (error) {
    return `is not a valid RE2 regular expression, which has no look-arounds or backreferences (${
      (error as Error).message
    })`;
  }
  if (re.matcher("").find()) return "matches the empty string";
  return undefined;
}
