/**
 * Formatting shared by pages and islands (client-safe: no server imports).
 *
 * @module
 */

/** `1:05:09`, `5:09`, `0:03`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** `2026-11-23 16:05:09 UTC`: unambiguous, and the same on server and client. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** A URL without its scheme, for compact display. */
export function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, "");
}

/**
 * How long ago `ms` was, from `now`: `just now`, `3 min ago`, `2 h ago`,
 * `5 d ago`; a date (`2026-11-23`) beyond 30 days or in the future.
 */
export function relativeTime(ms: number, now: number): string {
  const secs = Math.round((now - ms) / 1000);
  if (secs < -60) return formatTime(ms).slice(0, 10);
  if (secs < 45) return "just now";
  const mins = Math.round(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 48) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return days <= 30 ? `${days} d ago` : formatTime(ms).slice(0, 10);
}

/** Clicks per minute, to one decimal below 10: `0.4/min`, `12/min`. */
export function formatRate(perMinute: number): string {
  return `${perMinute < 10 ? (Math.round(perMinute * 10) / 10).toString() : Math.round(perMinute)}/min`;
}
