/**
 * Finding 1: gzip bombs and oversized bodies are refused without the memory
 * they ask for. A real server process; its peak RSS (VmHWM) is read before
 * and after each hostile request.
 */

import assert from "node:assert/strict";
import { gzip } from "../../lib/bytes.ts";
import { startChildServer } from "../support/child_server.ts";
import { fakeEvents, post, sendBatch, startBody, startSession } from "../support/client.ts";
import { TEST_KEY } from "../support/server.ts";

/** No single request may raise the process's peak RSS by more than this. */
const BOUND = 64 * 1024 * 1024;

/** gzip of `mib` MiB of zeros: ~1,000× smaller than what it inflates to. */
async function zeroBomb(mib: number): Promise<Uint8Array> {
  const zeros = new Uint8Array(1024 * 1024);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (mib-- <= 0) return controller.close();
      controller.enqueue(zeros);
    },
  }).pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("security: gzip bombs, with and without a key, leave peak memory within 64 MiB", async () => {
  const server = await startChildServer();
  try {
    // Warm up every path once, so what follows measures the hostile requests alone.
    const session = await startSession(server.url);
    assert.equal((await sendBatch(server.url, session, { seq: 0, events: fakeEvents(50), gzip: true })).status, 200);
    const bomb = await zeroBomb(3800); // ~3.7 MiB on the wire, 3.7 GiB inflated
    const small = await zeroBomb(1900); // ~1.9 MiB on the wire
    const figures: string[] = [];

    const cases: Array<[string, () => Promise<Response>]> = [
      ["start, no key", () => post(`${server.url}/api/sessions`, small, { "content-encoding": "gzip" })],
      [
        "start, wrong key in header",
        () =>
          post(`${server.url}/api/sessions`, small, { "content-encoding": "gzip", "x-replaya-key": "pk_wrong_000000" }),
      ],
      [
        "start, right key in header",
        () => post(`${server.url}/api/sessions`, small, { "content-encoding": "gzip", "x-replaya-key": TEST_KEY }),
      ],
      ["events, valid token", () =>
        post(`${server.url}/api/sessions/${session.sessionId}/events`, bomb, {
          "content-encoding": "gzip",
          authorization: `Bearer ${session.token}`,
        })],
      [
        "events, keepalive text/plain",
        () =>
          post(`${server.url}/api/sessions/${session.sessionId}/events`, bomb, {
            "content-encoding": "gzip",
            "content-type": "text/plain",
          }),
      ],
    ];
    for (const [name, send] of cases) {
      const before = await server.peakRss();
      const res = await send();
      const body = await res.json();
      const after = await server.peakRss();
      assert.ok([401, 413].includes(res.status), `${name}: ${res.status} ${JSON.stringify(body)}`);
      assert.ok(body.error.code, `${name}: a JSON error`);
      figures.push(
        `${name}: ${res.status} ${body.error.code}, peak RSS +${((after - before) / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.ok(after - before <= BOUND, `${name}: peak RSS rose by ${after - before} bytes`);
    }
    console.log(figures.join("\n"));

    // The server still works, and the bombs wrote nothing.
    const next = await sendBatch(server.url, session, { seq: 1, events: fakeEvents(3), gzip: true });
    assert.equal(next.status, 200);
    const start = await post(`${server.url}/api/sessions`, startBody());
    assert.equal(start.status, 201);
    await start.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("security: a session start body is capped before the key is known", async () => {
  const server = await startChildServer();
  try {
    const huge = JSON.stringify({ ...startBody(), padding: "x".repeat(200 * 1024) });
    const res = await post(`${server.url}/api/sessions`, huge);
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "payload_too_large");
    const gz = await gzip(new TextEncoder().encode(huge));
    const inflated = await post(`${server.url}/api/sessions`, gz, { "content-encoding": "gzip" });
    assert.equal(inflated.status, 413, "the inflated start body is capped as tightly");
    await inflated.body?.cancel();
  } finally {
    await server.close();
  }
});
