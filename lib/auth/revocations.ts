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

import { sleep } from "../async.ts";
import { ensureStream, NotFoundError, type StreamStore } from "../store/mod.ts";

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
    await this.#ensure();
    const { promise: caughtUp, resolve, reject } = Promise.withResolvers<void>();
    this.#follow(signal, resolve).then(resolve, reject);
    await caughtUp;
  }

  async #follow(signal: AbortSignal, onCaughtUp: () => void): Promise<void> {
    let from = 0;
    while (!signal.aborted) {
      try {
        for await (const record of this.#store.follow(REVOKED_STREAM, { from, signal, onCaughtUp })) {
          this.#revoked.add(new TextDecoder().decode(record.body));
          from = record.seqNum + 1;
        }
      } catch (error) {
        if (signal.aborted) return;
        // The store reopens dropped follows itself; what reaches here is a missing stream or a real failure.
        if (error instanceof NotFoundError) {
          from = 0; // deleted (by an operator, or a store reset): a new stream starts again at 0
          await this.#ensure().catch(() => {});
        } else console.error("following cookie revocations failed; retrying", error);
      }
      await sleep(1000, signal);
    }
  }

  /** Records are kept as long as a cookie can live; the stream itself is kept (never deleted when empty). */
  #ensure(): Promise<void> {
    return ensureStream(this.#store, REVOKED_STREAM, {
      retentionAgeSecs: this.#retentionSecs,
      deleteOnEmptyMinAgeSecs: 0,
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
