import assert from "node:assert/strict";
import { canGzip, gzip } from "../../recorder/src/compress.ts";
import { classifySend, type FetchLike, Transport } from "../../recorder/src/transport.ts";
import { FakeServer, reply, testMeta as meta } from "./_helpers.ts";

const cred = { sessionId: "s/1", token: "tok en" };

Deno.test("classifySend maps statuses to the contract's outcomes", () => {
  assert.deepEqual(classifySend(401, "token_expired", undefined), {
    kind: "token_expired",
  });
  assert.deepEqual(classifySend(401, "bad_token", undefined), {
    kind: "session_lost",
  });
  assert.deepEqual(classifySend(409, "session_stopped", undefined), {
    kind: "session_lost",
  });
  assert.deepEqual(classifySend(409, undefined, undefined), {
    kind: "session_lost",
  });
  assert.deepEqual(classifySend(409, "seq_conflict", undefined), {
    kind: "rejected",
    status: 409,
  });
  assert.deepEqual(classifySend(404, undefined, undefined), {
    kind: "session_lost",
  });
  assert.deepEqual(classifySend(429, undefined, 2000), {
    kind: "retry",
    retryAfterMs: 2000,
  });
  assert.deepEqual(classifySend(503, undefined, undefined), {
    kind: "retry",
    retryAfterMs: undefined,
  });
  assert.deepEqual(classifySend(500, undefined, undefined).kind, "retry");
  assert.deepEqual(classifySend(408, undefined, undefined).kind, "retry");
  for (const status of [400, 403, 413, 415, 422]) {
    assert.deepEqual(classifySend(status, undefined, undefined), {
      kind: "rejected",
      status,
    });
  }
});

Deno.test("start posts projectKey, resume and meta as JSON", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r.example.com", {
    fetch: server.fetch,
    now: Date.now,
  });
  const r = await t.start({
    projectKey: "pk",
    resume: { sessionId: "s9", token: "t9" },
    meta,
  });
  assert.deepEqual(r, {
    kind: "ok",
    sessionId: "s9",
    token: "t9",
    resumed: true,
  });
  const req = server.requests[0];
  assert.equal(req.url, "https://r.example.com/api/sessions");
  assert.equal(req.method, "POST");
  assert.equal(req.headers["content-type"], "application/json");
  assert.deepEqual(req.json, {
    projectKey: "pk",
    resume: { sessionId: "s9", token: "t9" },
    meta,
  });
});

Deno.test("start reports retry for network errors, 5xx with Retry-After, and bad bodies", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r", { fetch: server.fetch, now: () => 0 });
  server.down = true;
  assert.deepEqual(await t.start({ projectKey: "pk", meta }), {
    kind: "retry",
  });
  server.down = false;
  server.handlers.push(() => reply.json(503, { error: { code: "busy" } }, { "Retry-After": "7" }));
  assert.deepEqual(await t.start({ projectKey: "pk", meta }), {
    kind: "retry",
    retryAfterMs: 7000,
  });
  server.handlers = [() => reply.json(200, { nope: true })];
  assert.deepEqual(await t.start({ projectKey: "pk", meta }), {
    kind: "retry",
  });
  server.handlers = [() => reply.json(401, { error: { code: "bad_key" } })];
  assert.deepEqual(await t.start({ projectKey: "pk", meta }), {
    kind: "rejected",
    status: 401,
  });
});

Deno.test("send uses the bearer token, JSON, and reads watched/token", async () => {
  const server = new FakeServer();
  server.handlers.push(() => reply.json(200, { ok: true, watched: true, token: "new" }));
  const t = new Transport("https://r", { fetch: server.fetch, now: Date.now });
  const body = '{"writerId":"w","seq":0,"sentAt":1,"events":[]}';
  assert.deepEqual(await t.send(cred, body), {
    kind: "ok",
    watched: true,
    token: "new",
  });
  const req = server.requests[0];
  assert.equal(req.url, "https://r/api/sessions/s%2F1/events");
  assert.equal(req.headers["authorization"], "Bearer tok en");
  assert.equal(req.headers["content-type"], "application/json");
  assert.equal(
    req.headers["content-encoding"],
    undefined,
    "small bodies are not gzipped",
  );
  assert.equal(req.body, body);
  assert.equal(req.keepalive, false);
});

