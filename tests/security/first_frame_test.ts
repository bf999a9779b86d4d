/**
 * The static first frame (lib/sessions/first_frame.ts) against a hostile
 * recording, judged by what a real HTML5 parser (parse5, the WHATWG tree
 * builder) makes of it, as the browser's srcdoc would: no markup planted
 * through `<style>` in SVG or MathML or any other context, no refresh or
 * charset `<meta>` whatever its case, no frames, and no URL on the viewer's
 * own network in any attribute or stylesheet, while public URLs stay.
 */

import assert from "node:assert/strict";
// A test-only dependency (the WHATWG tree builder), pinned here rather than among the app's imports in deno.json.
// deno-lint-ignore no-import-prefix
import { parse } from "npm:parse5@7.3.0";
import { snapshotHtml } from "../../lib/sessions/first_frame.ts";
import { el, nextId, text } from "../support/nodes.ts";

const page = (head: unknown[], body: unknown[]) => ({
  type: 0,
  id: nextId(),
  childNodes: [el("html", {}, [el("head", {}, head), el("body", {}, body)])],
});

interface ParsedNode {
  nodeName: string;
  tagName?: string;
  value?: string;
  attrs?: Array<{ name: string; value: string }>;
  childNodes?: ParsedNode[];
  content?: ParsedNode;
}

/** Every element and text node of the document the browser would build, template contents included. */
function* nodesOf(node: ParsedNode): Generator<ParsedNode> {
  yield node;
  for (const child of node.childNodes ?? []) yield* nodesOf(child);
  if (node.content) yield* nodesOf(node.content);
}

/** The parsed document, as the sandboxed frame (scripting off) and as a scripting parser would build it. */
function parsed(html: string): ParsedNode[] {
  return [false, true].flatMap((scriptingEnabled) => [...nodesOf(parse(html, { scriptingEnabled }) as ParsedNode)]);
}

const FORBIDDEN = new Set(["script", "iframe", "frame", "frameset", "base", "object", "embed", "form", "noscript"]);

/** What the parser built that must never be there. */
function planted(html: string): string[] {
  const bad: string[] = [];
  for (const node of parsed(html)) {
    if (!node.tagName) continue;
    if (FORBIDDEN.has(node.tagName.toLowerCase())) bad.push(`<${node.tagName}>`);
    for (const { name } of node.attrs ?? []) {
      if (/^on/i.test(name) || name === "srcdoc") bad.push(`<${node.tagName} ${name}>`);
    }
    const names = new Set((node.attrs ?? []).map((a) => a.name));
    if (node.tagName === "meta" && (names.has("http-equiv") || names.has("charset"))) bad.push("<meta pragma>");
  }
  return bad;
}

/** Markup a recording might hide in text that the writer handles as CSS. */
const PAYLOAD = [
  "</style></svg></math></title></textarea></select></noembed></xmp>",
  "<script>alert(1)</script>",
  `<iframe srcdoc="<script>alert(2)</script>"></iframe>`,
  `<base href="https://evil.example/">`,
  `<object data="https://evil.example/x"></object><embed src="https://evil.example/y">`,
  `<form action="https://evil.example/"><button>go</button></form>`,
  `<img src=x onerror=alert(3)><svg onload=alert(4)>`,
  `<frameset onload=alert(5)><frame src="https://evil.example/"></frameset>`,
  `<input autofocus onfocus=alert(6)><keygen autofocus onfocus=alert(7)>`,
  `<!--<img src=x onerror=alert(8)>--><![CDATA[<img src=x onerror=alert(9)>]]>`,
].join("");

