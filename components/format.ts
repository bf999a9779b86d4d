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
