/**
 * Finding 9: configuration mistakes stop the server with a clear message
 * instead of passing silently.
 */

import assert from "node:assert/strict";
import { ConfigError, isLoopbackAddress, loadConfig } from "../../lib/config.ts";
import { spawnServer } from "../support/child_server.ts";

const SECRET = { REPLAYA_APPEND_TOKEN_SECRET: "s".repeat(32) };

Deno.test("security: unknown values are refused with their variable's name", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ REPLAYA_ENV: "prod" }, /REPLAYA_ENV must be one of development, production, got "prod"/],
    [{ REPLAYA_TRUST_PROXY: "maybe" }, /REPLAYA_TRUST_PROXY must be false, true/],
    [{ REPLAYA_TRUST_PROXY: "-1" }, /REPLAYA_TRUST_PROXY/],
    [{ REPLAYA_PUBLIC_OPS: "enabled" }, /REPLAYA_PUBLIC_OPS must be true or false/],
    [{ REPLAYA_HOST: "127.0.0.1.nip.io" }, /REPLAYA_ADMIN_TOKEN is required to listen on 127.0.0.1.nip.io/],
    [{ REPLAYA_HOST: "0.0.0.0" }, /REPLAYA_ADMIN_TOKEN is required/],
    [{ REPLAYA_PORT: "80000" }, /PORT must be an integer from 0 to 65535/],
    [{ REPLAYA_LEASE_SECS: "45s" }, /REPLAYA_LEASE_SECS must be a positive integer/],
    [{ REPLAYA_PUBLIC_URL: "replay.example.com" }, /REPLAYA_PUBLIC_URL: "replay.example.com" is not a URL/],
  ];
  for (const [env, message] of cases) assert.throws(() => loadConfig(env), message, JSON.stringify(env));
  assert.throws(() => loadConfig({ REPLAYA_ENV: "production" }), ConfigError, "production needs a secret");
});

Deno.test("security: the usual boolean spellings, proxy hop counts and loopback addresses", () => {
  for (const yes of ["1", "true", "TRUE", "yes", "on"]) {
    assert.equal(loadConfig({ REPLAYA_PUBLIC_OPS: yes }).dashboard.publicOps, true, yes);
    assert.equal(loadConfig({ REPLAYA_TRUST_PROXY: yes }).http.trustProxyHops, 1, yes);
  }
  for (const no of ["0", "false", "no", "Off"]) {
    assert.equal(loadConfig({ REPLAYA_PUBLIC_OPS: no }).dashboard.publicOps, false, no);
    assert.equal(loadConfig({ REPLAYA_TRUST_PROXY: no }).http.trustProxyHops, 0, no);
  }
  assert.equal(loadConfig({ REPLAYA_TRUST_PROXY: "2" }).http.trustProxyHops, 2);
  assert.equal(loadConfig({ REPLAYA_ENV: "production", ...SECRET }).mode, "production");
  for (const address of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"]) {
    assert.equal(isLoopbackAddress(address), true, address);
  }
  for (const address of ["0.0.0.0", "::", "10.0.0.1", "127.0.0.1.nip.io", "localhost", "128.0.0.1", "127.0.0.256"]) {
    assert.equal(isLoopbackAddress(address), false, address);
  }
  const publicUrl = loadConfig({ REPLAYA_PUBLIC_URL: "https://Replay.Example.com:8443/x, http://other.test" });
  assert.deepEqual(publicUrl.http.allowedHosts, ["localhost", "replay.example.com", "other.test"]);
});

Deno.test("security: unknown REPLAYA_* variables are warned about", () => {
  const config = loadConfig({ REPLAYA_TRUST_PROXYS: "true", REPLAYA_PORT: "9000", OTHER_THING: "x" });
  assert.deepEqual(config.warnings, [
    "REPLAYA_TRUST_PROXYS is not a RePlaya setting and is ignored (see the README)",
  ]);
});

Deno.test("security: a bad value stops the real server with its message; warnings are printed", async () => {
  const bad = await spawnServer({ REPLAYA_ENV: "prod" }).exited();
  assert.equal(bad.code, 1);
  assert.match(bad.output, /Configuration error: REPLAYA_ENV must be one of development, production, got "prod"/);
  const renamed = await spawnServer({ REPLAYA_HOST: "127.0.0.1.nip.io" }).exited();
  assert.equal(renamed.code, 1);
  assert.match(renamed.output, /REPLAYA_ADMIN_TOKEN is required to listen on 127\.0\.0\.1\.nip\.io/);
  const warned = await spawnServer({ REPLAYA_TRUST_PROXYS: "1" }).started();
  try {
    assert.match(warned.output(), /Warning: REPLAYA_TRUST_PROXYS is not a RePlaya setting/);
  } finally {
    await warned.close();
  }
});
