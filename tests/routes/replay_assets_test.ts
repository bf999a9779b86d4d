/**
 * REPLAYA_REPLAY_ASSETS: "recorded" (the default) lets replays load images
 * and fonts from where the recording points; "cached-only" narrows the
 * dashboard pages' CSP to the dashboard's own origin (the asset cache's
 * copies), data: and blob:, so no recording makes the viewer's browser
 * contact another host. Checked on the real server's headers.
 */

import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../lib/config.ts";
import { serverTest } from "../support/server.ts";

/** The page's CSP as directive → sources. */
async function policy(url: string): Promise<Map<string, string[]>> {
  const res = await fetch(url);
  await res.body?.cancel();
  assert.equal(res.status, 200);
  const header = res.headers.get("content-security-policy") ?? "";
  return new Map(header.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));
}

Deno.test("config: REPLAYA_REPLAY_ASSETS is recorded by default, cached-only on request, anything else refused", () => {
  assert.equal(loadConfig({}).dashboard.replayAssets, "recorded");
  assert.equal(loadConfig({ REPLAYA_REPLAY_ASSETS: "cached-only" }).dashboard.replayAssets, "cached-only");
  assert.deepEqual(loadConfig({ REPLAYA_REPLAY_ASSETS: "recorded" }).warnings, []);
  for (const bad of ["cached", "none", "CACHED-ONLY"]) {
    assert.throws(() => loadConfig({ REPLAYA_REPLAY_ASSETS: bad }), ConfigError, bad);
  }
});

/** Directives the setting leaves alone: scripts, styles, frames and the rest. */
const UNCHANGED = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'", "'unsafe-inline'", "https:"],
  "connect-src": ["'self'"],
  "frame-src": ["'self'", "blob:", "about:"],
  "frame-ancestors": ["'none'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
};

serverTest("replay assets: by default the pages' CSP lets replays load images and fonts from other hosts", async ({
  url,
}) => {
  const csp = await policy(`${url}/`);
  assert.deepEqual(csp.get("img-src"), ["'self'", "data:", "blob:", "https:", "http:"]);
  assert.deepEqual(csp.get("font-src"), ["'self'", "data:", "https:"]);
  assert.equal(csp.get("media-src"), undefined, "default-src 'self' applies");
  for (const [name, sources] of Object.entries(UNCHANGED)) assert.deepEqual(csp.get(name), sources, name);
});

serverTest(
  "replay assets: cached-only narrows images, fonts and media to the dashboard's origin; the rest stays",
  async ({ url }) => {
    for (const path of ["/", "/live", "/setup"]) {
      const csp = await policy(`${url}${path}`);
      assert.deepEqual(csp.get("img-src"), ["'self'", "data:", "blob:"], path);
      assert.deepEqual(csp.get("font-src"), ["'self'", "data:", "blob:"], path);
      assert.deepEqual(csp.get("media-src"), ["'self'", "data:", "blob:"], path);
      for (const [name, sources] of Object.entries(UNCHANGED)) assert.deepEqual(csp.get(name), sources, name);
    }
  },
  { env: { REPLAYA_REPLAY_ASSETS: "cached-only", REPLAYA_ASSET_CACHE: "true" } },
);
