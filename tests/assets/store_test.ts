/**
 * The asset store and cache on both backends: content-addressed copies in
 * ≤ 1 MiB parts (the newest complete copy wins, a copy cut short is
 * skipped), the URL index, session maps, and the cache's queue (one fetch
 * per URL, the index shared by every process, the stored copy kept when
 * the site is gone).
 */

import { bodySnapshot, serveSite } from "../support/assets.ts";
import assert from "node:assert/strict";
import { AssetCache } from "../../lib/assets/cache.ts";
import { AssetStore, contentStream, PART_BYTES, sha256Hex } from "../../lib/assets/store.ts";
import { readAll, withPrefix } from "../../lib/store/mod.ts";
import { storeTest } from "../support/backends.ts";
import { concatBytes } from "../../lib/bytes.ts";

async function bytesOf(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Bytes that differ everywhere (so a misplaced part shows). */
function pattern(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) out[i] = x = (x * 1103515245 + 12345) & 0xff;
  return out;
}

storeTest("asset store: a small and a multi-part asset round-trip by hash", async ({ store: raw, prefix }) => {
  const store = withPrefix(raw, prefix);
  const assets = new AssetStore(store, { contentConfig: { retentionAgeSecs: 30 * 86_400 } });
  const small = pattern(1000);
  const stored = await assets.put(small, "image/png");
  assert.deepEqual(stored, { hash: await sha256Hex(small), type: "image/png", size: 1000 });
  const opened = await assets.open(stored.hash);
  assert.equal(opened?.type, "image/png");
  assert.equal(opened?.size, 1000);
  assert.deepEqual(await bytesOf(opened!.body), small);

  const big = pattern(PART_BYTES * 2 + 12_345, 7);
  const bigAsset = await assets.put(big, "font/woff2");
  const records = await Array.fromAsync(readAll(store, contentStream(bigAsset.hash)));
  assert.equal(records.length, 3, "three parts of at most ~1 MiB");
  assert.ok(records.every((r) => r.body.length <= PART_BYTES));
  assert.deepEqual(await bytesOf((await assets.open(bigAsset.hash))!.body), big);
  assert.equal((await store.getStreamConfig(contentStream(bigAsset.hash))).retentionAgeSecs, 30 * 86_400);

  // Stored again while fresh: nothing written. Stale: a new copy, which reads the same.
  await assets.put(big, "font/woff2");
  assert.equal((await store.checkTail(contentStream(bigAsset.hash))).seqNum, 3);
  await assets.put(big, "font/woff2", 0);
  assert.equal((await store.checkTail(contentStream(bigAsset.hash))).seqNum, 6);
  assert.deepEqual(await bytesOf((await assets.open(bigAsset.hash))!.body), big);

  assert.equal(await assets.open("0".repeat(64)), undefined);
  assert.equal(await assets.open("../sessions/x"), undefined);
});

storeTest("asset store: a copy cut short is skipped for the one before it", async ({ store: raw, prefix }) => {
  const store = withPrefix(raw, prefix);
  const assets = new AssetStore(store);
  const bytes = pattern(PART_BYTES + 10, 3);
  const { hash } = await assets.put(bytes, "image/jpeg");
  // A writer that stopped after its first part of two.
  await store.append(contentStream(hash), [{
    body: bytes.subarray(0, PART_BYTES),
    headers: [["i", "0"], ["n", "2"], ["z", String(bytes.length)], ["t", "image/jpeg"]],
    timestamp: Date.now(),
  }]);
  const opened = await assets.open(hash);
  assert.equal(opened?.size, bytes.length);
  assert.deepEqual(await bytesOf(opened!.body), bytes);
});

storeTest("asset store: racing writers of the same bytes leave a complete copy", async ({ store: raw, prefix }) => {
  const store = withPrefix(raw, prefix);
  const assets = new AssetStore(store);
  const bytes = pattern(PART_BYTES * 2 + 1, 9);
  const results = await Promise.all([1, 2, 3].map(() => assets.put(bytes, "image/png")));
  assert.equal(new Set(results.map((r) => r.hash)).size, 1);
  assert.deepEqual(await bytesOf((await assets.open(results[0].hash))!.body), bytes);
});

storeTest(
  "asset store: URL index and session maps (a cached entry wins over a failure)",
  async ({ store: raw, prefix }) => {
    const store = withPrefix(raw, prefix);
    const assets = new AssetStore(store);
    const url = "https://shop.example/logo.png";
    assert.equal(await assets.lookupUrl(url), undefined);
    const asset = await assets.put(pattern(10), "image/png");
    const before = Date.now();
    await assets.indexUrl(url, asset);
    const entry = await assets.lookupUrl(url);
    assert.equal(entry?.hash, asset.hash);
    assert.equal(entry?.type, "image/png");
    assert.ok(entry!.at >= before - 1);

    const id = "9999999999999abcdefabcdef";
    assert.deepEqual(await assets.sessionAssets(id), { assets: {}, failed: {} });
    await assets.addToSession(id, [{ u: "https://shop.example/a.png", e: "http_error" }, { u: url, e: "timeout" }]);
    await assets.addToSession(id, [{ u: url, h: asset.hash, t: "image/png" }]);
    await assets.addToSession(id, [{ u: url, e: "network" }]);
    const many = Array.from({ length: 250 }, (_, i) => ({ u: `https://shop.example/${i}.png`, e: "http_error" }));
    await assets.addToSession(id, many);
    const map = await assets.sessionAssets(id);
    assert.deepEqual(map.assets, { [url]: { hash: asset.hash, type: "image/png" } });
    assert.equal(map.failed["https://shop.example/a.png"], "http_error");
    assert.equal(Object.keys(map.failed).length, 251);
    await assets.deleteSession(id);
    assert.deepEqual(await assets.sessionAssets(id), { assets: {}, failed: {} });
  },
);

