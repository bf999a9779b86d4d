/**
 * Builds the recorder's own rrweb custom events.
 * @module
 */

import { type CustomTag, EventType, type RrwebEvent } from "./wire.ts";

/** An rrweb custom event (type 5) carrying recorder data. */
export function customEvent(tag: CustomTag, payload: Record<string, unknown>, timestamp: number): RrwebEvent {
  return { type: EventType.Custom, timestamp, data: { tag, payload } };
}
