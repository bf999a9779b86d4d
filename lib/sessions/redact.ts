/**
 * Server-side redaction: common PII in a recording is replaced with a marker
 * (`[redacted:email]`) before anything is stored. Pure: no I/O, no state.
 *
 * Every string value of an event is scanned, wherever it sits (text nodes,
 * attribute values, input values, mutation texts, custom and plugin payloads,
 * console and error messages, network URLs, identify traits, meta hrefs);
 * keys, numbers, booleans and structural strings (tag names, custom tags,
 * doctype ids) are never touched, so node ids and types, and so rrweb's DOM
 * structure, stay as they were. The identified user id is kept: it is the
 * identity the site chose to send, and the user index is keyed on it.
 *
 * Bounded time: every built-in pattern has bounded quantifiers and starts at a
 * token boundary, so a scan is linear in the string's length; checks that a
 * regex cannot do (Luhn, IBAN mod 97) run on matches only.
 *
 * @module
 */

import type { RrwebEvent } from "@replaya/recorder/wire";

/** A named extra pattern from the configuration (REPLAYA_REDACT_PATTERNS). */
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
  // Phone numbers: international (+ and 8–15 digits) or North American with separators.
  String
    .raw`(?<phone>(?<![\w+.-])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}|\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}[ .-]\d{3}[ .-]\d{4})(?![\w-]|\.\d))`,
];

/** A compiled redactor: the built-in patterns and the configured ones, in one pass each. */
export interface Redactor {
  /** Redacts one string. */
  text(value: string): string;
}

/**
 * Compiles the built-in patterns and `extra` ones (validated: see
 * {@link validatePattern}). Compile once, use for every batch.
 */
export function createRedactor(extra: RedactPattern[] = []): Redactor {
  const builtIn = new RegExp(BUILT_IN.join("|"), "g");
  const custom = extra.map(({ name, source }) => ({ marker: `[redacted:${name}]`, re: new RegExp(source, "g") }));
  const replace = (match: string, ...args: unknown[]): string => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    if (groups.card !== undefined) return luhn(match) ? "[redacted:card]" : match;
    if (groups.iban !== undefined) return ibanValid(match) ? "[redacted:iban]" : match;
    if (groups.phone !== undefined) return phoneDigits(match) ? "[redacted:phone]" : match;
    if (groups.email !== undefined) return "[redacted:email]";
    if (groups.jwt !== undefined) return "[redacted:jwt]";
    return "[redacted:token]";
  };
  const plain = (value: string): string => {
    // Cheap gate: every built-in pattern needs a digit, an "@", "eyJ" or "earer".
    let out = value.length < 7 || !MAYBE.test(value) ? value : value.replace(builtIn, replace);
    for (const { marker, re } of custom) out = out.replace(re, marker);
    return out;
  };
  return {
    text(value: string): string {
      const out = plain(value);
      return out.includes("%") ? percentEncoded(out, plain) : out;
    },
  };
}

/**
 * URLs carry PII percent-encoded (`?email=jane%40example.com`): each URL part
 * with an escape is decoded, redacted, and encoded again around the markers.
 * Split on the URL's delimiters (linear), not matched with a pattern.
 */
function percentEncoded(value: string, redact: (value: string) => string): string {
  const parts = value.split(/([?&=/#;\s])/);
  let changed = false;
  for (let i = 0; i < parts.length; i += 2) {
    const part = parts[i];
    if (!ESCAPE.test(part)) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part.replace(/\+/g, " "));
    } catch {
      continue; // "100%" in a stylesheet, not an escape
    }
    const redacted = redact(decoded);
    if (redacted === decoded) continue;
    parts[i] = redacted.split(/(\[redacted:[\w-]+\])/).map((p, j) => j % 2 ? p : encodeURIComponent(p)).join("");
    changed = true;
  }
  return changed ? parts.join("") : value;
}

const ESCAPE = /%[0-9A-Fa-f]{2}/;

const MAYBE = /[\d@]|eyJ|earer/;

/**
 * Redacts a batch of rrweb events in place (the batch belongs to the request
 * that parsed it) and returns it. An explicit stack, not recursion: a deeply
 * nested payload cannot overflow the call stack.
 */
export function redactEvents<T extends RrwebEvent[]>(events: T, redactor: Redactor): T {
  const stack: unknown[] = [events];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (typeof item === "string") value[i] = redactString(item, redactor);
        else if (typeof item === "object" && item !== null) stack.push(item);
      }
    } else if (typeof value === "object" && value !== null) {
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const item = record[key];
        if (typeof item === "string") {
          if (!STRUCTURAL_KEYS.has(key)) record[key] = redactString(item, redactor);
        } else if (typeof item === "object" && item !== null) stack.push(item);
      }
    }
  }
  return events;
}

/** Redacts every string value of a plain JSON value (session metadata, traits), in place. */
export function redactJson<T>(value: T, redactor: Redactor): T {
  if (typeof value === "string") return redactString(value, redactor) as T;
  redactEvents([value] as unknown as RrwebEvent[], redactor);
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

/** Why an extra pattern was refused; undefined when it is fine. */
export function validatePattern(source: string): string | undefined {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    return `must be 1–${MAX_PATTERN_LENGTH} characters`;
  }
  let re: RegExp;
  try {
    re = new RegExp(source, "g");
  } catch (error) {
    return `is not a valid regular expression (${(error as Error).message})`;
  }
  if (re.test("")) return "matches the empty string";
  // A quantified group that itself contains a quantifier ((a+)+, (a|aa)*, (\w*)*) can backtrack exponentially.
  if (
    /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]/.test(source) ||
    /\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)[+*{]/.test(source)
  ) {
    return "has a quantified group containing a quantifier or alternation (it can take exponential time); " +
      "rewrite it without nesting";
  }
  if (/\\[1-9]|\\k</.test(source)) return "uses a backreference (unbounded time)";
  return undefined;
}
