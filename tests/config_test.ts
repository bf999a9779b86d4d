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
