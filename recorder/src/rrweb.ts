/**
 * rrweb's record-only build adapted to the recorder's `RecordFn`.
 * @module
 */
// @ts-types="./rrweb_record.d.ts"
import { record } from "@rrweb/record";
import type { RecordFn } from "./recorder.ts";

/** Starts rrweb recording and takes full snapshots on demand. */
export const rrwebRecord: RecordFn = {
  start: (options) => record(options as unknown as Record<string, unknown>),
  takeFullSnapshot: () => record.takeFullSnapshot(),
};