storeTest("asset cache: fetched once per URL, shared through the index, kept when the site is gone", async ({
  store: raw,
  prefix,
}) => {
  const store = withPrefix(raw, prefix);
  const png = concatBytes([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pattern(200)]);
  const site = serveSite({
    "/logo.png": { body: png, type: "image/png" },
    "/font.woff2": { body: "wOF2 font", type: "font/woff2" },
    "/page.html": { body: "<p>", type: "text/html" },
  });
  const { requests, url: base } = site;
  const snapshot = bodySnapshot([
    { type: 2, id: 3, tagName: "img", attributes: { src: `${base}/logo.png` }, childNodes: [] },
    { type: 2, id: 4, tagName: "img", attributes: { src: `${base}/page.html` }, childNodes: [] },
    {
      type: 2,
      id: 5,
      tagName: "style",
      attributes: {},
      childNodes: [{ type: 3, id: 6, textContent: `@font-face{src:url(${base}/font.woff2)}` }],
    },
  ], { bodyAttributes: { style: `background:url(${base}/missing.png)` } });
  const fetchOptions = { maxBytes: 1 << 20, types: ["image/*", "font/*"], allowPrivate: true };
  const first = new AssetCache({ store, fetch: fetchOptions });
  const second = new AssetCache({ store, fetch: fetchOptions });
  const stale = new AssetCache({ store, fetch: fetchOptions, refreshMs: 0 });
  try {
    const [a, b, c, d] = [
      "9999999999999aaaaaaaaaaaa",
      "9999999999999bbbbbbbbbbbb",
      "9999999999999cccccccccccc",
      "9999999999999dddddddddddd",
    ];
    first.observe(a, [snapshot]);
    first.observe(a, [snapshot]); // the same batch again: nothing more
    first.observe(b, [snapshot]); // another session while the first fetches run: joins them
    await first.idle();
    assert.deepEqual(requests.sort(), ["/font.woff2", "/logo.png", "/missing.png", "/page.html"], "each URL once");
    assert.deepEqual(first.stats, { fetched: 2, failed: 2, indexed: 0, dropped: 0 });
    for (const id of [a, b]) {
      const map = await first.sessionAssets(id);
      assert.deepEqual(Object.keys(map.assets).sort(), [`${base}/font.woff2`, `${base}/logo.png`]);
      assert.equal(map.assets[`${base}/logo.png`].hash, await sha256Hex(png));
      assert.equal(map.assets[`${base}/font.woff2`].type, "font/woff2");
      assert.deepEqual(map.failed, {
        [`${base}/missing.png`]: "http_error",
        [`${base}/page.html`]: "type_not_allowed",
      });
    }
    const logo = await first.assets.open(await sha256Hex(png));
    assert.deepEqual(await bytesOf(logo!.body), png);

    // Another process: the index answers for the cached URLs without a fetch; the failures are tried again.
    requests.length = 0;
    second.observe(c, [snapshot]);
    await second.idle();
    assert.deepEqual(requests.sort(), ["/missing.png", "/page.html"]);
    assert.equal(second.stats.indexed, 2);

    // The site is gone and the entries are stale: the fetch fails, the stored copies still serve.
    await site.close();
    stale.observe(d, [snapshot]);
    await stale.idle();
    assert.equal(stale.stats.failed, 4);
    const map = await stale.sessionAssets(d);
    assert.deepEqual(Object.keys(map.assets).sort(), [`${base}/font.woff2`, `${base}/logo.png`]);
    assert.deepEqual(Object.values(map.failed), ["network", "network"]);
  } finally {
    await Promise.all([first.close(), second.close(), stale.close()]);
    await site.close();
  }
});

storeTest("asset cache: the queue is capped, and close stops what is queued", async ({ store: raw, prefix }) => {
  const store = withPrefix(raw, prefix);
  const { promise: never, resolve: release } = Promise.withResolvers<void>();
  const { promise: twoRunning, resolve: running } = Promise.withResolvers<void>();
  let requests = 0;
  const site = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    if (++requests === 2) running();
    await never;
    return new Response("x");
  });
  const base = `http://127.0.0.1:${site.addr.port}`;
  const cache = new AssetCache({
    store,
    fetch: { maxBytes: 1024, types: ["image/*"], allowPrivate: true },
    concurrency: 2,
    maxQueued: 3,
  });
  try {
    const adds = Array.from({ length: 10 }, (_, i) => ({
      node: { type: 2, id: i, tagName: "img", attributes: { src: `${base}/${i}.png` }, childNodes: [] },
    }));
    cache.observe("9999999999999eeeeeeeeeeee", [{ type: 3, timestamp: Date.now(), data: { source: 0, adds } }]);
    // Two run (stalled), three wait, five are dropped; close aborts the two and forgets the three.
    await twoRunning;
    assert.equal(cache.stats.dropped, 5);
    await cache.close();
    await cache.idle();
    assert.equal(cache.stats.failed, 2);
  } finally {
    release();
    await site.shutdown();
  }
});
