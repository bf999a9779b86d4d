import assert from "node:assert/strict";
import { installNavigationCapture, type NavigationTarget } from "../../recorder/src/capture/navigation.ts";
import { resolveOptions } from "../../recorder/src/options.ts";
import { Recorder, type RecorderEnv } from "../../recorder/src/recorder.ts";
import { memoryStorage } from "../../recorder/src/session.ts";
import { eventsOf, FakeClock, FakeServer, type SeenRequest } from "./_helpers.ts";

/** A window double: location, a history whose methods move it, and events. */
function fakeWindow(href = "https://shop.example.com/") {
  const events = new EventTarget();
  const location = { href };
  const calls: unknown[][] = [];
  const move = (url?: string | URL | null) => {
    if (url !== undefined && url !== null) location.href = new URL(String(url), location.href).href;
  };
  const history = {
    state: null as unknown,
    pushState(state: unknown, _unused: string, url?: string | URL | null) {
      if (String(url).startsWith("https://evil.example")) throw new DOMException("cross-origin", "SecurityError");
      calls.push(["push", url]);
      this.state = state;
      move(url);
      return "native-result";
    },
    replaceState(state: unknown, _unused: string, url?: string | URL | null) {
      calls.push(["replace", url]);
      this.state = state;
      move(url);
    },
  };
  const target = {
    history: history as unknown as History,
    location,
    addEventListener: (type: string, fn: () => void) => events.addEventListener(type, fn),
    removeEventListener: (type: string, fn: () => void) => events.removeEventListener(type, fn),
  } satisfies NavigationTarget;
  /** The browser moving the page itself (back button, link to a fragment). */
  const browse = (url: string, type: "popstate" | "hashchange") => {
    move(url);
    events.dispatchEvent(new Event(type));
  };
  return { target, history, location, calls, browse };
}

Deno.test("navigation capture: each new URL once, page calls unchanged", () => {
  const w = fakeWindow();
  const seen: string[] = [];
  const original = w.history.pushState;
  const remove = installNavigationCapture(w.target, (href) => seen.push(href));
  assert.notEqual(w.history.pushState, original, "wrapped");
  const result = w.target.history.pushState({ a: 1 }, "", "/products?id=7#top");
  assert.equal(result, "native-result", "return value kept");
  assert.deepEqual(w.history.state, { a: 1 }, "state and this kept");
  w.target.history.pushState({ a: 2 }, "", "/products?id=7#top"); // same URL
  w.target.history.replaceState({ a: 3 }, ""); // no URL: unchanged
  w.target.history.replaceState({ a: 4 }, "", "/products?id=7#top"); // same URL
  w.target.history.replaceState(null, "", "/cart");
  w.browse("https://shop.example.com/products?id=7#top", "popstate");
  w.browse("https://shop.example.com/products?id=7#reviews", "hashchange");
  w.browse("https://shop.example.com/products?id=7#reviews", "popstate"); // fires with hashchange
  assert.deepEqual(seen, [
    "https://shop.example.com/products?id=7#top",
    "https://shop.example.com/cart",
    "https://shop.example.com/products?id=7#top",
    "https://shop.example.com/products?id=7#reviews",
  ]);
  assert.equal(w.calls.length, 5, "every page call reached the original");

  remove();
  assert.equal(w.history.pushState, original, "original put back");
  w.target.history.pushState(null, "", "/after");
  w.browse("https://shop.example.com/back", "popstate");
  assert.equal(seen.length, 4, "nothing after removal");
});

Deno.test("navigation capture: a throwing pushState throws as before; a throwing listener never does", () => {
  const w = fakeWindow();
  const seen: string[] = [];
  const remove = installNavigationCapture(w.target, (href) => {
    seen.push(href);
    throw new Error("listener bug");
  });
  assert.throws(() => w.target.history.pushState(null, "", "https://evil.example/"), { name: "SecurityError" });
  assert.deepEqual(seen, []);
  w.target.history.pushState(null, "", "/ok");
  assert.deepEqual(seen, ["https://shop.example.com/ok"], "the page's navigation went through");
  remove();
});

