/**
 * The ingest API over a real HTTP server, against both backends: the happy
 * path, and one test per bad input, each proving nothing was written.
 */

import assert from "node:assert/strict";
import { AppendTokens } from "../../lib/auth/append_tokens.ts";
import { gzip } from "../../lib/bytes.ts";
import { INDEX_STREAM, streamOf } from "../../lib/sessions/ids.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { serverTest, type ServerUnderTest, TEST_ORIGIN, TEST_SECRET } from "../support/server.ts";
import {
  fakeEvents,
  fetchWhole,
  post,
  readEvents,
  readSession,
  sendBatch,
  startBody,
  type StartedSession,
  startSession,
} from "../support/client.ts";

function randomText(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
  return Array.from(bytes, (b) => alphabet[b & 63]).join("");
}

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = await res.json();
  assert.equal(typeof body.error?.message, "string", "errors carry a message");
  return { status: res.status, code: body.error.code, message: body.error.message };
}

async function tail(server: ServerUnderTest, session: StartedSession): Promise<number> {
  return (await server.store.checkTail(streamOf(session.sessionId))).seqNum;
}

/** Asserts a request is refused with `status`/`code` and the session's stream is unchanged. */
async function refused(
  server: ServerUnderTest,
  session: StartedSession,
  request: () => Promise<Response>,
  status: number,
  code: string,
): Promise<void> {
  const before = await tail(server, session);
  const error = await errorOf(await request());
  assert.deepEqual([error.status, error.code], [status, code], error.message);
  assert.equal(await tail(server, session), before, "nothing was written");
}

serverTest("a session starts, takes JSON and gzip batches, and reads back in order", async (server) => {
  const { url } = server;
  const session = await startSession(url, { meta: { url: "https://shop.example/", userId: "u-1" } });
  assert.match(session.sessionId, /^\d{13}[a-z0-9]{12}$/);
  const t0 = Date.now() - 5000;
  const first = await sendBatch(url, session, { seq: 0, events: fakeEvents(3, t0, "a") });
  assert.equal(first.status, 200);
  assert.deepEqual(await first.json(), { ok: true, watched: false });
  assert.equal(
    (await sendBatch(url, session, { seq: 1, events: fakeEvents(2, t0 + 10, "b"), gzip: true })).status,
    200,
  );
  const items = await readSession(url, session.sessionId);
  assert.deepEqual(items.map((i) => i.kind), ["meta", "events", "events"]);
  const meta = items[0].meta as Record<string, unknown>;
  assert.equal(meta.url, "https://shop.example/");
  assert.equal(meta.userId, "u-1");
  assert.equal(meta.project, "test");
  const events = await readEvents(url, session.sessionId);
  assert.deepEqual(events.map((e) => (e.data as { tag: string }).tag), ["a0", "a1", "a2", "b0", "b1"]);
  assert.equal(events[0].timestamp, t0, "rrweb capture time is kept");
  const index = await server.store.read(INDEX_STREAM, { from: { tailOffset: 1 } });
  assert.equal(JSON.parse(new TextDecoder().decode(index.records[0].body)).id, session.sessionId);
});

serverTest("a retried batch (same writer and seq) is stored harmlessly and replayed once", async ({ url }) => {
  const session = await startSession(url);
  const events = fakeEvents(4);
  for (let i = 0; i < 3; i++) assert.equal((await sendBatch(url, session, { seq: 0, events })).status, 200);
  await sendBatch(url, session, { seq: 0, events: fakeEvents(1), writerId: "w2" });
  assert.equal((await readEvents(url, session.sessionId)).length, 5);
});

serverTest("a batch larger than one record is framed across records and reassembled", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  // ~3 MiB of incompressible text, so the gzip'd batch needs several 1 MiB records.
  const noise = Array.from({ length: 3 }, () => randomText(1_000_000));
  const events = noise.map((n, i) => ({ type: 2, timestamp: Date.now() + i, data: { node: n } }));
  const res = await sendBatch(url, session, { seq: 0, events, gzip: true });
  assert.equal(res.status, 200, await res.clone().text());
  assert.ok((await tail(server, session)) >= 2 + 3, "the batch took several records");
  const back = await readEvents(url, session.sessionId);
  assert.deepEqual(back.map((e) => (e.data as { node: string }).node), noise);
});

