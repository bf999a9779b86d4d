import assert from "node:assert/strict";
import { installConsoleCapture, MAX_CONSOLE_MESSAGE } from "../../recorder/src/capture/console.ts";
import { installErrorCapture } from "../../recorder/src/capture/errors.ts";
import { describeError, formatValue } from "../../recorder/src/capture/format.ts";
import { installNetworkCapture, type NetworkTarget } from "../../recorder/src/capture/network.ts";
import { settle } from "./_helpers.ts";

const strict = { query: false, hash: false };

Deno.test("formatValue renders anything without throwing", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(formatValue("s"), "s");
  assert.equal(formatValue(new RangeError("r")), "RangeError: r");
  assert.equal(formatValue({ a: [1, 2] }), '{"a":[1,2]}');
  assert.equal(formatValue(circular), "[object Object]");
  assert.equal(formatValue(undefined), "undefined");
  assert.equal(formatValue(10n), "10");
  assert.deepEqual(describeError("plain"), { message: "plain" });
  const e = describeError(new Error("m"));
  assert.equal(e.message, "Error: m");
  assert.ok(e.stack?.includes("capture_test"));
});

Deno.test("console capture records chosen levels, truncates, and still logs", () => {
  const calls: unknown[][] = [];
  const con = {
    log: (...a: unknown[]) => void calls.push(["log", ...a]),
    warn: (...a: unknown[]) => void calls.push(["warn", ...a]),
    error: (...a: unknown[]) => void calls.push(["error", ...a]),
  };
  const originalLog = con.log;
  const recorded: Record<string, unknown>[] = [];
  const undo = installConsoleCapture(
    con,
    ["warn", "error"],
    (p) => recorded.push(p),
    strict,
  );
  con.log("not captured");
  con.warn("careful", { n: 1 }, "https://a.com/x?secret=1");
  con.error("e".repeat(5000));
  assert.deepEqual(calls[0], ["log", "not captured"]);
  assert.deepEqual(
    calls[1],
    ["warn", "careful", { n: 1 }, "https://a.com/x?secret=1"],
    "host sees the original arguments",
  );
  assert.equal(calls[2][1], "e".repeat(5000));
  assert.deepEqual(recorded[0], {
    level: "warn",
    message: 'careful {"n":1} https://a.com/x',
  });
  assert.equal(recorded[1].level, "error");
  assert.equal((recorded[1].message as string).length, MAX_CONSOLE_MESSAGE);
  assert.equal(recorded.length, 2);
  undo();
  assert.equal(con.log, originalLog);
  con.warn("after");
  assert.equal(recorded.length, 2, "uninstalled");
});

Deno.test("console capture survives a throwing recorder and does not recurse", () => {
  const out: string[] = [];
  const con = { warn: (m: unknown) => void out.push(String(m)) };
  let depth = 0;
  const undo = installConsoleCapture(con, ["warn"], () => {
    depth++;
    con.warn("from inside the recorder");
    throw new Error("recorder bug");
  }, strict);
  con.warn("host message");
  assert.equal(depth, 1);
  assert.deepEqual(out, ["from inside the recorder", "host message"]);
  undo();
});

Deno.test("error capture records benign browser messages as console warnings, not errors", () => {
  const target = new EventTarget();
  const errors: Record<string, unknown>[] = [];
  const consoleLines: Record<string, unknown>[] = [];
  const undo = installErrorCapture(target, (p) => errors.push(p), (p) => consoleLines.push(p), strict);
  for (
    const message of [
      "ResizeObserver loop completed with undelivered notifications.",
      "ResizeObserver loop limit exceeded",
      "Uncaught ResizeObserver loop completed with undelivered notifications.",
    ]
  ) target.dispatchEvent(new ErrorEvent("error", { message }));
  target.dispatchEvent(new ErrorEvent("error", { message: "ResizeObserver is not defined" }));
  assert.deepEqual(errors.map((e) => e.message), ["ResizeObserver is not defined"], "a real error stays an error");
  assert.equal(consoleLines.length, 3);
  assert.ok(consoleLines.every((c) => c.level === "warn" && c.benign === true));
  undo();
});

