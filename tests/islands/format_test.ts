import assert from "node:assert/strict";
import { formatBytes, formatClock, formatRequestTime, plural, shorten } from "../../islands/player/format.ts";

Deno.test("formatClock: mm:ss from the session start, minutes past an hour keep counting", () => {
  assert.equal(formatClock(0), "00:00");
  assert.equal(formatClock(999), "00:00");
  assert.equal(formatClock(1_000), "00:01");
  assert.equal(formatClock(61_500), "01:01");
  assert.equal(formatClock(59 * 60_000 + 59_999), "59:59");
  assert.equal(formatClock(75 * 60_000 + 3_000), "75:03");
});

Deno.test("formatClock: negative and non-finite offsets read 00:00", () => {
  assert.equal(formatClock(-5_000), "00:00");
  assert.equal(formatClock(Number.NaN), "00:00");
  assert.equal(formatClock(Infinity), "00:00");
});

Deno.test("formatRequestTime: milliseconds below a second, one decimal below ten seconds", () => {
  assert.equal(formatRequestTime(87), "87 ms");
  assert.equal(formatRequestTime(1_234), "1.2 s");
  assert.equal(formatRequestTime(75_400), "75 s");
  assert.equal(formatRequestTime(-1), "");
});

Deno.test("formatBytes and plural", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(48_000), "47 KiB");
  assert.equal(formatBytes(3_500), "3.4 KiB");
  assert.equal(formatBytes(12 * 1024 * 1024), "12 MiB");
  assert.equal(plural(1, "event"), "1 event");
  assert.equal(plural(120, "event"), "120 events");
  assert.equal(plural(2, "page change", "page changes"), "2 page changes");
});

Deno.test("shorten: collapses whitespace and cuts with an ellipsis", () => {
  assert.equal(shorten("  Buy\n   now ", 40), "Buy now");
  assert.equal(shorten("abcdefghij", 5), "abcd…");
  assert.equal(shorten("abcde", 5), "abcde");
});
