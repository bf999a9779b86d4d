/**
 * Work the recorder does beyond rrweb's own (serialising events, scrubbing
 * URLs in them) runs later, in slices of a few milliseconds, so it never
 * lengthens the page's task that produced the event.
 * @module
 */

/** Longest the recorder holds the main thread per slice. */
export const SLICE_MS = 4;
/** An idle callback still runs after this long on a page that is never idle. */
export const IDLE_TIMEOUT_MS = 500;

/** Runs a slice later; `timeLeft()` says how much of it remains (ms). */
export type Scheduler = (slice: (timeLeft: () => number) => void) => void;

interface IdleHost {
  requestIdleCallback?: (fn: () => void, options?: { timeout: number }) => unknown;
  scheduler?: { postTask?: (fn: () => void, options?: { priority: string }) => Promise<unknown> };
  setTimeout?: (fn: () => void, ms: number) => unknown;
  document?: unknown;
  performance?: { now(): number };
}

/**
 * The page's idle time: `requestIdleCallback` (with a timeout), else
 * `scheduler.postTask` at background priority, else `setTimeout(0)`. Outside
 * a page (no `document`) undefined: work then runs at once, synchronously.
 */
export function idleScheduler(host: IdleHost = globalThis as IdleHost): Scheduler | undefined {
  if (host.document === undefined || typeof host.setTimeout !== "function") return undefined;
  const clock = host.performance ?? Date;
  const run = (slice: (timeLeft: () => number) => void) => () => {
    const end = clock.now() + SLICE_MS;
    slice(() => end - clock.now());
  };
  if (typeof host.requestIdleCallback === "function") {
    const ric = host.requestIdleCallback.bind(host);
    return (slice) => void ric(run(slice), { timeout: IDLE_TIMEOUT_MS });
  }
  const postTask = host.scheduler?.postTask?.bind(host.scheduler);
  if (typeof postTask === "function") {
    return (slice) => void postTask(run(slice), { priority: "background" }).catch(() => {});
  }
  const timeout = host.setTimeout.bind(host);
  return (slice) => void timeout(run(slice), 0);
}
