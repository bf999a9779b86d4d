/**
 * Server-side redaction in a real browser: Chromium records a page with PII
 * in every place a recording carries it (text, attributes, a typed input
 * value with masking off, mutations, console, an uncaught error, a network
 * URL, identify traits, a track event, the page URL's query), the stored
 * bytes (inflated) hold none of it, and the replay still renders the page.
 */

import assert from "node:assert/strict";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";
import { TEST_KEY } from "../support/server.ts";
import { gunzip } from "../../lib/bytes.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { readAll } from "../../lib/store/mod.ts";
import { snippet } from "@replaya/recorder/snippet";
import type { Page } from "playwright-core";

const PII = {
  email: "jane.doe@example.com",
  phone: "+44 20 7946 0958",
  card: "4111 1111 1111 1111",
  iban: "DE89 3704 0044 0532 0130 00",
  token: "Bearer s3cr3tT0kenValue_42",
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
};

const page = (endpoint: string) => {
  // Masking and URL stripping off in the recorder: the server is what must catch it all.
  const head = snippet({
    endpoint,
    projectKey: TEST_KEY,
    init: { maskAllInputs: false, captureConsole: true, captureNetwork: true, allowUrlQuery: true },
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>Account</title>${head}</head>
<body>
<h1 id="heading">Your account</h1>
<p id="contact" title="write to ${PII.email}" data-phone="${PII.phone}">Mail ${PII.email} or call ${PII.phone}.</p>
<p id="pay">Card ${PII.card}, IBAN ${PII.iban}</p>
<a id="mail" href="mailto:${PII.email}">Mail us</a>
<div id="tok" data-auth="${PII.token}" data-jwt="${PII.jwt}">Signed in</div>
<input id="field" value="">
<p id="later"></p>
<p>Version 2.4.1, built 2026-12-03T14:04:50Z, order 1733234567890.</p>
<script>
  replaya("identify", "user-42", { email: "${PII.email}", phone: "${PII.phone}" });
  replaya("track", "paid", { card: "${PII.card}", iban: "${PII.iban}" });
  // Called once the recorder runs (console and network capture are installed with it).
  window.provoke = () => {
    console.warn("token ${PII.token} for ${PII.email}");
    setTimeout(() => { throw new Error("no account for ${PII.email} (${PII.jwt})"); }, 10);
    fetch("/api/users/${PII.email}").catch(() => {});
    setTimeout(() => {
      document.getElementById("later").textContent = "Phone ${PII.phone} added";
      document.getElementById("contact").setAttribute("data-iban", "${PII.iban}");
    }, 50);
  };
</script>
</body></html>`;
};

function sessionIdOf(p: Page): Promise<string | undefined> {
  return p.evaluate(() => {
    const raw = sessionStorage.getItem("replaya:session");
    return raw ? JSON.parse(raw).id ?? JSON.parse(raw).sessionId : undefined;
  });
}

browserTest("redaction: no PII from any place in the stored bytes, and the replay still renders", async ({
  server,
  site,
  browser,
}) => {
  const visitor = await browser.newPage();
  await visitor.goto(`${site.url}/account?email=${encodeURIComponent(PII.email)}`);
  const id = await waitFor("a session id", () => sessionIdOf(visitor));
  await visitor.evaluate(() => (globalThis as unknown as { provoke: () => void }).provoke());
  await visitor.fill("#field", PII.card);
  await visitor.click("#heading");
  await waitFor("the mutation", async () => (await visitor.textContent("#later"))?.includes("added"));
  await waitFor("console, error and network events stored", async () => {
    const json = JSON.stringify(await readSession(server.url, id));
    return ["replaya.console", "replaya.error", "replaya.network"].every((tag) => json.includes(tag));
  });
  await visitor.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
  await waitFor("the stop record", async () => (await readSession(server.url, id)).at(-1)?.kind === "stop");

  // Every stored byte, inflated: a framed batch is joined before it is inflated.
  const parts: string[] = [];
  const frames: Uint8Array[] = [];
  for await (const r of readAll(server.store, streamOf(id))) {
    parts.push(JSON.stringify(r.headers));
    const gz = r.body[0] === 0x1f && r.body[1] === 0x8b;
    if (!gz && frames.length === 0) parts.push(new TextDecoder().decode(r.body));
    else frames.push(r.body);
    const f = new Map(r.headers).get("f");
    if (frames.length && (!f || f.split("/").map(Number).reduce((i, n) => n - i) === 1)) {
      const joined = new Uint8Array(frames.reduce((n, b) => n + b.length, 0));
      frames.reduce((at, b) => (joined.set(b, at), at + b.length), 0);
      parts.push(new TextDecoder().decode(await gunzip(joined, 1 << 28)));
      frames.length = 0;
    }
  }
  const stored = parts.join("\n");
  const items = await readSession(server.url, id);
  const events = JSON.stringify(items);
  for (const [kind, value] of Object.entries(PII)) {
    for (const form of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
      const at = stored.indexOf(form);
      assert.ok(at < 0, `${kind} stored: …${stored.slice(Math.max(0, at - 200), at + 60)}…`);
    }
  }
  for (const place of ["replaya.console", "replaya.error", "replaya.network", "replaya.identify", "replaya.track"]) {
    assert.ok(events.includes(place), `${place} was recorded (so it was checked)`);
  }
  for (const kind of ["email", "phone", "card", "iban", "token", "jwt"]) {
    assert.ok(stored.includes(`[redacted:${kind}]`), `${kind} marker`);
  }
  assert.ok(stored.includes("Version 2.4.1, built 2026-12-03T14:04:50Z, order 1733234567890."), "look-alikes kept");
  assert.ok(stored.includes('"userId":"user-42"'), "the identity is kept");

  // The replay renders the page, redacted.
  const dashboard = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  const errors: string[] = [];
  dashboard.on("pageerror", (e) => errors.push(String(e)));
  await dashboard.goto(`${server.url}/sessions/${id}`);
  const replayed = await waitFor("the replayed page", () =>
    dashboard.evaluate(() => {
      const doc = (document.querySelector(".rp-mount iframe") as HTMLIFrameElement | null)?.contentDocument;
      const heading = doc?.getElementById("heading")?.textContent;
      return heading ? { heading, contact: doc!.getElementById("contact")?.textContent ?? "" } : undefined;
    }));
  assert.equal(replayed.heading, "Your account");
  assert.equal(replayed.contact, "Mail [redacted:email] or call [redacted:phone].");
  assert.deepEqual(errors, []);
}, { pages: { "/account": (_head, endpoint) => page(endpoint) } });