Deno.test("navigation capture: installing twice reports once; a wrapper added later stays and ours goes inert", () => {
  const w = fakeWindow();
  const seen: string[] = [];
  const removeA = installNavigationCapture(w.target, (href) => seen.push(`a ${href}`));
  const removeB = installNavigationCapture(w.target, (href) => seen.push(`b ${href}`));
  w.target.history.pushState(null, "", "/one");
  assert.deepEqual(seen.filter((s) => s.startsWith("a")), ["a https://shop.example.com/one"]);
  removeB();
  removeA();
  // Another script wraps after us, then we are removed: its wrapper must survive.
  const removeC = installNavigationCapture(w.target, (href) => seen.push(`c ${href}`));
  const ours = w.history.pushState;
  let theirs = 0;
  w.history.pushState = function (this: unknown, ...args: Parameters<typeof ours>) {
    theirs++;
    return ours.apply(this, args);
  };
  const theirWrapper = w.history.pushState;
  removeC();
  assert.equal(w.history.pushState, theirWrapper);
  const before = seen.length;
  w.target.history.pushState(null, "", "/two");
  assert.equal(theirs, 1);
  assert.equal(seen.length, before, "our wrapper under theirs reports nothing");
  assert.equal(w.location.href, "https://shop.example.com/two");
});

/** A recorder over the fake window, a fake rrweb that emits meta + snapshot, and a fake server. */
function recorderPage(href: string) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const w = fakeWindow(href);
  const rrweb = { emit: undefined as undefined | ((e: { type: number; timestamp: number; data: unknown }) => void) };
  const snapshot = () => {
    rrweb.emit?.({ type: 4, timestamp: clock.now(), data: { href: w.location.href, width: 800, height: 600 } });
    rrweb.emit?.({ type: 2, timestamp: clock.now(), data: { node: { id: 1 } } });
  };
  const env: RecorderEnv = {
    clock,
    random: () => 0.5,
    id: () => "writer-1",
    fetch: server.fetch,
    storage: memoryStorage(),
    record: {
      start(options) {
        rrweb.emit = options.emit;
        snapshot();
        return () => (rrweb.emit = undefined);
      },
      takeFullSnapshot: snapshot,
    },
    warn: () => {},
    page: () => ({
      url: w.location.href,
      referrer: "",
      userAgent: "FakeBrowser/1",
      viewport: { width: 1024, height: 700 },
      screen: { width: 1920, height: 1080 },
      language: "en",
      timezone: "UTC",
    }),
    href: () => w.location.href,
    gpc: () => false,
    isVisible: () => true,
    listen: () => () => {},
    navigationTarget: w.target,
    resolveUrl: (u) => u,
  };
  return { clock, server, w, env };
}

/** Page views sent: rrweb's Meta on a page load, `replaya.page` for an in-page navigation. */
function pageViews(batches: SeenRequest[]): Array<{ kind: string; href: unknown; timestamp: number }> {
  return batches.flatMap(eventsOf).flatMap((e) =>
    e.type === 4
      ? [{ kind: "meta", href: e.data?.href, timestamp: e.timestamp }]
      : e.type === 5 && e.data?.tag === "replaya.page"
      ? [{ kind: "page", href: e.data.payload?.href, timestamp: e.timestamp }]
      : []
  );
}

