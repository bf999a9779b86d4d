/** REPLAYA_REDACTION*, REPLAYA_REDACT_PATTERNS and REPLAYA_ENCRYPTION_KEY: defaults and refused values. */

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../lib/config.ts";

Deno.test("privacy config: redaction on by default, nothing encrypted", () => {
  const { privacy } = loadConfig({});
  assert.equal(privacy.redaction, true);
  assert.deepEqual(privacy.redactionOffProjects, []);
  assert.deepEqual(privacy.redactPatterns, []);
  assert.equal(privacy.encryptionKey, undefined);
});

Deno.test("privacy config: per-project switch, extra patterns, a master key", () => {
  const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
  const { privacy } = loadConfig({
    REPLAYA_PROJECT_KEYS: "shop=pk_shop12345678,internal=pk_internal1234",
    REPLAYA_REDACTION_OFF_PROJECTS: "internal",
    REPLAYA_REDACT_PATTERNS: JSON.stringify({ order: String.raw`ORD-\d{8}` }),
    REPLAYA_ENCRYPTION_KEY: key,
  });
  assert.deepEqual(privacy.redactionOffProjects, ["internal"]);
  assert.deepEqual(privacy.redactPatterns, [{ name: "order", source: String.raw`ORD-\d{8}` }]);
  assert.equal(privacy.encryptionKey?.length, 32);
  assert.equal(loadConfig({ REPLAYA_REDACTION: "off" }).privacy.redaction, false);
});

Deno.test("privacy config: mistakes stop the start with a clear message", () => {
  const refused: [Record<string, string>, RegExp][] = [
    [{ REPLAYA_REDACTION_OFF_PROJECTS: "nope" }, /not a project/],
    [{ REPLAYA_REDACT_PATTERNS: "ORD-\\d+" }, /JSON object/],
    [{ REPLAYA_REDACT_PATTERNS: '["a"]' }, /JSON object/],
    [{ REPLAYA_REDACT_PATTERNS: '{"x":"(?=a)b"}' }, /RE2/],
    [{ REPLAYA_REDACT_PATTERNS: '{"x":"a*"}' }, /empty string/],
    [{ REPLAYA_REDACT_PATTERNS: '{"Bad Name":"abc"}' }, /name/],
    [{ REPLAYA_REDACT_PATTERNS: JSON.stringify({ x: "a".repeat(201) }) }, /characters/],
    [{ REPLAYA_ENCRYPTION_KEY: "c2hvcnQ=" }, /32 bytes/],
    [{ REPLAYA_ENCRYPTION_KEY: "not base64!" }, /32 bytes/],
  ];
  for (const [env, message] of refused) {
    assert.throws(() => loadConfig(env), (e) => e instanceof ConfigError && message.test(e.message));
  }
});