serverTest("keepalive pieces: text/plain with the token in the body; never in the query string", async ({ url }) => {
  const session = await startSession(url);
  const keepalive = (path: string, body: Record<string, unknown>) =>
    fetchWhole(`${url}/api/sessions/${session.sessionId}/events${path}`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body),
    });
  const res = await keepalive("", { token: session.token, writerId: "w1", seq: 0, events: fakeEvents(2) });
  assert.equal(res.status, 200);
  assert.equal((await readEvents(url, session.sessionId)).length, 2);

  // The old way (the token in the URL, where proxies log it) is refused, and writes nothing.
  const query = await keepalive(`?token=${session.token}`, { writerId: "w1", seq: 1, events: fakeEvents(2) });
  assert.equal(query.status, 401);
  assert.equal((await query.json()).error.code, "token_in_query");
  const both = await keepalive(`?token=${session.token}`, { token: session.token, writerId: "w1", seq: 1, events: [] });
  assert.equal(both.status, 401, "refused even with a good token in the body");
  // No token at all, a token for another session, and a body token bigger than a keepalive: nothing written.
  assert.equal((await keepalive("", { writerId: "w1", seq: 2, events: fakeEvents(1) })).status, 401);
  const other = await startSession(url);
  assert.equal(
    (await keepalive("", { token: other.token, writerId: "w1", seq: 2, events: fakeEvents(1) })).status,
    403,
  );
  const padded = { token: session.token, writerId: "w1", seq: 2, events: fakeEvents(1), pad: "x".repeat(70_000) };
  assert.equal((await keepalive("", padded)).status, 413, "a body that carries its token is a keepalive's size");
  assert.equal((await readEvents(url, session.sessionId)).length, 2);
});

serverTest("an empty batch is a heartbeat; stop ends the session and later writes get 409", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  assert.equal((await sendBatch(url, session, { seq: 0, events: [] })).status, 200);
  const stop = await post(`${url}/api/sessions/${session.sessionId}/stop`, { writerId: "w1", seq: 1 }, {
    authorization: `Bearer ${session.token}`,
  });
  assert.deepEqual(await stop.json(), { ok: true, stopped: true });
  await refused(
    server,
    session,
    () => sendBatch(url, session, { seq: 1, events: fakeEvents(1) }),
    409,
    "session_stopped",
  );
  const again = await post(`${url}/api/sessions/${session.sessionId}/stop`, {}, {
    authorization: `Bearer ${session.token}`,
  });
  assert.deepEqual(await again.json(), { ok: true, stopped: false }, "stopping twice is harmless");
  const items = await readSession(url, session.sessionId);
  assert.deepEqual(items.map((i) => i.kind), ["meta", "heartbeat", "stop"]);
  assert.equal((items[2].stop as { reason: string }).reason, "stop");
});

serverTest("resume: a new page load continues the session with a fresh token", async ({ url }) => {
  const session = await startSession(url);
  const res = await post(`${url}/api/sessions`, startBody({ resume: session }));
  assert.equal(res.status, 200);
  const resumed = await res.json();
  assert.equal(resumed.sessionId, session.sessionId);
  assert.equal(resumed.resumed, true);
  assert.equal((await sendBatch(url, resumed, { seq: 0, writerId: "page2", events: fakeEvents(1) })).status, 200);
  await post(`${url}/api/sessions/${session.sessionId}/stop`, {}, { authorization: `Bearer ${session.token}` });
  const after = await post(`${url}/api/sessions`, startBody({ resume: session }));
  assert.equal((await errorOf(after)).code, "session_stopped");
});

/**
 * Starts a session as another process would have `agoMs` ago, its last record that old, so the server's lease
 * check runs on the stream's clock instead of waiting in real time; with a token for it issued now.
 */
async function startedAgo(server: ServerUnderTest, agoMs: number): Promise<StartedSession> {
  const then = Date.now() - agoMs;
  const meta = await new Sessions({ store: server.store, now: () => then }).create({ url: "https://shop.example/" });
  return { sessionId: meta.id, token: await new AppendTokens({ secret: TEST_SECRET }).issue(meta.id) };
}

