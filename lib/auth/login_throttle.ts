/**
 * Throttles guessing of the admin token (the login form and bearer tokens).
 * Only failures count. Each client may fail 10 times, then once every 30 s;
 * everyone together 100 times, then once a second. Once the shared budget is
 * spent, only clients that have given the right token before (remembered in
 * memory, the most recent 1,000) keep their own budget, so the real admin is
 * not locked out; every other client waits for the shared one. A fresh
 * address gets no guess of its own then: an attacker with many addresses (a
 * botnet, or the 2^16 /64s of one IPv6 /48) would otherwise get one per
 * address.
 *
 * @module
 */

import { RateLimiter } from "../http/rate_limit.ts";

/** Failure budgets of {@link LoginThrottle}. */
export interface LoginThrottleLimits {
  perClient: { burst: number; everySecs: number };
  overall: { burst: number; everySecs: number };
}

const DEFAULT_LIMITS: LoginThrottleLimits = {
  perClient: { burst: 10, everySecs: 30 },
  overall: { burst: 100, everySecs: 1 },
};

const OVERALL = "*";
/** Clients remembered for a right token; the admin uses a handful, and only the right token adds one. */
const MAX_KNOWN = 1_000;

/** Counts failed admin-token attempts per client key and overall. */
export class LoginThrottle {
  #perClient: RateLimiter;
  #overall: RateLimiter;
  /** Client keys that gave the right token, oldest success first. */
  #known = new Set<string>();

  constructor(options: { limits?: LoginThrottleLimits; now?: () => number } = {}) {
    const { perClient, overall } = options.limits ?? DEFAULT_LIMITS;
    this.#perClient = new RateLimiter({
      ratePerSec: 1 / perClient.everySecs,
      burst: perClient.burst,
      now: options.now,
    });
    this.#overall = new RateLimiter({ ratePerSec: 1 / overall.everySecs, burst: overall.burst, now: options.now });
  }

  /** Whether `client` must wait before its next attempt, and how long. */
  blocked(client: string): { retryAfterSecs: number } | undefined {
    const own = this.#perClient.peek(client);
    if (!own.ok) return { retryAfterSecs: own.retryAfterSecs };
    const overall = this.#overall.peek(OVERALL);
    if (!overall.ok && !this.#known.has(client)) return { retryAfterSecs: overall.retryAfterSecs };
    return undefined;
  }

  /** Records a failed attempt. */
  fail(client: string): void {
    this.#perClient.take(client);
    this.#overall.take(OVERALL);
  }

  /** Records a right token: `client` keeps its own budget while the shared one is spent. */
  succeed(client: string): void {
    this.#known.delete(client); // re-inserted as the newest
    this.#known.add(client);
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.values().next().value!);
  }
}
