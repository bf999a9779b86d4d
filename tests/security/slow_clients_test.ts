/**
 * Finding 6: slow senders are cut off and one client cannot hold more than
 * its share of requests. (Slow *headers* never reach the app: Deno's server
 * has no header timeout, so SECURITY.md asks the reverse proxy for one.)
 */

import assert from "node:assert/strict";
import { waitFor } from "../support/browser.ts";
import { startSession } from "../support/client.ts";
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
  // Seven slow uploads from one address against a cap of 4: at most 4 are held (and cut off at the
  // deadline with 408), the others are refused at once with 429.
  const slow = await Promise.all(
    Array.from({ length: 7 }, () => trickle(url, `/api/sessions/${s.sessionId}/events`, headers)),
  );
  const statuses = await Promise.all(slow.map(async (s) => {
    const { status } = await s.response;
    await s.close();
    return status;
  }));
  const held = statuses.filter((s) => s === 408).length;
  const refused = statuses.filter((s) => s === 429).length;
  assert.equal(held + refused, 7, `slow uploads ended with ${statuses}`);
  assert.ok(held <= 4, `at most 4 held at once: ${statuses}`);
  assert.ok(held >= 1 && refused >= 3, `slow uploads ended with ${statuses}`);
  await waitFor("the slots to come back when the requests end", async () => {
    const res = await fetch(`${url}/setup`);
    await res.body?.cancel();
    return res.status === 200;
  });
}, { env: { REPLAYA_BODY_TIMEOUT_SECS: "2", REPLAYA_MAX_CONCURRENT_PER_CLIENT: "4" } });
