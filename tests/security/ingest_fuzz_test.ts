/**
 * A fuzz pass over the ingest body, on both backends: random and mutated
 * rrweb batches, deep nesting, huge strings, invalid UTF-8, wrong types,
 * broken gzip. Every answer is a JSON success or a JSON error with a 4xx
 * status (never a 500, never a hang), and every accepted batch reads back
 * exactly as it was sent. Seeded: a failure names the seed and the case.
 */

import assert from "node:assert/strict";
import { gzip } from "../../lib/bytes.ts";
import { fetchWhole, startSession } from "../support/client.ts";
import { serverTest } from "../support/server.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261208);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 300);

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALLOWED_ERRORS = new Set([400, 401, 413, 415, 422]);

serverTest(
  "security: fuzzed ingest bodies get JSON answers, never a 500, and what is accepted reads back",
  async ({ url }) => {
    const rnd = prng(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(items: T[]): T => items[int(items.length)];
    const text = (max: number) => {
      const alphabets = ["abc xyz", "0123456789 +-()", "é漢字😀\u0000\u001f\u2028\u202e", "<script>\"'`&;", "@.%_"];
      const alphabet = [...pick(alphabets)];
      return Array.from({ length: int(max) }, () => pick(alphabet)).join("");
    };
    const value = (depth: number): unknown => {
      switch (depth > 3 ? int(4) : int(7)) {
        case 0:
          return text(40);
        case 1:
          return rnd() < 0.5 ? int(1e6) : rnd() * 1e12 - 5e11;
        case 2:
          return pick([true, false, null]);
        case 3:
          return rnd() < 0.01 ? "x".repeat(256 * 1024 + int(1024 * 1024)) : text(200);
        case 4:
          return Array.from({ length: int(5) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: int(5) }, () => [text(8) || "k", value(depth + 1)]));
      }
    };
    // Deep nesting is spliced in as text (JSON.stringify itself recurses): a placeholder string marks the spot.
    const deep = new Map<string, string>();
    const nested = () => {
      const levels = int(20_000);
      const mark = `@deep${deep.size}@`;
      deep.set(mark, "[".repeat(levels) + '"leaf"' + "]".repeat(levels));
      return mark;
    };
    const serialize = (batch: unknown) => {
      let json = JSON.stringify(batch);
      for (const [mark, nesting] of deep) json = json.replace(JSON.stringify(mark), nesting);
      return json;
    };
    const event = () => ({
      type: int(7),
      timestamp: Date.now() - int(60_000),
      data: rnd() < 0.02 ? nested() : value(0),
    });
    const badEvent = () =>
      pick([
        { type: pick([-1, 7, 2.5, "2", null]), timestamp: Date.now() },
        { type: 3, timestamp: pick([0, -5, "now", null, 1e300]) },
        pick([null, 5, "event", []]),
      ]);

    const session = await startSession(url);
    const accepted = new Map<string, string>();
    const statuses = new Map<number, number>();
    let seq = 0;
    for (let i = 0; i < CASES; i++) {
      const kinds = ["valid", "valid", "valid", "valid", "bad-event", "wrong-types", "mutated", "invalid-utf8"];
      const kind = pick([...kinds, "broken-gzip", "type"]);
      const wrong = kind === "wrong-types";
      deep.clear();
      const batch = {
        writerId: wrong && rnd() < 0.5 ? pick([1, "", "a b", "x".repeat(65), null]) : "w1",
        seq: wrong && rnd() < 0.5 ? pick([-1, 1.5, "3", null]) : seq++,
        sentAt: Date.now(),
        events: wrong && rnd() < 0.3 ? pick([{}, "events", null, 5]) : Array.from({ length: 1 + int(20) }, event),
      };
      if (kind === "bad-event" && Array.isArray(batch.events)) batch.events[int(batch.events.length)] = badEvent();
      const sent = serialize(batch);
      let bytes = new TextEncoder().encode(sent);
      let type = "application/json";
      if (kind === "mutated") {
        bytes = bytes.slice(0, Math.max(1, int(bytes.length)));
        for (let j = 0; j < 3; j++) bytes[int(bytes.length)] = int(256);
      }
      if (kind === "invalid-utf8") {
        bytes = new Uint8Array([...bytes.slice(0, 30), 0xc3, 0x28, 0xff, ...bytes.slice(30)]);
      }
      if (kind === "type") type = pick(["text/plain", "text/html", "application/x-www-form-urlencoded", ""]);
      const gz = kind === "broken-gzip" || rnd() < 0.5;
      let body: Uint8Array = gz ? await gzip(bytes) : bytes;
      if (kind === "broken-gzip") body = body.slice(0, Math.max(10, int(body.length)));
      const headers: Record<string, string> = { authorization: `Bearer ${session.token}` };
      if (type) headers["content-type"] = type;
      if (gz) headers["content-encoding"] = "gzip";
      const res = await fetchWhole(`${url}/api/sessions/${session.sessionId}/events`, {
        method: "POST",
        headers,
        body: body as BodyInit,
        signal: AbortSignal.timeout(30_000), // a hang fails the test, with this case named
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const answer = await res.text();
      const where = `seed ${SEED}, case ${i} (${kind}): ${res.status} ${answer.slice(0, 200)}`;
      let json: { ok?: boolean; error?: { code?: string } };
      try {
        json = JSON.parse(answer);
      } catch {
        throw new Error(`not JSON: ${where}`);
      }
      if (res.status === 200) {
        assert.equal(json.ok, true, where);
        if (Array.isArray(batch.events) && batch.events.length > 0 && typeof batch.writerId === "string") {
          // What must come back: the events' JSON as sent, as text.
          accepted.set(`${batch.writerId}:${batch.seq}`, sent.slice(sent.indexOf(',"events":') + 10, -1));
        }
      } else {
        assert.ok(ALLOWED_ERRORS.has(res.status), where);
        assert.equal(typeof json.error?.code, "string", where);
      }
    }
    console.log(`fuzz (seed ${SEED}, ${CASES} cases): ${JSON.stringify(Object.fromEntries(statuses))}`);

    // Every accepted batch, and only those, reads back exactly (redaction is off for this project): the NDJSON
    // lines carry each batch's JSON as stored, compared as text.
    const res = await fetchWhole(`${url}/api/sessions/${session.sessionId}/events`);
    const stored = new Map<string, string>();
    for (const line of (await res.text()).split("\n")) {
      const head = line.match(/^\{"kind":"events","seqNum":\d+,"writerId":("[^"]*"),"batch":(\d+),"events":/);
      if (head) stored.set(`${JSON.parse(head[1])}:${head[2]}`, line.slice(head[0].length, -1));
    }
    assert.deepEqual([...stored.keys()].sort(), [...accepted.keys()].sort());
    for (const [key, events] of accepted) assert.equal(stored.get(key), events, `batch ${key} (seed ${SEED})`);
    assert.ok(accepted.size > CASES / 4, `${accepted.size} of ${CASES} accepted`);
  },
  {
    env: {
      REPLAYA_REDACTION_OFF_PROJECTS: "test",
      REPLAYA_SESSION_RATE_PER_SECOND: "100000",
      REPLAYA_CLIENT_RATE_PER_MINUTE: "1000000",
      REPLAYA_PROJECT_INFLATED_MB_PER_SEC: "0",
    },
  },
);
