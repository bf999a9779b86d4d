/**
 * The live wall page (`/live`) over a real HTTP server, on both backends: the
 * page shell, its filter form, the island's props as a JSON block (never an
 * inline script), hostile filter values rendered as text, and the nav link.
 */

import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";

const XSS = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;

serverTest("live wall page: filters, island props as JSON, no inline script, nav link", async ({ url }) => {
  const res = await fetch(`${url}/live?user=${encodeURIComponent(XSS)}&source=web&url=%20%2Fcheckout%20&status=ended`);
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<title>Live · RePlaya<\/title>/);
  assert.match(html, /<a href="\/live" aria-current="page">Live<\/a>/);
  assert.match(html, /<a href="\/">Sessions<\/a>/, "the list is the other nav entry");
  assert.match(html, /<form method="get" action="\/live" class="filters"/);
  assert.doesNotMatch(
    html,
    /name="status"|name="errors"|name="from"/,
    "only the text filters: the wall is all live, now",
  );
  assert.match(html, /<script type="module" src="\/static\/build\/islands\/LiveWall-[A-Za-z0-9]+\.js">/);
  assert.match(html, /<link rel="stylesheet" href="\/static\/player.css"/, "rrweb's replayer styles");
  assert.match(html, /data-island="LiveWall"/);
  assert.match(html, /data-testid="wall" data-tiles="0" data-connected="false"/, "rendered empty, connecting");

  const props = html.match(/<script type="application\/json" id="island-LiveWall-[^"]+">([^<]*)<\/script>/);
  assert.ok(props, "the wall's props are a JSON block");
  assert.deepEqual(JSON.parse(props[1]), { filters: { user: XSS, source: "web", url: "/checkout" } });
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.ok(scripts.every((attrs) => /type="(module|application\/json)"/.test(attrs)), `scripts: ${scripts}`);
  assert.ok(!html.includes("<script>alert(1)"), "a hostile filter value is never markup");
  assert.ok(html.includes(`value="&quot;>&lt;script>alert(1)&lt;/script>&lt;img src=x onerror=alert(2)>"`));
  assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'(;|$)/);
});

serverTest("live wall page: the list links to it", async ({ url }) => {
  const html = await (await fetch(`${url}/`)).text();
  assert.match(html, /<a href="\/live">Live<\/a>/);
});
