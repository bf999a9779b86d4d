/**
 * Two RePlaya processes on one s2-lite basin, as behind a load balancer:
 * what a viewer does on one process is seen by the other through S2 alone.
 */

import assert from "node:assert/strict";
import { startChildServer } from "../support/child_server.ts";
import { fakeEvents, openRawStream, post, sendBatch, startSession } from "../support/client.ts";
import { liteAvailable, startLite } from "../support/s2_lite.ts";

/** Reads a raw SSE connection until `done` (at most 20 s: then the connection is closed); returns all it read. */
async function readUntil(conn: Deno.Conn, done: (text: string) => boolean): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(16 * 1024);
  const timer = setTimeout(() => conn.close(), 20_000);
  try {
    while (!done(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    /* closed by the deadline */
  } finally {
    clearTimeout(timer);
  }
  return text;
}

/** Posts batches to `url` until a response's `watched` equals `want`; returns how long that took. */
async function waitForWatched(url: string, session: { sessionId: string; token: string }, want: boolean, seq: number) {
  const started = performance.now();
  for (let attempt = 0; attempt < 200; attempt++, seq++) {
    const res = await sendBatch(url, session, { seq, events: fakeEvents(1) });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    if (body.watched === want) return { ms: performance.now() - started, seq: seq + 1 };
    // The next try follows its answer; each is one ingest round trip plus the claim's trip through S2.
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`watched never became ${want}`);
}

Deno.test({
  name: "multi-process: a viewer on B makes A's ingest answer watched; a stop on B ends A's viewers",
  ignore: !liteAvailable(),
  async fn() {
    const lite = await startLite();
    const env = {
      S2_ACCOUNT_ENDPOINT: lite.url,
      S2_ACCESS_TOKEN: "test",
      S2_BASIN: `replaya-multi-${crypto.randomUUID().slice(0, 8)}`,
    };
    const a = await startChildServer(env);
    const b = await startChildServer(env);
    const conns: Deno.Conn[] = [];
    try {
      const session = await startSession(a.url);
      const first = await sendBatch(a.url, session, { seq: 0, events: fakeEvents(2) });
      assert.equal((await first.json()).watched, false, "nobody watches yet");

      // A viewer on B: A learns of it through the live/watched stream.
      const onB = await openRawStream(b.url, `/api/sessions/${session.sessionId}/live`);
      conns.push(onB);
      const watched = await waitForWatched(a.url, session, true, 1);
      console.log(`  watched on A after a viewer joined B: ${watched.ms.toFixed(0)} ms`);

      // A viewer on A; the stop goes to B, and A's viewer ends with the stop record.
      const onA = await openRawStream(a.url, `/api/sessions/${session.sessionId}/live`);
      conns.push(onA);
      const stop = await post(`${b.url}/api/sessions/${session.sessionId}/stop`, {}, {
        authorization: `Bearer ${session.token}`,
      });
      assert.equal(stop.status, 200, await stop.text());
      // The response ends after the stop record: chunked encoding's last chunk (the connection stays open).
      const seenOnA = await readUntil(onA, (text) => text.includes("\r\n0\r\n\r\n"));
      assert.match(seenOnA, /event: stop\n[\s\S]*\r\n0\r\n\r\n$/);

      // A viewer leaving B releases the claim: a new session watched by nobody answers false.
      const next = await startSession(a.url);
      const onB2 = await openRawStream(b.url, `/api/sessions/${next.sessionId}/live`);
      const nextWatched = await waitForWatched(a.url, next, true, 0);
      onB2.close();
      const released = await waitForWatched(a.url, next, false, nextWatched.seq);
      console.log(`  unwatched on A after the viewer left B: ${released.ms.toFixed(0)} ms`);
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await a.close();
      await b.close();
      await lite.stop();
    }
  },
});
