/**
 * Compressed responses over a real HTTP server, read as they went over the
 * wire (node:http; fetch would decode them): every static file and page is
 * `br` or `gzip` when asked (and decodes to the uncompressed bytes), as it is
 * when not; `Vary`, lengths, per-encoding ETags and 304s; HEAD; event streams
 * and ingest replies never compressed; the recorder's versioned, immutable
 * URL. Plus the file cache on its own: stale or corrupt build variants are
 * never served.
 */

import assert from "node:assert/strict";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { serverTest } from "../support/server.ts";
import { post, sendBatch, startSession } from "../support/client.ts";
import { decodeBody, wireFetch, type WireResponse } from "../support/wire.ts";
import { readManifest } from "../../lib/islands/manifest.ts";
import { chooseEncoding } from "../../lib/http/compress.ts";
import { StaticFiles } from "../../lib/http/static_files.ts";

const manifest = await readManifest();
if (!manifest) throw new Error("run `deno task build` first");

/** The build's own files: the recorder (both URLs), every island bundle and chunk, the stylesheets. */
async function staticPaths(): Promise<string[]> {
  const paths = ["/recorder.js", manifest!.recorder, "/static/app.css", "/static/player.css"];
  for (const url of Object.values(manifest!.islands)) paths.push(url);
  for await (const entry of Deno.readDir("static/build/islands")) {
    if (/^chunk-.*\.js$/.test(entry.name)) paths.push(`/static/build/islands/${entry.name}`);
  }
  return paths;
}

function assertWellFormed(res: WireResponse, path: string) {
  assert.equal(res.status, 200, path);
  assert.equal(res.headers.get("content-length"), String(res.body.length), `${path}: Content-Length is the wire size`);
  assert.match(res.headers.get("vary") ?? "", /accept-encoding/i, `${path}: Vary`);
}

serverTest("every static file is br or gzip when asked, as it is when not", async ({ url }) => {
  for (const path of await staticPaths()) {
    const plain = await wireFetch(url + path);
    assertWellFormed(plain, path);
    assert.equal(plain.headers.get("content-encoding"), null, path);
    const etags = new Set([plain.headers.get("etag")]);
    for (
      const [accept, expected] of [
        ["br", "br"],
        ["gzip", "gzip"],
        ["gzip, deflate, br, zstd", "br"], // Chromium's header
        ["gzip;q=1.0, br;q=0.5", "gzip"],
        ["br;q=0, gzip", "gzip"],
        ["*", "br"],
        ["identity", null],
        ["identity;q=0", null], // nothing else acceptable: the plain bytes beat a 406
        ["deflate", null],
        ["br;q=0.5, identity", null],
      ] as const
    ) {
      const res = await wireFetch(url + path, { headers: { "accept-encoding": accept } });
      assertWellFormed(res, path);
      const tiny = plain.body.length < 1024; // sent as it is, whatever was asked
      assert.equal(res.headers.get("content-encoding"), tiny ? null : expected, `${path} with ${accept}`);
      assert.deepEqual(decodeBody(res), plain.body, `${path} with ${accept} decodes to the file`);
      if (expected && !tiny) {
        assert.ok(res.body.length < plain.body.length * 0.6, `${path} ${expected}: ${res.body.length} bytes`);
        etags.add(res.headers.get("etag"));
      }
    }
    assert.equal(etags.size, plain.body.length < 1024 ? 1 : 3, `${path}: one ETag per encoding`);
    for (const etag of etags) assert.match(etag ?? "", /^"[^"]+"$/, `${path}: strong ETag`);
  }
});

