/**
 * Replay fidelity, and replays that outlive the recorded site (issue 10).
 *
 * Chromium records a small multi-page shop on its own origin — a stylesheet
 * with background images, `<img>` (one with a srcset), an inline style
 * `url()`, a form filled in, and a window resize that switches a media
 * query — and screenshots the original at four moments. The player then
 * replays the session and the replay is screenshotted at the same four
 * moments (each marked by a `track` event, whose activity row the test
 * clicks: a paused seek that applies every event up to it). Each pair is
 * compared pixel by pixel (tests/support/pixels.ts).
 *
 * Threshold: at most {@link MAX_DIFFERENCE} (0.5 %) of the pixels may differ
 * by more than the per-channel tolerance (48 of 255). Measured in headless
 * Chromium on the 2-core test machine, a replay with its images differs
 * from the original by 0.00–0.04 % (form controls drawn a little
 * differently); one missing logo (160×40 px in a 640×480 window) is 2.1 %,
 * so the threshold has ~12× room for rendering noise and still catches a
 * missing icon of ~40×40 px. Inputs are recorded unmasked here
 * (`maskAllInputs: false`), because masking — the default — changes the
 * text on purpose.
 *
 * Runs: without the asset cache, replayed with the site up and then stopped
 * (the notice names the failed images, the difference grows); with the
 * cache (REPLAYA_ASSET_CACHE, and REPLAYA_ASSET_ALLOW_PRIVATE since the site
 * is on 127.0.0.1), replayed with the site up and stopped: every image comes
 * from /api/assets and the difference stays under the threshold.
 */

import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { snippet } from "@replaya/recorder/snippet";
import { browserTest, waitFor } from "../support/browser.ts";
import { readSession } from "../support/client.ts";
import { decodePng, drawPixels, encodePng, pixelDifference, type Pixels } from "../support/pixels.ts";
import type { ServerUnderTest } from "../support/server.ts";
import { TEST_KEY } from "../support/server.ts";
import type { SitePage, TestSite } from "../support/test_site.ts";

/** At most this share of pixels may differ beyond the tolerance between an original and its replay. */
const MAX_DIFFERENCE = 0.005;
const MOMENTS = ["1 home", "2 form filled", "3 resized", "4 gallery"] as const;
const RECORDED = { width: 800, height: 600 };
const RESIZED = { width: 640, height: 480 };

// ---------------------------------------------------------------------------------------------------------------
// The site: three pages, a stylesheet and eleven images drawn here.

const png = (bytes: Uint8Array) => () =>
  new Response(bytes as BodyInit, { headers: { "content-type": "image/png", "cache-control": "no-store" } });

/** Stripes, gradients and checks in distinct colours, so a missing image is plain to see. */
async function images(): Promise<Record<string, SitePage>> {
  const stripes = (w: number, h: number, a: number[], b: number[], step: number) =>
    drawPixels(w, h, (x, y) => (Math.floor((x + y) / step) % 2 ? a : b));
  const gradient = (w: number, h: number, hue: number) =>
    drawPixels(w, h, (x, y) => [(x * 255 / w + hue) % 256, (y * 255 / h) | 0, (hue * 3 + x / 3) % 256]);
  const checks = (w: number, h: number, a: number[], b: number[], size: number) =>
    drawPixels(w, h, (x, y) => ((Math.floor(x / size) + Math.floor(y / size)) % 2 ? a : b));
  const drawn = {
    "/img/logo.png": stripes(160, 40, [220, 38, 38], [255, 255, 255], 8),
    "/img/tile.png": checks(16, 16, [238, 242, 255], [226, 232, 250], 8),
    "/img/hero.png": gradient(760, 140, 40),
    "/img/p1.png": checks(120, 90, [21, 128, 61], [187, 247, 208], 15),
    "/img/p2.png": checks(120, 90, [124, 58, 237], [233, 213, 255], 10),
    "/img/p3.png": checks(120, 90, [217, 119, 6], [254, 243, 199], 30),
    "/img/promo.png": gradient(360, 80, 160),
    "/img/side.png": stripes(200, 260, [14, 116, 144], [207, 250, 254], 12),
    "/img/g1.png": gradient(280, 160, 90),
    "/img/g1@2x.png": gradient(560, 320, 90),
    "/img/ga.png": checks(280, 160, [190, 18, 60], [255, 228, 230], 20),
  };
  return Object.fromEntries(
    await Promise.all(Object.entries(drawn).map(async ([path, pixels]) => [path, png(await encodePng(pixels))])),
  );
}

