/**
 * The asset cache through the real server, on both backends: ingest feeds it
 * without waiting, the session's map and the assets are served behind the
 * login with immutable, typed, nosniff, locked-down responses, same-origin
 * image and font requests reach `/api/assets/<hash>` (and no other API), and
 * with the cache off nothing is fetched.
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../../lib/assets/store.ts";
import { fetchWhole, sendBatch, startSession } from "../support/client.ts";
import { ADMIN, login } from "../support/login.ts";
import { serverTest } from "../support/server.ts";
import { bodySnapshot, serveSite } from "../support/assets.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const SVG = `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="5" height="5"/></svg>`;

/** A site with a PNG and an SVG; returns its URL and the paths it was asked for. */
function startAssetSite() {
  return serveSite({
    "/logo.png": { body: PNG, type: "image/png" },
    "/icon.svg": { body: SVG, type: "image/svg+xml" },
  });
}

function snapshotOf(site: string) {
  return [
    { type: 4, timestamp: Date.now(), data: { href: `${site}/`, width: 800, height: 600 } },
    bodySnapshot([
      { type: 2, id: 3, tagName: "img", attributes: { src: `${site}/logo.png` }, childNodes: [] },
      { type: 2, id: 4, tagName: "img", attributes: { src: `${site}/icon.svg` }, childNodes: [] },
      { type: 2, id: 5, tagName: "img", attributes: { src: `${site}/gone.png` }, childNodes: [] },
    ]),
  ];
}

const CACHE_ON = { REPLAYA_ASSET_CACHE: "true", REPLAYA_ASSET_ALLOW_PRIVATE: "true" };

