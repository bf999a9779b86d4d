/**
 * Encryption at rest (lib/store/encrypted.ts) on both backends: nothing of a
 * recorded session in plaintext (the SQLite file; s2-lite's records read
 * through the unwrapped store), reads and live tail decrypt, a delete leaves
 * leftover records undecryptable, and a wrong master key fails clearly.
 * Stream names hold no hash of a user id, URL or asset; a sealed value moved
 * to another stream or field does not open; records sealed before that
 * binding still do.
 */

import assert from "node:assert/strict";
import { EncryptionError, isSealed, KEY_PREFIX, withEncryption } from "../../lib/store/encrypted.ts";
import { readAll, type StoredRecord, type StreamStore, withPrefix } from "../../lib/store/mod.ts";
import { Sessions } from "../../lib/sessions/service.ts";
import { streamOf } from "../../lib/sessions/ids.ts";
import { SEALED_HEADERS } from "../../lib/sessions/codec.ts";
import { readUser, userStreamOf } from "../../lib/sessions/users.ts";
import { listSessions } from "../../lib/sessions/list.ts";
import { backfillUserIndex } from "../../lib/sessions/user_backfill.ts";
import { AssetStore, sha256Hex } from "../../lib/assets/store.ts";
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
    // An altered body fails authentication (appended again to its own stream, where it would open unaltered).
    const altered = (await rawRecords(raw, streamOf(id)))[0];
    altered.body[altered.body.length - 1] ^= 1;
    const { start } = await raw.append(streamOf(id), [
      { body: altered.body, headers: altered.headers, timestamp: altered.timestamp },
    ]);
    await assert.rejects(
      () => encrypted.read(streamOf(id), { from: { seqNum: start.seqNum } }),
      /fails authentication/,
    );
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

const USER = "Ada.Lovelace@Example.com";
const ASSET_URL = "https://shop.test/logo.png";

storeTest(
  "encrypted: names hold no hash of a user id, URL or asset's bytes; the app still finds them",
  async ({ store, prefix, backend }) => {
    const raw = withPrefix(store, prefix);
    const encrypted = await encrypt(raw);
    const sessions = new Sessions({ store: encrypted });
    const meta = await sessions.create({ url: "https://shop.test/", userId: USER });
    await sessions.stop(meta.id);
    const assets = new AssetStore(encrypted);
    const bytes = new TextEncoder().encode(`logo ${SECRET}`);
    const asset = await assets.put(bytes, "image/png");
    await assets.indexUrl(ASSET_URL, asset);
    await assets.addToSession(meta.id, [{ u: ASSET_URL, h: asset.hash, t: asset.type }]);

    // Underneath: what anyone could compute from a known e-mail address, URL or file is nowhere.
    const hashes = [(await userStreamOf(USER)).slice("users/".length), await sha256Hex(ASSET_URL), asset.hash];
    const names = (await raw.listStreams()).names;
    for (const hash of hashes) assert.ok(!names.some((n) => n.includes(hash)), `${hash} is in a stream name`);
    if (backend === "sqlite") {
      for (const hash of hashes) assert.ok(!(await fileHolds(store, hash)), `${hash} is in the SQLite file`);
    }
    const keyed = [/^users\/~[0-9a-f]{32}$/, /^assets\/~[0-9a-f]{64}$/, /^assets\/by-url\/~[0-9a-f]{64}$/];
    for (const shape of keyed) assert.equal(names.filter((n) => shape.test(n)).length, 1, `one ${shape}`);

    // Through the wrapper: the user filter, the asset and the URL index.
    const page = await listSessions(sessions, { filter: { userId: USER.toLowerCase() } });
    assert.deepEqual(page.rows.map((r) => r.id), [meta.id]);
    const opened = await assets.open(asset.hash);
    assert.deepEqual(new Uint8Array(await new Response(opened!.body).arrayBuffer()), bytes);
    assert.equal((await assets.lookupUrl(ASSET_URL))?.hash, asset.hash);
    assert.deepEqual((await assets.sessionAssets(meta.id)).assets, {
      [ASSET_URL]: { hash: asset.hash, type: "image/png" },
    });

    // A listed name is the stored one; passed back, it reaches the same stream (it is not keyed again).
    const [listed] = (await encrypted.listStreams({ prefix: "users/" })).names;
    assert.match(listed, keyed[0]);
    const bodies = async (name: string) =>
      (await rawRecords(encrypted, name)).map((r) => new TextDecoder().decode(r.body));
    assert.deepEqual(await bodies(listed), await bodies(await userStreamOf(USER)));
    assert.equal((await bodies(listed)).length, 2, "the start and end summaries, decrypted");

    // Deleting the session still deletes its streams and their keys, and the user filter no longer lists it.
    await sessions.delete(meta.id);
    await assets.deleteSession(meta.id);
    for (const gone of [streamOf(meta.id), `assets/by-session/${meta.id}`]) {
      assert.deepEqual((await raw.listStreams({ prefix: `${KEY_PREFIX}${gone}` })).names, [], `key of ${gone}`);
      assert.deepEqual((await raw.listStreams({ prefix: gone })).names, [], gone);
    }
    assert.deepEqual((await listSessions(sessions, { filter: { userId: USER } })).rows, []);
  },
);

