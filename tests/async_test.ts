/** lib/async.ts: the slicer yields a macrotask only once a slice of work has passed (an injected clock). */

import assert from "node:assert/strict";
import { slicer } from "../lib/async.ts";

Deno.test("slicer: no yield within a slice, one macrotask once it has passed", async () => {
  let now = 0;
  const pace = slicer(8, () => now);
  let timerRan = false;
  setTimeout(() => timerRan = true, 0);
  now = 7;
  await pace();
  assert.equal(timerRan, false, "within the slice: microtasks only");
  now = 8;
  await pace();
  assert.equal(timerRan, true, "past the slice: a macrotask let the timer run");
  // The slice starts again from the yield.
  let second = false;
  setTimeout(() => second = true, 0);
  now = 15;
  await pace();
  assert.equal(second, false);
});
