import assert from "node:assert/strict";
import { FakeSource } from "./_fake_source.ts";
import { openWallStream, parseSessionRow, type WallHandlers, wallStreamUrl } from "../../islands/wall/stream.ts";
import { click, meta, T0 } from "./_events.ts";

function setup(retryDelaysMs = [10, 20]) {
  const sources: FakeSource[] = [];
  const calls: string[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const handlers: WallHandlers = {
    onOpen: () => calls.push("open"),
    onSession: (row) => calls.push(`session ${row.id} ${row.userId ?? "-"}`),
    onBatch: (id, events) => calls.push(`batch ${id} ${events.map((e) => e.timestamp - T0).join(",")}`),
    onEnd: (id) => calls.push(`end ${id}`),
    onDisconnect: () => calls.push("disconnect"),
  };
  const stream = openWallStream("/api/wall", handlers, {
    create: (url) => {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
    retryDelaysMs,
    setTimer: (fn, ms) => timers.push({ fn, ms }),
    clearTimer: () => {},
  });
  return { sources, calls, timers, stream, last: () => sources[sources.length - 1] };
}

Deno.test("wallStreamUrl: the list's text filters as query parameters, empty ones left out", () => {
  assert.equal(wallStreamUrl(""), "/api/wall");
  assert.equal(
    wallStreamUrl("", { user: " alice ", source: "", url: "/checkout?x=1&y" }),
    "/api/wall?user=alice&url=%2Fcheckout%3Fx%3D1%26y",
  );
  assert.equal(wallStreamUrl("https://r.example/", { source: "web" }), "https://r.example/api/wall?source=web");
});

Deno.test("wall stream: sessions, batches and ends reach the wall; malformed messages are skipped", () => {
  const t = setup();
  t.last().open();
  t.last().emit("session", { id: "s1", createdAt: T0, url: "https://shop.example/", userId: "alice", live: true });
  t.last().emit("session", { id: "s2", createdAt: "yesterday", url: "x" }); // no usable start time
  t.last().emit("session", "{not json");
  t.last().emit("batch", { id: "s1", events: [meta(0), { type: "x" }, click(5, 8)] });
  t.last().emit("batch", { id: "s1", events: [] }); // nothing to apply
  t.last().emit("batch", { id: "s1", events: "nope" });
  t.last().emit("end", { id: "s1" });
  t.last().emit("end", {});
  assert.deepEqual(t.calls, ["open", "session s1 alice", "batch s1 0,5", "end s1"]);
});

Deno.test("wall stream: every (re)connection is announced, so the wall starts over with the server", () => {
  const t = setup();
  t.last().open();
  t.last().fail(0); // dropped; EventSource reconnects by itself
  assert.equal(t.sources.length, 1);
  t.last().open();
  assert.deepEqual(t.calls, ["open", "disconnect", "open"]);
});

Deno.test("wall stream: when EventSource gives up it is reopened after a backoff, the last delay repeating", () => {
  const t = setup([10, 20]);
  t.last().fail(2);
  assert.equal(t.last().closed, true);
  assert.deepEqual(t.timers.map((x) => x.ms), [10]);
  t.timers[0].fn();
  assert.equal(t.sources.length, 2);
  t.last().fail(2);
  t.timers[1].fn();
  t.last().fail(2);
  assert.deepEqual(t.timers.map((x) => x.ms), [10, 20, 20]);
  t.timers[2].fn();
  t.last().open();
  t.last().fail(2);
  assert.equal(t.timers[3].ms, 10, "an open connection resets the backoff");
  // Messages from a replaced source are ignored.
  t.sources[0].emit("end", { id: "old" });
  assert.ok(!t.calls.includes("end old"));
});

Deno.test("wall stream: close stops the source and any pending reopen", () => {
  const t = setup();
  t.last().fail(2);
  t.stream.close();
  t.timers[0].fn();
  assert.equal(t.sources.length, 1, "not reopened after close");
  assert.equal(t.sources[0].closed, true);
});

Deno.test("parseSessionRow: a row needs an id and a start time; it is live on the wall", () => {
  assert.equal(parseSessionRow({ id: "", createdAt: T0 }), undefined);
  assert.equal(parseSessionRow(null), undefined);
  assert.deepEqual(parseSessionRow({ id: "s", createdAt: T0, live: false }), {
    id: "s",
    createdAt: T0,
    url: "",
    live: true,
  });
});
