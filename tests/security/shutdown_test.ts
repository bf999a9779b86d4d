/**
 * Finding 10: SIGTERM (and SIGINT) end every open SSE stream, finish what is
 * in flight, close the store and exit, instead of waiting for the viewers.
 */

import assert from "node:assert/strict";
import { startChildServer } from "../support/child_server.ts";
import { fakeEvents, sendBatch, startSession } from "../support/client.ts";

async function openStream(url: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read(); // the first bytes arrived: the stream is open on the server
  return reader;
}

/** Reads until the server ends the stream; resolves true when it ended cleanly or by a reset. */
async function ended(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  try {
    while (!(await reader.read()).done) { /* drain */ }
  } catch { /* a reset also ends it */ }
  return true;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`security: ${signal} with 100 open SSE streams ends them all and exits 0`, async () => {
    const server = await startChildServer({ REPLAYA_MAX_CONCURRENT_PER_CLIENT: "500" });
    try {
      const session = await startSession(server.url);
      assert.equal((await sendBatch(server.url, session, { seq: 0, events: fakeEvents(3) })).status, 200);
      const readers = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        openStream(
          i % 2 === 0 ? `${server.url}/api/sessions/feed` : `${server.url}/api/sessions/${session.sessionId}/live`,
        )));
      const started = performance.now();
      server.kill(signal);
      const status = await server.status;
      const ms = Math.round(performance.now() - started);
      assert.equal(status.code, 0, server.output());
      assert.deepEqual(await Promise.all(readers.map(ended)), Array(100).fill(true));
      assert.match(server.output(), new RegExp(`RePlaya stopped on ${signal}`));
      console.log(`${signal} with 100 open SSE streams: exited 0 after ${ms} ms`);
    } finally {
      await server.close();
    }
  });
}
