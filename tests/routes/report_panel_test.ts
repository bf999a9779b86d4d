/**
 * The session page's friction report panel (components/FrictionPanel.tsx,
 * rendered by the player island): the page never waits for a report to be
 * built (the player asks for it after its first frame); one built already is
 * rendered at once, each signal once, page text escaped, and handed to the
 * player island for its feed and timeline.
 */

import assert from "node:assert/strict";
import { fetchWhole, post, sendBatch, startSession } from "../support/client.ts";
import { ADMIN } from "../support/login.ts";
import { serverTest } from "../support/server.ts";
import { frictionBatches } from "../sessions/_friction_session.ts";

serverTest("session page: the friction report panel and the player's signals", async ({ url }) => {
  const s = await startSession(url, { meta: { url: "https://shop.example/products", userAgent: "test" } });
  for (const [seq, events] of frictionBatches(Date.now() - 30_000).entries()) {
    assert.equal((await sendBatch(url, s, { seq, events })).status, 200);
  }
  await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });
  const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
  // First view: nothing built yet, so the panel waits for the player and the island gets no report.
  const first = await fetchWhole(`${url}/sessions/${s.sessionId}`, auth);
  assert.equal(first.status, 200);
  const before = await first.text();
  assert.match(before, /data-testid="friction-report" data-state="loading"/);
  const islandProps = (page: string) =>
    JSON.parse(page.match(/<script type="application\/json" id="island-Player-[^"]*">(.*?)<\/script>/s)![1]);
  assert.equal(islandProps(before).report, undefined);
  // What the player asks for builds it; from then on the page renders it at once.
  assert.equal((await fetchWhole(`${url}/api/sessions/${s.sessionId}/report`, auth)).status, 200);
  const res = await fetchWhole(`${url}/sessions/${s.sessionId}`, auth);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /data-testid="friction-report" data-signals="5"/);
  const kinds = [...html.matchAll(/data-testid="report-signal" data-kind="(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(kinds, ["rage", "dead", "error_click", "thrash", "abandoned_form"]);
  assert.ok(html.includes("a “Pay | **now** &lt;b>”"), "page text is escaped");
  assert.ok(!html.includes("<b>”"));
  assert.match(html, new RegExp(`href="/api/sessions/${s.sessionId}/report.md"`));
  assert.deepEqual(islandProps(html).report.signals.map((x: { kind: string }) => x.kind), kinds);
}, { env: { REPLAYA_ADMIN_TOKEN: ADMIN } });
