/**
 * Encryption at rest (lib/store/encrypted.ts) on both backends: nothing of a
 * recorded session in plaintext (the SQLite file; s2-lite's records read
 * through the unwrapped store), reads and live tail decrypt, a delete leaves
 * leftover records undecryptable, and a wrong master key fails clearly.
 */

import assert from "node:assert/strict";
import { EncryptionError, isSealed, KEY_PREFIX, withEncryption } from "../../lib/store/encrypted.ts";
import { readAll, type StoredRecord, type StreamStore, withPrefix } from "../../lib/store/mod.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { SEALED_HEADERS } from "../../lib/sessions/codec.ts";
import { storeTest } from "../support/backends.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";

const SECRET = "Pl41nT3xt-Secret-Marker";
const masterKey = () => crypto.getRandomValues(new Uint8Array(32));
/** As server.ts wires it: the user id and the pages visited are sealed like bodies. */
const encrypt = (store: StreamStore, key = masterKey()) =>
  withEncryption(store, { masterKey: key, sealHeaders: SEALED_HEADERS });

function events(at: number): RrwebEvent[] {
  return [
    { type: 4, timestamp: at, data: { href: `https://shop.test/${SECRET}`, width: 800, height: 600 } },
    { type: 5, timestamp: at + 1, data: { tag: "replaya.console", payload: { level: "log", args: [SECRET] } } },
  ];
}

/** Whether the SQLite file (and its write-ahead log) holds `needle` anywhere. */
async function fileHolds(store: StreamStore, needle: string): Promise<boolean> {
  const bytes = [store.info.location, `${store.info.location}-wal`].map((path) => {
    try {
      return Deno.readFileSync(path);
    } catch {
      return new Uint8Array();
    }
  });
  const text = bytes.map((b) => new TextDecoder("latin1").decode(b)).join("");
  await Promise.resolve();
  return text.includes(needle);
}

async function rawRecords(store: StreamStore, stream: string): Promise<StoredRecord[]> {
  return await Array.fromAsync(readAll(store, stream));
}

async function record(sessions: Sessions): Promise<string> {
  const meta = await sessions.create({ url: `https://shop.test/${SECRET}`, project: "shop", userId: `u-${SECRET}` });
  await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: events(meta.createdAt) });
  await sessions.heartbeat(meta.id);
  await sessions.stop(meta.id);
  return meta.id;
}

storeTest("encrypted: no plaintext at rest; reads decrypt", async ({ store, prefix, backend }) => {
  const raw = withPrefix(store, prefix);
  const sessions = new Sessions({ store: await encrypt(raw) });
  const id = await record(sessions);
  // Through the unwrapped store: every non-empty body is sealed, none holds the secret, in any stream.
  const names = (await raw.listStreams()).names;
  assert.ok(names.some((n) => n.startsWith(KEY_PREFIX)), "key streams are there, underneath");
  for (const name of names.filter((n) => !n.startsWith(KEY_PREFIX))) {
    for (const r of await rawRecords(raw, name)) {
      assert.ok(r.body.length === 0 || isSealed(r.body), `${name} #${r.seqNum} is not sealed`);
      assert.ok(!new TextDecoder().decode(r.body).includes(SECRET));
    }
  }
  if (backend === "sqlite") assert.ok(!(await fileHolds(store, SECRET)), "the secret is in the SQLite file");
  // Through the wrapper: the session reads back whole.
  const items = await Array.fromAsync(sessions.read(id));
  assert.deepEqual(items.map((i) => i.kind), ["meta", "events", "heartbeat", "stop"]);
  assert.ok(JSON.stringify(items).includes(SECRET));
  assert.equal((await sessions.details(id))?.meta.url, `https://shop.test/${SECRET}`);
  // The list's headers stay readable without the key.
  const eventsRecord = (await rawRecords(raw, streamOf(id))).find((r) => new Map(r.headers).get("k") === "events")!;
  assert.match(new Map(eventsRecord.headers).get("s") ?? "", /^2,0,1,0,/);
});

storeTest(
  "encrypted: control — without the wrapper the secret is stored in plaintext",
  async ({ store, prefix, backend }) => {
    const raw = withPrefix(store, prefix);
    await record(new Sessions({ store: raw }));
    const meta = (await raw.listStreams({ prefix: "sessions/" })).names[0];
    assert.ok(new TextDecoder().decode((await rawRecords(raw, meta))[0].body).includes(SECRET));
    if (backend === "sqlite") assert.ok(await fileHolds(store, SECRET));
  },
);

storeTest("encrypted: live tail decrypts as records arrive", async ({ store, prefix }) => {
  const sessions = new Sessions({ store: await encrypt(withPrefix(store, prefix)) });
  const meta = await sessions.create({ url: "https://shop.test/" });
  const abort = new AbortController();
  const seen: string[] = [];
  const { promise: caughtUp, resolve } = Promise.withResolvers<void>();
  const tail = (async () => {
    for await (
      const item of sessions.read(meta.id, {
        follow: true,
        signal: abort.signal,
        onCaughtUp: () => resolve(),
      })
    ) {
      seen.push(item.kind === "events" ? JSON.stringify(item.events) : item.kind);
      if (item.kind === "events") abort.abort();
    }
  })();
  await caughtUp;
  await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: events(meta.createdAt) });
  await tail;
  assert.equal(seen[0], "meta");
  assert.ok(seen[1].includes(SECRET));
  await sessions.stop(meta.id);
});

