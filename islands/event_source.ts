/**
 * What the islands' Server-Sent Events clients share: the slice of
 * EventSource they use (a fake in tests) and their injectable dependencies
 * (how to open one, how long to wait before reopening one EventSource gave
 * up on, and the timers), resolved to defaults once.
 * @module
 */

/** The part of EventSource the clients use. */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((event: Event) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** Options of a stream client. */
export interface EventStreamOptions {
  /** Creates the EventSource; defaults to the browser's. */
  create?: (url: string) => EventSourceLike;
  /** Waits before reopening a stream EventSource gave up on (HTTP errors). */
  retryDelaysMs?: readonly number[];
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (id: unknown) => void;
}

/** EventSource.CLOSED: it gave up and will not reconnect by itself. */
export const CLOSED = 2;

/** The options with their defaults filled in. */
export function eventStreamDeps(options: EventStreamOptions, defaultRetries: readonly number[]) {
  return {
    create: options.create ?? ((url: string) => new EventSource(url)),
    retries: options.retryDelaysMs ?? defaultRetries,
    setTimer: options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms)),
    clearTimer: options.clearTimer ?? ((id: unknown) => clearTimeout(id as number)),
  };
}
