/**
 * Finding: no budget per project. The public key is on every recorded page,
 * so what it may cost is bounded per project, however many addresses send:
 * session starts per second and per day, inflated bytes per second (a 20 KB
 * gzip body can inflate to 15 MiB), stored bytes per day; each refusal a 429
 * with Retry-After, the budget's name and a metric. And while one client
 * abuses ingest as hard as its budget allows, the server keeps answering
 * health checks and the dashboard (a real server process, probed meanwhile).
 */

import assert from "node:assert/strict";
import { gzip } from "../../lib/bytes.ts";
import { startChildServer } from "../support/child_server.ts";
import { fakeEvents, fetchWhole, post, sendBatch, startBody, startSession } from "../support/client.ts";
import { serverTest } from "../support/server.ts";

const MIB = 1024 * 1024;

/** A batch whose gzip is tiny and whose JSON is `mib` MiB: the cheapest way to make the server work. */
async function inflatingBatch(seq: number, mib: number): Promise<Uint8Array> {
  const text = "a".repeat(mib * MIB);
  const json = `{"writerId":"w1","seq":${seq},"sentAt":${Date.now()},"events":[{"type":5,"timestamp":${Date.now()},` +
    `"data":{"tag":"pad","payload":{"text":"${text}"}}}]}`;
  return await gzip(new TextEncoder().encode(json));
}

function postBatch(url: string, session: { sessionId: string; token: string }, body: Uint8Array) {
  return post(`${url}/api/sessions/${session.sessionId}/events`, body, {
    "content-encoding": "gzip",
    authorization: `Bearer ${session.token}`,
  });
}

serverTest("security: session starts beyond the project's budget get 429 with the budget's name", async ({ url }) => {
  // Each start from another address: the per-address limit is not what refuses them.
  const start = (i: number) => post(`${url}/api/sessions`, startBody(), { "x-forwarded-for": `198.51.100.${i}` });
  const statuses: number[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < 8; i++) {
    const res = await start(i);
    statuses.push(res.status);
    if (res.status === 429) refused ??= res;
  }
  assert.deepEqual(statuses.slice(0, 4), [201, 201, 201, 201], "a burst of two seconds' worth");
  assert.ok(refused, `starts: ${statuses}`);
  const { error } = await refused.json();
  assert.equal(error.code, "project_budget_exceeded");
  assert.equal(error.budget, "starts_per_sec");
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  const metrics = await (await fetchWhole(`${url}/metrics`)).text();
  assert.match(metrics, /replaya_ingest_budget_refusals_total\{project="test",budget="starts_per_sec"\} [1-9]/);
}, { env: { REPLAYA_TRUST_PROXY: "1", REPLAYA_PROJECT_STARTS_PER_SEC: "2" } });

serverTest(
  "security: a batch that inflates past the byte budget leaves a debt the next batches wait out",
  async ({ url }) => {
    const session = await startSession(url);
    const body = await inflatingBatch(0, 12);
    assert.ok(body.length < 64 * 1024, `${body.length} bytes on the wire`);
    assert.equal((await postBatch(url, session, body)).status, 200, "let in: the bucket had credit");
    const next = await sendBatch(url, session, { seq: 1, events: fakeEvents(2), gzip: true });
    assert.equal(next.status, 429, "4 MiB in debt at 8 MiB/s");
    const { error } = await next.json();
    assert.equal(error.budget, "inflated_bytes_per_sec");
    assert.equal(next.headers.get("retry-after"), "1");
    // Nothing of the refused batch was stored; the first one was, whole.
    const events = await fetchWhole(`${url}/api/sessions/${session.sessionId}/events`);
    const lines = (await events.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.kind === "events").length, 1);
  },
  { env: { REPLAYA_PROJECT_INFLATED_MB_PER_SEC: "8" } },
);

serverTest("security: an optional stored-bytes quota per project and day", async ({ url }) => {
  const session = await startSession(url);
  // ~100 KB of random base64 a batch: stored as it came (gzip cannot shrink it much).
  const noise = () => {
    const bytes = new Uint8Array(75_000);
    for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
    return btoa(String.fromCharCode(...bytes));
  };
  let status = 200;
  let seq = 0;
  for (; seq < 100 && status === 200; seq++) {
    const events = [{ type: 5, timestamp: Date.now(), data: { tag: "noise", payload: { text: noise() } } }];
    status = (await sendBatch(url, session, { seq, events, gzip: true })).status;
  }
  assert.equal(status, 429, `refused after ${seq} batches`);
  assert.ok(seq >= 10 && seq <= 16, `about 1 MiB stored first: ${seq - 1} batches of ~100 KB`);
}, { env: { REPLAYA_PROJECT_STORED_MB_PER_DAY: "1", REPLAYA_SESSION_RATE_PER_SECOND: "1000" } });

/** The p-th percentile of `values`. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

Deno.test("security: one client abusing ingest at its budget leaves health and the dashboard answering", async () => {
  const server = await startChildServer({ REPLAYA_MAX_CONCURRENT_PER_CLIENT: "1000" });
  try {
    const body = await inflatingBatch(0, 15); // 15 MiB of JSON in ~15 KB of gzip
    const sessions = await Promise.all(Array.from({ length: 4 }, () => startSession(server.url)));
    let abusing = true;
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // Four connections sending 15 MiB batches back to back, and session starts as fast as they are answered.
    const abuse = [
      ...sessions.map(async (session) => {
        while (abusing) {
          const res = await postBatch(server.url, session, body);
          count(res.status);
        }
      }),
      (async () => {
        while (abusing) count((await post(`${server.url}/api/sessions`, startBody())).status);
      })(),
    ];
    const probe = async (path: string, latencies: number[]) => {
      while (abusing) {
        const start = performance.now();
        const res = await fetch(`${server.url}${path}`);
        await res.body?.cancel();
        if (abusing) latencies.push(performance.now() - start);
      }
    };
    const health: number[] = [];
    const dashboard: number[] = [];
    const probes = [probe("/healthz", health), probe("/api/sessions?limit=50", dashboard)];
    // A fixed number of probes, not a time: the test waits on the server's answers.
    while (health.length < 200 || dashboard.length < 50) await new Promise((r) => setTimeout(r, 100));
    abusing = false;
    await Promise.all([...abuse, ...probes]);
    const figure = (name: string, l: number[]) =>
      `${name} p50 ${percentile(l, 50).toFixed(0)} ms, p99 ${percentile(l, 99).toFixed(0)} ms (${l.length} probes)`;
    console.log(
      `abuse at the budget: ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${figure("/healthz", health)}; ${figure("/api/sessions", dashboard)}`,
    );
    // The budget engaged (the abuser was refused), and batches still went through at its rate.
    assert.ok((statuses.get(429) ?? 0) > 0, "the abuser met its budget");
    assert.ok((statuses.get(200) ?? 0) > 0, "and was served within it");
  } finally {
    await server.close();
  }
});