Deno.test("first frame: markup hidden in CSS plants nothing, in SVG, MathML or any other context", () => {
  const css = `a{color:red}${PAYLOAD}b{color:blue}`;
  const style = () => el("style", {}, [text(css, true)]);
  const cssText = () => el("style", { _cssText: css });
  const contexts = [
    el("svg", {}, [style()]),
    el("svg", {}, [el("g", {}, [cssText()])]),
    el("svg", {}, [el("link", { rel: "stylesheet", _cssText: css })]),
    el("svg", {}, [el("foreignObject", {}, [style()])]),
    el("svg", {}, [el("desc", {}, [style()])]),
    el("math", {}, [style()]),
    el("math", {}, [el("mi", {}, [style()])]),
    el("math", {}, [el("annotation-xml", { encoding: "text/html" }, [style()])]),
    // A style holding an element: its end tag would close the outer one, and the text after it must still be CSS.
    el("style", {}, [el("style"), text(PAYLOAD, true)]),
    el("title", {}, [style()]),
    el("textarea", {}, [style()]),
    el("select", {}, [style()]),
    el("table", {}, [style()]),
    el("noembed", {}, [style()]),
    el("xmp", {}, [style()]),
    el("noframes", {}, [style()]),
    el("plaintext", {}, [style()]),
    el("div", { style: css }),
  ];
  for (const context of contexts) {
    const html = snapshotHtml(page([], [context]))!;
    assert.ok(html, "written");
    assert.deepEqual(planted(html), [], html);
    assert.ok(parsed(html).some((n) => n.tagName === "body"), "a document");
  }
  // In SVG the CSS is escaped text, which the parser decodes back: the stylesheet is the one recorded.
  const svg = parse(snapshotHtml(page([], [el("svg", {}, [el("style", {}, [text("a > b { color: red }", true)])])]))!);
  const svgStyle = [...nodesOf(svg as ParsedNode)].find((n) => n.tagName === "style")!;
  assert.equal(svgStyle.childNodes?.[0].value, "a > b { color: red }");
});

Deno.test("first frame: refresh and charset metas whatever their case, frames and frame sets, are not written", () => {
  const html = snapshotHtml(page(
    [
      el("meta", { "HTTP-EQUIV": "refresh", content: "0;url=https://evil.example/" }),
      el("META", { "Http-Equiv": "Content-Security-Policy", content: "default-src *" }),
      el("meta", { CHARSET: "utf-7" }),
      el("meta", { name: "viewport", content: "width=device-width" }),
      el("BASE", { HREF: "https://evil.example/" }),
      el("Script", {}, [text("alert(1)")]),
    ],
    [
      el("IFRAME", { SRC: "https://evil.example/" }, [el("p", {}, [text("inside")])]),
      el("frameset", {}, [el("frame", { src: "https://evil.example/f" })]),
      el("frame", { src: "https://evil.example/g" }),
      el("img", { SRC: "https://cdn.example/keep.png", OnError: "alert(2)", onError: "alert(3)" }),
      el("a", { HREF: "JaVaScRiPt:alert(4)" }, [text("x")]),
      el("FORM", { ACTION: "javascript:alert(5)" }, [el("button", { FormAction: "javascript:alert(6)" })]),
    ],
  ))!;
  assert.deepEqual(planted(html).filter((b) => b !== "<form>"), []);
  const all = parsed(html);
  assert.ok(all.some((n) => n.tagName === "meta" && n.attrs?.some((a) => a.value === "width=device-width")));
  assert.ok(all.some((n) => n.attrs?.some((a) => a.name === "src" && a.value === "https://cdn.example/keep.png")));
  assert.ok(!/javascript|evil\.example|inside/i.test(html), html);
});

/** Hosts on the viewer's network, in the forms a browser accepts. */
const INTRANET = [
  "127.0.0.1",
  "127.1",
  "2130706433",
  "0x7f.1",
  "0x7f000001",
  "017700000001",
  "0177.0.0.1",
  "0",
  "0.0.0.0",
  "localhost",
  "LOCALHOST.",
  "app.localhost",
  "[::1]",
  "[::]",
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
  "[0:0:0:0:0:ffff:a00:1]",
  "[64:ff9b::a9fe:a9fe]",
  "[2002:c0a8:101::1]",
  "[fd00::1]",
  "[fe80::1]",
  "10.1.2.3",
  "172.16.5.4",
  "192.168.1.1",
  "169.254.169.254",
  "100.64.0.1",
  "router",
  "intranet.",
  "printer.local",
  "wiki.internal",
  "nas.home.arpa",
];
/** Public hosts, which must keep their URLs (the writer cannot pass by dropping everything). */
const PUBLIC = ["cdn.example", "93.184.216.34", "[2606:4700::1111]", "100.128.0.1", "172.32.0.1", "10.example"];

