/**
 * Server-rendered pages and the read APIs over a real HTTP server, on both
 * backends: empty states, errors, XSS in recorded metadata, security headers,
 * live tailing over SSE, export and delete.
 */

import assert from "node:assert/strict";
import { serverTest } from "../support/server.ts";
import { fakeEvents, fetchWhole, post, sendBatch, startSession } from "../support/client.ts";
import { serializeProps } from "../../components/Island.tsx";

const XSS = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;

async function page(url: string): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, html: await res.text(), headers: res.headers };
}

type SseEvent = { event: string; id?: string; data: string };

/**
 * Reads SSE events from a response until `stop` returns true or `ms` pass.
 * `onOpen` runs on the stream's first bytes (the `: open` comment), `onEvent` on each event as it arrives.
 */
async function readSse(
  res: Response,
  stop: (events: SseEvent[]) => boolean,
  { ms = 10_000, onOpen, onEvent }: { ms?: number; onOpen?: () => void; onEvent?: (event: SseEvent) => void } = {},
) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = "";
  const { promise: timedOut, resolve } = Promise.withResolvers<"t">();
  const timer = setTimeout(() => resolve("t"), ms);
  try {
    while (!stop(events)) {
      const chunk = await Promise.race([reader.read(), timedOut]);
      if (chunk === "t") throw new Error(`SSE: got ${events.map((e) => e.event)} before timing out`);
      if (chunk.done) break;
      buffer += chunk.value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block === ": open") onOpen?.();
        const fields = Object.fromEntries(
          block.split("\n").filter((l) => !l.startsWith(":")).map((
            l,
          ) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]),
        );
        if (fields.data !== undefined) {
          const event = { event: fields.event ?? "message", id: fields.id, data: fields.data };
          events.push(event);
          onEvent?.(event);
        }
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return events;
}

serverTest("list page: empty state, then rows newest first with status and counts", async ({ url }) => {
  const empty = await page(`${url}/`);
  assert.equal(empty.status, 200);
  assert.match(empty.html, /data-testid="empty"/);
  assert.match(empty.html, /No sessions recorded yet/);

  const a = await startSession(url, { meta: { url: "https://shop.example/a", userId: "alice", source: "web" } });
  const b = await startSession(url, {
    meta: {
      url: "https://shop.example/b",
      userAgent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    },
  });
  await sendBatch(url, a, {
    seq: 0,
    events: [...fakeEvents(3), {
      type: 5,
      timestamp: Date.now(),
      data: { tag: "replaya.error", payload: { message: "boom" } },
    }],
  });
  await post(`${url}/api/sessions/${a.sessionId}/stop`, {}, { authorization: `Bearer ${a.token}` });
  const list = await page(`${url}/`);
  const rows = [...list.html.matchAll(/data-session="([^"]+)" data-status="(\w+)"/g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, [[b.sessionId, "live"], [a.sessionId, "ended"]]);
  assert.match(list.html, /alice/);
  assert.match(list.html, /class="num has-errors">1</, "the error count of the ended session");
  assert.match(list.html, /Safari/);
  assert.match(list.html, /mobile/);
  assert.match(list.html, /data-island="LiveSessions"/, "new sessions arrive live on the first, unfiltered page");
});

