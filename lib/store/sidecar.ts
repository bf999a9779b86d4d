/**
 * Following a sidecar stream (shared process state kept in the store, such
 * as cookie revocations or who is watching which session) for as long as the
 * process runs: created if missing, followed, and recreated and followed
 * from 0 again if it is deleted.
 *
 * @module
 */

import { sleep } from "../async.ts";
import { log } from "../log.ts";
import { ensureStream } from "./ensure_stream.ts";
import { NotFoundError } from "./errors.ts";
import type { StoredRecord, StreamConfig, StreamStore } from "./types.ts";

/** What {@link followSidecar} needs. */
export interface SidecarOptions {
  config: StreamConfig;
  /** Where to start: a seq number, or a function of the tail (e.g. the last 1000 records). */
  from?: (tail: number) => number;
  signal: AbortSignal;
  onRecord(record: StoredRecord): void;
  /** For log lines: what the stream is. */
  what: string;
}

/**
 * Ensures the stream and follows it until `signal` aborts; resolves once the
 * follower has first caught up with the tail (everything before is applied).
 */
export async function followSidecar(store: StreamStore, name: string, options: SidecarOptions): Promise<void> {
  const { signal } = options;
  await ensureStream(store, name, options.config);
  let from = options.from ? options.from((await store.checkTail(name)).seqNum) : 0;
  const { promise: caughtUp, resolve, reject } = Promise.withResolvers<void>();
  (async () => {
    while (!signal.aborted) {
      try {
        for await (const record of store.follow(name, { from, signal, onCaughtUp: () => resolve() })) {
          options.onRecord(record);
          from = record.seqNum + 1;
        }
      } catch (error) {
        if (signal.aborted) break;
        // The store reopens dropped follows itself; what reaches here is a missing stream or a real failure.
        if (error instanceof NotFoundError) {
          from = 0; // deleted (by an operator, or a store reset): a new stream starts again at 0
          await ensureStream(store, name, options.config).catch(() => {});
        } else log.warn(`following ${options.what} failed; retrying`, { stream: name }, error);
      }
      await sleep(1000, signal);
    }
    resolve();
  })().catch(reject);
  await caughtUp;
}
