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
import { READ_TOKENS_STREAM, sha256 } from "../../lib/auth/read_tokens.ts";
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

serverTest("read tokens: the ops scope reads /metrics and /api/health only, and only it does", async ({ url }) => {
  const ops = await mintToken(url, { name: "prometheus", scope: "ops" });
  const read = await mintToken(url, { name: "agent" });
  for (const path of ["/metrics", "/api/health"]) {
    assert.equal((await fetchWhole(url + path, { headers: bearer(ops.token) })).status, 200, path);
    const refused = await fetchWhole(url + path, { headers: bearer(read.token) });
    assert.equal(refused.status, 403, path);
    assert.equal((await refused.json()).error.code, "token_scope");
  }
  for (const path of ["/api/sessions", "/api/wall"]) {
    const refused = await fetchWhole(url + path, { headers: bearer(ops.token) });
    assert.equal(refused.status, 403, path);
    assert.deepEqual((await refused.json()).error, {
      code: "token_scope",
      message: "a token of the ops scope may only read /metrics and /api/health",
    });
  }
  const mcp = await fetchWhole(`${url}/mcp`, {
    method: "POST",
    headers: {
      ...bearer(ops.token),
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  assert.equal(mcp.status, 403, "no MCP tools for an ops token: they read sessions");
  assert.equal((await mcp.json()).error.code, "token_scope");
  const page = await (await fetchWhole(`${url}/settings/tokens`, { headers: { cookie: ops.cookie } })).text();
  assert.match(page, /<option value="ops">ops \(\/metrics and \/api\/health only\)<\/option>/);
  assert.match(page, /<td>prometheus<\/td><td>ops \(\/metrics and \/api\/health only\)<\/td>/);
  const csrf = await tokensCsrf(url, ops.cookie);
  const unknown = await fetchWhole(`${url}/settings/tokens`, {
    method: "POST",
    headers: { cookie: ops.cookie },
    body: new URLSearchParams({ csrf, name: "x", scope: "admin", days: "30" }),
  });
  assert.equal(unknown.status, 400, "a scope that does not exist is refused, not read as another");
  assert.match(await unknown.text(), /scope is read, delete or ops/);
}, { env });

storeTest("read tokens: a minted scope this version does not know grants nothing", async (under) => {
  const createdAt = Date.now();
  // Minted as the tokens page would, by a version with one more scope: the known one works, the other not.
  const mint = async (id: string, scope: string, token: string) => {
    const record = {
      op: "mint",
      id,
      name: id,
      scope,
      hash: await sha256(token),
      createdAt,
      expiresAt: createdAt + 86_400_000,
    };
    const body = new TextEncoder().encode(JSON.stringify(record));
    await under.store.append(READ_TOKENS_STREAM, [{ body, timestamp: createdAt }]);
  };
  const known = `rpt_${"K".repeat(43)}`;
  const unknown = `rpt_${"U".repeat(43)}`;
  await mint("knownscope01", "read", known);
  await mint("futurescope1", "admin", unknown);
  const server = await serveStore(under, env);
  try {
    assert.equal((await fetchWhole(`${server.url}/api/sessions`, { headers: bearer(known) })).status, 200);
    for (const path of ["/api/sessions", "/metrics", "/api/health"]) {
      assert.equal((await fetchWhole(server.url + path, { headers: bearer(unknown) })).status, 401, path);
    }
  } finally {
    await server.close();
  }
});
