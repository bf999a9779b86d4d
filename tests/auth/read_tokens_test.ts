/**
 * Read tokens: minted and revoked on the dashboard, used as bearer tokens on
 * the read API, hashed at rest, refused for ingest, pages and writes, and
 * revoked on every server of one store.
 */

import assert from "node:assert/strict";
import { serverTest, serveStore } from "../support/server.ts";
import { fakeEvents, fetchWhole, post, sendBatch, startSession } from "../support/client.ts";
import { ADMIN, login } from "../support/login.ts";
import { bearer, eventually, mintToken, revokeToken, tokensCsrf } from "../support/read_tokens.ts";
import { storeTest } from "../support/backends.ts";
import { READ_TOKENS_STREAM } from "../../lib/auth/read_tokens.ts";
import { readAll } from "../../lib/store/mod.ts";

const env = { REPLAYA_ADMIN_TOKEN: ADMIN };

serverTest("read tokens: minted once, read the API, hashed at rest, revoked at once", async ({ url, store }) => {
  const s = await startSession(url);
  assert.equal((await sendBatch(url, s, { seq: 0, events: fakeEvents(3) })).status, 200);
  const minted = await mintToken(url, { name: "ci reports" });
  assert.match(minted.token, /^rpt_[A-Za-z0-9_-]{43}$/);

  for (
    const path of [
      "/api/sessions",
      `/api/sessions/${s.sessionId}`,
      `/api/sessions/${s.sessionId}/report`,
      `/api/sessions/${s.sessionId}/report.md`,
      `/api/sessions/${s.sessionId}/export`,
      `/api/sessions/${s.sessionId}/events`,
    ]
  ) {
    const res = await fetchWhole(url + path, { headers: bearer(minted.token) });
    assert.equal(res.status, 200, path);
  }
  const list = await (await fetchWhole(`${url}/api/sessions`, { headers: bearer(minted.token) })).json();
  assert.equal(list.sessions[0].id, s.sessionId);

  // Shown once: the page lists the token by name, never its value again.
  const page = await (await fetchWhole(`${url}/settings/tokens`, { headers: { cookie: minted.cookie } })).text();
  assert.match(page, /ci reports/);
  assert.ok(!page.includes(minted.token));

  // At rest: the SHA-256 of the token, not the token.
  const stored = (await Array.fromAsync(readAll(store, READ_TOKENS_STREAM))).map((r) =>
    new TextDecoder().decode(r.body)
  )
    .join("\n");
  const hash = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(minted.token))),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assert.ok(stored.includes(hash), "the hash is stored");
  assert.ok(!stored.includes(minted.token) && !stored.includes(minted.token.slice(4)), "the token is not");

  const revoked = await revokeToken(url, minted);
  assert.equal(revoked.status, 303);
  const after = await fetchWhole(`${url}/api/sessions`, { headers: bearer(minted.token) });
  assert.equal(after.status, 401, "refused at once on the process that revoked it");
  assert.equal((await after.json()).error.code, "login_required");
  const listed = await (await fetchWhole(`${url}/settings/tokens`, { headers: { cookie: minted.cookie } })).text();
  assert.match(listed, /revoked \d{4}-\d{2}-\d{2}/);
}, { env });

serverTest("read tokens: wrong and malformed tokens get a JSON 401", async ({ url }) => {
  const minted = await mintToken(url);
  const wrong = minted.token.slice(0, -2) + (minted.token.endsWith("AA") ? "BB" : "AA");
  for (
    const value of [wrong, "rpt_short", "rpt_" + "x".repeat(500), "not-a-token", "rpt_" + "!".repeat(43), "Bearer"]
  ) {
    const res = await fetchWhole(`${url}/api/sessions`, { headers: { authorization: `Bearer ${value}` } });
    assert.equal(res.status, 401, value);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(body.error.code, "login_required");
    assert.match(body.error.message, /not valid/);
  }
}, { env });

