/**
 * RePlaya's entry point: read config, open the store, serve the app.
 *
 * @module
 */

import { ConfigError, loadConfig } from "./lib/config.ts";
import { startServer } from "./lib/server.ts";

if (import.meta.main) {
  try {
    const server = await startServer(loadConfig(Deno.env.toObject()));
    Deno.addSignalListener("SIGTERM", async () => {
      await server.close();
      Deno.exit(0);
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      Deno.exit(1);
    }
    throw error;
  }
}