serverTest(
  "assets: ingest fills the session's map; assets are served typed, immutable and locked down",
  async (server) => {
    const site = startAssetSite();
    try {
      const session = await startSession(server.url);
      assert.equal((await sendBatch(server.url, session, { seq: 0, events: snapshotOf(site.url) })).status, 200);
      await server.assets!.idle();
      const res = await fetchWhole(`${server.url}/api/sessions/${session.sessionId}/assets`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const map = await res.json();
      const png = await sha256Hex(PNG);
      const svg = await sha256Hex(SVG);
      assert.equal(map.enabled, true);
      assert.deepEqual(map.assets, {
        [`${site.url}/logo.png`]: { hash: png, type: "image/png" },
        [`${site.url}/icon.svg`]: { hash: svg, type: "image/svg+xml" },
      });
      assert.deepEqual(map.failed, { [`${site.url}/gone.png`]: "http_error" });

      // As the replay's iframe loads it: an <img> from the dashboard's own origin.
      const image = { "sec-fetch-site": "same-origin", "sec-fetch-dest": "image", "sec-fetch-mode": "no-cors" };
      const asset = await fetch(`${server.url}/api/assets/${png}`, { headers: image });
      assert.equal(asset.status, 200);
      assert.deepEqual(new Uint8Array(await asset.arrayBuffer()), PNG);
      assert.equal(asset.headers.get("content-type"), "image/png");
      assert.equal(asset.headers.get("content-length"), String(PNG.length));
      assert.equal(asset.headers.get("cache-control"), "private, max-age=31536000, immutable");
      assert.equal(asset.headers.get("x-content-type-options"), "nosniff");
      assert.equal(asset.headers.get("etag"), `"${png}"`);
      assert.equal(
        asset.headers.get("content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      );
      const font = await fetch(`${server.url}/api/assets/${png}`, {
        headers: { ...image, "sec-fetch-dest": "font", "sec-fetch-mode": "cors" },
      });
      assert.equal(font.status, 200, "fonts load the same way");
      await font.body?.cancel();
      const again = await fetch(`${server.url}/api/assets/${png}`, { headers: { "if-none-match": `"${png}"` } });
      assert.equal(again.status, 304);
      await again.body?.cancel();

      // An SVG opened on its own: typed as SVG, under a policy where its script cannot run.
      const svgRes = await fetch(`${server.url}/api/assets/${svg}`);
      assert.equal(svgRes.headers.get("content-type"), "image/svg+xml");
      assert.match(svgRes.headers.get("content-security-policy")!, /default-src 'none'.*sandbox/);
      assert.equal(await svgRes.text(), SVG);

      // Other sites may not embed assets, and other APIs still refuse <img>.
      for (
        const [path, headers] of [
          [`/api/assets/${png}`, { ...image, "sec-fetch-site": "cross-site" }],
          [`/api/assets/${png}`, { ...image, "sec-fetch-site": "same-site" }],
          [`/api/sessions/${session.sessionId}/assets`, image],
          [`/api/sessions/${session.sessionId}/events`, image],
          [`/api/assets/${png}`, { ...image, "sec-fetch-dest": "script" }],
        ] as const
      ) {
        const refused = await fetch(server.url + path, { headers });
        assert.equal(refused.status, 403, `${path} ${JSON.stringify(headers)}`);
        await refused.body?.cancel();
      }
      for (const [path, status] of [["/api/assets/abc", 400], [`/api/assets/${"0".repeat(64)}`, 404]] as const) {
        const res = await fetch(server.url + path);
        assert.equal(res.status, status, path);
        await res.body?.cancel();
      }
      const bad = await fetch(`${server.url}/api/sessions/nope/assets`);
      assert.equal(bad.status, 400);
      await bad.body?.cancel();

      // Another session naming the same URLs is mapped without fetching them again.
      const before = site.requests.length;
      const another = await startSession(server.url);
      await sendBatch(server.url, another, { seq: 0, events: snapshotOf(site.url) });
      await server.assets!.idle();
      assert.deepEqual(site.requests.slice(before), [], "URLs this process has fetched are not fetched again");
      const copy = await (await fetchWhole(`${server.url}/api/sessions/${another.sessionId}/assets`)).json();
      assert.deepEqual(copy.assets, map.assets);

      // Deleting a session (the dashboard's form) drops its map; the assets stay for the other session.
      const confirm = await (await fetchWhole(`${server.url}/sessions/${session.sessionId}/delete`)).text();
      const csrf = confirm.match(/name="csrf" value="([^"]+)"/)![1];
      const del = await fetchWhole(`${server.url}/sessions/${session.sessionId}/delete`, {
        method: "POST",
        body: new URLSearchParams({ csrf }),
        redirect: "manual",
      });
      assert.equal(del.status, 303);
      const gone = await (await fetchWhole(`${server.url}/api/sessions/${session.sessionId}/assets`)).json();
      assert.deepEqual(gone.assets, {});
      const kept = await fetch(`${server.url}/api/assets/${png}`);
      assert.equal(kept.status, 200);
      await kept.body?.cancel();
    } finally {
      await site.close();
    }
  },
  { env: CACHE_ON },
);

serverTest("assets: the map and the assets need the dashboard login", async (server) => {
  const session = await startSession(server.url);
  for (const path of [`/api/sessions/${session.sessionId}/assets`, `/api/assets/${"a".repeat(64)}`]) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 401, path);
    await res.body?.cancel();
  }
  const { cookie } = await login(server.url);
  const res = await fetch(`${server.url}/api/sessions/${session.sessionId}/assets`, { headers: { cookie: cookie! } });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { enabled: true, assets: {}, failed: {} });
  const bearer = await fetch(`${server.url}/api/assets/${"a".repeat(64)}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  assert.equal(bearer.status, 404);
  await bearer.body?.cancel();
}, { env: { ...CACHE_ON, REPLAYA_ADMIN_TOKEN: ADMIN } });

serverTest("assets: with the cache off (the default) nothing is fetched and the map says so", async (server) => {
  const site = startAssetSite();
  try {
    assert.equal(server.assets, undefined);
    const session = await startSession(server.url);
    await sendBatch(server.url, session, { seq: 0, events: snapshotOf(site.url) });
    const map = await (await fetchWhole(`${server.url}/api/sessions/${session.sessionId}/assets`)).json();
    assert.deepEqual(map, { enabled: false, assets: {}, failed: {} });
    assert.deepEqual(site.requests, []);
  } finally {
    await site.close();
  }
});

serverTest("assets: the default refuses the recording's private addresses", async (server) => {
  const site = startAssetSite();
  try {
    const session = await startSession(server.url);
    await sendBatch(server.url, session, { seq: 0, events: snapshotOf(site.url) });
    await server.assets!.idle();
    const map = await (await fetchWhole(`${server.url}/api/sessions/${session.sessionId}/assets`)).json();
    assert.deepEqual(Object.values(map.failed), ["private_address", "private_address", "private_address"]);
    assert.deepEqual(site.requests, [], "the site on 127.0.0.1 was never asked");
  } finally {
    await site.close();
  }
}, { env: { REPLAYA_ASSET_CACHE: "true" } });