serverTest("ETags per encoding: 304 only for the variant the client has", async ({ url }) => {
  for (const path of ["/recorder.js", manifest!.recorder, "/static/app.css", manifest!.islands.Player]) {
    const br = await wireFetch(url + path, { headers: { "accept-encoding": "br" } });
    const etag = br.headers.get("etag")!;
    const again = await wireFetch(url + path, { headers: { "accept-encoding": "br", "if-none-match": etag } });
    assert.equal(again.status, 304, path);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.get("etag"), etag);
    assert.match(again.headers.get("vary") ?? "", /accept-encoding/i);
    const listed = await wireFetch(url + path, {
      headers: { "accept-encoding": "br", "if-none-match": `"nope", W/${etag}` },
    });
    assert.equal(listed.status, 304, `${path}: a list, weak comparison`);
    // The br variant's tag does not validate the gzip one.
    const gzip = await wireFetch(url + path, { headers: { "accept-encoding": "gzip", "if-none-match": etag } });
    assert.equal(gzip.status, 200, path);
    assert.equal(gzip.headers.get("content-encoding"), "gzip");
    const stale = await wireFetch(url + path, { headers: { "if-none-match": '"old"' } });
    assert.equal(stale.status, 200, path);
  }
});

serverTest(
  "the recorder's versioned URL is immutable, cross-origin, and the same bytes as /recorder.js",
  async ({ url }) => {
    assert.match(manifest!.recorder, /^\/recorder\/[A-Za-z0-9]{10}\.js$/);
    const short = await wireFetch(`${url}/recorder.js`);
    const pinned = await wireFetch(url + manifest!.recorder);
    assert.equal(pinned.status, 200);
    assert.equal(pinned.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.match(short.headers.get("cache-control") ?? "", /^public, max-age=300\b/);
    for (const res of [short, pinned]) {
      assert.match(res.headers.get("content-type") ?? "", /javascript/);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.equal(res.headers.get("cross-origin-resource-policy"), "cross-origin");
    }
    assert.deepEqual(pinned.body, short.body);
    assert.equal(pinned.headers.get("etag"), short.headers.get("etag"));
    const br = await wireFetch(url + manifest!.recorder, { headers: { "accept-encoding": "br" } });
    assert.deepEqual(decodeBody(br), short.body);
    // The version is the content hash: the manifest's URL names the file on disk.
    assert.equal(manifest!.recorder, `/recorder/${pinned.headers.get("etag")!.slice(1, -1)}.js`);

    // Loaded by a third-party page as a script: the Host and Fetch Metadata checks let it through, as for /recorder.js.
    for (const path of ["/recorder.js", manifest!.recorder]) {
      const res = await wireFetch(url + path, {
        headers: {
          host: "shop.example",
          "sec-fetch-site": "cross-site",
          "sec-fetch-mode": "no-cors",
          "sec-fetch-dest": "script",
          "accept-encoding": "gzip, deflate, br, zstd",
        },
      });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-encoding"), "br");
    }
    for (const path of ["/recorder/AAAAAAAAAA.js", "/recorder/", "/recorder/x", `${manifest!.recorder}/x`]) {
      const res = await wireFetch(url + path, { headers: { "accept-encoding": "br" } });
      assert.equal(res.status, 404, path);
      assert.equal(new TextDecoder().decode(res.body), "Not found", path);
    }
    for (const path of ["/static/../deno.json", "/static/%2e%2e/deno.json", "/static/app.css.br", "/static/build/.x"]) {
      const res = await wireFetch(url + path);
      assert.equal(res.status, 404, path);
    }
  },
);

serverTest(
  "the snippet sites paste loads /recorder.js; this build's own pages load the versioned URL",
  async ({ url }) => {
    // A pasted snippet outlives the build: a versioned URL there would 404 after the next deploy.
    const setup = new TextDecoder().decode((await wireFetch(`${url}/setup`)).body);
    assert.ok(
      setup.includes(`src=&quot;${url}/recorder.js&quot;`) || setup.includes(`src="${url}/recorder.js"`),
      "snippet",
    );
    const test = new TextDecoder().decode((await wireFetch(`${url}/setup/test`)).body);
    assert.ok(test.includes(`src="${manifest!.recorder}"`), "the test page, rendered with this build");
  },
  { only: "sqlite" },
);

serverTest("HEAD: the headers of GET (length, encoding, ETag), no body", async ({ url }) => {
  for (const path of ["/recorder.js", manifest!.recorder, "/static/app.css", "/"]) {
    for (const accept of ["br", "gzip", "identity"]) {
      const get = await wireFetch(url + path, { headers: { "accept-encoding": accept } });
      const head = await wireFetch(url + path, { method: "HEAD", headers: { "accept-encoding": accept } });
      assert.equal(head.status, 200, path);
      assert.equal(head.body.length, 0);
      for (const name of ["content-encoding", "content-type", "vary", "etag", "cache-control"]) {
        assert.equal(head.headers.get(name), get.headers.get(name), `${path} ${accept}: ${name}`);
      }
      if (path !== "/") assert.equal(head.headers.get("content-length"), get.headers.get("content-length"));
      else assert.ok(Number(head.headers.get("content-length")) > 0, "a page's HEAD has its length");
    }
  }
});

serverTest("pages are compressed per response; tiny bodies and other types are not", async ({ url }) => {
  const s = await startSession(url);
  await sendBatch(url, s, { seq: 0, events: [{ type: 4, timestamp: Date.now(), data: { href: "https://a.test/" } }] });
  for (const path of ["/", `/sessions/${s.sessionId}`, "/setup"]) {
    const plain = await wireFetch(url + path);
    assertWellFormed(plain, path);
    assert.equal(plain.headers.get("content-encoding"), null);
    for (const encoding of ["br", "gzip"]) {
      const res = await wireFetch(url + path, { headers: { "accept-encoding": encoding } });
      assertWellFormed(res, path);
      assert.equal(res.headers.get("content-encoding"), encoding, path);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const html = new TextDecoder().decode(decodeBody(res));
      assert.ok(html.startsWith("<!doctype html>"), path);
      assert.ok(html.includes("</html>"), `${path}: whole`);
      assert.ok(
        res.body.length < plain.body.length / 2,
        `${path} ${encoding}: ${res.body.length}/${plain.body.length}`,
      );
      assert.ok(res.headers.get("content-security-policy"), `${path}: other headers kept`);
    }
  }
  // Under 1 KB: as it is (a 168-byte icon, the plain-text 404).
  for (const path of ["/static/favicon.svg", "/nope"]) {
    const res = await wireFetch(url + path, { headers: { "accept-encoding": "br, gzip" } });
    assert.equal(res.headers.get("content-encoding"), null, path);
    assert.equal(res.headers.get("content-length"), String(res.body.length));
  }
  // JSON replies (ingest, the read API) are not compressed by this server.
  const ingest = await post(`${url}/api/sessions`, {
    projectKey: "pk_test_0123456789",
    meta: { url: "https://a.test/" },
  }, {
    "accept-encoding": "br, gzip",
  });
  assert.equal(ingest.headers.get("content-encoding"), null);
  await ingest.body?.cancel();
});

serverTest("event streams are never compressed, whatever the client accepts", async ({ url }) => {
  const s = await startSession(url);
  for (const path of ["/api/sessions/feed", `/api/sessions/${s.sessionId}/live`]) {
    for (const accept of ["br", "gzip", "br, gzip, *"]) {
      const abort = new AbortController();
      const res = await fetch(url + path, { headers: { "accept-encoding": accept }, signal: abort.signal });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      assert.equal(res.headers.get("content-encoding"), null, `${path} with ${accept}`);
      // The stream opens at once: nothing buffers it to compress it.
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(new TextDecoder().decode(first.value), /^: open/);
      abort.abort();
      await reader.cancel().catch(() => {});
    }
  }
}, { only: "sqlite" });

Deno.test("the build wrote .br and .gz beside each bundle, the recorder and the stylesheets", async () => {
  const { brotliDecompressSync, gunzipSync } = await import("node:zlib");
  const files = [
    "recorder/dist/replaya.iife.js",
    "static/app.css",
    ...Object.values(manifest.islands).map((u) => u.slice(1)),
  ];
  for (const file of files) {
    const bytes = await Deno.readFile(file);
    const br = await Deno.readFile(`${file}.br`);
    const gz = await Deno.readFile(`${file}.gz`);
    assert.ok(br.length > 0 && br.length < bytes.length, `${file}.br`);
    assert.ok(gz.length > 0 && gz.length < bytes.length, `${file}.gz`);
    assert.deepEqual(new Uint8Array(brotliDecompressSync(br)), bytes, `${file}.br inflates to the file`);
    assert.deepEqual(new Uint8Array(gunzipSync(gz)), bytes, `${file}.gz inflates to the file`);
  }
  // The build's gzip is zopfli's (the server would otherwise make its own, larger, at first request).
  const recorder = await Deno.readFile("recorder/dist/replaya.iife.js");
  const zlib9 = gzipSync(recorder, { level: 9 }).length;
  const sent = (await Deno.stat("recorder/dist/replaya.iife.js.gz")).size;
  assert.ok(sent < zlib9, "smaller than zlib's level 9");
  // The recorder's budget on every visitor's page load (everything included): 30 KB gzipped.
  assert.ok(sent <= 30_000, `the recorder is ${sent} B gzipped, over its 30,000 B budget`);
});

Deno.test("StaticFiles: a stale, corrupt or missing variant is never served; edits are seen", async () => {
  const dir = await Deno.makeTempDir({ prefix: "replaya-static-" });
  try {
    const text = (s: string) => new TextEncoder().encode(s);
    const path = `${dir}/a.js`;
    const current = text("console.log('current');\n".repeat(100));
    await Deno.writeFile(path, current);
    await Deno.writeFile(`${path}.br`, brotliCompressSync(text("console.log('old');\n".repeat(100)))); // stale
    await Deno.writeFile(`${path}.gz`, text("not gzip at all")); // corrupt
    const files = new StaticFiles();
    const file = (await files.get(path))!;
    const { brotliDecompressSync, gunzipSync } = await import("node:zlib");
    assert.deepEqual(new Uint8Array(brotliDecompressSync(file.variants.br!.bytes)), current);
    assert.deepEqual(new Uint8Array(gunzipSync(file.variants.gzip!.bytes)), current);
    // A variant that matches is served as the build wrote it.
    const built = gzipSync(current, { level: 1 });
    await Deno.writeFile(`${path}.gz`, built);
    const edited = text("console.log('edited');\n".repeat(120));
    await Deno.writeFile(path, edited);
    const next = (await files.get(path))!;
    assert.notEqual(next.hash, file.hash, "an edit is seen (size and mtime changed)");
    assert.deepEqual(new Uint8Array(gunzipSync(next.variants.gzip!.bytes)), edited);
    await Deno.writeFile(path, current);
    await Deno.utime(path, 1, 1);
    const back = (await files.get(path))!;
    assert.deepEqual(back.variants.gzip!.bytes, new Uint8Array(built), "the build's variant, byte for byte");
    // Gone: undefined, and forgotten.
    await Deno.remove(path);
    assert.equal(await files.get(path), undefined);
    assert.equal(await files.get(dir), undefined, "a directory is not a file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chooseEncoding: q-values, wildcards, refusals", () => {
  const cases: [string | undefined, string][] = [
    [undefined, "identity"],
    ["", "identity"],
    ["gzip", "gzip"],
    ["br", "br"],
    ["gzip, br", "br"],
    ["gzip;q=0.9, br;q=0.8", "gzip"],
    ["BR;Q=0.5, GZIP;q=0.4", "br"],
    ["*;q=0.5", "br"],
    ["*;q=0.5, br;q=0", "gzip"],
    ["*;q=0", "identity"],
    ["identity;q=0", "identity"],
    ["gzip, identity;q=0", "gzip"],
    ["identity, gzip;q=0.5", "identity"],
    ["deflate, zstd", "identity"],
    ["gzip;q=abc, br;q=", "br"],
    [";;;,,,=", "identity"],
  ];
  for (const [header, expected] of cases) assert.equal(chooseEncoding(header), expected, String(header));
});
