/**
 * Starts the real HTTP server on a free loopback port over a store under
 * test, for API and browser tests.
 *
 * @module
 */

import { loadConfig } from "../../lib/config.ts";
import { type RunningServer, startServer } from "../../server.ts";
import { type BackendTestOptions, storeTest, type StoreUnderTest } from "./backends.ts";

/** The project key and secret every test server uses. */
export const TEST_KEY = "pk_test_0123456789";
export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";
export const TEST_ORIGIN = "http://allowed.test";

/** A server under test. */
export interface ServerUnderTest extends RunningServer {
  backend: StoreUnderTest["backend"];
  under: StoreUnderTest;
  dataDir: string;
}

/** Starts a server over an already opened store with extra environment. */
export async function serveStore(
  under: StoreUnderTest,
  env: Record<string, string> = {},
  port = 0,
): Promise<ServerUnderTest> {
  const dataDir = await Deno.makeTempDir({ prefix: "replaya-server-" });
  const config = loadConfig({
    REPLAYA_PORT: "1",
    REPLAYA_DATA_DIR: dataDir,
    REPLAYA_PROJECT_KEYS: `test=${TEST_KEY}`,
    REPLAYA_APPEND_TOKEN_SECRET: TEST_SECRET,
    ...env,
  });
  config.port = port;
  const server = await startServer(config, { store: under.store, quiet: true, build: false });
  let closed = false;
  return {
    ...server,
    backend: under.backend,
    under,
    dataDir,
    async close() {
      if (closed) return; // tests that restart the server close it themselves
      closed = true;
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Registers `fn` once per backend with a running server.
 *
 * @example
 * serverTest("starts a session", async ({ url }) => { ... });
 */
export function serverTest(
  name: string,
  fn: (server: ServerUnderTest) => Promise<void>,
  options: BackendTestOptions & { env?: Record<string, string> } = {},
): void {
  storeTest(name, async (under) => {
    const server = await serveStore(under, options.env);
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  }, options);
}
