import assert from "node:assert/strict";
import { AppendTokens } from "../../lib/auth/append_tokens.ts";

const secret = "a-test-secret-that-is-long-enough-1234";

Deno.test("append tokens: bound to one session, signed, and expiring", async () => {
  let now = 1_800_000_000_000;
  const tokens = new AppendTokens({ secret, ttlMs: 60_000, now: () => now });
  const token = await tokens.issue("s1");
  assert.deepEqual(await tokens.check(token, "s1"), { ok: true, expiresAt: now + 60_000 });
  assert.deepEqual(await tokens.check(token, "s2"), { ok: false, problem: "wrong_session" });
  assert.deepEqual(await tokens.check(token.slice(0, -2) + "xx", "s1"), { ok: false, problem: "forged" });
  assert.deepEqual(await tokens.check(undefined, "s1"), { ok: false, problem: "missing" });
  assert.deepEqual(await tokens.check("a.b", "s1"), { ok: false, problem: "malformed" });
  const other = new AppendTokens({ secret: secret + "!", now: () => now });
  assert.deepEqual(await other.check(token, "s1"), { ok: false, problem: "forged" });
  now += 61_000;
  assert.deepEqual(await tokens.check(token, "s1"), { ok: false, problem: "expired" });
  assert.equal((await tokens.check(token, "s1", 10_000)).ok, true, "a grace period accepts a recently expired token");
});

Deno.test("append tokens: refresh is due in the second half of the lifetime", async () => {
  let now = 0;
  const tokens = new AppendTokens({ secret, ttlMs: 100_000, now: () => now });
  const check = await tokens.check(await tokens.issue("s"), "s");
  assert.ok(check.ok);
  if (!check.ok) return;
  assert.equal(tokens.needsRefresh(check.expiresAt), false);
  now = 60_000;
  assert.equal(tokens.needsRefresh(check.expiresAt), true);
});
