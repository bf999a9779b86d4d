/**
 * Finding: what a read token can cost. A session with three ~15 MiB batches
 * (anyone with the public key can record one) and 64 connections that open
 * its streams (`/live` from the start and from later, `/events`, `/export`)
 * and then never read: the server must hold no more than its stated budget,
 * cut the stalled ones off after the stall time, and refuse streams beyond
 * its per-token and per-process caps with 429 and Retry-After. A real server
 * process; peak RSS from /proc/<pid>/status.
 */

import assert from "node:assert/strict";
import { gzip } from "../../lib/bytes.ts";
import { waitFor } from "../support/browser.ts";
import { type ChildServer, startChildServer } from "../support/child_server.ts";
import { fetchWhole, post, startSession } from "../support/client.ts";
import { ADMIN } from "../support/login.ts";
import { mintToken } from "../support/read_tokens.ts";

/** What 64 stalled streams may add to the process's peak RSS (the budget). */
const RSS_BUDGET = 256 * 1024 * 1024;
const MIB = 1024 * 1024;

/** A batch of one custom event carrying `mib` MiB of random a/b text: ~1 bit per byte, so it crosses the wire. */
async function bigBatch(seq: number, mib: number): Promise<Uint8Array> {
  const bits = new Uint8Array(mib * MIB / 8);
  for (let at = 0; at < bits.length; at += 65_536) crypto.getRandomValues(bits.subarray(at, at + 65_536));
  const text = new Uint8Array(mib * MIB);
  for (let i = 0; i < text.length; i++) text[i] = (bits[i >> 3] >> (i & 7)) & 1 ? 97 : 98;
  const json = `{"writerId":"w1","seq":${seq},"sentAt":${Date.now()},"events":[{"type":5,"timestamp":${
    Date.now() + seq
  },"data":{"tag":"blob","payload":{"text":"${new TextDecoder().decode(text)}"}}}]}`;
  return await gzip(new TextEncoder().encode(json));
}

