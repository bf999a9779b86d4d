/**
 * RePlaya's entry point: read config, open the store, serve the app; on
 * SIGTERM or SIGINT end every stream, finish requests in flight, close the
 * store and exit.
 *
 * @module
 */

import { ConfigError, loadConfig } from "./lib/config.ts";
import { MissingBuildError } from "./lib/islands/manifest.ts";
import { startServer } from "./server.ts";

if (import.meta.main) {
  try {
    const server = await startServer(loadConfig(Deno.env.toObject()));
    let stopping = false;
    const stop = async (signal: Deno.Signal) => {
      if (stopping) return Deno.exit(1); // a second signal: stop waiting
      stopping = true;
      const started = performance.now();
      await server.close();
      console.log(`RePlaya stopped on ${signal} in ${Math.round(performance.now() - started)} ms`);
      Deno.exit(0);
    };
    for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, () => stop(signal));
  } catch (error) {
    if (error instanceof ConfigError || error instanceof MissingBuildError) {
      console.error(`${error instanceof ConfigError ? "Configuration error" : "Build missing"}: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
}
