/**
 * `deno task bench:fixture`: records a real session in Chromium (typing,
 * clicks, scrolling, two pages) through the real recorder and server, and
 * writes the batches exactly as stored to tests/fixtures/recorded_session.json.
 * The ingest and dashboard benchmarks replay this fixture.
 */

import { backends } from "../tests/support/backends.ts";
import { launchBrowser, waitFor } from "../tests/support/browser.ts";
import { serveStore } from "../tests/support/server.ts";
import { startTestSite } from "../tests/support/test_site.ts";
import { readSession } from "../tests/support/client.ts";

const SECONDS = Number(Deno.env.get("FIXTURE_SECONDS") ?? 30);
const OUT = "tests/fixtures/recorded_session.json";

const under = await backends()[0].open();
const server = await serveStore(under);
const site = startTestSite(server.url);
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(site.url + "/");
  const id = await waitFor(
    "a session id",
    () => page.evaluate(() => JSON.parse(sessionStorage.getItem("replaya:session") ?? "{}").sessionId),
  );
  const until = Date.now() + SECONDS * 1000;
  let round = 0;
  while (Date.now() < until) {
    round++;
    await page.click("#buy");
    await page.type("#note", `note ${round} `, { delay: 30 });
    await page.mouse.move(100 + (round * 37) % 600, 100 + (round * 53) % 500, { steps: 8 });
    await page.mouse.wheel(0, round % 2 ? 200 : -200);
    if (round % 8 === 0) {
      await page.click("#next");
      await page.click("#pay");
      await page.goBack();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.evaluate(() => (globalThis as unknown as { replaya: (c: string) => void }).replaya("stop"));
  await waitFor("the stop record", async () => (await readSession(server.url, id)).at(-1)?.kind === "stop", 30_000);
  const items = await readSession(server.url, id);
  const batches = items.filter((i) => i.kind === "events").map((i) => ({ events: i.events }));
  const events = batches.flatMap((b) => b.events as Array<{ timestamp: number }>);
  const durationMs = events.at(-1)!.timestamp - events[0].timestamp;
  await Deno.mkdir("tests/fixtures", { recursive: true });
  await Deno.writeTextFile(OUT, JSON.stringify({ recordedWith: "bench/record_fixture.ts", durationMs, batches }));
  console.log(`Wrote ${OUT}: ${batches.length} batches, ${events.length} events, ${(durationMs / 1000).toFixed(1)} s`);
} finally {
  await browser.close();
  await site.close();
  await server.close();
  await under.close();
}
