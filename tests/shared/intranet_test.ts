/**
 * Which URLs are on the viewer's own network (shared/intranet.ts), as the
 * static first frame and the player decide it: host forms the URL parser
 * accepts, names that never resolve publicly, and the rewrites of attributes,
 * srcsets and CSS that take such URLs out and leave the rest as it was.
 */

import assert from "node:assert/strict";
import {
  attributeWithoutIntranetUrls,
  cssWithoutIntranetUrls,
  isIntranetHost,
  isIntranetUrl,
  isLoopbackHost,
} from "../../shared/intranet.ts";

Deno.test("intranet: loopback, private, link-local, unique-local and CGNAT addresses in every form a URL takes", () => {
  const intranet = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/router/reboot",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0x7F000001/",
    "http://017700000001/",
    "http://0177.0.0.01/",
    "http://0/",
    "http://0.0.0.0:9000/",
    "http://[::1]/",
    "http://[::]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/", // NAT64 of 169.254.169.254
    "http://[2002:c0a8:101::1]/", // 6to4 of 192.168.1.1
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "https://user:pass@10.0.0.1:8443/x",
    "//192.168.0.1/x",
    "\\\\192.168.0.1\\x",
    "http:\\\\10.0.0.1\\x",
    "/\\10.0.0.1/x",
    "  http://10.0.0.1/  ",
    "\thttp://10.\n0.0.1/",
    "HTTP://10.0.0.1/",
    "http:10.0.0.1/x", // no slashes: this host when the page is on https
    "https:10.0.0.1/x", // … or on http
    "ws://10.0.0.1/",
  ];
  for (const url of intranet) assert.equal(isIntranetUrl(url), true, url);
  const publicUrls = [
    "https://cdn.example/a.png",
    "http://93.184.216.34/",
    "http://[2606:4700::1111]/",
    "http://100.128.0.1/",
    "http://172.32.0.1/",
    "http://192.169.0.1/",
    "http://10.example/",
    "http://127.0.0.1.nip.io/", // a public name (what it resolves to is not known here)
    "/relative/path.png",
    "relative.png",
    "../up.png",
    "?q=1",
    "#top",
    "data:image/png;base64,AAAA",
    "blob:https://cdn.example/0b5e",
    "about:blank",
    "javascript:void(0)",
    "",
    "http://[::1", // not a URL: nothing is fetched
  ];
  for (const url of publicUrls) assert.equal(isIntranetUrl(url), false, url);
});

Deno.test("intranet: single-label names and local-only suffixes; other names are public", () => {
  for (const host of ["router", "intranet", "INTRANET.", "localhost", "a.b.localhost", "printer.local", "x.internal"]) {
    assert.equal(isIntranetHost(host), true, host);
    assert.equal(isIntranetUrl(`https://${host}/x`), true, host);
  }
  assert.equal(isIntranetUrl("https://nas.home.arpa/"), true);
  for (
    const host of ["shop.example", "local.example", "internal.example.com", "localhost.example", "home.arpa.example"]
  ) {
    assert.equal(isIntranetHost(host), false, host);
  }
  assert.equal(isIntranetHost(""), false, "no host (data:, about:): no network request");
});

