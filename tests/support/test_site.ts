/**
 * A tiny website on its own origin that installs the recorder with the
 * script-tag snippet, as a customer's site would.
 *
 * @module
 */

import { snippet } from "@replaya/recorder/snippet";
import { TEST_KEY } from "./server.ts";

/** A running test site. */
export interface TestSite {
  url: string;
  close(): Promise<void>;
}

/** A product grid, so pages have the DOM size of a real shop, not a toy. */
const products = Array.from(
  { length: 24 },
  (_, i) =>
    `<article class="product"><svg width="120" height="90" viewBox="0 0 120 90"><rect width="120" height="90" fill="hsl(${
      i * 15
    },60%,80%)"/></svg><h3>Product ${i + 1}</h3><p>A sturdy everyday item, model ${
      1000 + i
    }, in stock and ready to ship.</p><span class="price">$${
      (9.99 + i * 3).toFixed(2)
    }</span><button class="add" data-sku="sku-${i}">Add to cart</button></article>`,
).join("");
const styles =
  `<style>body{font-family:sans-serif;margin:0}nav{display:flex;gap:1rem;padding:1rem;background:#222}nav a{color:#fff}.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:1rem;padding:1rem}.product{border:1px solid #ddd;padding:.5rem}</style>`;
const nav = `<nav><a href="/">Home</a><a href="/checkout">Cart</a><a href="#">Deals</a><a href="#">Help</a></nav>`;

const pages: Record<string, SitePage> = {
  "/": (head) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>${head}${styles}</head>
<body>${nav}<h1>Welcome to the shop</h1>
<form id="login" onsubmit="return false">
  <label>Card number <input id="card" name="card" autocomplete="off"></label>
  <label>Note <textarea id="note"></textarea></label>
</form>
<button id="buy" onclick="document.getElementById('status').textContent='Clicked ' + (++window.clicks)">Buy now</button>
<p id="status">Not clicked</p>
<p class="replaya-block" id="blocked">Blocked content that must not be recorded</p>
<a id="next" href="/checkout?order=42#top">Checkout</a>
<section class="grid">${products}</section>
<footer><p>© Shop. Free returns within 30 days.</p></footer>
<script>window.clicks = 0;</script>
</body></html>`,
  "/checkout": (head) =>
    `<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title>${head}${styles}</head>
<body>${nav}<h1>Checkout</h1><button id="pay" onclick="this.textContent='Paid'">Pay</button></body></html>`,
};

/**
 * A page of the site: its HTML, given the recorder's snippet for `<head>` and
 * the RePlaya server's URL; or any other response (a stylesheet, an image).
 */
export type SitePage = (head: string, endpoint: string) => string | Response;

/** Serves the site (plus `extra` pages) on a free loopback port, recording into `endpoint`. */
export function startTestSite(endpoint: string, extra: Record<string, SitePage> = {}): TestSite {
  const head = snippet({ endpoint, projectKey: TEST_KEY });
  const all = { ...pages, ...extra };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const page = all[new URL(request.url).pathname]?.(head, endpoint);
    if (page instanceof Response) return page;
    return page !== undefined
      ? new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } })
      : new Response("not found", { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}
