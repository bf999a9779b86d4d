/**
 * Opens the configured stream store. The rest of the app sees only
 * {@link StreamStore} and the typed errors.
 *
 * @module
 */

import { S2Store } from "./s2.ts";
import type { StreamConfig, StreamStore } from "./types.ts";

export * from "./types.ts";
export * from "./errors.ts";

/** Which store holds the streams. */
export type StoreTarget =
  | { backend: "sqlite"; path: string }
  | {
    backend: "s2";
    accessToken: string;
    basin: string;
    accountEndpoint?: string;
    basinEndpoint?: string;
  };

/**
 * Opens a store; every stream it creates gets `defaultStreamConfig`
 * (retention by age, delete-on-empty). The SQLite backend (and `node:sqlite`)
 * is loaded only when it is selected, so a process on S2 never needs it.
 *
 * @example
 * const store = await openStore({ backend: "sqlite", path: "./data/replaya.db" }, { retentionAgeSecs: 86_400 });
 */
export async function openStore(target: StoreTarget, defaultStreamConfig: StreamConfig): Promise<StreamStore> {
  if (target.backend === "sqlite") {
    const { SqliteStore } = await import("./sqlite.ts");
    return SqliteStore.open({ path: target.path, defaultStreamConfig });
  }
  return await S2Store.connect({ ...target, defaultStreamConfig });
}
export { readAll } from "./read_all.ts";
export { ensureStream } from "./ensure_stream.ts";
export { followSidecar, type SidecarOptions } from "./sidecar.ts";
export { withPrefix } from "./prefixed.ts";
