/**
 * The asset cache's SSRF guard: which addresses count as private, that a
 * name is refused when any of its addresses is one, and that the fetcher
 * applies the guard on every hop, pins plain-HTTP connections to the address
 * it checked, and keeps to its size and content-type limits.
 */

import assert from "node:assert/strict";
import { checkedAddresses, isPrivateAddress, parseIpv6 } from "../../lib/assets/address.ts";
import { contentType, fetchAsset, type FetchAssetOptions, typeAllowed } from "../../lib/assets/fetch.ts";

Deno.test("guard: private, loopback, link-local and reserved addresses, IPv4 and IPv6", () => {
  const refused = [
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.20",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::1",
    "::",
    "0:0:0:0:0:0:0:1",
    "[::1]",
    "fc00::1",
    "fd12:3456:789a::1",
    "fe80::1%eth0",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.1.2.3",
    "::ffff:0:127.0.0.1", // IPv4-translated (::ffff:0:0/96) of loopback
    "::ffff:0:a9fe:a9fe", // the same of the metadata address, in hex
    "64:ff9b:1::a00:1", // local-use NAT64
    "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
    "2002:c0a8:0101::1", // 6to4 of 192.168.1.1
    "2001:db8::1",
    "not-an-address",
    "1.2.3",
    "1.2.3.256",
  ];
  for (const address of refused) assert.equal(isPrivateAddress(address), true, address);
  const allowed = [
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "192.169.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "::ffff:0:8.8.8.8", // translated, public
  ];
  for (const address of allowed) assert.equal(isPrivateAddress(address), false, address);
  assert.deepEqual(parseIpv6("1::"), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), undefined);
  assert.equal(parseIpv6("1::2::3"), undefined);
});

Deno.test("guard: a name is refused when any address it resolves to is private, by default", async () => {
  const dns: Record<string, string[]> = {
    "public.test": ["93.184.216.34", "2606:4700::1111"],
    "mixed.test": ["93.184.216.34", "10.0.0.7"],
    "v6-local.test": ["fd00::5"],
    "metadata.test": ["169.254.169.254"],
  };
  const resolve = (host: string) => Promise.resolve(dns[host] ?? []);
  const check = (host: string, allowPrivate = false) => checkedAddresses(host, { allowPrivate, resolve });
  assert.deepEqual(await check("public.test"), dns["public.test"]);
  for (
    const host of ["mixed.test", "v6-local.test", "metadata.test", "127.0.0.1", "[::1]", "localhost", "a.localhost"]
  ) {
    await assert.rejects(check(host), { name: "AddressRefusedError", reason: "private_address" }, host);
  }
  await assert.rejects(check("nowhere.test"), { reason: "unresolvable" });
  // Opted in (REPLAYA_ASSET_ALLOW_PRIVATE): the same names pass.
  assert.deepEqual(await check("mixed.test", true), dns["mixed.test"]);
  assert.deepEqual(await check("localhost", true), ["127.0.0.1", "::1"]);
});

Deno.test("guard: the fetcher refuses private hosts before connecting, and names that resolve to them", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    requests++;
    return new Response(PNG, { headers: { "content-type": "image/png" } });
  });
  try {
    const port = server.addr.port;
    const base: FetchAssetOptions = { maxBytes: 1024, types: ["image/*"], allowPrivate: false };
    const resolve = (host: string) => Promise.resolve(host === "evil.test" ? ["127.0.0.1"] : []);
    for (
      const url of [`http://127.0.0.1:${port}/a.png`, `http://[::1]:${port}/a.png`, `http://localhost:${port}/a.png`]
    ) {
      const result = await fetchAsset(url, "image", base);
      assert.deepEqual(result.ok ? "fetched" : result.reason, "private_address", url);
    }
    const named = await fetchAsset(`http://evil.test:${port}/a.png`, "image", { ...base, resolve });
    assert.equal(named.ok ? "fetched" : named.reason, "private_address");
    for (
      const url of ["file:///etc/passwd", "ftp://x.example/a.png", `http://user:pw@127.0.0.1:${port}/`, "nonsense"]
    ) {
      const result = await fetchAsset(url, "image", { ...base, allowPrivate: true });
      assert.equal(result.ok ? "fetched" : result.reason, "invalid_url", url);
    }
    assert.equal(requests, 0, "nothing reached the server");
    const allowed = await fetchAsset(`http://127.0.0.1:${port}/a.png`, "image", { ...base, allowPrivate: true });
    assert.equal(allowed.ok && allowed.type, "image/png");
  } finally {
    await server.shutdown();
  }
});

/** A 1×1 PNG's first bytes (enough to sniff). */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);

