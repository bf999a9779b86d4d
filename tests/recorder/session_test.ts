import assert from "node:assert/strict";
import {
  clearSession,
  clearStorage,
  decideSample,
  loadSession,
  memoryStorage,
  SAMPLE_KEY,
  saveSession,
  SESSION_KEY,
  type StorageLike,
} from "../../recorder/src/session.ts";

const HOUR = 3_600_000;

Deno.test("a saved session resumes until the inactivity timeout", () => {
  const s = memoryStorage();
  const session = {
    sessionId: "s1",
    token: "t1",
    lastActivity: 1000,
    userId: "u",
  };
  saveSession(s, session);
  assert.deepEqual(JSON.parse(s.getItem(SESSION_KEY)!), session);
  assert.deepEqual(loadSession(s, 1000 + HOUR / 2, HOUR / 2), session);
  assert.equal(loadSession(s, 1001 + HOUR / 2, HOUR / 2), undefined, "expired");
});

Deno.test("malformed session records are ignored", () => {
  const s = memoryStorage();
  s.setItem(SESSION_KEY, "{not json");
  assert.equal(loadSession(s, 0, HOUR), undefined);
  s.setItem(SESSION_KEY, JSON.stringify({ sessionId: "s", lastActivity: 0 }));
  assert.equal(loadSession(s, 0, HOUR), undefined, "no token");
});

Deno.test("throwing storage never throws out", () => {
  const broken: StorageLike = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceeded");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  assert.equal(loadSession(broken, 0, HOUR), undefined);
  saveSession(broken, { sessionId: "s", token: "t", lastActivity: 0 });
  clearStorage(broken);
  clearSession(broken);
  assert.equal(decideSample(broken, 0.5, () => 0.1), true);
});

Deno.test("sampling is decided once and remembered", () => {
  const s = memoryStorage();
  let calls = 0;
  const random = () => (calls++, 0.7);
  assert.equal(decideSample(s, 0.5, random), false);
  assert.equal(calls, 1);
  // Later page loads reuse the decision even if the dice would now say yes.
  assert.equal(decideSample(s, 0.5, () => 0.1), false);
  assert.equal(decideSample(s, 0.5, () => 0.1), false);
  assert.deepEqual(JSON.parse(s.getItem(SAMPLE_KEY)!), {
    rate: 0.5,
    sampled: false,
  });
  // A changed rate is a new decision.
  assert.equal(decideSample(s, 0.8, () => 0.75), true);
});

Deno.test("sampling at 0 and 1 needs no randomness", () => {
  const never = () => {
    throw new Error("random() should not be called");
  };
  assert.equal(decideSample(memoryStorage(), 1, never), true);
  assert.equal(decideSample(memoryStorage(), 0, never), false);
});

Deno.test("clearSession keeps the sampling decision, clearStorage removes both", () => {
  const s = memoryStorage();
  saveSession(s, { sessionId: "s", token: "t", lastActivity: 0 });
  decideSample(s, 0.5, () => 0.1);
  clearSession(s);
  assert.equal(s.getItem(SESSION_KEY), null);
  assert.notEqual(s.getItem(SAMPLE_KEY), null);
  clearStorage(s);
  assert.equal(s.getItem(SAMPLE_KEY), null);
});
