import assert from "node:assert/strict";
import {
  canStartPlayback,
  clampOffset,
  emptyMessage,
  liveCatchUpOffset,
  MAX_LIVE_LAG_MS,
  nextSpeed,
  playableSnapshotIndex,
  playerStatus,
  resumeOffset,
  SPEEDS,
  StartGate,
} from "../../islands/player/playback.ts";
import { click, custom, fullSnapshot, meta, mouseMove } from "./_events.ts";

Deno.test("playback can start at the first full snapshot that has a Meta before it", () => {
  assert.equal(playableSnapshotIndex([]), -1);
  assert.equal(playableSnapshotIndex([meta(0)]), -1, "Meta alone draws nothing");
  assert.equal(playableSnapshotIndex([fullSnapshot(0), mouseMove(5)]), -1, "no viewport without a Meta");
  assert.equal(playableSnapshotIndex([custom(0, "replaya.identify", { userId: "u" }), meta(1), fullSnapshot(2)]), 2);
  assert.equal(playableSnapshotIndex([fullSnapshot(0), meta(1), click(2, 9), fullSnapshot(3)]), 3);
  assert.ok(canStartPlayback([meta(0), fullSnapshot(1)]));
  assert.ok(!canStartPlayback([meta(0), mouseMove(1)]));
});

Deno.test("StartGate: the same decision batch by batch, with the Meta and the snapshot in different batches", () => {
  const gate = new StartGate();
  assert.equal(gate.push([custom(0, "replaya.identify", { userId: "u" })]), false);
  assert.equal(gate.push([fullSnapshot(1)]), false, "a snapshot before any Meta does not count");
  assert.equal(gate.push([meta(2), mouseMove(3)]), false);
  assert.equal(gate.push([click(4, 9), fullSnapshot(5)]), true);
  assert.equal(gate.push([]), true, "stays ready");
  assert.equal(gate.ready, true);
});

Deno.test("status: loading until playable, live while the server follows, ended once over", () => {
  assert.equal(playerStatus({ playable: false, liveStream: false, ended: false }), "loading");
  assert.equal(playerStatus({ playable: false, liveStream: true, ended: false }), "loading");
  assert.equal(playerStatus({ playable: true, liveStream: false, ended: false }), "playing");
  assert.equal(playerStatus({ playable: true, liveStream: true, ended: false }), "live");
  assert.equal(playerStatus({ playable: true, liveStream: false, ended: true }), "ended");
  assert.equal(playerStatus({ playable: false, liveStream: false, ended: true }), "ended");
});

Deno.test("empty state: loading, then waiting for the first snapshot, or no data once ended", () => {
  const base = { playable: false, liveStream: false, ended: false, live: false, caughtUp: false, failed: false };
  assert.equal(emptyMessage(base), "Loading recording…");
  assert.equal(emptyMessage({ ...base, live: true }), "Connecting to the live session…");
  assert.equal(
    emptyMessage({ ...base, live: true, caughtUp: true, liveStream: true }),
    "No recording data yet — waiting for the first snapshot",
  );
  assert.equal(emptyMessage({ ...base, ended: true, caughtUp: true }), "This session has no recording data.");
  assert.equal(emptyMessage({ ...base, ended: true, failed: true }), "This recording could not be loaded.");
  assert.match(emptyMessage({ ...base, error: "boom" })!, /could not be played \(boom\)/);
  assert.equal(emptyMessage({ ...base, playable: true, ended: true }), undefined);
});

Deno.test("resume: following live skips the idle time, replaying history carries on where it stopped", () => {
  assert.equal(resumeOffset(10_000, 70_000, true), 70_000);
  assert.equal(resumeOffset(10_000, 70_000, false), 10_000);
  assert.equal(resumeOffset(10_000, 9_000, true), 10_000, "never backwards");
});

Deno.test("live catch-up: only when playback fell too far behind the newest event", () => {
  assert.equal(liveCatchUpOffset(10_000, 12_000, 10_000 + MAX_LIVE_LAG_MS), undefined);
  assert.equal(liveCatchUpOffset(0, 30_000, 31_000), 30_000);
  // A single long batch: skip to within the allowed lag, not just to its start.
  assert.equal(liveCatchUpOffset(0, 1_000, 60_000), 60_000 - MAX_LIVE_LAG_MS);
});

Deno.test("clampOffset keeps seeks inside the loaded recording", () => {
  assert.equal(clampOffset(-1, 100), 0);
  assert.equal(clampOffset(50, 100), 50);
  assert.equal(clampOffset(500, 100), 100);
  assert.equal(clampOffset(Number.NaN, 100), 0);
});

Deno.test("speeds: 0.5× to 16×, stepped one at a time and stopping at the ends", () => {
  assert.deepEqual(SPEEDS, [0.5, 1, 2, 4, 8, 16]);
  assert.equal(nextSpeed(1, 1), 2);
  assert.equal(nextSpeed(1, -1), 0.5);
  assert.equal(nextSpeed(0.5, -1), 0.5);
  assert.equal(nextSpeed(16, 1), 16);
  assert.equal(nextSpeed(3, 1), 1, "an unknown speed goes back to 1×");
});

Deno.test("StartGate: remembers the capture time of the snapshot playback starts at", () => {
  const gate = new StartGate();
  gate.push([meta(10)]);
  assert.equal(gate.snapshotAt, undefined);
  gate.push([fullSnapshot(35), fullSnapshot(90)]);
  assert.equal(gate.snapshotAt, fullSnapshot(35).timestamp);
});
