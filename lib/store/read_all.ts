/**
 * Reads a stream from a position to its current tail, page by page, through
 * the {@link StreamStore} interface (so it works on every backend).
 *
 * @module
 */

import type { StoredRecord, StreamStore } from "./types.ts";

/**
 * Yields every data record from `from` up to the tail seen while reading.
 *
 * @example
 * for await (const record of readAll(store, "sessions/x")) console.log(record.seqNum);
 */
export async function* readAll(store: StreamStore, stream: string, from = 0): AsyncIterable<StoredRecord> {
  let next = from;
  while (true) {
    const { records, next: after, tail } = await store.read(stream, { from: { seqNum: next } });
    yield* records;
    if (after === next || (tail && after >= tail.seqNum)) return;
    next = after;
  }
}
