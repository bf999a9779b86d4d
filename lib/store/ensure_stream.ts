/**
 * Creates a stream unless it exists, for sidecar streams that are followed
 * before anything has been appended to them.
 *
 * @module
 */

import { AlreadyExistsError } from "./errors.ts";
import type { StreamConfig, StreamStore } from "./types.ts";

/** Makes sure `name` exists (with `config` when it is created here). */
export async function ensureStream(store: StreamStore, name: string, config?: StreamConfig): Promise<void> {
  await store.createStream(name, config).catch((error) => {
    if (!(error instanceof AlreadyExistsError)) throw error;
  });
}