/** `store`, noting each read of a key stream (the real store underneath). */
function notingKeyReads(store: StreamStore, reads: string[]): StreamStore {
  return new Proxy(store, {
    get(target, name) {
      if (name === "read") {
        return (stream: string, options?: Parameters<StreamStore["read"]>[1]) => {
          if (stream.startsWith(KEY_PREFIX)) reads.push(stream);
          return target.read(stream, options);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

storeTest("encrypted: a deleted session's leftover records cannot be decrypted", async ({ store, prefix }) => {
  const raw = withPrefix(store, prefix);
  const keyReads: string[] = [];
  const encrypted = await encrypt(notingKeyReads(raw, keyReads));
  const sessions = new Sessions({ store: encrypted });
  const id = await record(sessions);
  const leftovers = await rawRecords(raw, streamOf(id)); // what a backend may still hold after a delete
  await sessions.delete(id);
  assert.deepEqual((await raw.listStreams({ prefix: `${KEY_PREFIX}${streamOf(id)}` })).names, [], "key destroyed");
  // Put the raw records back, as if the deletion had left them: through the wrapper they do not open.
  await raw.createStream(streamOf(id));
  await raw.append(streamOf(id), leftovers.map(({ body, headers, timestamp }) => ({ body, headers, timestamp })));
  keyReads.length = 0;
  await assert.rejects(() => Array.fromAsync(sessions.read(id)), EncryptionError);
  // The sealed records opened together looked for the missing key once more, together: nothing is
  // left in flight after the rejection (each had looked again on its own, and those reads outlived the test).
  assert.deepEqual(keyReads, [`${KEY_PREFIX}${streamOf(id)}`, `${KEY_PREFIX}${streamOf(id)}`]);
  await assert.rejects(() => encrypted.read(streamOf(id)), /no longer exists/);
});

storeTest(
  "encrypted: a wrong master key fails at start, and on read of a stream it sealed",
  async ({ store, prefix }) => {
    const raw = withPrefix(store, prefix);
    const right = masterKey();
    const encrypted = await encrypt(raw, right);
    const id = await record(new Sessions({ store: encrypted }));
    await assert.rejects(
      () => encrypt(raw),
      /REPLAYA_ENCRYPTION_KEY is not the master key/,
    );
    // Without the check record (say, deleted by hand), the first read says so instead of returning garbage.
    await raw.deleteStream(`${KEY_PREFIX}.check`);
    const wrong = await encrypt(raw);
    await assert.rejects(
      () => wrong.read(streamOf(id)),
      (e) => e instanceof EncryptionError && /does not unwrap/.test(e.message),
    );
    // An altered body fails authentication.
    const altered = (await rawRecords(raw, streamOf(id)))[0];
    altered.body[altered.body.length - 1] ^= 1;
    const other = `${streamOf(id)}-copy`;
    await raw.append(
      `${KEY_PREFIX}${other}`,
      (await rawRecords(raw, `${KEY_PREFIX}${streamOf(id)}`)).map(({ body, timestamp }) => ({ body, timestamp })),
    );
    await raw.createStream(other);
    await raw.append(other, [{ body: altered.body, headers: altered.headers, timestamp: altered.timestamp }]);
    await assert.rejects(() => encrypted.read(other), /fails authentication/);
  },
);

storeTest(
  "encrypted: a full-size framed batch with the longest user id and page URLs still fits a record",
  async ({ store, prefix }) => {
    const sessions = new Sessions({ store: await encrypt(withPrefix(store, prefix)) });
    const meta = await sessions.create({ url: "https://shop.test/" });
    const t = meta.createdAt;
    // Incompressible: the gzip'd batch spans two records, the first one full.
    const noise = Array.from({ length: 3 }, () => {
      const bytes = new Uint8Array(400_000);
      for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
      return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    });
    const long = (i: number) => `https://shop.test/${String(i).repeat(300)}`;
    const batch: RrwebEvent[] = [
      { type: 4, timestamp: t, data: { href: long(1), width: 1, height: 1 } },
      { type: 4, timestamp: t + 1, data: { href: long(2), width: 1, height: 1 } },
      { type: 5, timestamp: t + 2, data: { tag: "replaya.identify", payload: { userId: "é".repeat(250) } } },
      ...noise.map((n, i) => ({ type: 5, timestamp: t + 3 + i, data: { tag: "replaya.track", payload: { name: n } } })),
    ];
    await sessions.appendEvents(meta.id, { writerId: "w", batch: 0, events: batch });
    const raw = await rawRecords(withPrefix(store, prefix), streamOf(meta.id));
    const first = raw.find((r) => new Map(r.headers).get("f")?.startsWith("0/"));
    assert.ok(first && new Map(first.headers).get("u")?.startsWith("~"), "a framed first record with a sealed user id");
    const items = await Array.fromAsync(sessions.read(meta.id));
    const events = items.find((i) => i.kind === "events");
    assert.equal(events?.kind === "events" && events.events.length, batch.length);
    await sessions.stop(meta.id);
  },
);

storeTest(
  "encrypted: two processes share one stream's key: each reads the other's records, one key record",
  async ({ store, prefix }) => {
    const raw = withPrefix(store, prefix);
    const key = masterKey();
    const a = await encrypt(raw, key);
    const b = await encrypt(raw, key);
    await a.createStream("shared");
    assert.deepEqual((await b.read("shared")).records, [], "b reads first, before any key exists");
    await a.append("shared", [{ body: new TextEncoder().encode(SECRET), timestamp: Date.now() }]);
    const [record] = (await b.read("shared")).records;
    assert.equal(new TextDecoder().decode(record.body), SECRET);
    // And b writes under the same key a made (its first append finds it, never makes a second).
    await b.append("shared", [{ body: new TextEncoder().encode("from b"), timestamp: Date.now() }]);
    assert.equal((await rawRecords(raw, `${KEY_PREFIX}shared`)).length, 1, "one key record");
    assert.deepEqual((await a.read("shared")).records.map((r) => new TextDecoder().decode(r.body)), [SECRET, "from b"]);
  },
);