Deno.test("intranet: loopback only passes when asked (a dashboard open on loopback), private never", () => {
  const loopback = { allowLoopback: true };
  for (const url of ["http://127.0.0.1:3000/a.png", "http://localhost/a", "http://[::1]/", "http://[::ffff:7f00:1]/"]) {
    assert.equal(isIntranetUrl(url), true, url);
    assert.equal(isIntranetUrl(url, loopback), false, url);
  }
  for (const url of ["http://10.0.0.1/", "http://router/", "http://169.254.169.254/", "http://0.0.0.0/"]) {
    assert.equal(isIntranetUrl(url, loopback), true, url);
  }
  for (const host of ["127.0.0.1", "127.9.9.9", "localhost", "app.localhost", "[::1]", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of ["10.0.0.1", "0.0.0.0", "::", "replay.example", "127.0.0.1.nip.io", "::ffff:10.0.0.1"]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});

Deno.test("intranet: attributes lose intranet URLs (srcset candidate by candidate); others stay as they were", () => {
  assert.equal(attributeWithoutIntranetUrls("src", "http://10.0.0.1/a.png"), undefined);
  assert.equal(attributeWithoutIntranetUrls("href", "https://cdn.example/a.css"), "https://cdn.example/a.css");
  assert.equal(attributeWithoutIntranetUrls("rr_dataurl", "http://10.0.0.1/a.png"), undefined, "rrweb loads it");
  assert.equal(attributeWithoutIntranetUrls("title", "http://10.0.0.1/"), "http://10.0.0.1/", "text, not a URL");
  assert.equal(
    attributeWithoutIntranetUrls("srcset", "http://10.0.0.1/a.png 1x, https://cdn.example/b.png 2x"),
    "https://cdn.example/b.png 2x",
  );
  assert.equal(
    attributeWithoutIntranetUrls("srcset", "https://cdn.example/a.png 480w,https://cdn.example/b.png 960w"),
    "https://cdn.example/a.png 480w,https://cdn.example/b.png 960w",
    "untouched when nothing goes",
  );
  assert.equal(
    attributeWithoutIntranetUrls("srcset", "data:image/png;base64,AA==, http://192.168.1.1/b.png 2x"),
    "data:image/png;base64,AA==",
  );
  assert.equal(attributeWithoutIntranetUrls("imagesrcset", "//router/a.png 1x"), undefined);
  assert.equal(attributeWithoutIntranetUrls("values", "a.png;http://10.0.0.1/b.png"), undefined);
  assert.equal(attributeWithoutIntranetUrls("to", "http://localhost/x"), undefined);
  assert.equal(
    attributeWithoutIntranetUrls("mask", "url(http://10.0.0.1/m.svg#m)"),
    "url()",
    "an SVG presentation attribute",
  );
  assert.equal(attributeWithoutIntranetUrls("fill", "url(#gradient)"), "url(#gradient)");
  assert.equal(
    attributeWithoutIntranetUrls("style", "background:url(//10.0.0.1/a.png);color:red"),
    "background:url();color:red",
  );
});

Deno.test("intranet: CSS loses intranet url()s and URL strings, however spelled; the rest is byte for byte the same", () => {
  const cases: Array<[string, string]> = [
    ["a{background:url(http://10.0.0.1/a.png)}", "a{background:url()}"],
    ["a{background:url( 'http://10.0.0.1/a.png' )}", `a{background:url( '' )}`],
    [`@import "http://router/x.css";@import url("//192.168.1.1/y.css") screen;`, `@import "";@import url("") screen;`],
    [
      `a{background:image-set("http://[::1]/a.png" 1x,url(//127.1/b.png) 2x)}`,
      `a{background:image-set("" 1x,url() 2x)}`,
    ],
    ["a{cursor:URL(http://10.0.0.1/c.cur),auto}", "a{cursor:url(),auto}"],
    ["a{cursor:u\\72 l(http://10.0.0.1/c.cur)}", "a{cursor:url()}"],
    ["a{cursor:\\75\\72\\6c(http://10.0.0.1/c.cur)}", "a{cursor:url()}"],
    ["a{background:url(\\68ttp\\3a //\\31 0.0.0.1/a.png)}", "a{background:url()}"],
    ["a{background:url(http://10.0.0.1/a\\).png)}", "a{background:url()}"],
    ["a{content:'\\'';background:url(http://10.0.0.1/a)}", "a{content:'\\'';background:url()}"],
    ["/* ' */ a{background:url(http://10.0.0.1/a)} /* ' */", "/* ' */ a{background:url()} /* ' */"],
    [`a{content:"/* "}b{background:url(http://10.0.0.1/a)}`, `a{content:"/* "}b{background:url()}`],
    ["a{background:url(http://10.0.0.1/unterminated", "a{background:url()"],
    [`@import "http://10.0.0.1/unterminated`, `@import ""`],
  ];
  for (const [css, expected] of cases) assert.equal(cssWithoutIntranetUrls(css), expected, css);
  const kept = [
    "a{background:url(https://cdn.example/a.png)}",
    `@font-face{font-family:"Inter";src:url("https://cdn.example/i.woff2") format("woff2"),local("Inter")}`,
    `a{content:"https://cdn.example/?ip=10.0.0.1"}`, // a public URL that names an address
    "a{background:url(/img/a.png)}b{background:url(data:image/svg+xml,%3Csvg%3E)}",
    ".md\\:flex{display:flex}a:hover{color:red}",
    "a{background:xurl(http://10.0.0.1/a)}", // not the url() function
  ];
  for (const css of kept) assert.equal(cssWithoutIntranetUrls(css), css, css);
  assert.equal(
    cssWithoutIntranetUrls("a{background:url(http://127.0.0.1:3000/a.png)}", { allowLoopback: true }),
    "a{background:url(http://127.0.0.1:3000/a.png)}",
  );
});

Deno.test("intranet: the CSS scan stays linear on hostile input (no backtracking over long runs)", () => {
  const hostile = [
    "u".repeat(200_000) + "(",
    `"${"\\a".repeat(100_000)}`,
    "'".repeat(100_000),
    "/*" + "*".repeat(200_000),
    "url(" + "\\".repeat(200_001),
  ];
  for (const css of hostile) {
    const started = performance.now();
    cssWithoutIntranetUrls(css);
    // Linear is milliseconds; a quadratic scan of 200,000 characters would take minutes.
    assert.ok(performance.now() - started < 2_000, `${css.slice(0, 10)}…: ${performance.now() - started} ms`);
  }
});
