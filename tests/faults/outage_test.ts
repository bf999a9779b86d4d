/**
 * Nothing recorded is silently lost. A real Chromium page records a tick
 * every 100 ms into a real RePlaya process while the store or the server is
 * taken away (SIGTERM of a durable s2-lite, kill -9 of RePlaya) and brought
 * back; every tick must then be stored exactly once, in the original session.
 * An outage longer than the outage horizon must end with a gap marker that
 * accounts for exactly the ticks that are missing.
 */

import assert from "node:assert/strict";
import { browserAvailable, launchBrowser, waitFor } from "../support/browser.ts";
import { type ChildServer, startChildServer } from "../support/child_server.ts";
import { freePort, liteAvailable, type LiteServer, startLite } from "../support/s2_lite.ts";
import { startTestSite } from "../support/test_site.ts";
import { countTicks, openTicks, settledCount, tally, TICK_PAGES } from "./_ticks.ts";

const ignoreBrowser = !browserAvailable();
const ignoreLite = ignoreBrowser || !liteAvailable();

/** Waits out a fault's duration: the outage itself is the point, there is no signal to wait for. */
const outage = (secs: number) => new Promise((r) => setTimeout(r, secs * 1000));

/** A RePlaya process that can be killed and started again on the same port, data dir and store. */
async function restartableServer(env: Record<string, string>) {
  const port = String(freePort());
  const dataDir = await Deno.makeTempDir({ prefix: "replaya-fault-" });
  const full = { ...env, REPLAYA_PORT: port, REPLAYA_DATA_DIR: dataDir };
  let current: ChildServer = await startChildServer(full);
  return {
    url: current.url,
    kill9: () => current.kill("SIGKILL"),
    async restart() {
      await current.status;
      current = await startChildServer(full);
    },
    async close() {
      await current.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Records ticks into `url` while `fault` runs, then counts them back. */
async function recordThrough(url: string, path: string, fault: () => Promise<void>) {
  const site = startTestSite(url, TICK_PAGES);
  const browser = await launchBrowser();
  try {
    const ticks = await openTicks(browser, site.url, path);
    // Some ticks stored before the fault.
    while ((await ticks.sent()) < 20) await ticks.page.waitForTimeout(100);
    await fault();
    const resumedAt = await ticks.sent();
    // Delivery resumed: ticks recorded after the fault are stored (the recorder's backoff is up to 10 s).
    await waitFor("delivery to resume after the fault", async () => {
      const { seen } = await countTicks(url);
      return [...seen.keys()].some((n) => n > resumedAt);
    }, 60_000);
    const sent = await ticks.finish();
    return tally(sent, await settledCount(url, sent, 90_000));
  } finally {
    await browser.close();
    await site.close();
  }
}

function report(fault: string, backend: string, result: ReturnType<typeof tally>, secs: number) {
  console.log(
    `| ${fault} | ${backend} | ${result.sent} | ${result.stored} | ${result.lost} | ${result.duplicated} | ` +
      `${result.sessions} | ${result.gap} | ${secs.toFixed(0)} s |`,
  );
}

Deno.test({
  name: "faults: s2-lite stopped (SIGTERM) for 90 s and restarted, default timers: nothing lost, one session",
  ignore: ignoreLite,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const started = performance.now();
    const root = await Deno.makeTempDir({ prefix: "replaya-s2-root-" });
    let lite: LiteServer = await startLite({ localRoot: root });
    const server = await restartableServer({
      S2_ACCOUNT_ENDPOINT: lite.url,
      S2_ACCESS_TOKEN: "test",
      S2_BASIN: `replaya-faults-${crypto.randomUUID().slice(0, 8)}`,
    });
    try {
      const result = await recordThrough(server.url, "/ticks", async () => {
        await lite.stop();
        await outage(90);
        lite = await startLite({ localRoot: root, port: lite.port });
      });
      report("s2-lite stopped 90 s (lease 45 s)", "s2-lite", result, (performance.now() - started) / 1000);
      assert.deepEqual(
        { lost: result.lost, duplicated: result.duplicated, sessions: result.sessions, gap: result.gap },
        { lost: 0, duplicated: 0, sessions: 1, gap: 0 },
      );
    } finally {
      await server.close();
      await lite.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});

for (const backend of ["sqlite", "s2-lite"] as const) {
  Deno.test({
    name: `faults: [${backend}] RePlaya killed -9 and restarted after 30 s: nothing lost, one session`,
    ignore: backend === "s2-lite" ? ignoreLite : ignoreBrowser,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const started = performance.now();
      const lite = backend === "s2-lite" ? await startLite() : undefined;
      const server = await restartableServer({
        // A lease shorter than the outage: the session shows as disconnected, and is still not ended.
        REPLAYA_LEASE_SECS: "5",
        ...(lite
          ? {
            S2_ACCOUNT_ENDPOINT: lite.url,
            S2_ACCESS_TOKEN: "test",
            S2_BASIN: `replaya-faults-${crypto.randomUUID().slice(0, 8)}`,
          }
          : {}),
      });
      try {
        const result = await recordThrough(server.url, "/ticks", async () => {
          server.kill9();
          await outage(30);
          await server.restart();
        });
        report("RePlaya killed -9, back after 30 s (lease 5 s)", backend, result, (performance.now() - started) / 1000);
        assert.deepEqual(
          { lost: result.lost, duplicated: result.duplicated, sessions: result.sessions, gap: result.gap },
          { lost: 0, duplicated: 0, sessions: 1, gap: 0 },
        );
      } finally {
        await server.close();
        await lite?.stop();
      }
    },
  });
}

Deno.test({
  name: "faults: an outage past the horizon ends with a gap marker that counts exactly the missing ticks",
  ignore: ignoreBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const started = performance.now();
    const server = await restartableServer({ REPLAYA_LEASE_SECS: "1", REPLAYA_FENCE_AFTER_SECS: "3" });
    try {
      const result = await recordThrough(server.url, "/ticks-track", async () => {
        server.kill9();
        await outage(8);
        await server.restart();
      });
      report("RePlaya down 8 s, past a 3 s horizon", "sqlite", result, (performance.now() - started) / 1000);
      assert.ok(result.lost > 0, "the outage outlasted the horizon: ticks were lost");
      assert.equal(result.gap, result.lost, "the gap marker counts exactly the missing ticks");
      assert.equal(result.duplicated, 0);
      assert.equal(result.sessions, 2, "the recording went on in a new session");
      const list = await (await fetch(`${server.url}/`)).text();
      assert.equal(list.match(/data-testid="incomplete"/g)?.length, 1, "the list shows the loss on one session");
    } finally {
      await server.close();
    }
  },
});