serverTest("list page: filters on user, URL, status and errors, with a cursor", async ({ url }) => {
  const alice = await startSession(url, { meta: { url: "https://shop.example/checkout", userId: "alice" } });
  await sendBatch(url, alice, {
    seq: 0,
    events: [{ type: 5, timestamp: Date.now(), data: { tag: "replaya.error", payload: { message: "x" } } }],
  });
  await post(`${url}/api/sessions/${alice.sessionId}/stop`, {}, { authorization: `Bearer ${alice.token}` });
  const bob = await startSession(url, { meta: { url: "https://shop.example/home", userId: "bob" } });
  const ids = async (query: string) =>
    [...(await page(`${url}/?${query}`)).html.matchAll(/data-session="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(await ids("user=ALICE"), [alice.sessionId], "the whole user id, case ignored");
  assert.deepEqual(await ids("user=ali"), [], "not a part of it");
  assert.deepEqual(await ids("url=checkout"), [alice.sessionId]);
  assert.deepEqual(await ids("status=live"), [bob.sessionId]);
  assert.deepEqual(await ids("status=ended"), [alice.sessionId]);
  assert.deepEqual(await ids("errors=yes"), [alice.sessionId]);
  assert.deepEqual(await ids("user=nobody"), []);
  assert.match((await page(`${url}/?user=nobody`)).html, /No sessions match these filters/);
  assert.deepEqual(await ids(`cursor=${bob.sessionId}`), [alice.sessionId], "the cursor continues after a row");
  const today = new Date().toISOString().slice(0, 10);
  assert.equal((await ids(`from=${today}&to=${today}`)).length, 2);
  assert.deepEqual(await ids("to=2001-01-01"), []);
});

serverTest("session page: header and player island; unknown and invalid ids are 404 pages", async ({ url }) => {
  const s = await startSession(url, { meta: { url: "https://shop.example/", userId: "carol", source: "web" } });
  const res = await page(`${url}/sessions/${s.sessionId}`);
  assert.equal(res.status, 200);
  assert.match(res.html, /data-testid="session-header" data-status="live"/);
  assert.match(res.html, /data-island="Player"/);
  assert.match(res.html, /carol/);
  const props = res.html.match(/<script type="application\/json" id="island-Player-[^"]+">([^<]*)<\/script>/);
  assert.ok(props, "the player's props are a JSON block");
  assert.deepEqual(JSON.parse(props[1]).sessionId, s.sessionId);
  const missing = await page(`${url}/sessions/${"9".repeat(13)}abcdefabcdef`);
  assert.equal(missing.status, 404);
  assert.match(missing.html, /Session not found/);
  assert.equal((await page(`${url}/sessions/..%2F..%2Fetc`)).status, 404);
});

serverTest(
  "session page: an ended session's first frame is inlined, sandboxed and inert; a live one's is not",
  async ({ url }) => {
    const s = await startSession(url, { meta: { url: "https://shop.example/" } });
    const at = Date.now();
    const body = (...childNodes: unknown[]) => ({ type: 2, tagName: "body", attributes: {}, childNodes, id: 3 });
    const snapshot = {
      type: 0,
      id: 1,
      childNodes: [{
        type: 2,
        tagName: "html",
        attributes: {},
        id: 2,
        childNodes: [body(
          {
            type: 2,
            tagName: "h1",
            attributes: { onclick: "alert(1)" },
            childNodes: [{ type: 3, textContent: "Hello </iframe><script>alert(2)</script>", id: 5 }],
            id: 4,
          },
          {
            type: 2,
            tagName: "script",
            attributes: {},
            childNodes: [{ type: 3, textContent: "alert(3)", id: 7 }],
            id: 6,
          },
        )],
      }],
    };
    const events = [
      { type: 4, timestamp: at, data: { href: "https://shop.example/", width: 1024, height: 700 } },
      { type: 2, timestamp: at + 1, data: { node: snapshot, initialOffset: { left: 0, top: 0 } } },
    ];
    assert.equal((await sendBatch(url, s, { seq: 0, events })).status, 200);
    const live = await page(`${url}/sessions/${s.sessionId}`);
    assert.ok(!live.html.includes("rp-first-frame"), "a live session opens at its live edge: no first frame");
    assert.match(
      live.html,
      /<div class="rp-first" data-testid="first-frame"><\/div>/,
      "the empty place the island hydrates",
    );

    await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });
    const ended = await page(`${url}/sessions/${s.sessionId}`);
    // srcdoc's value is quoted with `"` escaped, so it ends at the first `"`; the attributes after it close the tag.
    const iframe = ended.html.match(/<iframe class="rp-first-frame" sandbox(?:="")? srcdoc="([^"]*)"([^>]*)>/);
    assert.ok(iframe, "the first frame is in the page, sandboxed with no tokens");
    const [, srcdoc, rest] = iframe;
    assert.doesNotMatch(rest, /allow-|sandbox/);
    assert.match(rest, / width="1024" height="700"/);
    assert.ok(!srcdoc.includes("<") && !srcdoc.includes('"'), "the document is escaped inside the attribute");
    const doc = srcdoc.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll(
      "&amp;",
      "&",
    );
    assert.ok(doc.includes("<h1>Hello &lt;/iframe&gt;&lt;script&gt;alert(2)&lt;/script&gt;</h1>"), doc);
    assert.ok(!doc.includes("<script") && !doc.includes("alert(3)") && !doc.includes("onclick"), doc);
    // Only in the markup: the island's serialized props do not carry it again.
    const props = ended.html.match(/<script type="application\/json" id="island-Player-[^"]+">([^<]*)<\/script>/)![1];
    assert.ok(!props.includes("Hello") && !("firstFrame" in JSON.parse(props)));
  },
);

