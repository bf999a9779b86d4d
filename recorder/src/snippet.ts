/**
 * The HTML loader snippet for the script-tag install. Safe to import on a
 * server: no DOM, no rrweb.
 * @module
 */

/** Inputs of `snippet`. */
export interface SnippetOptions {
  /** RePlaya server base URL. */
  endpoint: string;
  /** Public project key. */
  projectKey: string;
  /** Where recorder.js is served; defaults to `{endpoint}/recorder.js`. */
  scriptUrl?: string;
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
 * Returns the one-line async loader: a stub `window.replaya` that queues
 * calls, the `init` call, and the async script tag that replays the queue.
 */
export function snippet(options: SnippetOptions): string {
  const endpoint = String(options.endpoint).replace(/\/+$/, "");
  const src = options.scriptUrl ?? `${endpoint}/recorder.js`;
  return `<script>window.replaya=window.replaya||function(){(replaya.q=replaya.q||[]).push(arguments)};` +
    `replaya("init",{endpoint:${jsonForScript(endpoint)},projectKey:${jsonForScript(String(options.projectKey))}});` +
    `</script><script async src="${attr(src)}"></script>`;
}
