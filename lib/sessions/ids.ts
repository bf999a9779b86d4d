/**
 * Session ids and stream names. An id starts with the inverted creation time,
 * so the store's lexicographic listing of `sessions/` is newest first with no
 * index to keep in sync.
 *
 * @module
 */

/** Largest 13-digit millisecond timestamp (year 2286). */
const MAX_MS = 9_999_999_999_999;
const ID_PATTERN = /^\d{13}[a-z0-9]{12}$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Prefix of every session stream. */
export const SESSION_PREFIX = "sessions/";
/** The sidecar stream with one record per new session. */
export const INDEX_STREAM = "index/sessions";

/**
 * A new session id: 13 digits of inverted creation time, then 12 random chars.
 *
 * @example
 * newSessionId(Date.UTC(2026, 0, 1)); // "8232245599999k2c9x0q1z8ma"
 */
export function newSessionId(createdAtMs: number = Date.now()): string {
  const inverted = String(MAX_MS - Math.floor(createdAtMs)).padStart(13, "0");
  const random = crypto.getRandomValues(new Uint8Array(12));
  return inverted + Array.from(random, (b) => ALPHABET[b % ALPHABET.length]).join("");
}

/** Whether `id` is a well-formed session id (rejects path tricks and junk). */
export function isSessionId(id: unknown): id is string {
  return typeof id === "string" && ID_PATTERN.test(id);
}

/** When the session was created, from its id. */
export function createdAtOf(id: string): number {
  return MAX_MS - Number(id.slice(0, 13));
}

/** The stream holding a session. */
export function streamOf(id: string): string {
  return SESSION_PREFIX + id;
}

/** The session id of a session stream name. */
export function idOfStream(stream: string): string | undefined {
  const id = stream.slice(SESSION_PREFIX.length);
  return stream.startsWith(SESSION_PREFIX) && isSessionId(id) ? id : undefined;
}
