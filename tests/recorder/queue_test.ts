import assert from "node:assert/strict";
import {
  type Core,
  createClient,
  dispatch,
  installGlobal,
  MAX_EARLY_CALLS,
  type ReplayaApi,
} from "../../recorder/src/queue.ts";

function recordingCore(log: unknown[][]): Core {
  return {
    identify: (...a) => void log.push(["identify", ...a]),
    track: (...a) => void log.push(["track", ...a]),
    consent: (...a) => void log.push(["consent", ...a]),
    start: () => void log.push(["start"]),
    flush: () => (log.push(["flush"]), Promise.resolve()),
    stop: () => (log.push(["stop"]), Promise.resolve()),
  };
}

Deno.test("calls before init are replayed in order after init", () => {
  const log: unknown[][] = [];
  const client = createClient(() => recordingCore(log), () => {});
  client.consent(true);
  client.identify("u1", { plan: "pro" });
  client.track("a");
  client.track("b", { n: 1 });
  assert.deepEqual(log, [], "nothing runs before init");
  client.init({ endpoint: "https://x", projectKey: "pk" });
  assert.deepEqual(log, [
    ["consent", true],
    ["identify", "u1", { plan: "pro" }],
    ["track", "a"],
    ["track", "b", { n: 1 }],
  ]);
  client.track("c");
  assert.deepEqual(
    log.at(-1),
    ["track", "c"],
    "after init calls go straight through",
  );
});

Deno.test("init runs once; a throwing or disabled core is contained", async () => {
  let made = 0;
  const warnings: string[] = [];
  const client = createClient(() => {
    made++;
    throw new TypeError("replaya: `endpoint` must be an http(s) URL");
  }, (m) => warnings.push(m));
  client.track("early");
  client.init({} as never);
  client.init({} as never);
  assert.equal(made, 1);
  assert.deepEqual(warnings, ["replaya: `endpoint` must be an http(s) URL"]);
  client.track("ignored");
  await client.stop();

  const disabled = createClient(() => undefined, () => {});
  disabled.init({ endpoint: "https://x", projectKey: "pk" });
  disabled.identify("u");
  await disabled.stop();
});

Deno.test("errors thrown by the core never reach the caller", async () => {
  const warnings: string[] = [];
  const client = createClient(() => ({
    identify() {
      throw new Error("boom");
    },
    track() {},
    consent() {},
    start() {},
    flush: () => Promise.reject(new Error("nope")),
    stop: () => Promise.reject(new Error("nope")),
  }), (m) => warnings.push(m));
  client.init({ endpoint: "https://x", projectKey: "pk" });
  client.identify("u");
  assert.deepEqual(warnings, ["replaya: boom"]);
  await client.flush();
  return client.stop(); // resolves even though the core rejected
});

Deno.test("early calls are bounded", () => {
  const log: unknown[][] = [];
  const client = createClient(() => recordingCore(log), () => {});
  for (let i = 0; i < MAX_EARLY_CALLS + 50; i++) client.track(`e${i}`);
  client.init({ endpoint: "https://x", projectKey: "pk" });
  assert.equal(log.length, MAX_EARLY_CALLS);
  assert.deepEqual(log[0], ["track", "e0"]);
});

function spyApi(log: unknown[][]): ReplayaApi {
  return {
    init: (o) => void log.push(["init", o]),
    identify: (...a) => void log.push(["identify", ...a]),
    track: (...a) => void log.push(["track", ...a]),
    consent: (...a) => void log.push(["consent", ...a]),
    start: () => void log.push(["start"]),
    flush: () => (log.push(["flush"]), Promise.resolve()),
    stop: () => (log.push(["stop"]), Promise.resolve()),
  };
}

Deno.test("dispatch maps commands and ignores unknown ones", () => {
  const log: unknown[][] = [];
  const api = spyApi(log);
  dispatch(api, "track", ["x", { a: 1 }]);
  dispatch(api, "nonsense", [1]);
  dispatch(api, 42, []);
  assert.ok(dispatch(api, "stop", []) instanceof Promise);
  dispatch(api, "start", []);
  assert.ok(dispatch(api, "flush", []) instanceof Promise);
  assert.deepEqual(log, [["track", "x", { a: 1 }], ["stop"], ["start"], ["flush"]]);
});

Deno.test("start and flush queued before init run after it, in order", () => {
  const log: unknown[][] = [];
  const client = createClient(() => recordingCore(log), () => {});
  client.start();
  client.track("a");
  client.flush();
  client.init({ endpoint: "https://x", projectKey: "pk" });
  assert.deepEqual(log, [["start"], ["track", "a"], ["flush"]]);
});

Deno.test("installGlobal replaces the loader stub and drains its queue in order", () => {
  // Exactly what the snippet does: push `arguments` objects onto replaya.q.
  const host: Record<string, unknown> = {};
  const stub = function (..._args: unknown[]) {
    ((stub as unknown as { q: unknown[] }).q ||= []).push(arguments);
  };
  host.replaya = stub;
  stub("init", { endpoint: "https://x", projectKey: "pk" });
  stub("identify", "u1", { a: 1 });
  stub("bogus");
  stub("track", "t1");
  stub("consent", false);
  const log: unknown[][] = [];
  installGlobal(host, spyApi(log));
  assert.deepEqual(log, [
    ["init", { endpoint: "https://x", projectKey: "pk" }],
    ["identify", "u1", { a: 1 }],
    ["track", "t1"],
    ["consent", false],
  ]);
  const real = host.replaya as (c: string, ...a: unknown[]) => unknown;
  assert.notEqual(real, stub);
  real("track", "t2");
  assert.deepEqual(log.at(-1), ["track", "t2"]);

  // Loading the script twice keeps the first installation.
  installGlobal(host, spyApi([]));
  assert.equal(host.replaya, real);
});

Deno.test("installGlobal works without a stub and survives a throwing API", () => {
  const host: Record<string, unknown> = {};
  const api = spyApi([]);
  api.track = () => {
    throw new Error("x");
  };
  installGlobal(host, api);
  const fn = host.replaya as (c: string, ...a: unknown[]) => unknown;
  assert.equal(fn("track", "a"), undefined);
});