serverTest(
  "read tokens: cannot ingest, open pages, mint tokens or delete without the delete scope",
  async ({ url }) => {
    const s = await startSession(url);
    const read = await mintToken(url, { name: "reader" });
    // Ingest takes append tokens only.
    const batch = await post(`${url}/api/sessions/${s.sessionId}/events`, {
      writerId: "w1",
      seq: 0,
      sentAt: Date.now(),
      events: fakeEvents(1),
    }, bearer(read.token));
    assert.equal(batch.status, 401);
    // Pages (the list, the tokens page) and their forms are the admin's.
    for (const path of ["/", `/sessions/${s.sessionId}`, "/settings/tokens", "/setup"]) {
      const res = await fetchWhole(url + path, { headers: bearer(read.token), redirect: "manual" });
      assert.equal(res.status, 403, path);
      assert.equal((await res.json()).error.code, "read_only_token");
    }
    const mint = await fetchWhole(`${url}/settings/tokens`, {
      method: "POST",
      headers: bearer(read.token),
      body: new URLSearchParams({ name: "escalate", scope: "delete", days: "30" }),
    });
    assert.equal(mint.status, 403);
    const del = await fetchWhole(`${url}/api/sessions/${s.sessionId}`, {
      method: "DELETE",
      headers: bearer(read.token),
    });
    assert.equal(del.status, 403);
    assert.equal((await del.json()).error.code, "read_only_token");
    assert.equal((await fetchWhole(`${url}/api/sessions/${s.sessionId}`, { headers: bearer(read.token) })).status, 200);

    // The delete scope deletes, without a CSRF token (a bearer header is no ambient credential).
    const deleter = await mintToken(url, { name: "cleanup", scope: "delete" });
    const ok = await fetchWhole(`${url}/api/sessions/${s.sessionId}`, {
      method: "DELETE",
      headers: bearer(deleter.token),
    });
    assert.equal(ok.status, 200);
    assert.equal((await fetchWhole(`${url}/api/sessions/${s.sessionId}`, { headers: bearer(read.token) })).status, 404);
  },
  { env },
);

serverTest("read tokens: the mint form needs the login's CSRF token and a valid name and lifetime", async ({ url }) => {
  const { cookie } = await login(url, ADMIN);
  const headers = { cookie: cookie! };
  const noCsrf = await fetchWhole(`${url}/settings/tokens`, {
    method: "POST",
    headers,
    body: new URLSearchParams({ name: "x", scope: "read", days: "30" }),
  });
  assert.equal(noCsrf.status, 403);
  const csrf = await tokensCsrf(url, cookie!);
  for (const bad of [{ name: "", days: "30" }, { name: "x".repeat(81), days: "30" }, { name: "ok", days: "9999" }]) {
    const res = await fetchWhole(`${url}/settings/tokens`, {
      method: "POST",
      headers,
      body: new URLSearchParams({ csrf, scope: "read", ...bad }),
    });
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.ok(!(await res.text()).includes("rpt_"));
  }
  const unknown = await fetchWhole(`${url}/settings/tokens/zzzzzzzzzzzz/revoke`, {
    method: "POST",
    headers,
    body: new URLSearchParams({ csrf }),
  });
  assert.equal(unknown.status, 404);
  const anonymous = await fetchWhole(`${url}/settings/tokens`, { redirect: "manual" });
  assert.equal(anonymous.status, 303, "behind the login");
}, { env });

storeTest("read tokens: a token revoked on one server is refused by another on the same store", async (under) => {
  const a = await serveStore(under, env);
  const b = await serveStore(under, env);
  try {
    const minted = await mintToken(a.url);
    // B learns of the token through the store, as it learns of the revocation.
    await eventually(
      "B accepts the new token",
      async () => (await fetchWhole(`${b.url}/api/sessions`, { headers: bearer(minted.token) })).status === 200,
    );
    assert.equal((await revokeToken(a.url, minted)).status, 303);
    await eventually(
      "B refuses the revoked token",
      async () => (await fetchWhole(`${b.url}/api/sessions`, { headers: bearer(minted.token) })).status === 401,
    );
    // And a server started later reads it whole before it listens.
    const c = await serveStore(under, env);
    try {
      assert.equal((await fetchWhole(`${c.url}/api/sessions`, { headers: bearer(minted.token) })).status, 401);
    } finally {
      await c.close();
    }
  } finally {
    await a.close();
    await b.close();
  }
});
