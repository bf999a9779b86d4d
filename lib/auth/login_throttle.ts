/**
 * Throttles guessing of the admin token (the login form and bearer tokens).
 * Only failures count. Each client may fail 10 times, then once every 30 s;
 * everyone together 100 times, then once a second. When the shared budget is
 * spent, a client with no recent failure may still try, so an attack from
 * many addresses slows the attackers without locking the real admin out.
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

/** Counts failed admin-token attempts per client address and overall. */
export class LoginThrottle {
  #perClient: RateLimiter;
  #overall: RateLimiter;

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
    if (!own.ok) return own;
    const overall = this.#overall.peek(OVERALL);
    if (!overall.ok && !own.full) return overall;
    return undefined;
  }

  /** Records a failed attempt. */
  fail(client: string): void {
    this.#perClient.take(client);
    this.#overall.take(OVERALL);
  }
}
