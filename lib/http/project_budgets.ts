/**
 * What one project's public key may cost the server, whoever holds it and
 * from however many addresses: every recorded page carries the key, so the
 * per-address limits alone let one client with many addresses (or one that
 * fakes a visitor per request) take the whole server.
 *
 * - session starts per second (a token bucket) and per UTC day;
 * - inflated event bytes per second: the server's real cost of a batch (a
 *   52 KB gzip body can inflate to 15 MiB). A batch is let in while the
 *   bucket has credit and charged what it inflated to afterwards, so a large
 *   one leaves a debt the next ones wait out;
 * - optionally, bytes stored per UTC day.
 *
 * Counted per process, in memory: N processes let in up to N times as much.
 * A refusal says which budget and when to retry (429 with Retry-After).
 *
 * @module
 */

import { RateLimiter } from "./rate_limit.ts";

/** The budgets of each project (0 = no limit). */
export interface ProjectBudgetLimits {
  startsPerSec: number;
  startsPerDay: number;
  inflatedBytesPerSec: number;
  storedBytesPerDay: number;
}

/** Why a request was refused: the budget's name (a metric label), a message and when to retry. */
export interface BudgetRefusal {
  budget: "starts_per_sec" | "starts_per_day" | "inflated_bytes_per_sec" | "stored_bytes_per_day";
  message: string;
  retryAfterSecs: number;
}

const DAY_MS = 86_400_000;

/**
 * Per-project budgets.
 *
 * @example
 * const budgets = new ProjectBudgets({ startsPerSec: 50, startsPerDay: 0, inflatedBytesPerSec: 32 << 20, storedBytesPerDay: 0 });
 * const refusal = budgets.start("shop");
 * if (refusal) return tooMany(refusal);
 */
export class ProjectBudgets {
  readonly limits: ProjectBudgetLimits;
  #now: () => number;
  #starts: RateLimiter;
  #inflated: RateLimiter;
  /** Per project: the UTC day counted, starts and stored bytes that day. */
  #days = new Map<string, { day: number; starts: number; stored: number }>();

  constructor(limits: ProjectBudgetLimits, now: () => number = Date.now) {
    this.limits = limits;
    this.#now = now;
    this.#starts = new RateLimiter({ ratePerSec: limits.startsPerSec, burst: limits.startsPerSec * 2, now });
    // A second's worth of credit at most, so a burst cannot take more than the budget allows at once.
    this.#inflated = new RateLimiter({
      ratePerSec: limits.inflatedBytesPerSec,
      burst: limits.inflatedBytesPerSec,
      now,
    });
  }

  /** Takes one session start, or says which budget refuses it. */
  start(project: string): BudgetRefusal | undefined {
    const { startsPerSec, startsPerDay } = this.limits;
    const today = this.#today(project);
    if (startsPerDay > 0 && today.starts >= startsPerDay) {
      return {
        budget: "starts_per_day",
        message: `project ${project} has started its ${startsPerDay} sessions for today (UTC)`,
        retryAfterSecs: this.#secsToMidnight(),
      };
    }
    if (startsPerSec > 0) {
      const decision = this.#starts.take(project);
      if (!decision.ok) {
        return {
          budget: "starts_per_sec",
          message: `project ${project} starts at most ${startsPerSec} sessions a second`,
          retryAfterSecs: decision.retryAfterSecs,
        };
      }
    }
    today.starts++;
    return undefined;
  }

  /** Whether a batch of the project may be read now (before its body is: what it costs is charged after). */
  admitBatch(project: string): BudgetRefusal | undefined {
    const { inflatedBytesPerSec, storedBytesPerDay } = this.limits;
    if (storedBytesPerDay > 0 && this.#today(project).stored >= storedBytesPerDay) {
      return {
        budget: "stored_bytes_per_day",
        message: `project ${project} has stored its ${storedBytesPerDay} bytes for today (UTC)`,
        retryAfterSecs: this.#secsToMidnight(),
      };
    }
    if (inflatedBytesPerSec > 0) {
      const decision = this.#inflated.peek(project);
      if (!decision.ok) {
        return {
          budget: "inflated_bytes_per_sec",
          message: `project ${project} sends at most ${inflatedBytesPerSec} bytes of events a second (inflated)`,
          retryAfterSecs: decision.retryAfterSecs,
        };
      }
    }
    return undefined;
  }

  /** Charges what a batch inflated to. */
  chargeInflated(project: string, bytes: number): void {
    if (this.limits.inflatedBytesPerSec > 0) this.#inflated.charge(project, bytes);
  }

  /** Charges what a batch stored. */
  chargeStored(project: string, bytes: number): void {
    if (this.limits.storedBytesPerDay > 0) this.#today(project).stored += bytes;
  }

  #today(project: string) {
    const day = Math.floor(this.#now() / DAY_MS);
    let counts = this.#days.get(project);
    if (!counts || counts.day !== day) this.#days.set(project, counts = { day, starts: 0, stored: 0 });
    return counts;
  }

  #secsToMidnight(): number {
    return Math.max(1, Math.ceil((DAY_MS - (this.#now() % DAY_MS)) / 1000));
  }
}
