/** An EventSource double for the stream clients' tests: the test plays the server. */

import type { EventSourceLike } from "../../islands/event_source.ts";

export class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  #listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  /** Sends an event: objects as JSON, strings as they are (to test malformed data). */
  emit(type: string, data: unknown, id?: number) {
    const event = new MessageEvent(type, {
      data: typeof data === "string" ? data : JSON.stringify(data),
      lastEventId: id === undefined ? "" : String(id),
    });
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
  /** The connection dropped; EventSource will retry by itself (CONNECTING) or has given up (CLOSED). */
  fail(state: 0 | 2) {
    this.readyState = state;
    this.onerror?.(new Event("error"));
  }
}
