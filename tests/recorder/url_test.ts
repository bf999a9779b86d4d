import assert from "node:assert/strict";
import { scrubPageUrl, stripUrl, stripUrlsInText } from "../../recorder/src/url.ts";

const strict = { query: false, hash: false };

Deno.test("stripUrl removes query and fragment by default policy", () => {
  assert.equal(
    stripUrl("https://a.com/p/x?token=abc&b=1#frag", strict),
    "https://a.com/p/x",
  );
  assert.equal(
    stripUrl("https://a.com/p#only-hash", strict),
    "https://a.com/p",
  );
  assert.equal(stripUrl("https://a.com/p", strict), "https://a.com/p");
});

Deno.test("stripUrl keeps the parts the policy allows", () => {
  const url = "https://a.com/p?q=1#h";
  assert.equal(
    stripUrl(url, { query: true, hash: false }),
    "https://a.com/p?q=1",
  );
  assert.equal(
    stripUrl(url, { query: false, hash: true }),
    "https://a.com/p#h",
  );
  assert.equal(stripUrl(url, { query: true, hash: true }), url);
});

Deno.test("stripUrl handles relative URLs, '?' inside a fragment and junk", () => {
  assert.equal(stripUrl("/api/x?id=5", strict), "/api/x");
  // The '?' belongs to the fragment, so keeping the query must not keep it.
  assert.equal(stripUrl("/p#/route?x=1", { query: true, hash: false }), "/p");
  assert.equal(
    stripUrl("/p#/route?x=1", { query: false, hash: true }),
    "/p#/route?x=1",
  );
  assert.equal(stripUrl(undefined as unknown as string, strict), "");
});

Deno.test("stripUrlsInText strips URLs inside stacks but keeps line:col", () => {
  const stack = "TypeError: x is undefined\n" +
    "    at f (https://a.com/app.js?v=123:10:5)\n" +
    "    at https://a.com/page?email=me@x.com#top:3:1\n" +
    "    at g (https://cdn.com/lib.js:1:2)";
  assert.equal(
    stripUrlsInText(stack, strict),
    "TypeError: x is undefined\n" +
      "    at f (https://a.com/app.js:10:5)\n" +
      "    at https://a.com/page:3:1\n" +
      "    at g (https://cdn.com/lib.js:1:2)",
  );
  assert.equal(
    stripUrlsInText("Failed to load https://a.com/x?key=secret now", strict),
    "Failed to load https://a.com/x now",
  );
  const all = { query: true, hash: true };
  assert.equal(
    stripUrlsInText("see https://a.com/x?k=1", all),
    "see https://a.com/x?k=1",
  );
});

Deno.test("scrubPageUrl: the page's own query never reaches the recording through absolute links", () => {
  const page = "https://shop.example/reset?token=s3cret#step2";
  const snapshot = {
    type: 2,
    data: {
      node: {
        childNodes: [
          { attributes: { href: "https://shop.example/reset?token=s3cret#" } },
          { attributes: { href: "https://shop.example/other?page=2", class: "x" } },
          { attributes: { src: "https://cdn.example/a.png?w=200" } },
        ],
      },
    },
  };
  const out = scrubPageUrl(snapshot, page, { query: false, hash: false });
  const nodes = out.data.node.childNodes as unknown as Array<{ attributes: Record<string, string> }>;
  assert.equal(nodes[0].attributes.href, "https://shop.example/reset");
  assert.equal(nodes[1].attributes.href, "https://shop.example/other?page=2", "other links are page content, kept");
  assert.equal(nodes[2].attributes.src, "https://cdn.example/a.png?w=200");
  const mutation = {
    type: 3,
    data: {
      source: 0,
      adds: [{ node: { attributes: { href: "https://shop.example/reset?token=s3cret" } } }],
      attributes: [{ attributes: { href: "https://shop.example/reset?token=s3cret#x" } }],
    },
  };
  scrubPageUrl(mutation, page, { query: false, hash: false });
  assert.equal(mutation.data.adds[0].node.attributes.href, "https://shop.example/reset");
  assert.equal(mutation.data.attributes[0].attributes.href, "https://shop.example/reset");
  const allowed = { type: 2, data: { node: { attributes: { href: "https://shop.example/reset?token=s3cret#" } } } };
  scrubPageUrl(allowed, page, { query: true, hash: true });
  assert.equal(allowed.data.node.attributes.href, "https://shop.example/reset?token=s3cret#", "sites may opt out");
});
