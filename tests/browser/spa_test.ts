/**
 * A single-page app in Chromium, on both backends: three `pushState` routes
 * (with queries and fragments) and a back navigation are four page views
 * after the first, with scrubbed URLs, in order — in the stream, in the
 * session's page count, in the list's URL filter, and in the player's feed,
 * timeline and replay.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";
import type { SitePage } from "../support/test_site.ts";

type Event = { type: number; timestamp: number; data?: Record<string, unknown> };

/** Routes render a heading; links are the app's own (pushState), back is popstate. */
const spaPage: SitePage = (head) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>App</title>${head}</head>
<body><nav>
  <a id="products" href="/app/products">Products</a>
  <a id="cart" href="/app/cart">Cart</a>
  <a id="report" href="/app/reports/quarterly">Report</a>
</nav><h1 id="heading">Home</h1>
<script>
// Routes carry queries and fragments the recording must not keep (scripts are not recorded).
const routes = { products: "/app/products?id=7&token=SECRET#top", cart: "/app/cart?coupon=SECRET", report: "/app/reports/quarterly#chart-SECRET" };
const titles = { "/app": "Home", "/app/products": "Products", "/app/cart": "Cart", "/app/reports/quarterly": "Quarterly report" };
const render = () => { document.getElementById("heading").textContent = titles[location.pathname] ?? "?"; };
for (const link of document.querySelectorAll("nav a")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState({ route: link.id }, "", routes[link.id]);
    render();
  });
}
addEventListener("popstate", render);
</script></body></html>`;

function sessionIdOf(page: Page): Promise<string | undefined> {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem("replaya:session") ?? "null")?.sessionId);
}

browserTest(
  "spa: pushState routes and a back navigation are page views, scrubbed, counted, filtered and replayed",
  async ({ server, site, browser }) => {
    const visitor = await browser.newPage();
    const pageErrors: string[] = [];
    visitor.on("pageerror", (e) => pageErrors.push(String(e)));
    await visitor.goto(site.url + "/app?utm=SECRET#intro");
    const id = await waitFor("a session id", () => sessionIdOf(visitor));
    for (const [link, heading] of [["products", "Products"], ["cart", "Cart"], ["report", "Quarterly report"]]) {
      await visitor.click(`#${link}`);
      await waitFor(`the ${heading} route`, async () => (await visitor.textContent("#heading")) === heading);
    }
    await visitor.goBack();
    await waitFor("back on the cart", async () => (await visitor.textContent("#heading")) === "Cart");
    assert.equal(new URL(visitor.url()).pathname, "/app/cart", "the page's own history still works");
    await visitor.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
    const items = await waitFor("the stop record", async () => {
      const items = await readSession(server.url, id);
      return items.at(-1)?.kind === "stop" ? items : undefined;
    });
    assert.deepEqual(pageErrors, []);

    const events = items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[]);
    const expected = ["/app", "/app/products", "/app/cart", "/app/reports/quarterly", "/app/cart"].map((p) =>
      site.url + p
    );
    // The page load is rrweb's Meta; each navigation a replaya.page event (a Meta would break rrweb's seeking).
    const views = events.flatMap((e) =>
      e.type === 4
        ? [{ kind: "meta", href: e.data?.href, at: e.timestamp }]
        : e.type === 5 && e.data?.tag === "replaya.page"
        ? [{ kind: "page", href: (e.data.payload as { href?: string }).href, at: e.timestamp }]
        : []
    );
    assert.deepEqual(
      views.map((v) => `${v.kind} ${v.href}`),
      expected.map((url, i) => `${i === 0 ? "meta" : "page"} ${url}`),
      "the first page and four navigations, in order",
    );
    assert.deepEqual(views.map((v) => v.at), views.map((v) => v.at).toSorted((a, b) => a - b));
    assert.ok(!JSON.stringify(events).includes("SECRET"), "no query or fragment anywhere in the recording");

    // Counted and searchable through the server.
    const list = async (query: string) =>
      (await (await fetch(`${server.url}/api/sessions?${query}`)).json()).sessions as Array<
        { id: string; end?: { pages: number; urls?: string[] } }
      >;
    const found = await list("url=reports/quarterly");
    assert.deepEqual(found.map((r) => r.id), [id], "the list's URL filter finds a route-only URL");
    assert.equal(found[0].end?.pages, 5, "the session counts five pages");
    assert.deepEqual(await list("url=SECRET"), [], "and nothing scrubbed is searchable");

    // Replayed: the feed lists the pages in order, the timeline marks them, the replay follows the routes.
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const dashboard = await context.newPage();
    const dashboardErrors: string[] = [];
    dashboard.on("pageerror", (e) => dashboardErrors.push(String(e)));
    await dashboard.goto(`${server.url}/sessions/${id}`);
    await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]');
    const rows = dashboard.locator('[data-testid="feed-item"][data-kind="page"]');
    await waitFor("five page rows", async () => (await rows.count()) === 5);
    const texts = await rows.allInnerTexts();
    ["/app", "/app/products", "/app/cart", "/app/reports/quarterly", "/app/cart"].forEach((path, i) =>
      assert.ok(texts[i].includes(path), `row ${i}: ${texts[i]} shows ${path}`)
    );
    assert.ok(await dashboard.locator('.rp-marker[data-kind="page"]').count() >= 1, "page markers on the timeline");
    const heading = () =>
      dashboard.evaluate(() =>
        (document.querySelector(".rp-mount iframe") as HTMLIFrameElement | null)?.contentDocument
          ?.getElementById("heading")?.textContent
      );
    await waitFor("the first frame", async () => (await heading()) === "Home");
    const box = (await dashboard.locator('[data-testid="timeline"]').boundingBox())!;
    await dashboard.mouse.click(box.x + box.width - 1, box.y + box.height / 2);
    await waitFor("the last route at the end", async () => (await heading()) === "Cart");
    assert.deepEqual(dashboardErrors, [], "Meta events mid-session do not break rrweb-player");
  },
  { pages: { "/app": spaPage, "/app/products": spaPage, "/app/cart": spaPage, "/app/reports/quarterly": spaPage } },
);
