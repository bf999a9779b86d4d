/**
 * The RePlaya server the benches drive: the project key the recorder or the
 * bench's own client uses, and rate limits high enough that the bench, not a
 * limit, sets the pace.
 *
 * @module
 */

import { loadConfig } from "../lib/config.ts";
import { startServer } from "../server.ts";
import type { StreamStore } from "../lib/store/mod.ts";

/** The project key of every bench. */
export const KEY = "pk_bench_0123456789";

/** The environment of a bench's server (also given to a server started as a process). */
export const BENCH_ENV: Record<string, string> = {
  REPLAYA_PROJECT_KEYS: KEY,
  REPLAYA_APPEND_TOKEN_SECRET: "bench-secret-bench-secret-bench-secret-00",
  REPLAYA_CLIENT_RATE_PER_MINUTE: "100000000",
  REPLAYA_SESSION_RATE_PER_SECOND: "100000",
  // The bench sets the pace, not a budget: no per-project budget, and room for every viewer it opens.
  REPLAYA_PROJECT_STARTS_PER_SEC: "0",
  REPLAYA_PROJECT_STARTS_PER_DAY: "0",
  REPLAYA_PROJECT_INFLATED_MB_PER_SEC: "0",
  REPLAYA_MAX_STREAMS: "1000000",
};

/** Starts a server in this process on a free port, over `store` (or the embedded default in a temporary folder). */
export async function benchServer(store?: StreamStore, prefix = "replaya-bench-") {
  const dataDir = await Deno.makeTempDir({ prefix });
  const config = loadConfig({ REPLAYA_DATA_DIR: dataDir, ...BENCH_ENV });
  config.port = 0;
  const server = await startServer(config, { store, quiet: true, build: false });
  return {
    ...server,
    dataDir,
    close: async () => {
      await server.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
