/**
 * Wire types shared by the recorder modules. Kept free of rrweb imports so the
 * pure pieces can be unit-tested without a DOM or the npm package.
 * @module
 */

/** An rrweb event as sent to the server: only `type` and `timestamp` are relied upon. */
export interface RecordedEvent {
  /** rrweb EventType: 2 full snapshot, 3 incremental, 4 meta, 5 custom. */
  type: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Event payload. */
  data?: unknown;
}

/** rrweb EventType values the recorder cares about. */
export const EventType = {
  FullSnapshot: 2,
  IncrementalSnapshot: 3,
  Meta: 4,
  Custom: 5,
} as const;

/** Tags of the custom events written by the recorder. */
export type CustomTag =
  | "replaya.error"
  | "replaya.console"
  | "replaya.network"
  | "replaya.track"
  | "replaya.identify"
  | "replaya.gap";

/** Builds an rrweb custom event (type 5) carrying recorder data. */
export function customEvent(
  tag: CustomTag,
  payload: Record<string, unknown>,
  timestamp: number,
): RecordedEvent {
  return { type: EventType.Custom, timestamp, data: { tag, payload } };
}

export type { Properties } from "./api.ts";
