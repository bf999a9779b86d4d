/**
 * The host page must never see an exception from the recorder and should
 * hear from it at most once: a dead server is not the site owner's emergency.
 * @module
 */

/** Returns a logger that forwards only its first message, ever. */
export function createWarnOnce(
  sink: (message: string) => void,
): (message: string) => void {
  let warned = false;
  return (message) => {
    if (warned) return;
    warned = true;
    try {
      sink(message);
    } catch {
      // A broken console is not our problem to surface.
    }
  };
}

/** Wraps `fn` so it never throws; failures go to `onError`. */
export function guarded<A extends unknown[], R>(
  fn: (...args: A) => R,
  onError: (error: unknown) => void,
): (...args: A) => R | undefined {
  return (...args: A) => {
    try {
      return fn(...args);
    } catch (error) {
      try {
        onError(error);
      } catch {
        // Swallowed on purpose.
      }
      return undefined;
    }
  };
}
