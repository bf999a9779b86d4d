/**
 * Read-side access control with an admin token: pages and read APIs refuse
 * without the cookie, accept with it; state changes need the CSRF token.
 */

import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";
import { fakeEvents, fetchWhole, sendBatch, startSession } from "../support/client.ts";
import { ConfigError, loadConfig } from "../../lib/config.ts";
import { ADMIN, login, logout } from "../support/login.ts";

serverTest("login: pages and read APIs refuse without the cookie and accept with it", async ({ url }) => {
  const s = await startSession(url); // ingest stays public: the project key is enough
  assert.equal((await sendBatch(url, s, { seq: 0, events: fakeEvents(1) })).status, 200);

  const list = await fetchWhole(`${url}/`, { redirect: "manual" });
  assert.equal(list.status, 303);
  assert.equal(list.headers.get("location"), "/login?next=%2F");
  for (
    const path of [
      `/api/sessions/${s.sessionId}/events`,
      `/api/sessions/${s.sessionId}/live`,
      "/api/sessions/feed",
      "/metrics",
      "/api/health",
    ]
  ) {
    const res = await fetchWhole(url + path);
    assert.equal(res.status, 401, path);
    assert.equal((await res.json()).error.code, "login_required");
  }
  const form = await fetchWhole(`${url}/login`);
  assert.match(await form.text(), /type="password" name="token"/);

  assert.equal((await login(url, "wrong-token-wrong-token")).status, 403);
  const ok = await login(url);
  assert.equal(ok.status, 303);
  assert.equal(ok.location, "/sessions/x");
  const setCookie = (await fetchWhole(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ token: ADMIN }),
    redirect: "manual",
  })).headers.get("set-cookie")!;
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);

  const headers = { cookie: ok.cookie! };
  const page = await fetchWhole(`${url}/`, { headers });
  assert.equal(page.status, 200);
  assert.match(await page.text(), new RegExp(s.sessionId));
  const events = await fetchWhole(`${url}/api/sessions/${s.sessionId}/events`, { headers });
  assert.equal(events.status, 200);
  const bearer = await fetchWhole(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(bearer.status, 200, "scrapers may use the admin token as a bearer token");
  const forged = await fetchWhole(`${url}/`, {
    headers: { cookie: ok.cookie!.slice(0, -3) + "abc" },
    redirect: "manual",
  });
  assert.equal(forged.status, 303, "a tampered cookie is not a login");
}, { env: { REPLAYA_ADMIN_TOKEN: ADMIN } });

serverTest("login: delete and logout without the CSRF token fail", async ({ url }) => {
  const s = await startSession(url);
  const { cookie } = await login(url);
  const headers = { cookie: cookie! };
  const del = await fetchWhole(`${url}/api/sessions/${s.sessionId}`, { method: "DELETE", headers });
  assert.equal(del.status, 403);
  const formDelete = await fetchWhole(`${url}/sessions/${s.sessionId}/delete`, {
    method: "POST",
    headers,
    body: new URLSearchParams({ csrf: "nope" }),
    redirect: "manual",
  });
  assert.equal(formDelete.status, 403);
  assert.equal((await fetchWhole(`${url}/sessions/${s.sessionId}`, { headers })).status, 200, "still there");
  assert.equal((await logout(url, headers.cookie, "")).status, 403);

  const confirm = await (await fetchWhole(`${url}/sessions/${s.sessionId}/delete`, { headers })).text();
  const csrf = confirm.match(/name="csrf" value="([^"]+)"/)![1];
  const apiDelete = await fetchWhole(`${url}/api/sessions/${s.sessionId}`, {
    method: "DELETE",
    headers: { ...headers, "x-csrf-token": csrf },
  });
  assert.equal(apiDelete.status, 200);
  assert.equal((await fetchWhole(`${url}/sessions/${s.sessionId}`, { headers })).status, 404);
  const out = await logout(url, headers.cookie, csrf);
  assert.equal(out.status, 303);
  assert.match(out.headers.get("set-cookie") ?? "", /replaya_session=;/);
}, { env: { REPLAYA_ADMIN_TOKEN: ADMIN } });

Deno.test("login: the server refuses to start on a non-loopback address without an admin token", () => {
  assert.throws(() => loadConfig({ REPLAYA_HOST: "0.0.0.0" }), ConfigError);
  assert.throws(() => loadConfig({ REPLAYA_HOST: "0.0.0.0" }), /REPLAYA_ADMIN_TOKEN is required/);
  assert.equal(loadConfig({ REPLAYA_HOST: "0.0.0.0", REPLAYA_ADMIN_TOKEN: ADMIN }).dashboard.adminToken, ADMIN);
  assert.equal(loadConfig({ REPLAYA_HOST: "127.0.0.1" }).dashboard.adminToken, undefined);
  assert.throws(() => loadConfig({ REPLAYA_ENV: "production" }), /REPLAYA_APPEND_TOKEN_SECRET is required/);
});
