/**
 * The first frame as static HTML (lib/sessions/first_frame.ts): what a
 * recorded DOM becomes, and what of a hostile one never does.
 */
import assert from "node:assert/strict";
import { firstFrameOf, MAX_FIRST_FRAME_BYTES, snapshotHtml } from "../../lib/sessions/first_frame.ts";
import type { RrwebEvent } from "@replaya/recorder/wire";
import { doc, el, nextId, text } from "../support/nodes.ts";

const page = (head: unknown[], body: unknown[]) =>
  doc(
    { type: 1, name: "html", publicId: "", systemId: "", id: nextId() },
    el("html", {}, [el("head", {}, head), el("body", {}, body)]),
  );

Deno.test("first frame: a recorded page is written back as HTML, its stylesheets inlined", () => {
  const html = snapshotHtml(page(
    [
      el("link", { rel: "stylesheet", href: "https://shop.test/a.css", _cssText: "body { color: red }" }),
      el("style", {}, [text("p::after { content: '</style><script>x()</script>' }", true)]),
      el("title", {}, [text("Shop & <more>")]),
    ],
    [
      el("h1", { class: "title", "data-x": 'a "quoted" <value>' }, [text("Tom & Jerry <3")]),
      el("img", { src: "https://shop.test/logo.png", alt: "logo", srcset: "https://shop.test/a.png 2x" }),
      el("input", { type: "text", value: "***" }),
      el("svg", { viewBox: "0 0 10 10" }, [el("circle", { cx: "5", cy: "5", r: "4" })]),
      el("div", { rr_width: "120px", rr_height: "40px", class: "replaya-block" }),
    ],
  ))!;
  assert.ok(html.startsWith("<!DOCTYPE html><html><head><style>body { color: red }</style>"));
  // CSS is raw text with no `<` in it (`\3c ` is the same character to CSS): nothing can end it early.
  assert.ok(html.includes("<style>p::after { content: '\\3c /style>\\3c script>x()\\3c /script>' }</style>"));
  assert.ok(!/<script/i.test(html.replace(/<style>[^]*?<\/style>/g, "")), "no script element");
  assert.ok(html.includes("<title>Shop &amp; &lt;more&gt;</title>"));
  assert.ok(html.includes('<h1 class="title" data-x="a &quot;quoted&quot; &lt;value&gt;">Tom &amp; Jerry &lt;3</h1>'));
  assert.ok(html.includes('<img src="https://shop.test/logo.png" alt="logo" srcset="https://shop.test/a.png 2x">'));
  assert.ok(html.includes('<input type="text" value="***">'), "void elements are not closed");
  assert.ok(html.includes('<svg viewbox="0 0 10 10"><circle cx="5" cy="5" r="4"></circle></svg>'));
  assert.ok(html.includes('<div class="replaya-block" style="width:120px;height:40px"></div>'), "a blocked box");
});

Deno.test("first frame: what could run, navigate or fetch by itself is not written", () => {
  const html = snapshotHtml(page(
    [
      el("script", { src: "https://evil.test/x.js" }, [text("alert(1)")]),
      el("meta", { "http-equiv": "refresh", content: "0;url=https://evil.test" }),
      el("base", { href: "https://evil.test/" }),
      el("link", { rel: "preload", href: "https://evil.test/track.gif", as: "image" }),
      el("link", { rel: "stylesheet", href: "https://shop.test/b.css" }),
    ],
    [
      el("a", { href: " jav\tascript:alert(1)", onclick: "alert(2)", ONMOUSEOVER: "alert(3)" }, [text("x")]),
      el("iframe", { src: "https://evil.test/", srcdoc: "<script>alert(4)</script>" }, [el("p", {}, [text("in")])]),
      el("object", { data: "https://evil.test/x.swf" }),
      el("embed", { src: "https://evil.test/x.swf" }),
      el("noscript", {}, [el("img", { src: "https://evil.test/pixel.gif" })]),
      el("form", { action: "javascript:alert(5)" }, [el("button", { formaction: "JAVASCRIPT:alert(6)" })]),
      el('img" onerror="alert(7)', { src: "x" }),
      el("img", { 'src" onerror="alert(8)': "x", "a b": "c", "<x": "y" }),
      { type: 5, textContent: "--><script>alert(9)</script>", id: nextId() },
      { type: 4, textContent: "]]><script>alert(10)</script>", id: nextId() },
    ],
  ))!;
  for (
    const bad of ["<script", "alert", "evil.test", "onclick", "onmouseover", "onerror", "srcdoc", "<object", "<embed"]
  ) {
    assert.ok(!html.toLowerCase().includes(bad), `${bad} in ${html}`);
  }
  assert.ok(
    html.includes('<link rel="stylesheet" href="https://shop.test/b.css">'),
    "a stylesheet not inlined still loads",
  );
  assert.ok(!html.includes("<iframe"), "frames go, their source and content with them");
  assert.ok(html.includes("<a>x</a>") && html.includes("<form><button></button></form>"));
});

Deno.test("first frame: the first snapshot after a Meta, in the recorded viewport; none, malformed or too large", () => {
  const at = 1_700_000_000_000;
  const snapshot = page([], [el("p", {}, [text("hello")])]);
  const events = [
    { type: 4, timestamp: at, data: { href: "https://shop.test/", width: 1280.4, height: 720 } },
    { type: 2, timestamp: at + 1, data: { node: snapshot, initialOffset: { top: 0, left: 0 } } },
    { type: 4, timestamp: at + 2, data: { href: "https://shop.test/b", width: 10, height: 10 } },
    { type: 2, timestamp: at + 3, data: { node: page([], [text("second")]) } },
  ] as RrwebEvent[];
  const frame = firstFrameOf(events)!;
  assert.equal(frame.width, 1280);
  assert.equal(frame.height, 720);
  assert.ok(frame.html.includes("<p>hello</p>") && !frame.html.includes("second"));

  assert.equal(firstFrameOf(events.slice(1, 2)), undefined, "no Meta before it: no viewport");
  assert.equal(firstFrameOf([events[0]]), undefined, "no snapshot");
  assert.equal(
    firstFrameOf([{ ...events[0], data: { width: "wide", height: 1 } }, events[1]] as RrwebEvent[]),
    undefined,
  );
  for (const node of [null, "html", 42, { type: 2, tagName: "p", childNodes: "nope" }]) {
    assert.doesNotThrow(() => snapshotHtml(node));
  }
  assert.equal(snapshotHtml(null), undefined);

  const big = page([], Array.from({ length: 40 }, () => el("p", {}, [text("x".repeat(50_000))])));
  assert.equal(snapshotHtml(big), undefined, `over ${MAX_FIRST_FRAME_BYTES} bytes is not inlined`);
  let deep: unknown = text("bottom");
  for (let i = 0; i < 2_000; i++) deep = el("div", {}, [deep]);
  assert.equal(snapshotHtml(doc(deep)), undefined, "too deep: not written (and no stack overflow)");
});