serverTest("XSS: recorded metadata renders as text everywhere", async ({ url }) => {
  const s = await startSession(url, {
    meta: { url: `https://shop.example/${XSS}`, userId: XSS, source: XSS, traits: { note: `</script>${XSS}` } },
  });
  await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });
  for (const path of ["/", `/sessions/${s.sessionId}`, `/?user=${encodeURIComponent(XSS)}`]) {
    const { html } = await page(url + path);
    assert.ok(!html.includes("<script>alert"), `${path} has no injected script`);
    assert.ok(!html.includes("<img src=x"), `${path} has no injected image`);
    assert.match(
      html,
      /&lt;script>alert\(1\)&lt;\/script>|&lt;script&gt;alert\(1\)&lt;\/script&gt;/,
      `${path} shows it as text`,
    );
  }
  assert.equal(serializeProps({ x: "</script><script>alert(1)</script>\u2028" }).includes("</script>"), false);
});

serverTest("security headers on pages, and the recorder script is loadable cross-origin", async ({ url }) => {
  const { headers } = await page(`${url}/`);
  const csp = headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /object-src 'none'/);
  assert.equal(headers.get("x-content-type-options"), "nosniff");
  assert.equal(headers.get("x-frame-options"), "DENY");
  assert.equal(headers.get("referrer-policy"), "same-origin");
  const recorder = await fetch(`${url}/recorder.js`);
  assert.equal(recorder.status, 200);
  assert.match(recorder.headers.get("content-type") ?? "", /javascript/);
  assert.equal(recorder.headers.get("cross-origin-resource-policy"), "cross-origin");
  assert.match(recorder.headers.get("cache-control") ?? "", /max-age=300\b/);
  assert.ok((await recorder.text()).length > 10_000);
});

serverTest("live SSE: history, then live batches, the watched flag, then the stop", async ({ url }) => {
  const s = await startSession(url);
  await sendBatch(url, s, { seq: 0, events: fakeEvents(2, Date.now(), "h") });
  const abort = new AbortController();
  const res = await fetch(`${url}/api/sessions/${s.sessionId}/live`, { signal: abort.signal });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const live = Promise.withResolvers<void>();
  const reading = readSse(res, (events) => events.some((e) => e.event === "stop"), {
    onEvent: (e) => e.event === "live" && live.resolve(),
  });
  await Promise.race([live.promise, reading]); // history replayed: the viewer follows, and is counted
  const batch = await sendBatch(url, s, { seq: 1, events: fakeEvents(1, Date.now(), "l") });
  assert.equal((await batch.json()).watched, true, "ingest tells the recorder someone is watching");
  await post(`${url}/api/sessions/${s.sessionId}/stop`, {}, { authorization: `Bearer ${s.token}` });
  const events = await reading;
  const kinds = events.map((e) => e.event);
  assert.equal(kinds[0], "meta");
  assert.ok(kinds.includes("live"), "announces when history is replayed");
  assert.equal(kinds.at(-1), "stop");
  const tags = events.filter((e) => e.event === "events").flatMap((e) =>
    JSON.parse(e.data).events.map((x: { data: { tag: string } }) => x.data.tag)
  );
  assert.deepEqual(tags.slice(0, 2), ["h0", "h1"]);
  assert.deepEqual(tags.slice(2), ["l0"], "the live batch arrives");
  const ids = events.filter((e) => e.id).map((e) => Number(e.id));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "event ids are increasing seq numbers");
  // Resuming after the first batch replays only what came after it.
  const firstBatch = events.find((e) => e.event === "events")!;
  const resumed = await fetch(`${url}/api/sessions/${s.sessionId}/live`, {
    headers: { "last-event-id": firstBatch.id! },
  });
  const again = await readSse(resumed, (e) => e.some((x) => x.event === "stop"));
  assert.ok(!again.some((e) => e.id === firstBatch.id), "Last-Event-ID resumes after that record");
  assert.equal(again.at(-1)?.event, "stop");
  abort.abort();
});

