/**
 * The HTML loader snippet for the script-tag install. Safe to import on a
 * server: no DOM, no rrweb.
 * @module
 */

/**
 * `init` options the snippet can carry besides the endpoint and key: the
 * plain-value ones of `InitOptions` (see api.ts for what each does).
 */
export interface SnippetInitOptions {
  source?: string;
  requireConsent?: boolean;
  respectGlobalPrivacyControl?: boolean;
  sampleRate?: number;
  allowUrlQuery?: boolean;
  allowUrlHash?: boolean;
  maskAllInputs?: boolean;
  captureErrors?: boolean;
  captureConsole?: boolean | ("log" | "info" | "warn" | "error" | "debug")[];
  captureNetwork?: boolean;
  maxBufferBytes?: number;
  inactivityTimeoutMs?: number;
  autoStart?: boolean;
}

/** Inputs of `snippet`. */
export interface SnippetOptions {
  /** RePlaya server base URL. */
  endpoint: string;
  /** Public project key. */
  projectKey: string;
  /** Where recorder.js is served; defaults to `{endpoint}/recorder.js`. */
  scriptUrl?: string;
  /** More `init` options, in this order (undefined ones are left out). */
  init?: SnippetInitOptions;
  /** Indented over several lines, for reading and pasting (default: one line). */
  multiline?: boolean;
}

/**
 * JSON for inside a `<script>` element (executed or `type="application/json"`):
 * `<`, `>`, `&` and the line separators escaped, so no string can close the
 * element or break the script around it.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Returns the install without inline script, for sites whose CSP forbids it:
 * one async `<script>` whose `data-*` attributes carry the options
 * (`projectKey` → `data-project-key`; lists comma-separated).
 */
export function scriptTagSnippet(options: Omit<SnippetOptions, "multiline">): string {
  const endpoint = String(options.endpoint).replace(/\/+$/, "");
  const src = options.scriptUrl ?? `${endpoint}/recorder.js`;
  const fields: [string, unknown][] = [["endpoint", endpoint], ["projectKey", String(options.projectKey)]];
  for (const [name, value] of Object.entries(options.init ?? {})) {
    if (value !== undefined && /^[a-z][A-Za-z]*$/.test(name) && !/^(endpoint|projectKey)$/.test(name)) {
      fields.push([name, value]);
    }
  }
  const attrs = fields.map(([name, value]) =>
    ` data-${name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}="${attr(String(value))}"`
  );
  return `<script async src="${attr(src)}"${attrs.join("")}></script>`;
}

/**
 * Returns the async loader: a stub `window.replaya` that queues calls, the
 * `init` call, and the async script tag that replays the queue. One line by
 * default; `multiline` indents the same code over several lines.
 */
export function snippet(options: SnippetOptions): string {
  const endpoint = String(options.endpoint).replace(/\/+$/, "");
  const src = options.scriptUrl ?? `${endpoint}/recorder.js`;
  const fields: [string, unknown][] = [["endpoint", endpoint], ["projectKey", String(options.projectKey)]];
  for (const [name, value] of Object.entries(options.init ?? {})) {
    // Identifiers only (they are written unquoted), never the two above.
    if (value !== undefined && /^[A-Za-z_$][\w$]*$/.test(name) && !/^(endpoint|projectKey)$/.test(name)) {
      fields.push([name, value]);
    }
  }
  const tag = `<script async src="${attr(src)}"></script>`;
  if (!options.multiline) {
    return `<script>window.replaya=window.replaya||function(){(replaya.q=replaya.q||[]).push(arguments)};` +
      `replaya("init",{${fields.map(([k, v]) => `${k}:${jsonForScript(v)}`).join(",")}});</script>${tag}`;
  }
  return [
    "<script>",
    "  window.replaya = window.replaya || function () { (replaya.q = replaya.q || []).push(arguments); };",
    '  replaya("init", {',
    ...fields.map(([k, v]) =>
      `    ${k}: ${Array.isArray(v) ? `[${v.map(jsonForScript).join(", ")}]` : jsonForScript(v)},`
    ),
    "  });",
    "</script>",
    tag,
  ].join("\n");
}
