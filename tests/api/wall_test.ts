import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";
import { fakeEvents, post, sendBatch, startSession } from "../support/client.ts";

/** An SSE reader over fetch: `next(match)` returns the next event that matches, within 20 s. */
async function openWall(url: string, signal: AbortSignal, query = "") {
  const res = await fetch(`${url}/api/wall${query}`, { signal });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .getReader();
  let buffer = "";
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  return {
    async next(match: (e: { event: string; data: Record<string, unknown> }) => boolean) {
      const deadline = AbortSignal.timeout(20_000);
      while (!deadline.aborted) {
        const found = events.findIndex(match);
        if (found >= 0) return events.splice(found, 1)[0];
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = block.match(/^event: (.*)$/m)?.[1];
          const data = block.match(/^data: (.*)$/m)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
      throw new Error(`the wall did not send the expected event; unmatched: ${JSON.stringify(events)}`);
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

serverTest("wall: live sessions, their events, new sessions and ends on one stream", async ({ url, sessions }) => {
  const a = await startSession(url);
  const b = await startSession(url);
  await sendBatch(url, a, { seq: 0, events: fakeEvents(2, Date.now(), "a") });
  await sendBatch(url, b, { seq: 0, events: fakeEvents(2, Date.now(), "b") });
  const stopped = await startSession(url);
  await post(`${url}/api/sessions/${stopped.sessionId}/stop`, {}, { authorization: `Bearer ${stopped.token}` });

  const abort = new AbortController();
  const wall = await openWall(url, abort.signal);
  try {
    const shown = new Set<string>();
    for (let i = 0; i < 2; i++) {
      shown.add((await wall.next((e) => e.event === "session")).data.id as string);
    }
    assert.deepEqual(shown, new Set([a.sessionId, b.sessionId]), "the two live sessions, not the stopped one");
    const batchOf = (id: string) => (e: { event: string; data: Record<string, unknown> }) =>
      e.event === "batch" && e.data.id === id;
    await wall.next(batchOf(a.sessionId));
    await wall.next(batchOf(b.sessionId));
    assert.equal(sessions.viewerCount, 2, "each tile counts as a viewer");

    // Live: a new batch, a new session, an end.
    await sendBatch(url, a, { seq: 1, events: fakeEvents(1, Date.now(), "a-live") });
    const live = await wall.next(batchOf(a.sessionId));
    assert.equal((live.data.events as Array<{ data: { tag: string } }>)[0].data.tag, "a-live0");
    const c = await startSession(url);
    assert.equal((await wall.next((e) => e.event === "session")).data.id, c.sessionId);
    await post(`${url}/api/sessions/${b.sessionId}/stop`, {}, { authorization: `Bearer ${b.token}` });
    assert.equal((await wall.next((e) => e.event === "end")).data.id, b.sessionId);
  } finally {
    abort.abort();
    await wall.cancel();
  }
});

serverTest("wall: filters apply to listed and new sessions", async ({ url }) => {
  const other = await startSession(url, { meta: { url: "https://other.example/", userAgent: "t" } });
  const shop = await startSession(url, { meta: { url: "https://shop.example/cart", userAgent: "t" } });
  const res = await fetch(`${url}/api/wall?url=shop.example`);
  const reader = res.body!.getReader();
  let text = "";
  const deadline = AbortSignal.timeout(20_000);
  try {
    while (!text.includes(shop.sessionId) && !deadline.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.ok(text.includes(shop.sessionId));
    assert.ok(!text.includes(other.sessionId), "the other site's session is filtered out");
  } finally {
    await reader.cancel().catch(() => {});
  }
});

serverTest("wall: beyond its tile cap, live sessions wait and take the slot a stopped one frees", async ({ url }) => {
  const first = await startSession(url);
  const second = await startSession(url);
  const abort = new AbortController();
  const wall = await openWall(url, abort.signal, "?max=1");
  try {
    const shown = (await wall.next((e) => e.event === "session")).data.id;
    const [open, waiting] = shown === first.sessionId ? [first, second] : [second, first];
    await post(`${url}/api/sessions/${open.sessionId}/stop`, {}, { authorization: `Bearer ${open.token}` });
    assert.equal((await wall.next((e) => e.event === "end")).data.id, open.sessionId);
    assert.equal(
      (await wall.next((e) => e.event === "session")).data.id,
      waiting.sessionId,
      "the waiting one is shown",
    );
  } finally {
    abort.abort();
    await wall.cancel();
  }
});