Deno.test("error capture records errors and rejections with stripped URLs", () => {
  const target = new EventTarget();
  const recorded: Record<string, unknown>[] = [];
  const undo = installErrorCapture(target, (p) => recorded.push(p), () => {}, strict);
  const err = new TypeError("boom at https://a.com/p?token=1");
  target.dispatchEvent(
    new ErrorEvent("error", {
      message: "Uncaught TypeError: boom at https://a.com/p?token=1",
      error: err,
      filename: "https://a.com/app.js?v=9#x",
      lineno: 3,
      colno: 7,
    }),
  );
  const rejection = new Event("unhandledrejection") as Event & {
    reason: unknown;
  };
  rejection.reason = new Error("nope");
  target.dispatchEvent(rejection);
  const odd = new Event("unhandledrejection") as Event & { reason: unknown };
  odd.reason = { code: 42 };
  target.dispatchEvent(odd);
  assert.equal(recorded.length, 3);
  assert.equal(recorded[0].kind, "error");
  assert.equal(
    recorded[0].message,
    "Uncaught TypeError: boom at https://a.com/p",
  );
  assert.equal(recorded[0].source, "https://a.com/app.js");
  assert.equal(recorded[0].line, 3);
  assert.equal(recorded[0].column, 7);
  assert.ok(
    typeof recorded[0].stack === "string" &&
      !(recorded[0].stack as string).includes("?token"),
  );
  assert.equal(recorded[1].kind, "unhandledrejection");
  assert.equal(recorded[1].message, "Error: nope");
  assert.equal(recorded[2].message, '{"code":42}');
  undo();
  target.dispatchEvent(new ErrorEvent("error", { message: "later" }));
  assert.equal(recorded.length, 3, "uninstalled");
});

Deno.test("network capture records fetch metadata without query, skips the endpoint", async () => {
  let now = 1000;
  const target: NetworkTarget = {
    fetch: ((input: RequestInfo | URL) => {
      now += 25;
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes("fail")) {
        return Promise.reject(new TypeError("Failed to fetch"));
      }
      return Promise.resolve(
        new Response("body is never read", {
          status: url.includes("missing") ? 404 : 200,
        }),
      );
    }) as typeof fetch,
  };
  const original = target.fetch;
  const recorded: Record<string, unknown>[] = [];
  const undo = installNetworkCapture(target, (p) => recorded.push(p), {
    now: () => now,
    resolve: (u) => new URL(u, "https://app.example.com/page").href,
    ignore: (u) => u.startsWith("https://replay.example.com/api/"),
  });
  const res = await target.fetch!("/api/items?user=me#x", { method: "post" });
  assert.equal(
    await res.text(),
    "body is never read",
    "the app still gets its response",
  );
  await target.fetch!(new Request("https://other.com/missing?k=1"));
  await assert.rejects(target.fetch!("https://other.com/fail"));
  await target.fetch!("https://replay.example.com/api/sessions/s1/events");
  await settle();
  assert.deepEqual(recorded, [
    {
      type: "fetch",
      method: "POST",
      url: "https://app.example.com/api/items",
      status: 200,
      durationMs: 25,
    },
    {
      type: "fetch",
      method: "GET",
      url: "https://other.com/missing",
      status: 404,
      durationMs: 25,
    },
    {
      type: "fetch",
      method: "GET",
      url: "https://other.com/fail",
      status: 0,
      durationMs: 25,
      error: true,
    },
  ]);
  undo();
  assert.equal(target.fetch, original);
});

Deno.test("network capture records XHR metadata on loadend", () => {
  class FakeXHR extends EventTarget {
    status = 0;
    open(_method: string, _url: string) {}
    send() {
      this.status = 201;
      this.dispatchEvent(new Event("loadend"));
    }
  }
  const target = {
    XMLHttpRequest: FakeXHR as unknown as { prototype: XMLHttpRequest },
  };
  const { open, send } = FakeXHR.prototype;
  const recorded: Record<string, unknown>[] = [];
  const undo = installNetworkCapture(target, (p) => recorded.push(p), {
    now: () => 0,
    resolve: (u) => u,
    ignore: (u) => u.includes("/ingest/"),
  });
  const x = new FakeXHR();
  x.open("put", "https://a.com/save?draft=1");
  x.send();
  const own = new FakeXHR();
  own.open("POST", "https://r/ingest/x");
  own.send();
  assert.deepEqual(recorded, [{
    type: "xhr",
    method: "PUT",
    url: "https://a.com/save",
    status: 201,
    durationMs: 0,
  }]);
  assert.notEqual(FakeXHR.prototype.open, open);
  undo();
  assert.equal(FakeXHR.prototype.open, open, "prototype restored");
  assert.equal(FakeXHR.prototype.send, send);
});

