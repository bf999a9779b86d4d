/**
 * Checks both backends run before anything is sent or written, so a bad
 * batch fails the same way everywhere and nothing is half-written.
 *
 * @module
 */

import { InvalidError, TooLargeError } from "./errors.ts";
import {
  type AppendItem,
  type AppendOptions,
  isFence,
  MAX_BATCH_BYTES,
  MAX_BATCH_RECORDS,
  MAX_FENCE_BYTES,
  meteredBytes,
} from "./types.ts";

const utf8 = new TextEncoder();

/** Stream names: 1–512 UTF-8 bytes, no NUL, not `.` or `..` (S2's rules). */
export function validateStreamName(name: string): void {
  const bytes = utf8.encode(name).length;
  if (bytes === 0 || bytes > 512 || name.includes("\0") || name === "." || name === "..") {
    throw new InvalidError(`invalid stream name ${JSON.stringify(name.slice(0, 64))}`);
  }
}

/** Validates a batch against S2's limits and timestamp rules. */
export function validateBatch(items: AppendItem[], options: AppendOptions = {}): void {
  if (items.length === 0) throw new InvalidError("empty batch");
  if (items.length > MAX_BATCH_RECORDS) {
    throw new TooLargeError(`batch has ${items.length} records (max ${MAX_BATCH_RECORDS})`);
  }
  let total = 0;
  for (const item of items) {
    if (isFence(item)) {
      if (utf8.encode(item.fence).length > MAX_FENCE_BYTES) {
        throw new InvalidError(`fencing token longer than ${MAX_FENCE_BYTES} bytes`);
      }
    } else {
      if (!Number.isFinite(item.timestamp) || item.timestamp < 0) {
        throw new InvalidError("every record needs a timestamp");
      }
      for (const [name] of item.headers ?? []) {
        if (name === "") throw new InvalidError("header names must not be empty");
      }
    }
    total += meteredBytes(item);
  }
  if (total > MAX_BATCH_BYTES) {
    throw new TooLargeError(`batch is ${total} metered bytes (max ${MAX_BATCH_BYTES})`);
  }
  if (options.fencingToken !== undefined && utf8.encode(options.fencingToken).length > MAX_FENCE_BYTES) {
    throw new InvalidError(`fencing token longer than ${MAX_FENCE_BYTES} bytes`);
  }
  if (options.matchSeqNum !== undefined && !(Number.isSafeInteger(options.matchSeqNum) && options.matchSeqNum >= 0)) {
    throw new InvalidError("matchSeqNum must be a non-negative integer");
  }
}

/** A read's count and byte limits, clamped to what one read may return (S2's limits). */
export function readLimits(options: { count?: number; bytes?: number }): { count: number; bytes: number } {
  return {
    count: Math.min(Math.max(options.count ?? MAX_BATCH_RECORDS, 1), MAX_BATCH_RECORDS),
    bytes: Math.min(Math.max(options.bytes ?? MAX_BATCH_BYTES, 1), MAX_BATCH_BYTES),
  };
}

/** A listing's page size, 1–1000 (S2's limit). */
export function listLimit(options: { limit?: number }): number {
  return Math.min(Math.max(options.limit || 1000, 1), 1000);
}