Deno.test("guard: redirects are re-checked, plain HTTP is pinned to the checked address, limits hold", async () => {
  const { promise: never, resolve: release } = Promise.withResolvers<void>();
  const server: Deno.HttpServer<Deno.NetAddr> = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (
    request,
  ): Promise<Response> => {
    const path = new URL(request.url).pathname;
    const port = server.addr.port;
    switch (path) {
      case "/png":
        return new Response(PNG, { headers: { "content-type": "image/png; charset=binary" } });
      case "/sniffed":
        return new Response(PNG, { headers: { "content-type": "application/octet-stream" } });
      case "/font":
        return new Response("wOF2....", { headers: { "content-type": "application/font-woff2" } });
      case "/html":
        return new Response("<script>alert(1)</script>", { headers: { "content-type": "text/html" } });
      case "/unknown":
        return new Response("just text");
      case "/big":
        return new Response(new Uint8Array(5000), { headers: { "content-type": "image/png" } });
      case "/big-chunked":
        return new Response(
          new ReadableStream({
            start(c) {
              for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(600));
              c.close();
            },
          }),
          { headers: { "content-type": "image/png" } },
        );
      case "/missing":
        return new Response("no", { status: 404 });
      case "/to-png":
        return Response.redirect(`http://127.0.0.1:${port}/png`, 302);
      case "/to-private":
        return Response.redirect(`http://127.0.0.2:${port}/png`, 302);
      case "/to-internal-name":
        return Response.redirect(`http://internal.test:${port}/png`, 301);
      case "/loop":
        return Response.redirect(`http://127.0.0.1:${port}/loop`, 302);
      case "/stall":
        await never;
        return new Response(PNG, { headers: { "content-type": "image/png" } });
    }
    return new Response("?", { status: 500 });
  });
  try {
    const port = server.addr.port;
    // 127.0.0.1 stands in for a public address here; 127.0.0.2 (loopback too) and 10.x stay private.
    const dns: Record<string, string[]> = { "cdn.test": ["127.0.0.1"], "internal.test": ["10.0.0.9"] };
    const options: FetchAssetOptions = {
      maxBytes: 1024,
      types: ["image/*", "font/*"],
      allowPrivate: false,
      isPublic: (address) => address === "127.0.0.1",
      resolve: (host) => Promise.resolve(dns[host] ?? []),
    };
    const get = async (path: string, more: Partial<FetchAssetOptions> = {}, host = "127.0.0.1") => {
      const result = await fetchAsset(`http://${host}:${port}${path}`, "image", { ...options, ...more });
      return result.ok ? `ok ${result.type} ${result.bytes.length}` : result.reason;
    };
    assert.equal(await get("/png"), `ok image/png ${PNG.length}`);
    // cdn.test exists only in the injected resolver: the connection went to the address that was checked.
    assert.equal(await get("/png", {}, "cdn.test"), `ok image/png ${PNG.length}`);
    assert.equal(await get("/sniffed"), `ok image/png ${PNG.length}`);
    assert.equal(await get("/font"), "ok font/woff2 8");
    assert.equal(await get("/html"), "type_not_allowed");
    assert.equal(await get("/html", { types: ["image/*"] }), "type_not_allowed");
    assert.equal(await get("/font", { types: ["image/*"] }), "type_not_allowed");
    assert.equal(await get("/unknown"), "type_not_allowed");
    assert.equal(await get("/big"), "too_large");
    assert.equal(await get("/big-chunked"), "too_large");
    assert.equal(await get("/big", { maxBytes: 5000 }), "ok image/png 5000");
    assert.equal(await get("/missing"), "http_error");
    assert.equal(await get("/to-png"), `ok image/png ${PNG.length}`);
    assert.equal(await get("/to-private"), "private_address");
    assert.equal(await get("/to-internal-name"), "private_address");
    assert.equal(await get("/loop"), "too_many_redirects");
    assert.equal(await get("/stall", { timeoutMs: 200 }), "timeout");
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("guard: content types are normalized, sniffed only when generic, and matched against the allow-list", () => {
  const bytes = (...b: number[]) => new Uint8Array([...b, ...new Array(16).fill(0)]);
  assert.equal(contentType("IMAGE/JPG; q=1", new Uint8Array()), "image/jpeg");
  assert.equal(contentType("application/x-font-woff", new Uint8Array()), "font/woff");
  assert.equal(contentType("text/html", PNG), "text/html", "a declared type is never overridden by sniffing");
  assert.equal(contentType(null, bytes(0xff, 0xd8, 0xff)), "image/jpeg");
  assert.equal(contentType("", new TextEncoder().encode("GIF89a......")), "image/gif");
  assert.equal(contentType("binary/octet-stream", new TextEncoder().encode("RIFF....WEBPVP8 ")), "image/webp");
  assert.equal(contentType(null, new TextEncoder().encode("OTTO....")), "font/otf");
  assert.equal(contentType(null, new TextEncoder().encode("<svg xmlns=")), undefined);
  assert.ok(typeAllowed("image/svg+xml", ["image/*"]));
  assert.ok(typeAllowed("font/woff2", ["image/png", "font/woff2"]));
  assert.ok(!typeAllowed("image/png", ["image/jpeg"]));
  assert.ok(!typeAllowed("text/html", ["image/*", "font/*"]));
  assert.ok(!typeAllowed("imagex/png", ["image/*"]));
});
