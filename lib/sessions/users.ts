/**
 * The user index: one small stream per user id, `users/<hash>`, holding the
 * summary records of that user's sessions — the `start` summary when the
 * user becomes known (at start, or when a batch identifies the user), the
 * `end` summary when the session stops, a `deleted` record when it is
 * deleted. The list's user filter reads that one stream instead of scanning
 * day streams, so it costs the same at any number of sessions.
 *
 * User ids match exactly, ignoring case: the stream name is a hash of the
 * lower-cased id (ids may hold any characters and be long; the hash keeps
 * names short, valid and free of the ids themselves).
 *
 * @module
 */

import { NotFoundError, readAll, type StoredRecord, type StreamStore } from "../store/mod.ts";
import { mergeSummaries, type SessionSummary, type SummaryRecord } from "./summaries.ts";

/** Prefix of the user streams. */
export const USER_PREFIX = "users/";

const utf8 = new TextEncoder();

/** The form user ids are compared in: trimmed, lower-cased. */
export function normalizeUserId(userId: string): string {
  return userId.trim().toLowerCase();
}

/** Whether two user ids are the same user for the list. */
export function sameUser(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && normalizeUserId(a) === normalizeUserId(b);
}

/**
 * The stream of a user id: `users/` and 32 hex digits of SHA-256 of the normalized id.
 *
 * @example
 * await userStreamOf("Ada@example.com") === await userStreamOf("ada@example.com "); // true
 */
export async function userStreamOf(userId: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(normalizeUserId(userId))));
  return USER_PREFIX + Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Appends a summary record to a user's stream, stamped `now`; a blank user id is not indexed. */
export async function appendUserSummary(
  store: StreamStore,
  userId: string,
  record: SummaryRecord,
  now: number,
): Promise<void> {
  if (normalizeUserId(userId) === "") return;
  const body = utf8.encode(JSON.stringify(record));
  await store.append(await userStreamOf(userId), [{ body, timestamp: now }]);
}

/** A user's sessions, merged like a day stream's (newest first); none when the user has no stream. */
export async function readUser(
  store: StreamStore,
  userId: string,
): Promise<{ rows: SessionSummary[]; scanned: number }> {
  if (normalizeUserId(userId) === "") return { rows: [], scanned: 0 };
  const stream = await userStreamOf(userId);
  return await mergeSummaries(orNothing(readAll(store, stream)));
}

/** A stream's records, or none when it does not exist (never written, or deleted once empty). */
async function* orNothing(records: AsyncIterable<StoredRecord>): AsyncIterable<StoredRecord> {
  try {
    yield* records;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}
