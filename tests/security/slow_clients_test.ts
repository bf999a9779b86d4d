/**
 * Finding 6: slow senders are cut off and one client cannot hold more than
 * its share of requests. (Slow *headers* never reach the app: Deno's server
 * has no header timeout, so SECURITY.md asks the reverse proxy for one.)
 */

import assert from "node:assert/strict";
import { startSession } from "../support/client.ts";
import { waitFor } from "../support/browser.ts";
import { serverTest } from "../support/server.ts";

/** Opens a POST whose body trickles one byte at a time until the server answers. */
async function trickle(url: string, path: string, headers: Record<string, string>, length = 100_000) {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = [`POST ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Content-Length: ${length}`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n{"));
  let answered = false;
  const response = (async () => {
    const buffer = new Uint8Array(4096);
    let text = "";
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    answered = true;
    return { status: Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0), text };
  })();
  const feeding = (async () => {
    while (!answered) {
      await new Promise((r) => setTimeout(r, 100));
      await conn.write(new TextEncoder().encode(" ")).catch(() => (answered = true));
    }
  })();
  return {
    response,
    async close() {
      answered = true;
      await feeding;
      try {
        conn.close();
      } catch { /* closed by the server */ }
    },
  };
}

serverTest("security: a body that trickles in is cut off with 408 at the deadline", async ({ url }) => {
  const s = await startSession(url);
  const started = performance.now();
  const slow = await trickle(url, `/api/sessions/${s.sessionId}/events`, {
    "content-type": "application/json",
    authorization: `Bearer ${s.token}`,
  });
  const { status, text } = await slow.response;
  await slow.close();
  assert.equal(status, 408, text);
  assert.match(text, /request_timeout/);
  console.log(`slow body answered 408 after ${Math.round(performance.now() - started)} ms (deadline 1 s)`);
  const login = await trickle(url, "/login", { "content-type": "application/x-www-form-urlencoded" }, 1000);
  assert.equal((await login.response).status, 408, "the login form has the same deadline");
  await login.close();
}, { env: { REPLAYA_BODY_TIMEOUT_SECS: "1" } });

serverTest("security: one client holds at most its share of requests at once", async ({ url }) => {
  const s = await startSession(url);
  const headers = { "content-type": "application/json", authorization: `Bearer ${s.token}` };
  const slow = await Promise.all(
    Array.from({ length: 4 }, () => trickle(url, `/api/sessions/${s.sessionId}/events`, headers)),
  );
  // Once the server holds all four, a fifth request from the same address is refused until one ends.
  const refused = await waitFor("the fifth request refused", async () => {
    const res = await fetch(`${url}/setup`);
    if (res.status === 429) return res;
    await res.body?.cancel();
  });
  assert.equal((await refused.json()).error.code, "too_many_requests");
  assert.ok(refused.headers.get("retry-after"));
  // Each slow upload is cut off at the deadline (one may itself have been refused if an earlier
  // request's connection had not finished closing when it arrived).
  const statuses = await Promise.all(slow.map(async (s) => {
    const { status } = await s.response;
    await s.close();
    return status;
  }));
  assert.ok(statuses.every((s) => s === 408 || s === 429), `slow uploads ended with ${statuses}`);
  assert.ok(statuses.filter((s) => s === 408).length >= 3, `slow uploads ended with ${statuses}`);
  const after = await fetch(`${url}/setup`);
  assert.equal(after.status, 200, "the slots come back when the requests end");
  await after.body?.cancel();
}, { env: { REPLAYA_BODY_TIMEOUT_SECS: "5", REPLAYA_MAX_CONCURRENT_PER_CLIENT: "4" } });
