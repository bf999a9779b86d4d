/**
 * The page shell while a development server still builds its bundles in the
 * background (its first start): pages say so and reload by meta refresh
 * (never a script), and name no bundle that does not exist yet.
 */

import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Layout } from "../../components/Layout.tsx";

Deno.test("layout: while the bundles build, a notice and a meta refresh instead of the island's script", () => {
  const html = renderToString(
    <Layout title="Sessions" scripts={[undefined as unknown as string]} bundles="building">
      <p>rows</p>
    </Layout>,
  );
  assert.match(html, /<meta http-equiv="refresh" content="2"\/?>/);
  assert.match(html, /data-testid="bundles-pending" data-state="building"/);
  assert.doesNotMatch(html, /<script/);
  assert.match(html, /<p>rows<\/p>/, "the page itself is served");
});

Deno.test("layout: a failed build says so without reloading; pages without islands say nothing", () => {
  const failed = renderToString(<Layout title="S" scripts={["/static/build/islands/X.js"]} bundles="failed">x</Layout>);
  assert.match(failed, /data-state="failed"/);
  assert.doesNotMatch(failed, /http-equiv="refresh"/);
  const plain = renderToString(<Layout title="S" bundles="building">x</Layout>);
  assert.doesNotMatch(plain, /bundles-pending|refresh/);
  const built = renderToString(<Layout title="S" scripts={["/static/build/islands/X.js"]}>x</Layout>);
  assert.match(built, /<script type="module" src="\/static\/build\/islands\/X.js"><\/script>/);
});

Deno.test("layout: the chunks an island imports are preloaded with its entry", () => {
  const html = renderToString(
    <Layout title="S" scripts={["/static/build/islands/P.js"]} preload={["/static/build/islands/chunk-A.js"]}>
      x
    </Layout>,
  );
  assert.match(html, /<link rel="modulepreload" href="\/static\/build\/islands\/chunk-A.js"\/?>/);
});