const CSS = `
html, body { margin: 0; height: 100%; overflow: hidden; }
body { font: 16px/1.4 sans-serif; color: #1c1d26; background: #f5f7ff url(/img/tile.png) repeat; }
header { display: flex; align-items: center; gap: 24px; height: 64px; padding: 0 20px; background: #1e3a8a; }
header a { color: #fff; text-decoration: none; font-weight: bold; }
main { padding: 12px 20px; }
h1 { margin: 0 0 10px; font-size: 26px; }
.hero { display: block; }
.products { display: flex; gap: 16px; margin-top: 12px; }
.product { background: #fff; border: 1px solid #d4d8e8; padding: 8px; width: 136px; }
.product img { display: block; }
.promo { width: 360px; height: 80px; margin-top: 12px; color: #fff; font-weight: bold; padding: 8px; box-sizing: border-box; }
.form-page { display: flex; gap: 24px; }
form { display: grid; gap: 10px; width: 340px; background: #fff; padding: 14px; border: 1px solid #d4d8e8; }
label { display: grid; gap: 4px; }
input[type=text], select, textarea { font: inherit; padding: 4px; border: 1px solid #8b90a8; }
.check { display: flex; gap: 8px; align-items: center; }
.gallery { display: grid; grid-template-columns: repeat(2, 280px); gap: 12px; }
.tile-a { width: 280px; height: 160px; background: url(/img/ga.png); }
@media (max-width: 700px) {
  header { background: #7c2d12; }
  .side { display: none; }
  .gallery { grid-template-columns: 280px; }
}
`;

const layout = (title: string, head: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}` +
  `<link rel="stylesheet" href="/site.css"></head><body><header><img src="/img/logo.png" width="160" height="40" alt="Shop">` +
  `<a href="/">Home</a><a href="/form">Details</a><a href="/gallery">Gallery</a></header><main>${body}</main></body></html>`;

/** The pages, recording with inputs unmasked (see the module doc). */
async function site(): Promise<Record<string, SitePage>> {
  const head = (endpoint: string) => snippet({ endpoint, projectKey: TEST_KEY, init: { maskAllInputs: false } });
  return {
    ...await images(),
    "/site.css": () => new Response(CSS, { headers: { "content-type": "text/css" } }),
    "/": (_, endpoint) =>
      layout(
        "Shop",
        head(endpoint),
        `<h1>Spring collection</h1><img class="hero" src="/img/hero.png" width="760" height="140" alt="Hero">
<div class="products">${
          [1, 2, 3].map((i) =>
            `<div class="product"><img src="/img/p${i}.png" width="120" height="90" alt="Product ${i}">Item ${i}</div>`
          ).join("")
        }</div>
<div class="promo" style="background-image: url('/img/promo.png')">Free shipping this week</div>`,
      ),
    "/form": (_, endpoint) =>
      layout(
        "Details",
        head(endpoint),
        `<h1>Your details</h1><div class="form-page"><form onsubmit="return false">
