/**
 * Finding 2: only ingest is cross-origin. The read API and pages never grant
 * CORS, answer only to their own host names (DNS rebinding), and refuse
 * cross-site requests and API requests made as images, scripts or frames.
 */

import assert from "node:assert/strict";
import { fakeEvents, post, rawRequest, sendBatch, startBody, startSession } from "../support/client.ts";
import { serverTest, TEST_ORIGIN } from "../support/server.ts";

const EVIL = "http://evil.example";

serverTest("security: the read API and pages never grant CORS; ingest does", async ({ url }) => {
  const s = await startSession(url, {});
  assert.equal((await sendBatch(url, s, { seq: 0, events: fakeEvents(2) })).status, 200);
  for (const path of [`/api/sessions/${s.sessionId}/events`, `/api/sessions/${s.sessionId}/export`, "/", "/setup"]) {
    const res = await fetch(url + path, { headers: { origin: EVIL } });
    await res.body?.cancel();
    assert.equal(res.headers.get("access-control-allow-origin"), null, `${path} grants no CORS`);
  }
  const feed = await fetch(`${url}/api/sessions/feed`, { headers: { origin: EVIL } });
  assert.equal(feed.headers.get("access-control-allow-origin"), null, "the feed grants no CORS");
  await feed.body?.cancel();
  // A preflight for a read gets no grant either.
  const preflight = await fetch(`${url}/api/sessions/${s.sessionId}/events`, {
    method: "OPTIONS",
    headers: { origin: EVIL, "access-control-request-method": "GET" },
  });
  await preflight.body?.cancel();
  assert.notEqual(preflight.headers.get("access-control-allow-methods")?.includes("GET"), true);
  assert.equal(
    preflight.headers.get("access-control-allow-origin") === EVIL &&
      preflight.headers.get("access-control-allow-methods")?.includes("GET"),
    false,
  );

  // Ingest is cross-origin by design: the allowed origin gets its grant.
  const start = await post(`${url}/api/sessions`, startBody(), { origin: TEST_ORIGIN });
  assert.equal(start.status, 201);
  assert.equal(start.headers.get("access-control-allow-origin"), TEST_ORIGIN);
  await start.body?.cancel();
  const ingestPreflight = await fetch(`${url}/api/sessions/${s.sessionId}/events`, {
    method: "OPTIONS",
    headers: {
      origin: TEST_ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, content-encoding",
    },
  });
  await ingestPreflight.body?.cancel();
  assert.equal(ingestPreflight.status, 204);
  assert.equal(ingestPreflight.headers.get("access-control-allow-origin"), TEST_ORIGIN);
  const denied = await post(`${url}/api/sessions`, startBody(), { origin: EVIL });
  assert.equal(denied.status, 403);
  assert.equal((await denied.json()).error.code, "origin_not_allowed");
}, { env: { REPLAYA_ALLOWED_ORIGINS: TEST_ORIGIN } });

serverTest("security: reads are not rate-limited as ingest is", async ({ url }) => {
  const s = await startSession(url);
  for (let i = 0; i < 9; i++) await startSession(url); // the burst of 10 is spent
  const limited = await post(`${url}/api/sessions`, startBody());
  assert.equal(limited.status, 429, "ingest has its per-client limit");
  await limited.body?.cancel();
  for (let i = 0; i < 15; i++) {
    const res = await fetch(`${url}/api/sessions/${s.sessionId}/events`);
    assert.equal(res.status, 200, `read ${i} is not in ingest's bucket`);
    await res.body?.cancel();
  }
}, { env: { REPLAYA_CLIENT_RATE_PER_MINUTE: "6" } });

serverTest("security: a foreign Host is refused (DNS rebinding); own names, IPs and ingest pass", async ({ url }) => {
  const port = new URL(url).port;
  const foreign = await rawRequest(url, { path: "/", headers: { host: `rebind.evil.example:${port}` } });
  assert.equal(foreign.status, 421);
  const api = await rawRequest(url, { path: "/api/sessions/feed", headers: { host: "rebind.evil.example" } });
  assert.equal(api.status, 421);
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `replay.example.com`, "[::1]:8080"]) {
    const res = await rawRequest(url, { path: "/setup", headers: { host } });
    assert.equal(res.status, 200, host);
  }
  // Ingest and the recorder are reached from visitors' sites under any name.
  const script = await rawRequest(url, { path: "/recorder.js", headers: { host: "cdn.evil.example" } });
  assert.equal(script.status, 200);
  const body = JSON.stringify(startBody());
  const start = await rawRequest(url, {
    method: "POST",
    path: "/api/sessions",
    headers: { host: "other.example", "content-type": "application/json", "content-length": String(body.length) },
  });
  // The raw helper sends no body; the server then waits for it until the body deadline, so only check it was not 421.
  assert.notEqual(start.status, 421);
}, { env: { REPLAYA_PUBLIC_URL: "https://replay.example.com", REPLAYA_BODY_TIMEOUT_SECS: "1" } });

serverTest("security: Fetch Metadata refuses cross-site reads and API requests made as images", async ({ url }) => {
  const s = await startSession(url);
  const api = `${url}/api/sessions/${s.sessionId}/events`;
  const cases: Array<[string, Record<string, string>, number]> = [
    ["cross-site fetch of an API", { "sec-fetch-site": "cross-site", "sec-fetch-dest": "empty" }, 403],
    ["same-site fetch of an API", { "sec-fetch-site": "same-site", "sec-fetch-dest": "empty" }, 403],
    [
      "same-origin <img> of an API (a replayed page)",
      { "sec-fetch-site": "same-origin", "sec-fetch-dest": "image" },
      403,
    ],
    ["same-origin <script> of an API", { "sec-fetch-site": "same-origin", "sec-fetch-dest": "script" }, 403],
    ["same-origin <iframe> of an API", { "sec-fetch-site": "same-origin", "sec-fetch-dest": "iframe" }, 403],
    ["same-origin fetch of an API", { "sec-fetch-site": "same-origin", "sec-fetch-dest": "empty" }, 200],
    [
      "address bar to an API",
      { "sec-fetch-site": "none", "sec-fetch-dest": "document", "sec-fetch-mode": "navigate" },
      200,
    ],
    ["no fetch metadata (curl)", {}, 200],
  ];
  for (const [name, headers, status] of cases) {
    const res = await fetch(api, { headers });
    assert.equal(res.status, status, name);
    if (status === 403) assert.equal((await res.json()).error.code, "cross_site_request", name);
    else await res.body?.cancel();
  }
  const navigation = { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };
  const link = await fetch(`${url}/sessions/${s.sessionId}`, { headers: navigation });
  assert.equal(link.status, 200, "a link to a session from another site still opens");
  await link.body?.cancel();
  const framed = await fetch(`${url}/`, {
    headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" },
  });
  assert.equal(framed.status, 403, "but not inside another site's frame");
  await framed.body?.cancel();
  const crossPost = await fetch(`${url}/login`, {
    method: "POST",
    headers: { ...navigation },
    body: new URLSearchParams({ token: "x" }),
    redirect: "manual",
  });
  assert.equal(crossPost.status, 403, "a cross-site form post is refused");
  await crossPost.body?.cancel();
});
