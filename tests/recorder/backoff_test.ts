import assert from "node:assert/strict";
import { BACKOFF_MAX_MS, backoffDelay, parseRetryAfter, RETRY_AFTER_MAX_MS } from "../../recorder/src/backoff.ts";

Deno.test("backoffDelay is full jitter over an exponential cap", () => {
  const top = () => 0.999999;
  assert.equal(backoffDelay(1, () => 0), 0, "jitter may reach zero");
  assert.equal(backoffDelay(1, top), 499);
  assert.equal(backoffDelay(2, top), 999);
  assert.equal(backoffDelay(3, top), 1999);
  assert.equal(backoffDelay(3, () => 0.5), 1000);
  assert.equal(backoffDelay(5, top), 7_999);
  assert.equal(backoffDelay(6, top), 9_999, "500 * 2^5 = 16 s is capped to 10 s");
  assert.equal(backoffDelay(50, top), BACKOFF_MAX_MS - 1, "capped at 10 s");
});

Deno.test("backoffDelay spreads values across the window", () => {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const values = Array.from({ length: 200 }, () => backoffDelay(4, random));
  assert.ok(values.every((v) => v >= 0 && v < 4000));
  assert.ok(new Set(values).size > 150, "jittered, not constant");
  assert.ok(Math.min(...values) < 1000 && Math.max(...values) > 3000);
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter(" 1.5 ", now), 1500);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now), 10_000);
  assert.equal(
    parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now),
    0,
    "past dates mean now",
  );
  assert.equal(parseRetryAfter("999999", now), RETRY_AFTER_MAX_MS, "capped");
});

Deno.test("parseRetryAfter ignores absent or malformed values", () => {
  assert.equal(parseRetryAfter(null, 0), undefined);
  assert.equal(parseRetryAfter(undefined, 0), undefined);
  assert.equal(parseRetryAfter("", 0), undefined);
  assert.equal(parseRetryAfter("soon", 0), undefined);
  assert.equal(parseRetryAfter("-5", 0), undefined);
});
