import assert from "node:assert/strict";
import { snippet, type SnippetInitOptions } from "../../recorder/src/snippet.ts";
import type { InitOptions } from "../../recorder/src/api.ts";

/**
 * SnippetInitOptions is written out (the published declaration files may import nothing), so the compiler holds
 * it to InitOptions here: the same keys, the same types.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAsInitOptions: Same<SnippetInitOptions, Pick<InitOptions, keyof SnippetInitOptions>> = true;

Deno.test("snippet options are InitOptions' plain values (checked by the compiler)", () => {
  assert.equal(sameAsInitOptions, true);
});

Deno.test("snippet renders the one-line async loader", () => {
  assert.equal(
    snippet({ endpoint: "https://replay.example.com", projectKey: "pk_..." }),
    '<script>window.replaya=window.replaya||function(){(replaya.q=replaya.q||[]).push(arguments)};replaya("init",{endpoint:"https://replay.example.com",projectKey:"pk_..."});</script><script async src="https://replay.example.com/recorder.js"></script>',
  );
});

Deno.test("snippet trims the endpoint slash and honours scriptUrl", () => {
  const html = snippet({
    endpoint: "https://r.example.com/",
    projectKey: "pk_1",
    scriptUrl: "https://cdn.example.com/r.js?v=1&x=2",
  });
  assert.ok(html.includes('endpoint:"https://r.example.com"'));
  assert.ok(
    html.endsWith(
      '<script async src="https://cdn.example.com/r.js?v=1&amp;x=2"></script>',
    ),
  );
});

Deno.test("snippet escapes values that could break out of the script", () => {
  const html = snippet({
    endpoint: "https://x",
    projectKey: '</script><script>alert(1)</script>"',
  });
  assert.equal(
    html.match(/<\/script>/g)?.length,
    2,
    "only the snippet's own closing tags",
  );
  // The stub's JS still evaluates to the original key.
  const js = html.slice("<script>".length, html.indexOf("</script>"));
  const calls: unknown[][] = [];
  new Function(
    "window",
    "replaya",
    js.replace(/^window\.replaya=.*?;replaya\(/, "replaya("),
  )(
    {},
    (...a: unknown[]) => calls.push(a),
  );
  assert.deepEqual(calls, [["init", {
    endpoint: "https://x",
    projectKey: '</script><script>alert(1)</script>"',
  }]]);
});

Deno.test("the snippet's stub queues calls for the real script", () => {
  const html = snippet({ endpoint: "https://x", projectKey: "pk" });
  const js = html.slice("<script>".length, html.indexOf("</script>"));
  const win: Record<string, unknown> = {};
  // Run the stub with `window` and the global `replaya` bound to one object.
  new Function(
    "window",
    `with (window) { ${js} replaya("track", "early", {a: 1}); }`,
  )(
    new Proxy(win, {
      has: () => true,
      get: (t, k) => k === "window" ? t : t[k as string],
      set: (t, k, v) => ((t[k as string] = v), true),
    }),
  );
  const q = (win.replaya as { q: ArrayLike<unknown>[] }).q;
  assert.deepEqual(Array.from(q, (a) => Array.from(a)), [
    ["init", { endpoint: "https://x", projectKey: "pk" }],
    ["track", "early", { a: 1 }],
  ]);
});

/** Runs a snippet's inline script with a stub global; returns the calls it queued. */
function queued(html: string): unknown[][] {
  const js = html.slice(html.indexOf(">") + 1, html.indexOf("</script>"));
  const win: Record<string, unknown> = {};
  new Function("window", `with (window) { ${js} }`)(
    new Proxy(win, {
      has: () => true,
      get: (t, k) => k === "window" ? t : t[k as string],
      set: (t, k, v) => ((t[k as string] = v), true),
    }),
  );
  return Array.from((win.replaya as { q: ArrayLike<unknown>[] }).q, (a) => Array.from(a));
}

Deno.test("snippet carries more init options, one line or several, with the same meaning", () => {
  const init = {
    captureConsole: ["warn", "error"] as ("warn" | "error")[],
    captureNetwork: true,
    requireConsent: true,
    sampleRate: 0.25,
    source: "shop, web",
    maskAllInputs: undefined,
  };
  const one = snippet({ endpoint: "https://r.example", projectKey: "pk_1", init });
  const many = snippet({ endpoint: "https://r.example", projectKey: "pk_1", init, multiline: true });
  const expected = [["init", {
    endpoint: "https://r.example",
    projectKey: "pk_1",
    captureConsole: ["warn", "error"],
    captureNetwork: true,
    requireConsent: true,
    sampleRate: 0.25,
    source: "shop, web",
  }]];
  assert.deepEqual(queued(one), expected);
  assert.deepEqual(queued(many), expected);
  assert.equal(one.split("\n").length, 1);
  assert.ok(many.split("\n").every((line) => line.length <= 100), "every line is short");
  assert.ok(many.includes('\n    projectKey: "pk_1",\n'), "the key on a line of its own");
  assert.ok(many.endsWith('<script async src="https://r.example/recorder.js"></script>'));
});

Deno.test("snippet init options cannot replace the endpoint or key, or inject code through a name", () => {
  const html = snippet({
    endpoint: "https://r.example",
    projectKey: "pk_1",
    init: { endpoint: "https://evil", projectKey: "pk_evil", "a}));alert(1);(({": true } as never,
  });
  assert.deepEqual(queued(html), [["init", { endpoint: "https://r.example", projectKey: "pk_1" }]]);
});