Deno.test("send gzips large bodies with Content-Encoding: gzip", async () => {
  assert.ok(canGzip());
  const seen: { headers: Headers; body: Uint8Array }[] = [];
  const fetch: FetchLike = (_url, init) => {
    seen.push({
      headers: new Headers(init.headers),
      body: init.body as Uint8Array,
    });
    return Promise.resolve(reply.json(200, { ok: true, watched: false }));
  };
  const t = new Transport("https://r", { fetch, now: Date.now, gzip });
  const body = JSON.stringify({
    writerId: "w",
    seq: 1,
    sentAt: 1,
    events: [{ type: 3, timestamp: 1, data: "z".repeat(5000) }],
  });
  assert.equal((await t.send(cred, body)).kind, "ok");
  assert.equal(seen[0].headers.get("content-encoding"), "gzip");
  assert.ok(seen[0].body.byteLength < body.length / 10, "compressed");
  const plain = await new Response(
    new Blob([seen[0].body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    ),
  ).text();
  assert.equal(plain, body);
});

Deno.test("send falls back to plain JSON when gzip fails", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r", {
    fetch: server.fetch,
    now: Date.now,
    gzip: () => Promise.reject(new Error("no CompressionStream")),
    gzipMinBytes: 0,
  });
  assert.equal((await t.send(cred, "{}")).kind, "ok");
  assert.equal(server.requests[0].headers["content-encoding"], undefined);
  assert.equal(server.requests[0].body, "{}");
});

Deno.test("send maps error responses and network failures", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r", { fetch: server.fetch, now: () => 0 });
  server.handlers = [
    () => reply.json(409, { error: { code: "session_stopped" } }),
  ];
  assert.deepEqual(await t.send(cred, "{}"), { kind: "session_lost" });
  server.handlers = [
    () => reply.json(401, { error: { code: "token_expired" } }),
  ];
  assert.deepEqual(await t.send(cred, "{}"), { kind: "token_expired" });
  server.handlers = [() => reply.json(429, {}, { "Retry-After": "2" })];
  assert.deepEqual(await t.send(cred, "{}"), {
    kind: "retry",
    retryAfterMs: 2000,
  });
  server.handlers = [
    () => new Response("<html>bad gateway</html>", { status: 502 }),
  ];
  assert.deepEqual(await t.send(cred, "{}"), {
    kind: "retry",
    retryAfterMs: undefined,
  });
  server.handlers = [() => reply.json(413, { error: { code: "too_large" } })];
  assert.deepEqual(await t.send(cred, "{}"), { kind: "rejected", status: 413 });
  server.down = true;
  assert.deepEqual(await t.send(cred, "{}"), { kind: "retry" });
});

Deno.test("sendKeepalive avoids preflight: text/plain, token in the body, keepalive, fetch called synchronously", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r", { fetch: server.fetch, now: Date.now });
  const pending = t.sendKeepalive(cred, '{"events":[]}');
  assert.equal(server.requests.length, 1, "issued before returning");
  const req = server.requests[0];
  assert.equal(req.path, "/api/sessions/s%2F1/events");
  assert.equal(req.query.get("token"), null, "never in the query string (proxies log it)");
  assert.deepEqual(JSON.parse(req.body as string), { token: "tok en", events: [] });
  assert.equal(req.headers["content-type"], "text/plain;charset=UTF-8");
  assert.equal(req.headers["authorization"], undefined);
  assert.equal(req.keepalive, true);
  assert.equal((await pending).kind, "ok");
  server.down = true;
  assert.deepEqual(await t.sendKeepalive(cred, "{}"), { kind: "retry" });
});

Deno.test("stop posts writerId, seq and reason with the bearer token", async () => {
  const server = new FakeServer();
  const t = new Transport("https://r", { fetch: server.fetch, now: Date.now });
  assert.equal(
    await t.stop(cred, { writerId: "w", seq: 5, reason: "stop" }),
    true,
  );
  const req = server.requests[0];
  assert.equal(req.path, "/api/sessions/s%2F1/stop");
  assert.equal(req.headers["authorization"], "Bearer tok en");
  assert.deepEqual(req.json, { writerId: "w", seq: 5, reason: "stop" });
  server.down = true;
  assert.equal(
    await t.stop(cred, { writerId: "w", seq: 5, reason: "stop" }),
    false,
  );
});
