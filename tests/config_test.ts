import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../lib/config.ts";

Deno.test("config: no S2 variables means the embedded SQLite store under REPLAYA_DATA_DIR", () => {
  const config = loadConfig({ REPLAYA_DATA_DIR: "/var/lib/replaya/" });
  assert.deepEqual(config.store, { backend: "sqlite", path: "/var/lib/replaya/replaya.db" });
  assert.equal(config.hostname, "127.0.0.1");
  assert.equal(config.retentionDays, 28);
  assert.equal(config.deleteEmptyAfterHours, 24);
});

Deno.test("config: s2-lite needs only an endpoint; both endpoints default to each other", () => {
  const config = loadConfig({ S2_ACCOUNT_ENDPOINT: "http://127.0.0.1:4000", S2_BASIN: "my-replays" });
  assert.equal(config.store.backend, "s2");
  if (config.store.backend !== "s2") return;
  assert.equal(config.store.basinEndpoint, "http://127.0.0.1:4000");
  assert.equal(config.store.basin, "my-replays");
});

Deno.test("config: clear errors for a bad basin, missing token and bad numbers", () => {
  assert.throws(() => loadConfig({ S2_BASIN: "Bad_Name" }), ConfigError);
  assert.throws(() => loadConfig({ S2_BASIN: "replaya-sessions" }), /S2_ACCESS_TOKEN/);
  assert.throws(() => loadConfig({ REPLAYA_RETENTION_DAYS: "-1" }), /REPLAYA_RETENTION_DAYS/);
});

Deno.test("config: REPLAYA_STREAM_PREFIX scopes a deployment's streams; odd characters are refused", () => {
  assert.equal(loadConfig({}).streamPrefix, "");
  assert.equal(loadConfig({ REPLAYA_STREAM_PREFIX: "staging/" }).streamPrefix, "staging/");
  for (const bad of ["/abs", "a b", "x\u0000", "x".repeat(101), "é/"]) {
    assert.throws(() => loadConfig({ REPLAYA_STREAM_PREFIX: bad }), ConfigError, bad);
  }
});

Deno.test("config: the asset cache is off by default; its limits and types are checked", () => {
  assert.deepEqual(loadConfig({}).assets, {
    enabled: false,
    maxBytes: 5 * 1024 * 1024,
    types: ["image/*", "font/*"],
    allowPrivate: false,
  });
  const on = loadConfig({
    REPLAYA_ASSET_CACHE: "true",
    REPLAYA_ASSET_MAX_BYTES: "1048576",
    REPLAYA_ASSET_TYPES: "image/png, Font/WOFF2",
    REPLAYA_ASSET_ALLOW_PRIVATE: "yes",
  });
  assert.deepEqual(on.assets, {
    enabled: true,
    maxBytes: 1048576,
    types: ["image/png", "font/woff2"],
    allowPrivate: true,
  });
  assert.deepEqual(on.warnings, [], "every REPLAYA_ASSET_* variable is known");
  for (const bad of ["text/html", "*/*", "text/*", "application/xhtml+xml", "image", "image/png;x"]) {
    assert.throws(() => loadConfig({ REPLAYA_ASSET_TYPES: bad }), /REPLAYA_ASSET_TYPES/, bad);
  }
  assert.throws(() => loadConfig({ REPLAYA_ASSET_MAX_BYTES: "0" }), /REPLAYA_ASSET_MAX_BYTES/);
  assert.throws(() => loadConfig({ REPLAYA_ASSET_MAX_BYTES: String(65 * 1024 * 1024) }), /REPLAYA_ASSET_MAX_BYTES/);
  assert.throws(() => loadConfig({ REPLAYA_ASSET_CACHE: "maybe" }), /REPLAYA_ASSET_CACHE/);
});