Deno.test("recorder: in-page navigations are replaya.page events, scrubbed like a page load", async () => {
  const p = recorderPage("https://shop.example.com/?ref=mail#intro");
  const rec = new Recorder(resolveOptions({ endpoint: "https://replay.example.com", projectKey: "pk" }), p.env);
  rec.start();
  const history = p.w.target.history;
  history.pushState(null, "", "/products?token=SECRET#details");
  p.clock.t += 10;
  history.pushState(null, "", "/products?token=OTHER"); // same page once scrubbed
  history.replaceState(null, "", "/products?token=OTHER"); // same URL: nothing
  history.pushState(null, "", "/cart#step2");
  p.w.browse("https://shop.example.com/cart#step3", "hashchange"); // fragment only: same page scrubbed
  p.w.browse("https://shop.example.com/products?token=SECRET#details", "popstate");
  await p.clock.advance(1000);
  const views = pageViews(p.server.batches);
  assert.deepEqual(views.map((v) => `${v.kind} ${v.href}`), [
    "meta https://shop.example.com/",
    "page https://shop.example.com/products",
    "page https://shop.example.com/cart",
    "page https://shop.example.com/products",
  ]);
  assert.equal(views[1].timestamp, views[0].timestamp, "stamped at the navigation");
  assert.equal(views[2].timestamp, views[0].timestamp + 10);
  const page = p.server.batches.flatMap(eventsOf).find((e) => e.data?.tag === "replaya.page")!;
  assert.deepEqual(page.data?.payload, { href: "https://shop.example.com/products" }, "the URL and nothing else");
  const body = p.server.batches.map((b) => b.body).join("");
  assert.ok(
    !body.includes("SECRET") && !body.includes("OTHER") && !body.includes("step"),
    "nothing of queries or fragments",
  );

  // stop() puts history back; start() records a new session that follows navigations again.
  const wrapped = p.w.history.pushState;
  await rec.stop();
  assert.notEqual(p.w.history.pushState, wrapped, "history restored on stop");
  history.pushState(null, "", "/while-stopped");
  rec.start();
  assert.equal(rec.state, "recording");
  history.pushState(null, "", "/after-restart?x=1");
  await p.clock.advance(1000);
  const after = pageViews(p.server.batches.filter((b) => b.path.includes("/s2/")));
  assert.deepEqual(after.map((v) => `${v.kind} ${v.href}`), [
    "meta https://shop.example.com/while-stopped",
    "page https://shop.example.com/after-restart",
  ]);
});

Deno.test("recorder: allowUrlQuery/allowUrlHash keep them on in-page navigations too", async () => {
  const p = recorderPage("https://docs.example.com/guide");
  const rec = new Recorder(
    resolveOptions({
      endpoint: "https://replay.example.com",
      projectKey: "pk",
      allowUrlQuery: true,
      allowUrlHash: true,
    }),
    p.env,
  );
  rec.start();
  p.w.target.history.pushState(null, "", "/guide?lang=de");
  p.w.browse("https://docs.example.com/guide?lang=de#install", "hashchange");
  await p.clock.advance(1000);
  assert.deepEqual(pageViews(p.server.batches).map((v) => v.href), [
    "https://docs.example.com/guide",
    "https://docs.example.com/guide?lang=de",
    "https://docs.example.com/guide?lang=de#install",
  ]);
});

Deno.test("recorder: autoStart false records nothing before start(); flush sends at once", async () => {
  const p = recorderPage("https://shop.example.com/");
  const rec = new Recorder(
    resolveOptions({ endpoint: "https://replay.example.com", projectKey: "pk", autoStart: false }),
    p.env,
  );
  // What mod.ts does: no start() when autoStart is false.
  p.w.target.history.pushState(null, "", "/early");
  await p.clock.advance(5000);
  assert.equal(p.server.requests.length, 0, "nothing recorded or sent");
  assert.equal(rec.state, "idle");
  rec.start();
  rec.start(); // twice: still one session
  await p.clock.advance(0);
  assert.equal(p.server.starts.length, 1);
  await p.clock.advance(1000);
  const sent = p.server.batches.length;
  p.w.target.history.pushState(null, "", "/next");
  await rec.flush();
  assert.equal(p.server.batches.length, sent + 1, "flush sent before any timer fired");
  assert.equal(p.server.batches.at(-1)!.keepalive, true, "as a keepalive request");
  assert.deepEqual(pageViews([p.server.batches.at(-1)!]).map((v) => v.href), ["https://shop.example.com/next"]);
});
