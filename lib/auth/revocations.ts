/**
 * Logged-out dashboard cookies, shared by every server process on one store:
 * a logout appends the cookie's nonce to the `auth/revoked` stream, and each
 * process follows that stream into an in-memory set, so a cookie refused by
 * one process is refused by all of them within one follow delivery. The
 * stream keeps records only as long as a cookie can live, and is never
 * deleted for being empty.
 *
 * @module
 */

import { followSidecar, type StreamStore } from "../store/mod.ts";

/** The stream of revoked cookie nonces. */
export const REVOKED_STREAM = "auth/revoked";

/** Revoked cookie nonces, kept in step with the store. */
export class Revocations {
  #store: StreamStore;
  #revoked = new Set<string>();
  #retentionSecs: number;
  #now: () => number;

  /** `retentionSecs` is how long a revocation matters: the cookie's lifetime. */
  constructor(store: StreamStore, options: { retentionSecs: number; now?: () => number }) {
    this.#store = store;
    this.#retentionSecs = options.retentionSecs;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Loads every revocation and keeps following new ones until `signal`
   * aborts; resolves once the set is complete, so a restarted process never
   * forgets a logout.
   */
  async start(signal: AbortSignal): Promise<void> {
    await followSidecar(this.#store, REVOKED_STREAM, {
      // Records are kept as long as a cookie can live; the stream itself is kept (never deleted when empty).
      config: { retentionAgeSecs: this.#retentionSecs, deleteOnEmptyMinAgeSecs: 0 },
      signal,
      onRecord: (record) => this.#revoked.add(new TextDecoder().decode(record.body)),
      what: "cookie revocations",
    });
  }

  /** Revokes a cookie nonce here at once and, through the store, everywhere. */
  async revoke(nonce: string): Promise<void> {
    this.#revoked.add(nonce);
    await this.#store.append(REVOKED_STREAM, [{ body: new TextEncoder().encode(nonce), timestamp: this.#now() }]);
  }

  /** Whether a cookie nonce was logged out. */
  has(nonce: string): boolean {
    return this.#revoked.has(nonce);
  }
}
