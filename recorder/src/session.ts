/**
 * Per-tab state in sessionStorage: the session to resume on the next page
 * load and the sampling decision. Storage can be missing or throw (private
 * mode, sandboxed iframes), so every access is guarded.
 * @module
 */
import type { Properties } from "./api.ts";

/** Minimal Web Storage surface the recorder uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** sessionStorage key of the session record. */
export const SESSION_KEY = "replaya:session";
/** sessionStorage key of the sampling decision. */
export const SAMPLE_KEY = "replaya:sample";

/** What is remembered about the current session between page loads. */
export interface StoredSession {
  sessionId: string;
  token: string;
  /** Last user activity, ms since epoch. */
  lastActivity: number;
  userId?: string;
  traits?: Properties;
}

function read(storage: StorageLike, key: string): unknown {
  try {
    const raw = storage.getItem(key);
    return raw == null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function write(storage: StorageLike, key: string, value: unknown): void {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    // Quota or disabled storage: the session simply won't resume.
  }
}

/** The stored session if it is well-formed and active within `timeoutMs`. */
export function loadSession(
  storage: StorageLike,
  now: number,
  timeoutMs: number,
): StoredSession | undefined {
  const s = read(storage, SESSION_KEY) as Partial<StoredSession> | undefined;
  if (
    !s || typeof s.sessionId !== "string" || typeof s.token !== "string" ||
    typeof s.lastActivity !== "number" || now - s.lastActivity > timeoutMs
  ) return undefined;
  return s as StoredSession;
}

/** Persists the session record. */
export function saveSession(
  storage: StorageLike,
  session: StoredSession,
): void {
  write(storage, SESSION_KEY, session);
}

/** Forgets the session (the sampling decision stays for the tab). */
export function clearSession(storage: StorageLike): void {
  try {
    storage.removeItem(SESSION_KEY);
  } catch {
    // Nothing to do: storage unavailable.
  }
}

/** Removes everything the recorder stored. */
export function clearStorage(storage: StorageLike): void {
  for (const key of [SESSION_KEY, SAMPLE_KEY]) {
    try {
      storage.removeItem(key);
    } catch {
      // Nothing to do: storage unavailable.
    }
  }
}

/**
 * Whether this tab is recorded. Decided once with `random() < rate` and
 * remembered, so reloads don't re-roll; re-decided only if the rate changes.
 */
export function decideSample(
  storage: StorageLike,
  rate: number,
  random: () => number,
): boolean {
  const stored = read(storage, SAMPLE_KEY) as
    | { rate?: unknown; sampled?: unknown }
    | undefined;
  if (stored && stored.rate === rate && typeof stored.sampled === "boolean") {
    return stored.sampled;
  }
  const sampled = rate >= 1 ? true : rate <= 0 ? false : random() < rate;
  write(storage, SAMPLE_KEY, { rate, sampled });
  return sampled;
}

/** A Map-backed StorageLike for when sessionStorage is unavailable. */
export function memoryStorage(): StorageLike {
  const map = new Map<string, string>();
  return {
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
  };
}
