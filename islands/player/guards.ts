/**
 * Narrowing of the JSON the player reads from the session stream.
 * @module
 */

import type { RrwebEvent } from "@replaya/recorder/wire";

/** Narrows unknown JSON to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** True for values shaped like an rrweb event (numeric type and timestamp). */
export function isRrwebEvent(value: unknown): value is RrwebEvent {
  return isRecord(value) && typeof value.type === "number" && typeof value.timestamp === "number" &&
    Number.isFinite(value.timestamp);
}
