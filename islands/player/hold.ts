/**
 * Lets the session stream open at once while the player still waits for
 * something it needs before the first frame (the asset map): the stream's
 * callbacks are queued, in order, until `ready` settles, then replayed and
 * passed straight through. Nothing is dropped or repeated; after `cancel()`
 * nothing more is delivered.
 * @module
 */
import type { StreamHandlers } from "./stream.ts";

/** {@link StreamHandlers} that hold every call until `ready` settles (resolved or rejected). */
export function holdHandlers(
  handlers: StreamHandlers,
  ready: Promise<unknown>,
): { handlers: StreamHandlers; cancel(): void } {
  let queue: Array<() => void> | undefined = [];
  let cancelled = false;
  const release = () => {
    const calls = queue ?? [];
    queue = undefined;
    for (const call of calls) if (!cancelled) call();
  };
  ready.then(release, release);
  const held = <K extends keyof StreamHandlers>(name: K) => (...args: Parameters<NonNullable<StreamHandlers[K]>>) => {
    if (cancelled) return;
    // deno-lint-ignore no-explicit-any
    const call = () => (handlers[name] as any)?.(...args);
    if (queue) queue.push(call);
    else call();
  };
  return {
    handlers: {
      onMeta: held("onMeta"),
      onEvents: held("onEvents"),
      onLive: held("onLive"),
      onStop: held("onStop"),
      onConnection: held("onConnection"),
      onEnd: held("onEnd"),
    },
    cancel() {
      cancelled = true;
      queue = undefined;
    },
  };
}
