import assert from "node:assert/strict";
import { RateLimiter } from "../../lib/http/rate_limit.ts";

Deno.test("rate limiter: a burst, then the sustained rate, per key", () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSec: 2, burst: 3, now: () => now });
  assert.deepEqual([1, 2, 3].map(() => limiter.take("a").ok), [true, true, true]);
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSecs: 1 });
  assert.equal(limiter.take("b").ok, true, "keys are independent");
  now += 500;
  assert.equal(limiter.take("a").ok, true, "refills at the rate");
  assert.equal(limiter.take("a").ok, false);
});
