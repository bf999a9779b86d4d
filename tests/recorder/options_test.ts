import assert from "node:assert/strict";
import { buildRecordOptions, PRIVACY, resolveOptions } from "../../recorder/src/options.ts";
import { RECORDER_VERSION } from "../../recorder/src/version.ts";
import config from "../../recorder/deno.json" with { type: "json" };

const base = { endpoint: "https://replay.example.com/", projectKey: "pk_1" };

Deno.test("resolveOptions applies the documented defaults", () => {
  const o = resolveOptions(base);
  assert.deepEqual(o, {
    endpoint: "https://replay.example.com",
    projectKey: "pk_1",
    source: undefined,
    requireConsent: false,
    respectGlobalPrivacyControl: true,
    sampleRate: 1,
    url: { query: false, hash: false },
    maskAllInputs: true,
    captureErrors: true,
    consoleLevels: [],
    captureNetwork: false,
    maxBufferBytes: 5_000_000,
    inactivityTimeoutMs: 30 * 60 * 1000,
    autoStart: true,
  });
});

Deno.test("resolveOptions honours explicit values and clamps bad ones", () => {
  const o = resolveOptions({
    ...base,
    source: "shop",
    requireConsent: true,
    respectGlobalPrivacyControl: false,
    sampleRate: 7,
    allowUrlQuery: true,
    allowUrlHash: true,
    maskAllInputs: false,
    captureErrors: false,
    captureConsole: ["warn", "error", "warn", "bogus" as "warn"],
    captureNetwork: true,
    maxBufferBytes: -1,
    inactivityTimeoutMs: 1000,
  });
  assert.equal(o.source, "shop");
  assert.equal(o.requireConsent, true);
  assert.equal(o.respectGlobalPrivacyControl, false);
  assert.equal(o.sampleRate, 1);
  assert.deepEqual(o.url, { query: true, hash: true });
  assert.equal(o.maskAllInputs, false);
  assert.equal(o.captureErrors, false);
  assert.deepEqual(o.consoleLevels, ["warn", "error"]);
  assert.equal(o.captureNetwork, true);
  assert.equal(
    o.maxBufferBytes,
    5_000_000,
    "non-positive bound falls back to the default",
  );
  assert.equal(o.inactivityTimeoutMs, 1000);
  assert.equal(resolveOptions({ ...base, sampleRate: -0.5 }).sampleRate, 0);
  assert.equal(resolveOptions({ ...base, sampleRate: NaN }).sampleRate, 1);
  assert.deepEqual(
    resolveOptions({ ...base, captureConsole: true }).consoleLevels,
    [
      "log",
      "info",
      "warn",
      "error",
      "debug",
    ],
  );
});

Deno.test("resolveOptions rejects a missing endpoint or project key", () => {
  assert.throws(() => resolveOptions({ projectKey: "pk" } as never), TypeError);
  assert.throws(
    () => resolveOptions({ endpoint: "ftp://x", projectKey: "pk" }),
    TypeError,
  );
  assert.throws(
    () => resolveOptions({ endpoint: "https://x" } as never),
    /projectKey/,
  );
  assert.throws(() => resolveOptions(undefined as never), TypeError);
});

Deno.test("buildRecordOptions wires privacy classes and masks every input by default", () => {
  const emit = () => {};
  const r = buildRecordOptions(resolveOptions(base), emit);
  assert.equal(r.emit, emit);
  assert.equal(r.blockClass, "replaya-block");
  assert.equal(r.blockSelector, "[data-replaya-block]");
  assert.equal(r.ignoreClass, "replaya-ignore");
  assert.equal(r.maskTextClass, "replaya-mask");
  assert.equal(r.maskTextSelector, "[data-replaya-mask]");
  assert.ok(!("maskAllInputs" in r), "the policy is maskInputOptions alone, not rrweb's own list");
  for (
    const t of [
      "text",
      "email",
      "password",
      "textarea",
      "select",
      "number",
      "tel",
      "search",
    ]
  ) {
    assert.equal(r.maskInputOptions[t], true, `${t} masked`);
  }
  assert.equal(r.maskInputOptions.checkbox, undefined, "a checkbox's state is not a typed value");
  assert.equal(r.maskInputOptions.radio, undefined);
  assert.equal(r.recordCanvas, false);
  assert.equal(r.collectFonts, false);
  assert.equal(r.recordCrossOriginIframes, false);
  assert.deepEqual(r.plugins, []);
  assert.equal(r.sampling.input, "all", "typing is recorded as it happens");
  assert.deepEqual(
    Object.fromEntries(Object.entries(PRIVACY).filter(([k]) => k in r)),
    PRIVACY,
  );
});

Deno.test("buildRecordOptions still masks passwords when maskAllInputs is off", () => {
  const r = buildRecordOptions({ maskAllInputs: false }, () => {});
  assert.deepEqual(r.maskInputOptions, { password: true });
});

Deno.test("RECORDER_VERSION matches recorder/deno.json", () => {
  assert.equal(RECORDER_VERSION, config.version);
  assert.equal(config.name, "@replaya/recorder");
});