Deno.test("first frame: no URL on the viewer's network survives, in any attribute or stylesheet; public ones do", () => {
  // Each URL carries a marker of its own: every leak-N (an intranet host) must be gone, every keep-N (public) kept.
  const markers = { leak: [] as string[], keep: [] as string[] };
  const url = (host: string, scheme = "http://") => {
    const kind = INTRANET.includes(host) ? "leak" : "keep";
    const marker = `${kind}-${markers[kind].length}`;
    markers[kind].push(marker);
    return `${scheme}${host}/${marker}`;
  };
  const elements = (host: string) => [
    el("img", { src: url(host), srcset: `${url(host)} 1x, ${url(host, "//")} 2x` }),
    el("img", { src: url(host, "HTTP://") }),
    el("img", { src: `  ${url(host, "http:")}` }), // no slashes: still this host when the dashboard is on https
    el("img", { src: url(host, "http:\\\\") }),
    el("video", { poster: url(host), src: url(host) }, [el("source", { src: url(host), srcset: url(host) })]),
    el("input", { type: "image", src: url(host) }),
    el("table", { background: url(host) }),
    el("a", { href: url(host, "https://") }, [text("link")]),
    el("div", { style: `background:url(${url(host)}) no-repeat;border-image:url('${url(host)}') 30` }),
    el("div", { style: `background-image:image-set("${url(host)}" 1x, url(${url(host, "//")}) 2x)` }),
    el("svg", {}, [
      el("image", { href: url(host), "xlink:href": url(host) }),
      el("use", { href: url(host) }),
      el("set", { attributeName: "href", to: url(host) }),
      el("animate", { attributeName: "href", values: `a.png;${url(host)}` }),
      el("rect", { fill: `url(${url(host)}#g)`, filter: `url('${url(host)}#f')` }),
      el("style", {}, [text(`.s{background:url(${url(host)})}`, true)]),
    ]),
    el("link", { rel: "stylesheet", href: url(host) }),
    el("style", {}, [text(
      [
        `@import "${url(host)}";`,
        `@import url(${url(host)});`,
        `@font-face{font-family:f;src:url("${url(host)}") format("woff2")}`,
        `.a{background:URL( ${url(host)} )}`,
        `.b{cursor:u\\72l(${url(host)}),auto}`,
        `.c{background:url(${url(host).replace("http:", "\\68ttp\\3a ")})}`,
        `/* ' */ .d{background:url(${url(host)})} /* ' */`,
        `.e{content:"\\"";background:url("${url(host)}")}`,
      ].join("\n"),
      true,
    )]),
    el("link", { rel: "stylesheet", _cssText: `.f{background:url(${url(host)})}` }),
    el("div", { rr_width: `1px;background:url(${url(host)})`, rr_height: "1px" }),
  ];
  const html = snapshotHtml(page([], [...INTRANET, ...PUBLIC].flatMap(elements)))!;
  assert.ok(html, "written");
  // What the browser would see: every attribute value and every text, as parsed.
  const seen = parsed(html).flatMap((node) => [node.value ?? "", ...(node.attrs ?? []).map((a) => a.value)]).join("\n");
  const found = new Set(seen.match(/(leak|keep)-\d+/g));
  assert.deepEqual(markers.leak.filter((m) => found.has(m)), [], "intranet URLs left");
  assert.deepEqual(markers.keep.filter((m) => !found.has(m)), [], "public URLs dropped");
  assert.ok(markers.leak.length > 500 && markers.keep.length > 100);
  assert.deepEqual(planted(html), []);
});

Deno.test("first frame: for a dashboard opened on loopback, loopback URLs stay and private ones still go", () => {
  const body = [
    el("img", { src: "http://127.0.0.1:3000/logo.png" }),
    el("img", { src: "http://localhost:3000/hero.png" }),
    el("img", { src: "http://10.0.0.1/x.png" }),
    el("div", { style: "background:url(http://[::1]:3000/bg.png)" }),
  ];
  const strict = snapshotHtml(page([], body))!;
  assert.ok(!/127\.0\.0\.1|localhost|\[::1\]|10\.0\.0\.1/.test(strict), strict);
  const local = snapshotHtml(page([], body), { allowLoopback: true })!;
  for (const kept of ["127.0.0.1:3000/logo.png", "localhost:3000/hero.png", "[::1]:3000/bg.png"]) {
    assert.ok(local.includes(kept), kept);
  }
  assert.ok(!local.includes("10.0.0.1"));
});