<label>Name <input type="text" id="name"></label>
<label>Size <select id="size"><option>Small</option><option>Medium</option><option>Large</option></select></label>
<label class="check"><input type="checkbox" id="news"> Send me the newsletter</label>
<label>Note <textarea id="note" rows="3"></textarea></label></form>
<img class="side" src="/img/side.png" width="200" height="260" alt="Side"></div>`,
      ),
    "/gallery": (_, endpoint) =>
      layout(
        "Gallery",
        head(endpoint),
        `<h1>Gallery</h1><div class="gallery"><img srcset="/img/g1.png 1x, /img/g1@2x.png 2x" width="280" height="160" alt="G1"><div class="tile-a"></div></div>`,
      ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Screenshots.

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A screenshot once two in a row are identical (images decoded, layout settled). */
async function settled(take: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let previous = await take();
  for (let i = 0; i < 40; i++) {
    const next = await take();
    if (equalBytes(previous, next)) return next;
    previous = next;
  }
  throw new Error("the screenshot never settled");
}

/** The session id the recorder keeps in sessionStorage. */
function sessionIdOf(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const raw = sessionStorage.getItem("replaya:session");
    return raw ? JSON.parse(raw).id ?? JSON.parse(raw).sessionId : undefined;
  });
}

type Event = { type: number; timestamp: number; data?: Record<string, unknown> };

async function storedEvents(server: ServerUnderTest, id: string): Promise<Event[]> {
  const items = await readSession(server.url, id);
  return items.filter((i) => i.kind === "events").flatMap((i) => i.events as Event[]);
}

/** Marks a moment (a `track` event, once the events before it are stored) and screenshots the original. */
async function moment(page: Page, server: ServerUnderTest, id: string, name: string): Promise<Uint8Array> {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  const shot = await settled(() => page.screenshot({ type: "png" }));
  await page.evaluate(
    (n) => (globalThis as unknown as { replaya: (...a: unknown[]) => void }).replaya("track", n),
    name,
  );
  await waitFor(
    `the ${name} marker stored`,
    async () =>
      (await storedEvents(server, id)).some((e) =>
        e.type === 5 && (e.data?.payload as { name?: string } | undefined)?.name === name
      ),
  );
  return shot;
}

/** Records the visit; returns the session id and the original's four screenshots. */
async function record(browser: Browser, server: ServerUnderTest, site: TestSite) {
  const context = await browser.newContext({ viewport: RECORDED });
  const page = await context.newPage();
  await page.goto(`${site.url}/`);
  const id = await waitFor("a session id", () => sessionIdOf(page));
  await waitFor("the first snapshot stored", async () => (await storedEvents(server, id)).some((e) => e.type === 2));
  const shots: Uint8Array[] = [await moment(page, server, id, MOMENTS[0])];

  await page.click('a[href="/form"]');
  await page.waitForURL(/\/form$/);
  await page.fill("#name", "Ada Lovelace");
  await page.selectOption("#size", "Large");
  await page.check("#news");
  await page.fill("#note", "Leave it at the door, please.");
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await waitFor("the form's inputs stored", async () => {
    const inputs = (await storedEvents(server, id)).filter((e) => e.type === 3 && e.data?.source === 5);
    return inputs.some((e) => e.data?.text === "Leave it at the door, please.");
  });
  shots.push(await moment(page, server, id, MOMENTS[1]));

  await page.setViewportSize(RESIZED);
  await waitFor(
    "the resize stored",
    async () =>
      (await storedEvents(server, id)).some((e) =>
        e.type === 3 && e.data?.source === 4 && e.data?.width === RESIZED.width
      ),
  );
  shots.push(await moment(page, server, id, MOMENTS[2]));

  await page.click('a[href="/gallery"]');
  await page.waitForURL(/\/gallery$/);
  await waitFor(
    "the gallery's snapshot stored",
    async () => (await storedEvents(server, id)).filter((e) => e.type === 2).length === 3,
  );
  shots.push(await moment(page, server, id, MOMENTS[3]));

  await page.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
  await waitFor("the stop record", async () => (await readSession(server.url, id)).at(-1)?.kind === "stop");
  await context.close();
  return { id, shots: await Promise.all(shots.map(decodePng)) };
}

/**
 * For the replay's screenshots: overlays drawn over it (rrweb's cursor, the player's notice) are left out, and
 * the replay (at scale 1: the stage is larger than the recorded window) is moved from the stage's centre, which
 * can fall on half a pixel, to the window's top-left corner, so it sits on whole pixels like the original.
 */
const SHOT_STYLE = `.replayer-mouse, .replayer-mouse-tail { display: none !important; }
.fidelity-shot .rp-assets { visibility: hidden; }
.fidelity-shot .replayer-wrapper { position: fixed !important; left: 0 !important; top: 0 !important;
  transform: none !important; z-index: 2147483647; }`;

/** What one replay showed. */
interface Replay {
  differences: number[];
  /** The notice's text, if one showed. */
  notice?: string;
  /** Every image URL the replayed pages used: `<img>` sources and CSS backgrounds. */
  imageUrls: string[];
}

/** Replays the session in the player and compares each moment with the original's screenshot. */
async function replay(
  browser: Browser,
  server: ServerUnderTest,
  id: string,
  originals: Awaited<ReturnType<typeof record>>["shots"],
): Promise<Replay> {
  const context = await browser.newContext({ viewport: { width: 1700, height: 1200 } });
  const dashboard = await context.newPage();
  const errors: string[] = [];
  dashboard.on("pageerror", (e) => errors.push(String(e)));
  await dashboard.goto(`${server.url}/sessions/${id}`);
  await dashboard.addStyleTag({ content: SHOT_STYLE });
  await dashboard.waitForSelector('[data-testid="player"][data-status="ended"]');
  // The static first frame made way for the replay's own.
  await waitFor("the static first frame removed", async () => await dashboard.locator(".rp-first").count() === 0);
  // rrweb's rebuild leaves its iframe's document open (document.open()); the player closes it, or the page's load
  // event could wait on it for good.
  assert.equal(
    await dashboard.evaluate(() =>
      document.querySelector<HTMLIFrameElement>(".rp-mount iframe")!.contentDocument!.readyState
    ),
    "complete",
  );
  const frame = dashboard.locator(".rp-mount iframe");
  const differences: number[] = [];
  const imageUrls = new Set<string>();
  for (const [i, name] of MOMENTS.entries()) {
    await dashboard.locator('[data-testid="feed-item"][data-kind="track"]', { hasText: name }).locator("button")
      .click();
    const expected = originals[i];
    await waitFor(`the replay at ${name}`, async () =>
      (await frame.getAttribute("width")) === String(expected.width) &&
      (await frame.getAttribute("height")) === String(expected.height) &&
      await dashboard.evaluate(() => {
        const doc = (document.querySelector(".rp-mount iframe") as HTMLIFrameElement).contentDocument!;
        return [...doc.images].every((img) => img.complete);
      }));
    const used = await dashboard.evaluate(() => {
      const doc = (document.querySelector(".rp-mount iframe") as HTMLIFrameElement).contentDocument!;
      const backgrounds = [...doc.querySelectorAll("*")].flatMap((el) =>
        [...getComputedStyle(el).backgroundImage.matchAll(/url\("([^"]+)"\)/g)].map((m) => m[1])
      );
      return [...[...doc.images].map((img) => img.currentSrc || img.src), ...backgrounds];
    });
    for (const url of used) imageUrls.add(url);
    await dashboard.evaluate(() => document.body.classList.add("fidelity-shot"));
    const clip = { x: 0, y: 0, width: expected.width, height: expected.height };
    const shot = await decodePng(await settled(() => dashboard.screenshot({ type: "png", clip })));
    await dashboard.evaluate(() => document.body.classList.remove("fidelity-shot"));
    differences.push(pixelDifference(expected, shot).ratio);
  }
  // The notice (if any) is up by now: every image of every moment has loaded or failed.
  const notice = await dashboard.evaluate(() => document.querySelector('[data-testid="asset-notice"]')?.textContent);
  await context.close();
  assert.deepEqual(errors, []);
  return { differences, notice: notice ?? undefined, imageUrls: [...imageUrls] };
}

/**
 * The static first frame the server writes into the session page, with the player's code blocked (so it stays):
 * sandboxed with no tokens, in the recorded size, and compared with the original's first moment.
 */
async function staticFirstFrame(browser: Browser, server: ServerUnderTest, id: string, original: Pixels) {
  const context = await browser.newContext({ viewport: { width: 1700, height: 1200 } });
  await context.route("**/static/build/islands/**", (route) => route.abort());
  const dashboard = await context.newPage();
  await dashboard.goto(`${server.url}/sessions/${id}`);
  const frame = dashboard.locator("iframe.rp-first-frame");
  assert.equal(await frame.getAttribute("sandbox"), "", "sandboxed, no tokens: no scripts, no forms, its own origin");
  assert.equal(await frame.getAttribute("width"), String(original.width));
  assert.equal(await frame.getAttribute("height"), String(original.height));
  const srcdoc = (await frame.getAttribute("srcdoc")) ?? "";
  assert.ok(!/<script/i.test(srcdoc) && srcdoc.includes("<style>"), "no scripts; the stylesheet inlined");
  await dashboard.addStyleTag({
    content: `.rp-first-frame { position: fixed !important; left: 0 !important; top: 0 !important;
      transform: none !important; z-index: 2147483647; }`,
  });
  const clip = { x: 0, y: 0, width: original.width, height: original.height };
  const shot = await decodePng(await settled(() => dashboard.screenshot({ type: "png", clip })));
  await context.close();

  // With the player's code but no recording yet (its stream held open, empty): the hydrated island keeps the
  // frame as the server wrote it, scaled into the stage, until rrweb has one of its own.
  const held = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await held.route("**/api/sessions/*/live*", () => {/* never answered */});
  const player = await held.newPage();
  await player.goto(`${server.url}/sessions/${id}`);
  await waitFor(
    "the island hydrated",
    async () => (await player.locator(".rp-stage").getAttribute("style"))?.includes("--rp-stage-fit"),
  );
  const kept = player.locator("iframe.rp-first-frame");
  assert.equal(await kept.getAttribute("srcdoc"), srcdoc, "the first frame survived hydration as it was");
  // As rrweb-player scales its replay: fitted into the stage (touching two of its sides), centred; again after the
  // island has fitted the stage to the window (the frame follows on the stage's next resize notification).
  const geometry = () =>
    player.evaluate(() => {
      const box = (r: DOMRect) => ({ w: r.width, h: r.height, x: r.x + r.width / 2, y: r.y + r.height / 2 });
      return {
        frame: box(document.querySelector<HTMLIFrameElement>("iframe.rp-first-frame")!.getBoundingClientRect()),
        stage: box(document.querySelector(".rp-stage")!.getBoundingClientRect()),
      };
    });
  const fitted = ({ frame: f, stage: st }: Awaited<ReturnType<typeof geometry>>) =>
    f.w <= st.w + 1 && f.h <= st.h + 1 && Math.min(st.w - f.w, st.h - f.h) < 4 &&
    Math.abs(f.x - st.x) < 2 && Math.abs(f.y - st.y) < 2;
  let last: Awaited<ReturnType<typeof geometry>> | undefined;
  await waitFor("the first frame fitted into the stage", async () => fitted(last = await geometry()), 5_000)
    .catch(() => assert.fail(`not fitted: ${JSON.stringify(last)}`));
  await held.close();
  return pixelDifference(original, shot).ratio;
}

function table(label: string, runs: Record<string, Replay>): void {
  const percent = (r: number) => `${(r * 100).toFixed(3)}%`.padStart(8);
  const lines = [`fidelity (${label}): share of pixels differing, threshold ${percent(MAX_DIFFERENCE)}`];
  lines.push(`  ${"run".padEnd(26)}${MOMENTS.map((m) => m.padStart(16)).join("")}`);
  for (const [run, { differences }] of Object.entries(runs)) {
    lines.push(`  ${run.padEnd(26)}${differences.map((d) => percent(d).padStart(16)).join("")}`);
  }
  console.log(lines.join("\n"));
}

// ---------------------------------------------------------------------------------------------------------------

const pages = await site();

browserTest("fidelity: without the asset cache, a replay loses its images when the site stops, and says so", async ({
  server,
  site,
  browser,
}) => {
  const { id, shots } = await record(browser, server, site);
  const up = await replay(browser, server, id, shots);
  const first = await staticFirstFrame(browser, server, id, shots[0]);
  console.log(
    `fidelity (${server.backend}): the static first frame differs from the original by ${(first * 100).toFixed(3)}%`,
  );
  assert.ok(first < MAX_DIFFERENCE, `the static first frame: ${first}`);
  await site.close();
  const down = await replay(browser, server, id, shots);
  table(`${server.backend}, no cache`, { "site up": up, "site stopped": down });

  for (const [i, name] of MOMENTS.entries()) {
    assert.ok(up.differences[i] < MAX_DIFFERENCE, `${name}: ${up.differences[i]} with the site up`);
    assert.ok(down.differences[i] > MAX_DIFFERENCE, `${name}: ${down.differences[i]} with the site gone (over)`);
  }
  assert.equal(up.notice, undefined, "nothing failed while the site was up");
  const host = new URL(site.url).host;
  // The seven <img> sources (CSS backgrounds fire no error event): logo, hero, three products, side, gallery.
  assert.match(
    down.notice ?? "",
    new RegExp(`^7 images could not be loaded from ${host.replace(/\./g, "\\.")}: enable the asset cache`),
  );
  assert.ok(up.imageUrls.length >= 10, `images seen: ${up.imageUrls.join(", ")}`);
  assert.ok(up.imageUrls.every((url) => url.startsWith(site.url)), `from the site: ${up.imageUrls.join(", ")}`);
}, { pages });

browserTest("fidelity: with the asset cache, a replay keeps its images after the site stops", async ({
  server,
  site,
  browser,
}) => {
  const { id, shots } = await record(browser, server, site);
  await server.assets!.idle();
  const up = await replay(browser, server, id, shots);
  await site.close();
  const down = await replay(browser, server, id, shots);
  table(`${server.backend}, asset cache`, { "site up": up, "site stopped": down });

  for (const [i, name] of MOMENTS.entries()) {
    assert.ok(up.differences[i] < MAX_DIFFERENCE, `${name}: ${up.differences[i]} with the site up`);
    assert.ok(down.differences[i] < MAX_DIFFERENCE, `${name}: ${down.differences[i]} with the site stopped`);
  }
  assert.equal(down.notice, undefined, "nothing failed");
  for (const run of [up, down]) {
    // Seven <img> sources and four CSS backgrounds (the tile, the promo's inline style, the gallery tile, …).
    assert.ok(run.imageUrls.length >= 10, `images seen: ${run.imageUrls.join(", ")}`);
    assert.ok(
      run.imageUrls.every((url) => url.startsWith(`${server.url}/api/assets/`)),
      `every image from the cache: ${run.imageUrls.join(", ")}`,
    );
  }
}, { pages, env: { REPLAYA_ASSET_CACHE: "true", REPLAYA_ASSET_ALLOW_PRIVATE: "true" } });