storeTest(
  "encrypted: a user's sessions from before keyed names are indexed again by the backfill",
  async ({ store, prefix }) => {
    const raw = withPrefix(store, prefix);
    // Before: recorded under the plain-hash name, and the backfill of that index is done.
    const before = new Sessions({ store: raw });
    const old = await before.create({ url: "https://shop.test/", userId: USER });
    await before.stop(old.id);
    assert.equal((await backfillUserIndex({ store: raw, pauseMs: 0 })).state, "done");
    const plain = await userStreamOf(USER);
    assert.equal((await readUser(raw, USER)).rows.length, 1);

    const encrypted = await encrypt(raw);
    assert.deepEqual((await readUser(encrypted, USER)).rows, [], "the keyed index starts empty");
    const run = await backfillUserIndex({ store: encrypted, pauseMs: 0 });
    assert.equal(run.state, "done");
    assert.equal(run.written, 2, "the old session's start and end");
    assert.deepEqual((await readUser(encrypted, USER)).rows.map((r) => r.id), [old.id]);
    assert.equal((await backfillUserIndex({ store: encrypted, pauseMs: 0 })).written, 0, "once");

    // The plain-named stream was never written again; deleting the user's stream takes it along.
    assert.equal((await rawRecords(raw, plain)).length, 2);
    await encrypted.deleteStream(plain);
    const left = (await raw.listStreams({ prefix: "users/" })).names;
    assert.deepEqual(left, [], "the keyed and the plain stream are gone");
    assert.deepEqual((await raw.listStreams({ prefix: `${KEY_PREFIX}users/` })).names, []);
  },
);

storeTest(
  "encrypted: a sealed value moved to another header, into a body or to another stream does not open",
  async ({ store, prefix }) => {
    const raw = withPrefix(store, prefix);
    const encrypted = await encrypt(raw);
    const utf8 = new TextEncoder();
    await encrypted.append("a", [{
      body: utf8.encode(SECRET),
      headers: [["k", "events"], ["u", "ada"], ["g", "/cart"]],
      timestamp: Date.now(),
    }]);
    const [sealed] = await rawRecords(raw, "a");
    const u = new Map(sealed.headers).get("u")!;
    assert.ok(u.startsWith("~"));
    const at = (stream: string, seqNum: number) => encrypted.read(stream, { from: { seqNum }, count: 1 });
    const fails = (stream: string, seqNum: number) =>
      assert.rejects(
        () => at(stream, seqNum),
        (e) => e instanceof EncryptionError && /fails authentication/.test(e.message),
      );

    // Within the stream: the user id as the pages header, then as a body.
    await raw.append("a", [
      { body: new Uint8Array(), headers: [["k", "events"], ["g", u]], timestamp: Date.now() },
      { body: Uint8Array.from(atob(u.slice(1)), (c) => c.charCodeAt(0)), timestamp: Date.now() },
    ]);
    await fails("a", 1);
    await fails("a", 2);
    assert.equal(new Map((await at("a", 0)).records[0].headers).get("u"), "ada", "the record itself still opens");

    // Another stream, under the same data key (its key record copied too): neither the body nor a header opens.
    const keyRecords = await rawRecords(raw, `${KEY_PREFIX}a`);
    await raw.append(`${KEY_PREFIX}b`, keyRecords.map(({ body, timestamp }) => ({ body, timestamp })));
    await raw.append("b", [
      { body: sealed.body, timestamp: sealed.timestamp },
      { body: new Uint8Array(), headers: [["u", u]], timestamp: sealed.timestamp },
    ]);
    await fails("b", 0);
    await fails("b", 1);
  },
);

/** A body or header value sealed as before streams and fields were bound: `"\0RE1"`, the head alone as AAD. */
async function sealV1(raw: StreamStore, masterKey: Uint8Array, stream: string, plain: Uint8Array): Promise<Uint8Array> {
  const [keyRecord] = await rawRecords(raw, `${KEY_PREFIX}${stream}`);
  const { kid, wrapped } = JSON.parse(new TextDecoder().decode(keyRecord.body));
  const master = await crypto.subtle.importKey("raw", masterKey as BufferSource, "AES-KW", false, ["unwrapKey"]);
  const wrappedBytes = Uint8Array.from(atob(wrapped), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.unwrapKey("raw", wrappedBytes, master, "AES-KW", "AES-GCM", false, ["encrypt"]);
  const head = new Uint8Array([0, 0x52, 0x45, 0x31, ...kid.match(/../g).map((h: string) => parseInt(h, 16))]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: head }, key, plain as BufferSource);
  return new Uint8Array([...head, ...iv, ...new Uint8Array(sealed)]);
}

storeTest("encrypted: records sealed before streams and fields were bound still open", async ({ store, prefix }) => {
  const raw = withPrefix(store, prefix);
  const key = masterKey();
  const encrypted = await encrypt(raw, key);
  const utf8 = new TextEncoder();
  await encrypted.append("old", [{ body: utf8.encode("new"), headers: [["u", "bob"]], timestamp: Date.now() }]);
  const body = await sealV1(raw, key, "old", utf8.encode(SECRET));
  const user = await sealV1(raw, key, "old", utf8.encode("ada"));
  assert.ok(isSealed(body));
  await raw.append("old", [{
    body,
    headers: [["u", `~${btoa(String.fromCharCode(...user))}`]],
    timestamp: Date.now(),
  }]);
  const records = (await encrypted.read("old")).records;
  assert.deepEqual(records.map((r) => new TextDecoder().decode(r.body)), ["new", SECRET]);
  assert.deepEqual(records.map((r) => new Map(r.headers).get("u")), ["bob", "ada"]);
  // What is written now is bound (the new magic); the old record stays as it was.
  assert.deepEqual((await rawRecords(raw, "old")).map((r) => r.body[3]), [0x32, 0x31]);
});
