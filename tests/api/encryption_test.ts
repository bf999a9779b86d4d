/**
 * Encryption at rest through the real server (REPLAYA_ENCRYPTION_KEY), on
 * both backends: what the API ingests is sealed in the store underneath, the
 * events read, the export and the live SSE stream decrypt, the list still
 * shows the session, the user filter finds it though no stream name holds a
 * hash of the user id, a delete destroys its key, and a server started with
 * another key refuses to start.
 */

import assert from "node:assert/strict";
import { followLive, readEvents, sendBatch, startSession } from "../support/client.ts";
import { serverTest, serveStore } from "../support/server.ts";
import { isSealed, KEY_PREFIX } from "../../lib/store/encrypted.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { readAll } from "../../lib/store/mod.ts";
import { userStreamOf } from "../../lib/sessions/users.ts";
import { ConfigError } from "../../lib/config.ts";

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const SECRET = "sealed-marker-7f3a";

const events = (t0: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    type: 5,
    timestamp: t0 + i,
    data: { tag: "replaya.track", payload: { name: `${SECRET}-${i}` } },
  }));

serverTest("encryption: ingest is sealed underneath; events, export and live tail decrypt", async (server) => {
  const session = await startSession(server.url);
  const id = session.sessionId;
  const live: string[] = [];
  const abort = new AbortController();
  const got = Promise.withResolvers<void>();
  const following = followLive(server.url, id, (batch) => {
    live.push(JSON.stringify(batch));
    if (live.join("").includes(`${SECRET}-4`)) got.resolve();
  }, abort.signal);
  assert.equal((await sendBatch(server.url, session, { seq: 0, events: events(Date.now(), 5) })).status, 200);
  await got.promise;
  abort.abort();
  await following;

  const read = await readEvents(server.url, id);
  assert.equal(read.length, 5);
  assert.ok(JSON.stringify(read).includes(`${SECRET}-0`));
  const exported = await (await fetch(`${server.url}/api/sessions/${id}/export`)).text();
  assert.ok(exported.includes(`${SECRET}-3`), "the export decrypts");
  const list = await (await fetch(`${server.url}/api/sessions`)).json();
  assert.ok(JSON.stringify(list).includes(id), "the list shows the session");

  // Underneath (the store the server wraps): every body of the session is sealed.
  const raw = server.under.store;
  for await (const r of readAll(raw, streamOf(id))) {
    assert.ok(r.body.length === 0 || isSealed(r.body), `record ${r.seqNum} is sealed`);
    assert.ok(!new TextDecoder().decode(r.body).includes(SECRET));
  }
  await server.sessions.delete(id); // what DELETE /api/sessions/:id does (behind its CSRF check)
  const keys = await raw.listStreams({ prefix: `${KEY_PREFIX}${streamOf(id)}` });
  assert.deepEqual(keys.names, [], "the session's key is destroyed with it");
}, { env: { REPLAYA_ENCRYPTION_KEY: KEY } });

serverTest("encryption: the user filter finds a session; no stream name holds its user id's hash", async (server) => {
  const userId = "grace.hopper@example.com";
  const meta = { url: "https://shop.example/cart", userAgent: "test", viewport: { width: 800, height: 600 }, userId };
  const { sessionId } = await startSession(server.url, { meta });
  await startSession(server.url); // someone else
  const list = await (await fetch(`${server.url}/api/sessions?user=${encodeURIComponent("Grace.Hopper@example.com")}`))
    .json();
  assert.deepEqual(list.sessions.map((s: { id: string }) => s.id), [sessionId]);
  const hash = (await userStreamOf(userId)).slice("users/".length);
  const names = (await server.under.store.listStreams()).names;
  assert.ok(names.some((n) => n.startsWith("users/~")), "the user stream is there, keyed");
  assert.ok(!names.some((n) => n.includes(hash)), "the user id's plain hash is in a stream name");
}, { env: { REPLAYA_ENCRYPTION_KEY: KEY } });

serverTest("encryption: a server started with another key refuses to start", async (server) => {
  const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  await assert.rejects(
    () => serveStore(server.under, { REPLAYA_ENCRYPTION_KEY: other }),
    (e) => e instanceof ConfigError && /REPLAYA_ENCRYPTION_KEY is not the master key/.test(e.message),
  );
}, { env: { REPLAYA_ENCRYPTION_KEY: KEY } });
