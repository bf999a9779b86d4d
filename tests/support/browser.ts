/**
 * Debian's Chromium driven by playwright-core. Locally a missing browser
 * skips the browser tests with one line; in CI (CI=true) it is a failure.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { serverTest, type ServerUnderTest } from "./server.ts";
import { type SitePage, startTestSite, type TestSite } from "./test_site.ts";

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";

/** Whether the browser tests can run; throws in CI when they cannot. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (Deno.env.get("CI") === "true") throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing`);
  return false;
}

/** The one line `deno task test` prints when the browser tests are skipped. */
export const BROWSER_SKIP_NOTICE =
  `Browser tests skipped: no Chromium at ${CHROMIUM}. Enable them with: apt-get install chromium`;

/** Launches headless Chromium with the flags this sandbox needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Waits until `check` returns a truthy value, polling; fails after `ms` with `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** What a browser test gets: a server, a test site recording into it, and Chromium. */
export interface BrowserTestContext {
  server: ServerUnderTest;
  site: TestSite;
  browser: Browser;
}

let available: boolean | undefined;

/**
 * Registers a browser test once per backend (skipped, with one line, when
 * Chromium is missing outside CI). `pages` adds pages to the test site; `env`
 * configures the server.
 */
export function browserTest(
  name: string,
  fn: (t: BrowserTestContext) => Promise<void>,
  options: { pages?: Record<string, SitePage>; env?: Record<string, string> } = {},
): void {
  available ??= browserAvailable();
  serverTest(`browser: ${name}`, async (server) => {
    const site = startTestSite(server.url, options.pages);
    const browser = await launchBrowser();
    try {
      await fn({ server, site, browser });
    } finally {
      await browser.close();
      await site.close();
    }
  }, { ignore: !available, env: options.env });
}
