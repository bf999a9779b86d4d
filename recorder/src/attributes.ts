/**
 * `init` options from the recorder's own `<script>` tag, for sites whose
 * Content-Security-Policy allows no inline script:
 * `<script async src=".../recorder.js" data-project-key="pk_…" data-require-consent>`.
 * Every option of `InitOptions` has an attribute: `data-` and its name in
 * kebab case. A malformed value is left out and reported, never thrown.
 * @module
 */
import type { ConsoleLevel, InitOptions } from "./api.ts";
import { ALL_CONSOLE_LEVELS } from "./options.ts";

// s string, u http(s) URL, b boolean, r rate 0..1, p positive number, c console levels.
type Kind = "s" | "u" | "b" | "r" | "p" | "c";

const KINDS: Record<keyof InitOptions, Kind> = {
  endpoint: "u",
  projectKey: "s",
  source: "s",
  requireConsent: "b",
  respectGlobalPrivacyControl: "b",
  sampleRate: "r",
  allowUrlQuery: "b",
  allowUrlHash: "b",
  maskAllInputs: "b",
  captureErrors: "b",
  captureConsole: "c",
  captureNetwork: "b",
  maxBufferBytes: "p",
  inactivityTimeoutMs: "p",
  autoStart: "b",
};

/** `data-project-key` for `projectKey`. */
export function attributeName(option: string): string {
  return "data-" + option.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** A value, or undefined when malformed. */
function parse(kind: Kind, raw: string): unknown {
  const text = raw.trim();
  // A bare attribute (`data-require-consent`) means true.
  const flag = text === "" || text === "true" ? true : text === "false" ? false : undefined;
  if (kind === "s") return text || undefined;
  if (kind === "u") return /^https?:\/\/\S+$/i.test(text) ? text : undefined;
  if (kind === "b") return flag;
  if (kind === "c") {
    const levels = text.split(/[\s,]+/);
    return flag ??
      (levels.every((l) => ALL_CONSOLE_LEVELS.includes(l as ConsoleLevel)) ? levels as ConsoleLevel[] : undefined);
  }
  const n = text ? Number(text) : NaN; // NaN fails both tests
  return (kind === "r" ? n >= 0 && n <= 1 : n > 0 && n < Infinity) ? n : undefined;
}

/**
 * Reads the options from `read(attributeName)` (`getAttribute`). Returns no
 * options when there is no `data-project-key` (the page calls `init` itself);
 * the endpoint defaults to `scriptSrc`'s origin. `problems` names each
 * attribute that was left out, for one console warning.
 */
export function optionsFromAttributes(
  read: (name: string) => string | null,
  scriptSrc: string | undefined,
): { options?: InitOptions; problems: string[] } {
  const problems: string[] = [];
  const found: Record<string, unknown> = {};
  for (const [option, kind] of Object.entries(KINDS) as [keyof InitOptions, Kind][]) {
    const name = attributeName(option);
    const raw = read(name);
    if (raw === null) continue;
    const value = parse(kind, raw);
    if (value === undefined) problems.push(`${name}="${raw.slice(0, 40)}"`);
    else found[option] = value;
  }
  if (found.projectKey === undefined) {
    if (Object.keys(found).length > 0 || problems.length > 0) problems.push("data-project-key is missing");
    return { problems };
  }
  if (found.endpoint === undefined) {
    try {
      const origin = new URL(scriptSrc ?? "").origin;
      if (/^https?:/.test(origin)) found.endpoint = origin;
    } catch {
      // No usable script URL: resolveOptions reports the missing endpoint.
    }
  }
  return { options: found as unknown as InitOptions, problems };
}
