import assert from "node:assert/strict";
import { attributeName, optionsFromAttributes } from "../../recorder/src/attributes.ts";
import { resolveOptions } from "../../recorder/src/options.ts";
import { scriptTagSnippet } from "../../recorder/src/snippet.ts";

const SRC = "https://replay.example.com/recorder.js";

function read(attrs: Record<string, string>) {
  return (name: string) => (name in attrs ? attrs[name] : null);
}

Deno.test("attributes: every option has its kebab-case data attribute", () => {
  assert.equal(attributeName("projectKey"), "data-project-key");
  assert.equal(attributeName("respectGlobalPrivacyControl"), "data-respect-global-privacy-control");
  const { options, problems } = optionsFromAttributes(
    read({
      "data-endpoint": "https://rec.example.org",
      "data-project-key": "pk_123",
      "data-source": "shop",
      "data-require-consent": "", // bare attribute
      "data-respect-global-privacy-control": "false",
      "data-sample-rate": "0.25",
      "data-allow-url-query": "true",
      "data-allow-url-hash": "false",
      "data-mask-all-inputs": "true",
      "data-capture-errors": "false",
      "data-capture-console": "warn, error",
      "data-capture-network": "",
      "data-max-buffer-bytes": "1000000",
      "data-inactivity-timeout-ms": "60000",
      "data-auto-start": "false",
    }),
    SRC,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(options, {
    endpoint: "https://rec.example.org",
    projectKey: "pk_123",
    source: "shop",
    requireConsent: true,
    respectGlobalPrivacyControl: false,
    sampleRate: 0.25,
    allowUrlQuery: true,
    allowUrlHash: false,
    maskAllInputs: true,
    captureErrors: false,
    captureConsole: ["warn", "error"],
    captureNetwork: true,
    maxBufferBytes: 1_000_000,
    inactivityTimeoutMs: 60_000,
    autoStart: false,
  });
  assert.deepEqual(resolveOptions(options!).consoleLevels, ["warn", "error"]);
});

Deno.test("attributes: the endpoint defaults to the script's origin; no project key means no init", () => {
  assert.deepEqual(optionsFromAttributes(read({ "data-project-key": "pk" }), SRC), {
    options: { projectKey: "pk", endpoint: "https://replay.example.com" },
    problems: [],
  });
  assert.deepEqual(optionsFromAttributes(read({}), SRC), { problems: [] }, "a plain tag: the page calls init");
  assert.deepEqual(optionsFromAttributes(read({ "data-sample-rate": "0.5" }), SRC).problems, [
    "data-project-key is missing",
  ]);
  // A script URL that is no http(s) URL: resolveOptions then refuses the missing endpoint.
  const local = optionsFromAttributes(read({ "data-project-key": "pk" }), "blob:whatever");
  assert.equal(local.options?.endpoint, undefined);
  assert.throws(() => resolveOptions(local.options!), TypeError);
});

Deno.test("attributes: malformed values are left out and named, never thrown", () => {
  const { options, problems } = optionsFromAttributes(
    read({
      "data-project-key": "pk",
      "data-endpoint": "javascript:alert(1)",
      "data-sample-rate": "lots",
      "data-max-buffer-bytes": "-5",
      "data-inactivity-timeout-ms": "",
      "data-require-consent": "yes please",
      "data-capture-console": "warn,shout",
      "data-source": "   ",
      "data-unknown-thing": "ignored",
    }),
    SRC,
  );
  assert.deepEqual(options, { projectKey: "pk", endpoint: "https://replay.example.com" });
  assert.deepEqual(problems, [
    'data-endpoint="javascript:alert(1)"',
    'data-source="   "',
    'data-require-consent="yes please"',
    'data-sample-rate="lots"',
    'data-capture-console="warn,shout"',
    'data-max-buffer-bytes="-5"',
    'data-inactivity-timeout-ms=""',
  ]);
  // A huge value is cut in the warning.
  const long = optionsFromAttributes(read({ "data-project-key": "pk", "data-sample-rate": "9".repeat(10_000) }), SRC);
  assert.ok(long.problems[0].length < 80);
  // A throwing getAttribute is the caller's (iife.ts wraps everything); sources of values never are.
  assert.doesNotThrow(() => optionsFromAttributes(() => null, undefined));
});

Deno.test("scriptTagSnippet: one tag, attributes escaped, read back by optionsFromAttributes", () => {
  const tag = scriptTagSnippet({
    endpoint: "https://replay.example.com/",
    projectKey: 'pk_"x"<',
    init: { requireConsent: true, sampleRate: 0.5, captureConsole: ["warn", "error"], source: undefined },
  });
  assert.equal(
    tag,
    '<script async src="https://replay.example.com/recorder.js" data-endpoint="https://replay.example.com"' +
      ' data-project-key="pk_&quot;x&quot;&lt;" data-require-consent="true" data-sample-rate="0.5"' +
      ' data-capture-console="warn,error"></script>',
  );
  assert.ok(!tag.includes("<script>"), "no inline script");
  const attrs: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(/ (data-[a-z-]+)="([^"]*)"/g)) {
    attrs[name] = value.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&amp;/g, "&");
  }
  assert.deepEqual(optionsFromAttributes(read(attrs), SRC).options, {
    endpoint: "https://replay.example.com",
    projectKey: 'pk_"x"<',
    requireConsent: true,
    sampleRate: 0.5,
    captureConsole: ["warn", "error"],
  });
});
