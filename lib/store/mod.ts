/**
 * Opens the configured stream store. The rest of the app sees only
 * {@link StreamStore} and the typed errors.
 *
 * @module
 */

import type { Config } from "../config.ts";
import { S2Store } from "./s2.ts";
import { SqliteStore } from "./sqlite.ts";
import type { StreamConfig, StreamStore } from "./types.ts";

export * from "./types.ts";
export * from "./errors.ts";

/**
 * Opens the store the configuration names, with RePlaya's default stream
 * config (retention by age, delete-on-empty).
 *
 * @example
 * const store = await openStore(loadConfig(Deno.env.toObject()));
 */
export function openStore(
  config: Pick<Config, "store" | "retentionDays" | "deleteEmptyAfterHours">,
): Promise<StreamStore> {
  const defaultStreamConfig: StreamConfig = {
    retentionAgeSecs: config.retentionDays * 86_400,
    deleteOnEmptyMinAgeSecs: config.deleteEmptyAfterHours * 3_600,
  };
  if (config.store.backend === "sqlite") {
    return Promise.resolve(SqliteStore.open({ path: config.store.path, defaultStreamConfig }));
  }
  return S2Store.connect({ ...config.store, defaultStreamConfig });
}
export { readAll } from "./read_all.ts";
export { ensureStream } from "./ensure_stream.ts";
