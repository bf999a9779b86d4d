/**
 * Text formatting for the player: clock times, durations, counts.
 * @module
 */

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * Formats an offset from the session start as `mm:ss`. Minutes keep counting
 * past 59 (`75:03`) so every time in the player has the same shape; negative
 * and non-finite offsets show as `00:00`.
 */
export function formatClock(offsetMs: number): string {
  const total = Number.isFinite(offsetMs) && offsetMs > 0 ? Math.floor(offsetMs / 1000) : 0;
  return `${pad2(Math.floor(total / 60))}:${pad2(total % 60)}`;
}

/** Formats a request duration: `850 ms`, `1.2 s`, `75 s`. */
export function formatRequestTime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** Formats a byte count: `512 B`, `3.4 KiB`, `12 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `1 event`, `3 events`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Collapses whitespace and cuts to `max` characters with an ellipsis. */
export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, Math.max(0, max - 1))}…` : flat;
}