Deno.test("network capture records the response size: resource timing first, Content-Length otherwise, none when unknown", async () => {
  const entries = new Map<string, Array<{ encodedBodySize: number; requestStart: number }>>([
    // Same origin: a readable entry (a real empty body counts as 0).
    ["https://app.example.com/a.json", [{ encodedBodySize: 1234, requestStart: 5 }]],
    ["https://app.example.com/empty", [{ encodedBodySize: 0, requestStart: 5 }]],
    // Cross-origin without Timing-Allow-Origin: every figure withheld (0), so Content-Length decides.
    ["https://cdn.example.net/b.js", [{ encodedBodySize: 0, requestStart: 0 }]],
  ]);
  const target: NetworkTarget = {
    fetch: ((input: RequestInfo | URL) => {
      const url = String(input);
      const headers: Record<string, string> = url.includes("b.js") || url.includes("a.json")
        ? { "content-length": "99" }
        : url.includes("bad-length")
        ? { "content-length": "12, 12" }
        : {};
      return Promise.resolve(new Response(null, { status: 200, headers }));
    }) as typeof fetch,
    performance: { getEntriesByName: (name: string) => entries.get(name) ?? [] },
  };
  const recorded: Record<string, unknown>[] = [];
  const undo = installNetworkCapture(target, (p) => recorded.push(p), {
    now: () => 0,
    resolve: (u) => u,
    ignore: () => false,
  });
  for (
    const url of ["https://app.example.com/a.json", "https://app.example.com/empty", "https://cdn.example.net/b.js"]
  ) {
    await target.fetch!(url);
  }
  // The second request to a.json finds its entry already taken by the first: Content-Length.
  await target.fetch!("https://app.example.com/a.json");
  await target.fetch!("https://app.example.com/bad-length");
  await target.fetch!("https://app.example.com/nothing");
  await settle();
  assert.deepEqual(recorded.map((p) => [p.url, p.size]), [
    ["https://app.example.com/a.json", 1234],
    ["https://app.example.com/empty", 0],
    ["https://cdn.example.net/b.js", 99],
    ["https://app.example.com/a.json", 99],
    ["https://app.example.com/bad-length", undefined],
    ["https://app.example.com/nothing", undefined],
  ]);
  assert.ok(recorded.every((p) => p.size === undefined ? !("size" in p) : true), "unknown sizes are left out");
  undo();
});

Deno.test("network capture: XHR sizes from Content-Length; a throwing performance API leaves the size out", () => {
  class FakeXHR extends EventTarget {
    status = 0;
    length: string | null = null;
    open(_method: string, url: string) {
      this.length = url.includes("sized") ? "2048" : null;
    }
    send() {
      this.status = 200;
      this.dispatchEvent(new Event("loadend"));
    }
    getResponseHeader(name: string) {
      return name === "content-length" ? this.length : null;
    }
  }
  const target: NetworkTarget = {
    XMLHttpRequest: FakeXHR as unknown as { prototype: XMLHttpRequest },
    performance: {
      getEntriesByName: () => {
        throw new Error("not here");
      },
    },
  };
  const recorded: Record<string, unknown>[] = [];
  const undo = installNetworkCapture(target, (p) => recorded.push(p), {
    now: () => 0,
    resolve: (u) => u,
    ignore: () => false,
  });
  for (const url of ["https://a.com/sized", "https://a.com/plain"]) {
    const x = new FakeXHR();
    x.open("GET", url);
    x.send();
  }
  assert.deepEqual(recorded.map((p) => p.size), [2048, undefined]);
  undo();
});
