import assert from "node:assert/strict";
import { OPENAPI } from "../../routes/api/openapi.ts";
import { serverTest } from "../support/server.ts";
import { fakeEvents, post, sendBatch, startSession } from "../support/client.ts";

const METHODS = ["get", "post", "put", "patch", "delete"];

serverTest("openapi: every API route is documented, and every documented operation exists", async ({ url, app }) => {
  const served = new Set(
    app.routes
      .filter((r) => METHODS.includes(r.method.toLowerCase()))
      .filter((r) => r.path.startsWith("/api/") || r.path === "/healthz" || r.path === "/metrics")
      .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`),
  );
  const documented = new Set(
    Object.entries(OPENAPI.paths).flatMap(([path, ops]) =>
      Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`)
    ),
  );
  assert.deepEqual([...served].filter((r) => !documented.has(r)), [], "served but not documented");
  assert.deepEqual([...documented].filter((r) => !served.has(r)), [], "documented but not served");
  assert.ok(documented.size >= 15, `${documented.size} operations`);

  const doc = await (await fetch(`${url}/api/openapi.json`)).json();
  assert.equal(doc.openapi, "3.1.0");
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(OPENAPI.paths).sort());
  // Every $ref points at a schema that exists.
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref.split("/").at(-1)!], ref);
});

serverTest("json api: the list with filters and a cursor, one session's details, clear errors", async ({ url }) => {
  const started: Array<{ sessionId: string; token: string }> = [];
  for (let i = 0; i < 3; i++) {
    const s = await startSession(url, {
      meta: { url: `https://shop.example/p${i}`, userAgent: "Mozilla/5.0 Chrome/120", userId: `user-${i}` },
    });
    await sendBatch(url, s, { seq: 0, events: fakeEvents(2) });
    started.push(s);
  }
  await post(`${url}/api/sessions/${started[0].sessionId}/stop`, {}, { authorization: `Bearer ${started[0].token}` });

  const all = await (await fetch(`${url}/api/sessions`)).json();
  assert.deepEqual(all.sessions.map((r: { id: string }) => r.id), started.map((s) => s.sessionId).reverse());
  assert.equal(all.next, null);
  const ended = all.sessions.find((r: { id: string }) => r.id === started[0].sessionId);
  assert.equal(ended.live, false);
  assert.equal(ended.end.events, 2);

  const first = await (await fetch(`${url}/api/sessions?limit=2`)).json();
  assert.equal(first.sessions.length, 2);
  const rest = await (await fetch(`${url}/api/sessions?limit=2&cursor=${first.next}`)).json();
  assert.deepEqual(rest.sessions.map((r: { id: string }) => r.id), [started[0].sessionId]);

  const live = await (await fetch(`${url}/api/sessions?status=live&url=p2`)).json();
  assert.deepEqual(live.sessions.map((r: { id: string }) => r.id), [started[2].sessionId]);

  const details = await (await fetch(`${url}/api/sessions/${started[1].sessionId}`)).json();
  assert.equal(details.meta.url, "https://shop.example/p1");
  assert.equal(details.live, true);

  const missing = await fetch(`${url}/api/sessions/${"1".repeat(13)}${"a".repeat(12)}`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "session_not_found");
  const bad = await fetch(`${url}/api/sessions/..%2Findex`);
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const odd = await (await fetch(`${url}/api/sessions?status=nonsense&from=yesterday`)).json();
  assert.equal(odd.sessions.length, 3, "filter values that mean nothing are ignored, as on the list page");
  for (const limit of ["-5", "0", "201", "2.5", "ten"]) {
    const res = await fetch(`${url}/api/sessions?limit=${limit}`);
    assert.equal(res.status, 400, limit);
    assert.equal((await res.json()).error.code, "invalid_limit");
  }
});
