/**
 * Request bodies for the events endpoint and how many events fit in one.
 * @module
 */
import { utf8Length } from "./size.ts";

/** Largest body of a keepalive request (browsers allow 64 KiB in flight in total). */
export const KEEPALIVE_MAX_BODY = 60 * 1024;

/** Regular batches stop growing here so one request stays small. */
export const MAX_BATCH_BYTES = 256 * 1024;

/** Pending JSON size that triggers an immediate flush. */
export const FLUSH_THRESHOLD_BYTES = 64 * 1024;

/**
 * How many of the leading items fit in `budget` bytes, counting one comma per
 * item. At least one item is taken so an oversized event is never stuck.
 */
export function fitCount(sizes: readonly number[], budget: number): number {
  let bytes = 0;
  let n = 0;
  while (n < sizes.length) {
    const next = bytes + sizes[n] + 1;
    if (n > 0 && next > budget) break;
    bytes = next;
    n++;
  }
  return n;
}

/** Serialises a batch body from events that are already JSON text. */
export function encodeBody(
  writerId: string,
  seq: number,
  sentAt: number,
  eventsJson: readonly string[],
): string {
  return `{"writerId":${JSON.stringify(writerId)},"seq":${seq},"sentAt":${sentAt},"events":[${eventsJson.join(",")}]}`;
}

/** Room a keepalive body keeps for the append token it carries (tokens are ~90 bytes). */
export const KEEPALIVE_TOKEN_ROOM = 256;

/** Upper bound of a body's bytes besides its events (seq < 1e12, 13-digit sentAt, the keepalive's token). */
export function envelopeBytes(writerId: string): number {
  return utf8Length(
    encodeBody(writerId, 999_999_999_999, 9_999_999_999_999, []),
  ) + KEEPALIVE_TOKEN_ROOM;
}

/** Event bytes available in one keepalive piece for this writer. */
export function keepaliveBudget(writerId: string): number {
  return KEEPALIVE_MAX_BODY - envelopeBytes(writerId);
}
