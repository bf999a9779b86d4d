import assert from "node:assert/strict";
import { stripUrl, stripUrlsInText } from "../../recorder/src/url.ts";

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
