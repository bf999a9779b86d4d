/**
 * Timing helpers every layer may use; imports nothing.
 *
 * @module
 */

/** Resolves after `ms`, or at once when `signal` aborts (never rejects), leaving no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * A pacer for long synchronous-looking work on the event loop (reading and decoding a whole session):
 * `await pace()` after each step yields a macrotask once the steps since the last yield have held the loop
 * for `sliceMs`, so responses already produced get written and other requests get a turn.
 */
export function slicer(sliceMs: number, now: () => number = () => performance.now()): () => Promise<void> {
  let since = now();
  return async () => {
    if (now() - since < sliceMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    since = now();
  };
}