/** A metric's value from /metrics. */
async function metric(server: ChildServer, name: string): Promise<number> {
  const res = await fetchWhole(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const line = (await res.text()).split("\n").find((l) => l.startsWith(name + " "));
  return Number(line?.split(" ")[1] ?? NaN);
}

/** Opens a GET over a raw socket and reads only the response head: the server then has a client that stalls. */
async function stalledGet(
  server: ChildServer,
  path: string,
  token: string,
): Promise<{ status: number; conn: Deno.Conn }> {
  const { hostname, port } = new URL(server.url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const head = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Authorization: Bearer ${token}`];
  await conn.write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  const buffer = new Uint8Array(512); // the status line is all this test takes
  const n = await conn.read(buffer);
  const status = Number(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
  return { status, conn };
}

Deno.test("security: 64 stalled streams over 15 MiB batches stay within the memory budget, and are cut off", async () => {
  const server = await startChildServer({
    REPLAYA_ADMIN_TOKEN: ADMIN,
    REPLAYA_MAX_CONCURRENT_PER_CLIENT: "1000",
    REPLAYA_MAX_STREAMS_PER_TOKEN: "64", // all 64 admitted: the worst case for memory
    REPLAYA_STREAM_STALL_SECS: "2",
    REPLAYA_SESSION_RATE_PER_SECOND: "100",
  });
  const conns: Deno.Conn[] = [];
  try {
    const session = await startSession(server.url);
    for (let seq = 0; seq < 3; seq++) {
      const res = await post(`${server.url}/api/sessions/${session.sessionId}/events`, await bigBatch(seq, 15), {
        "content-encoding": "gzip",
        authorization: `Bearer ${session.token}`,
      });
      assert.equal(res.status, 200, await res.text());
    }
    const stop = await post(`${server.url}/api/sessions/${session.sessionId}/stop`, {}, {
      authorization: `Bearer ${session.token}`,
    });
    assert.equal(stop.status, 200);
    const { token } = await mintToken(server.url);
    const before = await server.peakRss();

    const id = session.sessionId;
    const paths = [
      ...Array(32).fill(`/api/sessions/${id}/live`), // the shared read of an ended session
      ...Array(16).fill(`/api/sessions/${id}/live?from=2`), // a read of its own each
      ...Array(8).fill(`/api/sessions/${id}/events`),
      ...Array(8).fill(`/api/sessions/${id}/export`),
    ];
    for (const path of paths) {
      const { status, conn } = await stalledGet(server, path, token);
      assert.equal(status, 200, path);
      conns.push(conn);
    }
    // Streams take the large-batch budget in turns, stall on their client, and are cut off after the stall time,
    // which frees the budget for the next ones. The peak is read once all of them are gone: VmHWM keeps it.
    const opened = performance.now();
    let queuedMost = 0;
    let heldMost = 0;
    await waitFor("every stalled stream to be cut off", async () => {
      queuedMost = Math.max(queuedMost, await metric(server, "replaya_stream_queued_bytes"));
      heldMost = Math.max(heldMost, await metric(server, "replaya_stream_large_batch_bytes"));
      return await metric(server, "replaya_streams_open") === 0;
    }, 30_000);
    const peak = await server.peakRss();
    console.log(
      `64 stalled streams: peak RSS +${((peak - before) / MIB).toFixed(0)} MiB (budget ${RSS_BUDGET / MIB} MiB); ` +
        `at most ${(queuedMost / MIB).toFixed(1)} MiB queued and ${(heldMost / MIB).toFixed(1)} MiB of ` +
        `large batches held; all cut off after ${((performance.now() - opened) / 1000).toFixed(0)} s`,
    );
    assert.ok(peak - before <= RSS_BUDGET, `peak RSS rose by ${((peak - before) / MIB).toFixed(0)} MiB`);
    assert.ok(queuedMost > 0, "the streams did queue bytes for their clients");
    assert.equal(await metric(server, "replaya_stream_queued_bytes"), 0, "nothing left queued");
    assert.equal(await metric(server, "replaya_stream_large_batch_bytes"), 0, "the budget is all given back");

    // And the session still reads whole for a client that does read.
    const res = await fetchWhole(`${server.url}/api/sessions/${id}/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.kind === "events").length, 3);
    assert.equal(lines.find((l) => l.kind === "events").events[0].data.payload.text.length, 15 * MIB);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* cut off by the server */ }
    }
    await server.close();
  }
});

Deno.test("security: streams beyond a read token's cap, or the process's, are refused with 429 and Retry-After", async () => {
  const server = await startChildServer({
    REPLAYA_ADMIN_TOKEN: ADMIN,
    REPLAYA_MAX_CONCURRENT_PER_CLIENT: "1000",
    REPLAYA_MAX_STREAMS_PER_TOKEN: "3",
    REPLAYA_MAX_STREAMS: "5",
  });
  const conns: Deno.Conn[] = [];
  try {
    const session = await startSession(server.url);
    const one = await mintToken(server.url, { name: "one" });
    const two = await mintToken(server.url, { name: "two" });
    const live = `/api/sessions/${session.sessionId}/live`;
    const open = async (token: string) => {
      const { status, conn } = await stalledGet(server, live, token);
      conns.push(conn);
      return status;
    };
    assert.deepEqual([await open(one.token), await open(one.token), await open(one.token)], [200, 200, 200]);
    const refused = await fetch(`${server.url}${live}`, { headers: { authorization: `Bearer ${one.token}` } });
    assert.equal(refused.status, 429, "the token's fourth stream");
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.equal((await refused.json()).error.code, "too_many_streams");
    assert.deepEqual([await open(two.token), await open(two.token)], [200, 200], "another token has its own share");
    const full = await fetch(`${server.url}${live}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(full.status, 429, "the process's sixth stream");
    await full.body?.cancel();
    // A stream that ends gives its slot back.
    conns.shift()!.close();
    await waitFor("the slot to come back", async () => await metric(server, "replaya_streams_open") === 4);
    assert.equal(await open(one.token), 200);
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await server.close();
  }
});
