/**
 * Operators' logs from a real process: one JSON line per request with the
 * route pattern, never the path's ids, query strings, tokens or keys.
 */

import assert from "node:assert/strict";
import { startChildServer } from "../support/child_server.ts";
import { fakeEvents, sendBatch, startSession } from "../support/client.ts";
import { TEST_KEY } from "../support/server.ts";

Deno.test("logs: REPLAYA_LOG_FORMAT=json writes one JSON line per request, without secrets or queries", async () => {
  const server = await startChildServer({ REPLAYA_LOG_FORMAT: "json" });
  try {
    const session = await startSession(server.url);
    await sendBatch(server.url, session, { seq: 0, events: fakeEvents(2) });
    await (await fetch(`${server.url}/api/sessions/${session.sessionId}/events?secret-query=1`)).body?.cancel();
    await (await fetch(`${server.url}/no/such/page?x=1`)).body?.cancel();
    // The last request's line is written as its response goes out: wait for it, bounded.
    const deadline = Date.now() + 10_000;
    while (!server.output().includes(`"status":404`) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines = server.output().trim().split("\n");
    const entries = lines.map((line) => JSON.parse(line)); // every line is JSON
    const requests = entries.filter((e) => e.msg === "request");
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.route} ${r.status}`),
      [
        "POST /api/sessions 201",
        "POST /api/sessions/:id/events 200",
        "GET /api/sessions/:id/events 200",
        "GET /* 404",
      ],
    );
    for (const r of requests) {
      assert.equal(typeof r.ms, "number");
      assert.equal(typeof r.time, "string");
    }
    const all = server.output();
    for (const secret of [session.token, TEST_KEY, session.sessionId, "secret-query", "x=1"]) {
      assert.ok(!all.includes(secret), `the log must not contain ${secret}`);
    }
    assert.ok(entries.some((e) => e.msg.startsWith("RePlaya listening on") && e.store === "sqlite"));
  } finally {
    await server.close();
  }
});