serverTest(
  "lease expiry: a session silent past the outage horizon is stopped on its next write and when read",
  async (server) => {
    const { url } = server;
    const horizonMs = server.sessions.fenceAfterMs;
    assert.equal(horizonMs, 60_000, "the server runs on the configured horizon");
    const session = await startedAgo(server, horizonMs + 1_000);
    const idle = await startedAgo(server, horizonMs + 1_000);
    const quiet = await startedAgo(server, horizonMs - 10_000); // past the lease, within the horizon
    const late = await errorOf(await sendBatch(url, session, { seq: 0, events: fakeEvents(1) }));
    assert.deepEqual([late.status, late.code], [409, "session_stopped"]);
    const items = await readSession(url, session.sessionId);
    assert.deepEqual(items.map((i) => i.kind), ["meta", "stop"], "the late batch was not written");
    assert.equal((items.at(-1)?.stop as { reason: string }).reason, "lease_expired");
    assert.equal(await server.sessions.isLive(idle.sessionId), false, "reading a lapsed session stops it");
    assert.equal((await readSession(url, idle.sessionId)).at(-1)?.kind, "stop");
    const resumed = await sendBatch(url, quiet, { seq: 0, events: fakeEvents(1) });
    assert.equal(resumed.status, 200, "a session quiet for less than the horizon still takes writes");
    assert.deepEqual((await readSession(url, quiet.sessionId)).map((i) => i.kind), ["meta", "events"]);
  },
  { env: { REPLAYA_LEASE_SECS: "30", REPLAYA_FENCE_AFTER_SECS: "60" } },
);

serverTest("bad input: missing or wrong project key", async ({ url }) => {
  const missing = await errorOf(await post(`${url}/api/sessions`, { meta: startBody().meta }));
  assert.deepEqual([missing.status, missing.code], [401, "missing_project_key"]);
  const wrong = await errorOf(await post(`${url}/api/sessions`, startBody({ projectKey: "pk_nope_nope_nope" })));
  assert.deepEqual([wrong.status, wrong.code], [401, "invalid_project_key"]);
  const badMeta = await errorOf(await post(`${url}/api/sessions`, startBody({ meta: { url: "javascript:alert(1)" } })));
  assert.deepEqual([badMeta.status, badMeta.code], [422, "invalid_meta"]);
});

serverTest("bad input: a disallowed origin is refused, with no CORS grant", async (server) => {
  const { url } = server;
  const preflight = await fetch(`${url}/api/sessions`, {
    method: "OPTIONS",
    headers: { origin: "http://evil.test", "access-control-request-method": "POST" },
  });
  await preflight.body?.cancel();
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  const ok = await fetch(`${url}/api/sessions`, {
    method: "OPTIONS",
    headers: { origin: TEST_ORIGIN, "access-control-request-method": "POST" },
  });
  await ok.body?.cancel();
  assert.equal(ok.headers.get("access-control-allow-origin"), TEST_ORIGIN);
  const start = await errorOf(await post(`${url}/api/sessions`, startBody(), { origin: "http://evil.test" }));
  assert.deepEqual([start.status, start.code], [403, "origin_not_allowed"]);
  const session = await startSession(url);
  await refused(
    server,
    session,
    () =>
      post(`${url}/api/sessions/${session.sessionId}/events`, { writerId: "w", seq: 0, events: fakeEvents(1) }, {
        authorization: `Bearer ${session.token}`,
        origin: "http://evil.test",
      }),
    403,
    "origin_not_allowed",
  );
}, { env: { REPLAYA_ALLOWED_ORIGINS: TEST_ORIGIN } });

serverTest("bad input: missing, forged, expired and other-session tokens", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  const other = await startSession(url);
  const batch = JSON.stringify({ writerId: "w", seq: 0, events: fakeEvents(1) });
  const events = (headers: Record<string, string>) =>
    post(`${url}/api/sessions/${session.sessionId}/events`, batch, headers);
  await refused(server, session, () => events({}), 401, "token_missing");
  const [id, exp, sig] = session.token.split(".");
  const forged = `${id}.${Number(exp) + 3600}.${sig}`;
  await refused(server, session, () => events({ authorization: `Bearer ${forged}` }), 401, "token_forged");
  await refused(server, session, () => events({ authorization: "Bearer garbage" }), 401, "token_malformed");
  const past = new AppendTokens({ secret: TEST_SECRET, now: () => Date.now() - 3 * 3_600_000 });
  const expired = await past.issue(session.sessionId);
  await refused(server, session, () => events({ authorization: `Bearer ${expired}` }), 401, "token_expired");
  await refused(server, session, () => events({ authorization: `Bearer ${other.token}` }), 403, "token_wrong_session");
  const wrongSecret = await new AppendTokens({ secret: "x".repeat(40) }).issue(session.sessionId);
  await refused(server, session, () => events({ authorization: `Bearer ${wrongSecret}` }), 401, "token_forged");
});

