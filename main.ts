/**
 * RePlaya's entry point: read config, open the store, serve the app.
 *
 * @module
 */

import { ConfigError, loadConfig } from "./lib/config.ts";
import { openStore } from "./lib/store/mod.ts";
import { createApp } from "./lib/app.ts";

if (import.meta.main) {
  try {
    const config = loadConfig(Deno.env.toObject());
    const store = await openStore(config);
    const app = createApp({ store });
    const server = Deno.serve({
      hostname: config.hostname,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const where = store.info.backend === "sqlite"
          ? store.info.location
          : `${store.info.location} (basin ${store.info.basin})`;
        console.log(`RePlaya listening on http://${hostname}:${port} — store: ${store.info.backend} at ${where}`);
      },
    }, app.fetch);
    Deno.addSignalListener("SIGTERM", async () => {
      await server.shutdown();
      await store.close();
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
