/**
 * `GET /api/sessions/{id}/report` and `/report.md` through the real server:
 * behind the login, JSON and Markdown of a session recorded over HTTP, clear
 * 400/404 JSON errors.
 */

import assert from "node:assert/strict";
import { fetchWhole, post, sendBatch, startSession } from "../support/client.ts";
import { ADMIN } from "../support/login.ts";
import { serverTest } from "../support/server.ts";
import { frictionBatches } from "../sessions/_friction_session.ts";

const bearer = { authorization: `Bearer ${ADMIN}` };

serverTest(
  "report api: login required, JSON and Markdown, 400 and 404 as JSON; the list's friction filter and sort",
  async ({ url }) => {
    const s = await startSession(url, { meta: { url: "https://shop.example/products", userAgent: "test" } });
    const t0 = Date.now() - 30_000;
    for (const [seq, events] of frictionBatches(t0).entries()) {
      const res = await sendBatch(url, s, { seq, events });
      assert.equal(res.status, 200, await res.text());
    }
    await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });

    for (const path of ["report", "report.md"]) {
      const anonymous = await fetchWhole(`${url}/api/sessions/${s.sessionId}/${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.equal((await anonymous.json()).error.code !== undefined, true);
    }

    const res = await fetchWhole(`${url}/api/sessions/${s.sessionId}/report`, { headers: bearer });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const report = await res.json();
    assert.equal(report.id, s.sessionId);
    assert.deepEqual(report.counts, { rage: 1, dead: 1, error_click: 1, thrash: 1, abandoned_form: 1 });
    assert.equal(report.live, false);

    const md = await fetchWhole(`${url}/api/sessions/${s.sessionId}/report.md`, { headers: bearer });
    assert.equal(md.status, 200);
    assert.equal(md.headers.get("content-type"), "text/markdown; charset=utf-8");
    const text = await md.text();
    assert.match(text, new RegExp(`^# Friction report: session ${s.sessionId}`));
    assert.match(text, /Rage click ×3 \| button\\#buy “Buy now”/);

    // The list API and page filter and sort by the end summary's counts.
    const calm = await startSession(url);
    const list = async (query: string) =>
      (await (await fetchWhole(`${url}/api/sessions?${query}`, { headers: bearer })).json()).sessions.map((
        r: { id: string },
      ) => r.id);
    assert.deepEqual(await list("friction=abandoned"), [s.sessionId]);
    assert.deepEqual(await list("friction=any&sort=friction"), [s.sessionId]);
    assert.deepEqual(await list("sort=friction"), [s.sessionId, calm.sessionId]);
    assert.deepEqual(await list(""), [calm.sessionId, s.sessionId]);
    const page = await (await fetchWhole(`${url}/?friction=rage&sort=friction`, { headers: bearer })).text();
    assert.match(page, /<option value="rage" selected>Rage clicks<\/option>/);
    assert.ok(page.includes(`data-session="${s.sessionId}"`) && !page.includes(`data-session="${calm.sessionId}"`));
    assert.match(
      page,
      /data-count="friction" title="1 rage click, 1 dead click, 1 error click, 1 thrashing, 1 abandoned form"/,
    );

    for (const path of ["report", "report.md"]) {
      const missing = await fetchWhole(`${url}/api/sessions/${"1".repeat(13)}${"a".repeat(12)}/${path}`, {
        headers: bearer,
      });
      assert.equal(missing.status, 404, path);
      assert.equal((await missing.json()).error.code, "session_not_found");
      const bad = await fetchWhole(`${url}/api/sessions/not-an-id/${path}`, { headers: bearer });
      assert.equal(bad.status, 400, path);
      assert.equal((await bad.json()).error.code, "invalid_session_id");
    }
  },
  { env: { REPLAYA_ADMIN_TOKEN: ADMIN } },
);
