/**
 * The process's log: one line per event, as text for a terminal or as JSON
 * (`REPLAYA_LOG_FORMAT=json`) for a log pipeline. Fields are chosen by the
 * caller and must never carry tokens, keys, query strings or session content;
 * errors are reduced to their name, message and, for unexpected ones, stack.
 *
 * @module
 */

/** How log lines are written. */
export type LogFormat = "text" | "json";

type Level = "info" | "warn" | "error";
type Fields = Record<string, string | number | boolean | undefined>;

let format: LogFormat = "text";
let requests = true;

/** Sets the format, and whether each request gets a line (tests and benches turn that off). */
export function configureLog(options: { format?: LogFormat; requests?: boolean }): void {
  format = options.format ?? format;
  requests = options.requests ?? requests;
}

function write(level: Level, msg: string, fields: Fields = {}, error?: unknown): void {
  const err: { error?: string; stack?: string } = error === undefined ? {} : describe(error);
  if (format === "json") {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...err });
    (level === "info" ? console.log : console.error)(line);
    return;
  }
  const pairs = Object.entries({ ...fields, ...err }).filter(([k, v]) => v !== undefined && k !== "stack")
    .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : v}`);
  const text = [msg, ...pairs].join(" ");
  if (level === "info") console.log(text);
  else if (level === "warn") console.error(`Warning: ${text}`);
  else console.error(err.stack ? `${text}\n${err.stack}` : text);
}

function describe(error: unknown): { error: string; stack?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  return { error: `${error.name}: ${error.message}`, stack: error.stack };
}

/** The log. */
export const log = {
  info: (msg: string, fields?: Fields) => write("info", msg, fields),
  warn: (msg: string, fields?: Fields, error?: unknown) => write("warn", msg, fields, error),
  error: (msg: string, fields?: Fields, error?: unknown) => write("error", msg, fields, error),
  /** One line per request: method, route pattern (never the raw path or query), status, duration, bytes. */
  request(fields: { method: string; route: string; status: number; ms: number; bytes?: number }): void {
    if (!requests) return;
    if (format === "json") write("info", "request", fields);
    else {
      console.log(
        `${fields.method} ${fields.route} ${fields.status} ${fields.ms.toFixed(1)}ms${
          fields.bytes === undefined ? "" : ` ${fields.bytes}B`
        }`,
      );
    }
  },
};
