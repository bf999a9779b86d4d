/**
 * The list's pure parts: relative times, rates, sorting within a page, the
 * sort links, the refresh's updates, and the setup builder's init options.
 */

import assert from "node:assert/strict";
import type { SessionRow as Row } from "@replaya/recorder/wire";
import { formatRate, relativeTime } from "../../components/format.ts";
import { activityOf, countsOf, sortRows } from "../../components/SessionRow.tsx";
import { liveUpdates, sortHref } from "../../islands/LiveSessions.tsx";
import { DEFAULT_CHOICES, initOptions } from "../../islands/Setup.tsx";

const NOW = Date.UTC(2026, 10, 23, 16, 0, 0);

Deno.test("relativeTime: just now, minutes, hours, days, then the date", () => {
  assert.equal(relativeTime(NOW - 10_000, NOW), "just now");
  assert.equal(relativeTime(NOW - 3 * 60_000, NOW), "3 min ago");
  assert.equal(relativeTime(NOW - 59 * 60_000, NOW), "59 min ago");
  assert.equal(relativeTime(NOW - 5 * 3_600_000, NOW), "5 h ago");
  assert.equal(relativeTime(NOW - 3 * 86_400_000, NOW), "3 d ago");
  assert.equal(relativeTime(NOW - 40 * 86_400_000, NOW), "2026-10-14");
  assert.equal(relativeTime(NOW + 5 * 60_000, NOW), "2026-11-23", "a clock ahead of ours shows the date");
});

Deno.test("formatRate: one decimal below ten a minute", () => {
  assert.equal(formatRate(0), "0/min");
  assert.equal(formatRate(0.44), "0.4/min");
  assert.equal(formatRate(12.6), "13/min");
});

const row = (id: string, extra: Partial<Row>): Row => ({
  id,
  createdAt: NOW - 600_000,
  url: "https://x/",
  live: false,
  ...extra,
});
const end = (errors: number, clicks: number) => ({
  endedAt: NOW,
  lastEventAt: NOW,
  reason: "stop",
  events: 10,
  clicks,
  pages: 1,
  errors,
});

Deno.test("sortRows: by duration, activity or errors within the page; ties keep newest first", () => {
  const rows = [
    row("a", { durationMs: 60_000, end: end(0, 6) }),
    row("b", { durationMs: 600_000, end: end(2, 6) }),
    row("c", { live: true, running: { events: 5, clicks: 1, pages: 1, errors: 2, lastEventAt: NOW } }),
    row("d", { live: true }),
  ];
  assert.deepEqual(sortRows(rows, "started", NOW).map((r) => r.id), ["a", "b", "c", "d"]);
  assert.deepEqual(sortRows(rows, "duration", NOW).map((r) => r.id), ["b", "c", "d", "a"], "live rows run to now");
  assert.deepEqual(sortRows(rows, "errors", NOW).map((r) => r.id), ["b", "c", "a", "d"]);
  assert.deepEqual(sortRows(rows, "activity", NOW).map((r) => r.id), ["a", "b", "c", "d"]);
  assert.equal(activityOf(rows[0], NOW), 6, "6 clicks in a minute");
  assert.equal(activityOf(rows[3], NOW), undefined, "no counts yet");
  assert.equal(countsOf(rows[2])?.errors, 2, "a live row's running counts");
});

Deno.test("sortHref keeps filters and the cursor; liveUpdates takes what a refresh changes", () => {
  assert.equal(sortHref("errors=yes&cursor=x&sort=errors", "duration"), "/?errors=yes&cursor=x&sort=duration");
  assert.equal(sortHref("sort=errors", "started"), "/");
  const running = { events: 3, clicks: 0, pages: 1, errors: 0, lastEventAt: NOW };
  const updates = liveUpdates([row("a", { live: true, running, durationMs: 5 }), { nonsense: true } as unknown as Row]);
  assert.deepEqual([...updates.keys()], ["a"]);
  assert.deepEqual(updates.get("a"), { live: true, disconnected: undefined, running, durationMs: 5 });
});

Deno.test("setup builder: only options that differ from the recorder's defaults; the sample rate as a fraction", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(initOptions(DEFAULT_CHOICES))), {});
  assert.deepEqual(
    initOptions({
      captureConsole: true,
      captureNetwork: true,
      requireConsent: true,
      samplePercent: 10,
      form: "inline",
    }),
    { captureConsole: true, captureNetwork: true, requireConsent: true, sampleRate: 0.1 },
  );
  assert.equal(initOptions({ ...DEFAULT_CHOICES, samplePercent: 0 }).sampleRate, undefined, "empty means all");
  assert.equal(initOptions({ ...DEFAULT_CHOICES, samplePercent: 250 }).sampleRate, undefined);
  assert.equal(initOptions({ ...DEFAULT_CHOICES, samplePercent: 0.4 }).sampleRate, 0.01, "at least 1 %");
});