serverTest("feed SSE: a new session appears without a reload", async ({ url }) => {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/sessions/feed`, { signal: abort.signal });
  const open = Promise.withResolvers<void>();
  const reading = readSse(res, (events) => events.length >= 1, { onOpen: open.resolve });
  await Promise.race([open.promise, reading]); // the feed's first bytes: it is subscribed

  const s = await startSession(url, { meta: { url: "https://shop.example/new", userId: "dave" } });
  const [event] = await reading;
  abort.abort();
  assert.equal(event.event, "session");
  assert.equal(JSON.parse(event.data).id, s.sessionId);
  assert.equal(JSON.parse(event.data).userId, "dave");
});

serverTest("export: rrweb events plus metadata as a JSON download; delete needs CSRF", async ({ url }) => {
  const s = await startSession(url);
  await sendBatch(url, s, { seq: 0, events: fakeEvents(3) });
  const res = await fetch(`${url}/api/sessions/${s.sessionId}/export`);
  assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="replaya-session-/);
  const body = await res.json();
  assert.equal(body.events.length, 3);
  assert.equal(body.meta.id, s.sessionId);
  const noCsrf = await fetch(`${url}/api/sessions/${s.sessionId}`, { method: "DELETE" });
  assert.equal(noCsrf.status, 403);
  assert.equal((await noCsrf.json()).error.code, "csrf_failed");
  const confirm = await page(`${url}/sessions/${s.sessionId}/delete`);
  const csrf = confirm.html.match(/name="csrf" value="([^"]+)"/)![1];
  const del = await fetchWhole(`${url}/sessions/${s.sessionId}/delete`, {
    method: "POST",
    body: new URLSearchParams({ csrf }),
    redirect: "manual",
  });
  assert.equal(del.status, 303);
  assert.equal((await page(`${url}/sessions/${s.sessionId}`)).status, 404);
  assert.ok(!(await page(`${url}/`)).html.includes(s.sessionId), "a deleted session leaves the list");
});

serverTest("operations: health and Prometheus metrics", async ({ url, backend, store }) => {
  const s = await startSession(url);
  await sendBatch(url, s, { seq: 0, events: fakeEvents(4) });
  const health = await (await fetch(`${url}/api/health`)).json();
  assert.equal(health.status, "ok");
  assert.equal(health.store.backend, backend === "sqlite" ? "sqlite" : "s2");
  assert.equal(typeof health.uptimeSecs, "number");
  // Where the data is (the SQLite file, the S2 endpoint) tells an intruder more than it tells an operator.
  assert.deepEqual(Object.keys(health.store), backend === "sqlite" ? ["backend"] : ["backend", "basin"]);
  assert.ok(!JSON.stringify(health).includes(store.info.location), "no file path or endpoint");
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /replaya_ingest_batches_total 1/);
  assert.match(metrics, /replaya_ingest_events_total 4/);
  assert.match(metrics, /replaya_store_call_seconds_count\{op="append"\} \d+/);
  assert.match(
    metrics,
    /replaya_http_requests_total\{route="\/api\/sessions\/:id\/events",method="POST",status="200"\} 1/,
  );
  assert.match(metrics, /replaya_active_sessions 1/);
  assert.match(metrics, /^process_resident_memory_bytes \d+/m, "process metrics");
  assert.match(metrics, /^nodejs_eventloop_lag_seconds [\d.e-]+/m, "event-loop lag");
  // /healthz: no login, no details.
  const healthz = await fetch(`${url}/healthz`, { headers: { host: "replaya:8080" } });
  assert.equal(healthz.status, 200);
  assert.deepEqual(await healthz.json(), { status: "ok" });
});

serverTest("operations: /healthz answers 503 when the store is unreachable", async ({ url, under }) => {
  await under.store.close();
  under.breakStore?.();
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: "unavailable" });
}, { breakable: true });

serverTest("store unavailable: pages answer 503 with an explanation", async ({ url, under }) => {
  await under.store.close();
  under.breakStore?.();
  const res = await page(`${url}/`);
  assert.equal(res.status, 503);
  assert.match(res.html, /Store unavailable/);
}, { breakable: true });
