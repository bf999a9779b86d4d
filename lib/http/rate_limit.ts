/**
 * Token-bucket rate limits kept in memory, keyed by client or session.
 *
 * @module
 */

/** The outcome of taking a token: allowed, or wait this many seconds. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSecs: number };

/**
 * A set of token buckets with the same rate and burst.
 *
 * @example
 * const perSession = new RateLimiter({ ratePerSec: 20, burst: 40 });
 * if (!perSession.take(sessionId).ok) return tooManyRequests();
 */
export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  #rate: number;
  #burst: number;
  #now: () => number;

  constructor(options: { ratePerSec: number; burst: number; now?: () => number }) {
    this.#rate = options.ratePerSec;
    this.#burst = options.burst;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token from `key`'s bucket. */
  take(key: string): RateDecision {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = this.#refilled(bucket, now);
    bucket.at = now;
    this.#buckets.delete(key); // re-insert keeps the map ordered by last use
    this.#buckets.set(key, bucket);
    this.#evict(now);
    const decision = this.#decide(bucket.tokens);
    if (decision.ok) bucket.tokens -= 1;
    return decision;
  }

  /** What {@link take} would decide, without taking. */
  peek(key: string): RateDecision {
    const bucket = this.#buckets.get(key);
    return this.#decide(bucket ? this.#refilled(bucket, this.#now()) : this.#burst);
  }

  /** Takes `cost` tokens from `key`'s bucket whatever it holds: a debt makes the next takes wait it out. */
  charge(key: string, cost: number): void {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = this.#refilled(bucket, now) - cost;
    bucket.at = now;
    this.#buckets.delete(key); // re-insert keeps the map ordered by last use
    this.#buckets.set(key, bucket);
    this.#evict(now);
  }

  #refilled(bucket: { tokens: number; at: number }, now: number): number {
    return Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
  }

  #decide(tokens: number): RateDecision {
    if (tokens >= 1) return { ok: true };
    return { ok: false, retryAfterSecs: Math.max(1, Math.ceil((1 - tokens) / this.#rate)) };
  }

  /** Drops buckets that have refilled completely; they hold no state worth keeping. */
  #evict(now: number): void {
    const full = (this.#burst / this.#rate) * 1000;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at < full && this.#buckets.size < 200_000) break;
      this.#buckets.delete(key);
    }
  }
}
