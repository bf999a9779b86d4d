/** Per-project budgets (lib/http/project_budgets.ts), with an injected clock. */

import assert from "node:assert/strict";
import { ProjectBudgets } from "../../lib/http/project_budgets.ts";
import { RateLimiter } from "../../lib/http/rate_limit.ts";

const MIB = 1024 * 1024;
const DAY = 86_400_000;

Deno.test("project budgets: session starts per second (a burst of two seconds' worth), per project", () => {
  let now = 1_000;
  const budgets = new ProjectBudgets(
    { startsPerSec: 2, startsPerDay: 0, inflatedBytesPerSec: 0, storedBytesPerDay: 0 },
    () => now,
  );
  assert.deepEqual([1, 2, 3, 4].map(() => budgets.start("shop")), [undefined, undefined, undefined, undefined]);
  const refusal = budgets.start("shop");
  assert.equal(refusal?.budget, "starts_per_sec");
  assert.equal(refusal?.retryAfterSecs, 1);
  assert.equal(budgets.start("blog"), undefined, "another project has its own budget");
  now += 500;
  assert.equal(budgets.start("shop"), undefined, "refilled at the rate");
});

Deno.test("project budgets: session starts per UTC day, until midnight", () => {
  let now = 3 * DAY + DAY - 10_000; // 10 s before midnight
  const budgets = new ProjectBudgets(
    { startsPerSec: 0, startsPerDay: 3, inflatedBytesPerSec: 0, storedBytesPerDay: 0 },
    () => now,
  );
  for (let i = 0; i < 3; i++) assert.equal(budgets.start("shop"), undefined);
  const refusal = budgets.start("shop");
  assert.equal(refusal?.budget, "starts_per_day");
  assert.equal(refusal?.retryAfterSecs, 10, "until midnight UTC");
  now += 10_000;
  assert.equal(budgets.start("shop"), undefined, "a new day");
});

Deno.test("project budgets: inflated bytes per second, a large batch leaving a debt the next ones wait out", () => {
  let now = 0;
  const budgets = new ProjectBudgets(
    { startsPerSec: 0, startsPerDay: 0, inflatedBytesPerSec: 8 * MIB, storedBytesPerDay: 0 },
    () => now,
  );
  assert.equal(budgets.admitBatch("shop"), undefined);
  budgets.chargeInflated("shop", 15 * MIB); // more than a second's worth: 7 MiB in debt
  const refusal = budgets.admitBatch("shop");
  assert.equal(refusal?.budget, "inflated_bytes_per_sec");
  assert.equal(refusal?.retryAfterSecs, 1);
  assert.equal(budgets.admitBatch("blog"), undefined);
  now += 800;
  assert.ok(budgets.admitBatch("shop"), "still in debt after 0.8 s");
  now += 200;
  assert.equal(budgets.admitBatch("shop"), undefined, "paid off");
});

Deno.test("project budgets: stored bytes per day, optional", () => {
  let now = DAY;
  const budgets = new ProjectBudgets(
    { startsPerSec: 0, startsPerDay: 0, inflatedBytesPerSec: 0, storedBytesPerDay: MIB },
    () => now,
  );
  budgets.chargeStored("shop", MIB - 1);
  assert.equal(budgets.admitBatch("shop"), undefined);
  budgets.chargeStored("shop", 1);
  assert.equal(budgets.admitBatch("shop")?.budget, "stored_bytes_per_day");
  now += DAY;
  assert.equal(budgets.admitBatch("shop"), undefined);

  const none = new ProjectBudgets({ startsPerSec: 0, startsPerDay: 0, inflatedBytesPerSec: 0, storedBytesPerDay: 0 });
  for (let i = 0; i < 1000; i++) {
    assert.equal(none.start("shop"), undefined);
    none.chargeInflated("shop", 100 * MIB);
    none.chargeStored("shop", 100 * MIB);
    assert.equal(none.admitBatch("shop"), undefined, "0 is no limit");
  }
});

Deno.test("rate limiter: charge takes whatever it costs, and a debt is waited out", () => {
  let now = 0;
  const limiter = new RateLimiter({ ratePerSec: 10, burst: 10, now: () => now });
  limiter.charge("a", 25);
  assert.deepEqual(limiter.peek("a"), { ok: false, retryAfterSecs: 2 });
  now += 1_500;
  assert.equal(limiter.peek("a").ok, false, "-15 + 15: no whole token yet");
  now += 100;
  assert.equal(limiter.peek("a").ok, true);
});
