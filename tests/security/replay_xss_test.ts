/**
 * The replay is inert: a recorded page full of script payloads, hostile
 * metadata and links to the dashboard's own API is replayed in Chromium, and
 * nothing runs, nothing navigates, no dialog opens, and no request from the
 * replay is answered by a read route.
 */

import assert from "node:assert/strict";
import type { Request as PwRequest } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";
import { startSession } from "../support/client.ts";
import { TEST_KEY } from "../support/server.ts";
import { SESSION_PREFIX } from "../../lib/sessions/ids.ts";

/** Counts hits by path; any hit after the recording is a payload that ran. */
function startBeacon() {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits.push(new URL(request.url).pathname);
    return new Response("<!doctype html><title>beacon</title><p>left the page", {
      headers: { "content-type": "text/html", "access-control-allow-origin": "*" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, hits, close: () => server.shutdown() };
}

/** Set by the test before the page is served: where payloads report, and a session they aim at. */
let B = "";
let victim = "";
const run = (tag: string) => `alert('${tag}');fetch('${B}/js-${tag}')`;

/** Every payload a recorded page can carry, recorded by the real recorder. */
function hostilePage(endpoint: string): string {
  const api = `${endpoint}/api/sessions`;
  const init = JSON.stringify({ endpoint, projectKey: TEST_KEY, captureConsole: true, captureNetwork: true });
  return `<!doctype html><html><head><meta charset="utf-8">
<title>&lt;/title&gt;&lt;img src=x onerror="${run("title")}"&gt;</title>
<script>history.replaceState(null, "", "/hostile/%3Cscript%3E${encodeURIComponent(run("url"))}%3C/script%3E");
window.replaya=window.replaya||function(){(replaya.q=replaya.q||[]).push(arguments)};replaya("init",${init});</script>
<script async src="${endpoint}/recorder.js"></script>
<base href="${B}/base/">
<meta http-equiv="refresh" content="2;url=${B}/nav-meta">
<link rel="stylesheet" href="${api}/${victim}/export">
</head><body>
<h1 id="marker">Hostile page</h1>
<script>window.__xss = "ran"; ${run("inline")}</script>
<img src="missing.png" onerror="${run("onerror")}">
<svg onload="${run("svg")}"><circle r="5"/></svg>
<a id="js-link" href="javascript:${run("href")}">a javascript: link</a>
<iframe srcdoc="<script>${run("srcdoc")}</script>"></iframe>
<iframe src="javascript:${run("iframe-src")}"></iframe>
<object data="${B}/js-object"></object>
<form action="${api}/${victim}" method="post"><input name="x" value="y"><button id="submit">Send</button></form>
<img id="api-img" src="${api}/${victim}/export">
<img src="${api}/feed">
<script src="${api}/${victim}/events"></script>
<div onclick="${run("onclick")}" style="width:50px;height:50px;background:red"></div>
<p>${"Filler text so the page has some body. ".repeat(5)}</p>
<script>
  replaya("identify", "<svg onload=\\"${run("user")}\\">", { name: "<img src=x onerror=\\"${run("trait")}\\">" });
  replaya("track", "<img src=x onerror=\\"${run("track")}\\">", { prop: "<script>${run("prop")}<\\/script>" });
  console.error("<img src=x onerror=\\"${run("console")}\\">");
  setTimeout(() => { throw new Error("<svg onload=\\"${run("error")}\\">"); }, 10);
  setTimeout(() => document.body.insertAdjacentHTML("beforeend", '<p id="done">done</p>'), 700);
</script>
</body></html>`;
}

browserTest("security: a replay of a page full of payloads runs nothing and reaches no read route", async ({
  server,
  site,
  browser,
}) => {
  const beacon = startBeacon();
  B = beacon.url;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // The hostile page gets a context of its own, left open until the end: closing it while its payloads
  // settle could stall Chromium on a loaded machine, and nothing here needs it closed early.
  const visitorContext = await browser.newContext();
  victim = (await startSession(server.url)).sessionId;
  try {
    const visitor = await visitorContext.newPage();
    visitor.on("dialog", (d) => d.dismiss()); // the original page is hostile to itself; that is not under test
    await visitor.goto(`${site.url}/hostile`);
    await waitFor(
      "the recorded page to navigate away by its meta refresh",
      () => Promise.resolve(beacon.hits.includes("/nav-meta")),
    );
    const { names } = await server.store.listStreams({ prefix: SESSION_PREFIX });
    const sessionId = names.map((name) => name.slice(SESSION_PREFIX.length)).find((id) => id !== victim)!;
    // The page's last batch (#done) may leave by keepalive as the refresh navigates it away: stop only once it is in.
    await waitFor("the recording's last batch", async () => {
      const text = await (await fetch(`${server.url}/api/sessions/${sessionId}/events`)).text();
      return text.includes('"id":"done"');
    });
    await server.sessions.stop(sessionId, "stop");
    const before = beacon.hits.length;

    const dashboard = await context.newPage();
    const dialogs: string[] = [];
    const navigations: string[] = [];
    const apiRequests: Array<{ request: PwRequest; status?: number; failure?: string }> = [];
    dashboard.on("dialog", (d) => {
      dialogs.push(d.message());
      d.dismiss();
    });
    dashboard.on("framenavigated", (frame) => navigations.push(frame.url()));
    dashboard.on("request", (request) => {
      const fromPlayer = ["fetch", "eventsource", "xhr"].includes(request.resourceType()) &&
        request.frame() === dashboard.mainFrame();
      if (request.url().startsWith(`${server.url}/api/`) && !fromPlayer) apiRequests.push({ request });
    });
    dashboard.on("response", (response) => {
      const entry = apiRequests.find((e) => e.request === response.request());
      if (entry) entry.status = response.status();
    });

    await dashboard.goto(`${server.url}/sessions/${sessionId}`);
    const replay = dashboard.frameLocator(".rp-mount iframe");
    await replay.locator("#marker").waitFor({ timeout: 15_000 });
    await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]', { timeout: 15_000 });
    // Ended sessions open paused at the first frame: seek to the very end (End), which applies every event.
    await dashboard.keyboard.press("End");
    await replay.locator("#done").waitFor();
    for (const selector of ["#js-link", "svg", "iframe", "form", "#api-img", "base"]) {
      assert.ok(await replay.locator(selector).count() > 0, `the payload ${selector} was recorded and replayed`);
    }
    // The recorder drops <meta http-equiv> (rrweb's slimDOM), so the refresh that took the page away never replays.
    assert.equal(await replay.locator("meta[http-equiv]").count(), 0, "no meta refresh in the replay");
    await dashboard.locator('[data-testid="feed-item"][data-kind="track"]').first().waitFor();

    // The dashboard itself, with every hostile string on screen, once more from the list page.
    await dashboard.goto(`${server.url}/?user=${encodeURIComponent(`<svg onload="${run("user")}">`)}`);
    await dashboard.waitForSelector(`[data-session="${sessionId}"]`);

    assert.deepEqual(dialogs, [], "no dialog opened");
    // Plain resource loads of the recorded page (its images, against its <base>) are a replay's job; scripts are not.
    const ran = beacon.hits.slice(before).filter((path) => /^\/(js|nav)-/.test(path));
    assert.deepEqual(ran, [], "no payload ran and nothing navigated to the beacon");
    // (Frames of the replay cannot be evaluated in: they run no script at all. Every payload reports to the beacon.)
    const xss = await dashboard.evaluate(() => (globalThis as { __xss?: string }).__xss);
    assert.equal(xss, undefined, "no script of the recorded page ran in the dashboard");
    const foreign = navigations.filter((url) =>
      !url.startsWith(server.url) && url !== "about:blank" && url !== "about:srcdoc"
    );
    assert.deepEqual(foreign, [], "no frame navigated away");
    for (const entry of apiRequests) {
      entry.status = (await entry.request.response())?.status() ?? entry.status;
      entry.failure = entry.request.failure()?.errorText;
    }
    // Refused by the server (403), or not even sent by the browser: either way no read route answered.
    const answered = apiRequests.filter((e) => e.status !== 403 && !(e.status === undefined && e.failure));
    assert.deepEqual(
      answered.map((e) => `${e.request.resourceType()} ${e.request.url()} → ${e.status}`),
      [],
      "every request the replay made to the API was refused (Fetch Metadata) or never sent",
    );
    console.log(
      `replay made ${apiRequests.length} request(s) to the API: ` +
        apiRequests.map((e) => `${e.request.resourceType()} → ${e.status ?? e.failure}`).join(", "),
    );
  } finally {
    // First: the beacon's shutdown waits for the browser's connections to it. Bounded, as cleanup.
    const bounded = async (p: Promise<unknown>) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([p, new Promise((r) => timer = setTimeout(r, 10_000))]);
      clearTimeout(timer);
    };
    await bounded(Promise.all([context.close(), visitorContext.close()]).catch(() => {}));
    await bounded(beacon.close());
  }
}, { pages: { "/hostile": (_head, endpoint) => hostilePage(endpoint) } });
