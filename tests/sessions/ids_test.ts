import assert from "node:assert/strict";
import { createdAtOf, idOfStream, isSessionId, newSessionId, streamOf } from "../../lib/sessions/ids.ts";

Deno.test("session ids: later sessions sort first, byte-wise, across digit-count boundaries", () => {
  const times = [1, 999, 1_000, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 9_999_999_999_998];
  const ids = times.map((t) => newSessionId(t));
  const sorted = [...ids].sort();
  assert.deepEqual(sorted, [...ids].reverse());
  ids.forEach((id, i) => assert.equal(createdAtOf(id), times[i]));
});

Deno.test("session ids: same-millisecond ids differ and are well-formed", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newSessionId(1_700_000_000_000)));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.ok(isSessionId(id));
});

Deno.test("session ids: junk and path tricks are not ids", () => {
  for (
    const bad of [
      "",
      "..",
      "../../etc/passwd",
      "sessions/x",
      `${"1".repeat(13)}ABCDEFGHIJKL`,
      `${"1".repeat(13)}abc/../defgh`,
      42,
      null,
    ]
  ) {
    assert.equal(isSessionId(bad), false, String(bad));
  }
});

Deno.test("session ids: stream names round-trip", () => {
  const id = newSessionId();
  assert.equal(streamOf(id), `sessions/${id}`);
  assert.equal(idOfStream(streamOf(id)), id);
  assert.equal(idOfStream("index/sessions"), undefined);
});
