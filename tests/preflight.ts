/**
 * Run by `deno task test` before the tests: says once what will be skipped
 * here and how to enable it. In CI a missing s2-lite or Chromium fails right
 * away instead.
 */

import { BROWSER_SKIP_NOTICE, browserAvailable } from "./support/browser.ts";
import { liteAvailable, S2_SKIP_NOTICE } from "./support/s2_lite.ts";

try {
  if (!liteAvailable()) console.log(S2_SKIP_NOTICE);
  if (!browserAvailable()) console.log(BROWSER_SKIP_NOTICE);
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(1);
}