serverTest("bad input: malformed JSON, wrong content type or encoding, invalid gzip", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  const auth = { authorization: `Bearer ${session.token}` };
  const target = `${url}/api/sessions/${session.sessionId}/events`;
  await refused(server, session, () => post(target, "{not json", auth), 400, "malformed_json");
  await refused(
    server,
    session,
    () => post(target, "<x/>", { ...auth, "content-type": "application/xml" }),
    415,
    "unsupported_media_type",
  );
  await refused(
    server,
    session,
    () => post(target, "{}", { ...auth, "content-encoding": "br" }),
    415,
    "unsupported_encoding",
  );
  await refused(
    server,
    session,
    () => post(target, "not gzip", { ...auth, "content-encoding": "gzip" }),
    400,
    "invalid_gzip",
  );
  await refused(server, session, () => post(target, { seq: 0, events: [] }, auth), 422, "invalid_batch");
  await refused(
    server,
    session,
    () => post(target, { writerId: "../x", seq: 0, events: [] }, auth),
    422,
    "invalid_batch",
  );
  await refused(
    server,
    session,
    () => post(target, { writerId: "w", seq: -1, events: [] }, auth),
    422,
    "invalid_batch",
  );
  await refused(
    server,
    session,
    () => post(target, { writerId: "w", seq: 0, events: "nope" }, auth),
    422,
    "invalid_events",
  );
  const start = await errorOf(await post(`${url}/api/sessions`, "[", {}));
  assert.deepEqual([start.status, start.code], [400, "malformed_json"]);
});

serverTest("bad input: oversized body, gzip bomb, too many events", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  const auth = { authorization: `Bearer ${session.token}` };
  const target = `${url}/api/sessions/${session.sessionId}/events`;
  const big = JSON.stringify({ writerId: "w", seq: 0, events: [{ type: 3, timestamp: 1, data: "x".repeat(300_000) }] });
  await refused(server, session, () => post(target, big, auth), 413, "payload_too_large");
  // 64 MiB of zeros inflates from ~64 KiB: refused once past the inflate limit, never fully inflated.
  const bomb = await gzip(new Uint8Array(64 * 1024 * 1024).fill(0x20));
  assert.ok(bomb.length < 200_000);
  await refused(
    server,
    session,
    () => post(target, bomb, { ...auth, "content-encoding": "gzip" }),
    413,
    "payload_too_large",
  );
  const many = JSON.stringify({ writerId: "w", seq: 0, events: fakeEvents(101) });
  await refused(server, session, () => post(target, many, auth), 413, "too_many_events");
}, {
  env: { REPLAYA_MAX_BODY_BYTES: "262144", REPLAYA_MAX_INFLATED_BYTES: "1048576", REPLAYA_MAX_EVENTS_PER_BATCH: "100" },
});

serverTest("bad input: events without timestamps or with a bad type", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  const good = fakeEvents(2);
  const cases = [
    [good[0], { type: 3, data: {} }],
    [{ type: 3, timestamp: "yesterday" }],
    [{ type: 9, timestamp: Date.now() }],
    [null],
  ];
  for (const events of cases) {
    await refused(server, session, () => sendBatch(url, session, { seq: 0, events }), 422, "invalid_events");
  }
});

serverTest("bad input: invalid and path-traversing session ids", async ({ url }) => {
  const session = await startSession(url);
  const auth = { authorization: `Bearer ${session.token}` };
  for (
    const id of ["nope", "..%2F..%2Findex%2Fsessions", "...", `${session.sessionId}x`, `${"0".repeat(13)}ABCDEFGHIJKL`]
  ) {
    const res = await post(`${url}/api/sessions/${id}/events`, { writerId: "w", seq: 0, events: [] }, auth);
    const error = await errorOf(res);
    assert.deepEqual([error.status, error.code], [400, "invalid_session_id"], id);
  }
  const read = await errorOf(await fetch(`${url}/api/sessions/..%2Findex/events`));
  assert.equal(read.status, 400);
  const unknown = await errorOf(await fetch(`${url}/api/sessions/${"1".repeat(13)}abcdefabcdef/events`));
  assert.deepEqual([unknown.status, unknown.code], [404, "session_not_found"]);
});

serverTest("rate limits: a session past its rate gets 429 with Retry-After", async (server) => {
  const { url } = server;
  const session = await startSession(url);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await sendBatch(url, session, { seq: i, events: fakeEvents(1) });
    statuses.push(res.status);
    if (res.status === 429) assert.ok(Number(res.headers.get("retry-after")) >= 1);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses.slice(0, 4), [200, 200, 200, 200]);
  assert.ok(statuses.includes(429), `statuses ${statuses}`);
}, { env: { REPLAYA_SESSION_RATE_PER_SECOND: "2" } });
