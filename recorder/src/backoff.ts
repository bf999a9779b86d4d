/**
 * Retry timing: exponential backoff with full jitter (spreads reconnecting
 * clients after an outage) and the server's Retry-After when it gives one.
 * @module
 */

/** Base delay of the first retry. */
export const BACKOFF_BASE_MS = 500;
/** Ceiling of any computed backoff: short, so delivery resumes soon after an outage ends. */
export const BACKOFF_MAX_MS = 10_000;
/** Longest Retry-After honoured, so a bogus header cannot park the recorder for days. */
export const RETRY_AFTER_MAX_MS = 10 * 60_000;

/**
 * Full-jitter delay for retry number `attempt` (1 for the first retry):
 * uniform in [0, min(max, base * 2^(attempt-1))).
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  baseMs: number = BACKOFF_BASE_MS,
  maxMs: number = BACKOFF_MAX_MS,
): number {
  const exp = Math.max(0, Math.min(attempt - 1, 30));
  const cap = Math.min(maxMs, baseMs * 2 ** exp);
  return Math.floor(random() * cap);
}

/**
 * Parses a Retry-After header (delta seconds or HTTP date) into milliseconds
 * from `now`; undefined when absent or unparseable. Capped at 10 minutes.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number,
): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Number(text) * 1000;
  else if (!/^[A-Za-z]/.test(text)) return undefined; // HTTP dates start with a day name.
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(0, Math.round(ms)));
}
