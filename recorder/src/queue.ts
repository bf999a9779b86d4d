/**
 * The public command surface shared by the ESM API and the script tag:
 * calls made before `init` (or before the script loaded) are kept and
 * replayed in order once the recorder exists.
 * @module
 */
import type { InitOptions, Properties, ReplayaApi } from "./api.ts";

export type { ReplayaApi } from "./api.ts";

/** What `init` builds: the running recorder, minus `init`. */
export type Core = Omit<ReplayaApi, "init">;

/** Calls kept before `init`; beyond this they are dropped (bounded memory). */
export const MAX_EARLY_CALLS = 100;

type Call = { [K in keyof Core]: [K, Parameters<Core[K]>] }[keyof Core];

/**
 * Creates the API around `makeCore`, which runs once on the first `init`
 * and may return undefined (disabled, e.g. no DOM). Calls before that are
 * queued and replayed in order right after it.
 */
export function createClient(
  makeCore: (options: InitOptions) => Core | undefined,
  warn: (message: string) => void,
): ReplayaApi {
  let initialised = false;
  let core: Core | undefined;
  const early: Call[] = [];

  const run = (call: Call): Promise<void> | void => {
    try {
      if (!core) return;
      switch (call[0]) {
        case "identify":
          return core.identify(...call[1]);
        case "track":
          return core.track(...call[1]);
        case "consent":
          return core.consent(...call[1]);
        case "start":
          return core.start();
        case "flush":
          return core.flush().catch(() => {});
        case "stop":
          return core.stop().catch(() => {});
      }
    } catch (error) {
      warn(
        `replaya: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  const call = (c: Call): Promise<void> | void => {
    if (initialised) return run(c);
    if (early.length < MAX_EARLY_CALLS) early.push(c);
  };

  return {
    init(options) {
      if (initialised) return;
      initialised = true;
      try {
        core = makeCore(options);
      } catch (error) {
        warn(
          error instanceof Error ? error.message : `replaya: ${String(error)}`,
        );
      }
      for (const c of early.splice(0)) run(c);
    },
    identify: (...args) => void call(["identify", args]),
    track: (...args) => void call(["track", args]),
    consent: (...args) => void call(["consent", args]),
    start: () => void call(["start", []]),
    flush: () => Promise.resolve(call(["flush", []])).then(() => {}),
    stop: () => Promise.resolve(call(["stop", []])).then(() => {}),
  };
}

/** Runs one `replaya(command, ...args)` call; unknown commands are ignored. */
export function dispatch(
  api: ReplayaApi,
  command: unknown,
  args: ArrayLike<unknown>,
): Promise<void> | undefined {
  const a = Array.prototype.slice.call(args) as unknown[];
  switch (command) {
    case "init":
      api.init(a[0] as InitOptions);
      return;
    case "identify":
      api.identify(a[0] as string, a[1] as Properties | undefined);
      return;
    case "track":
      api.track(a[0] as string, a[1] as Properties | undefined);
      return;
    case "consent":
      api.consent(a[0] as boolean);
      return;
    case "start":
      api.start();
      return;
    case "flush":
      return api.flush();
    case "stop":
      return api.stop();
  }
}

/** The global `replaya` function installed by the script-tag build. */
export interface GlobalReplaya {
  (command: string, ...args: unknown[]): Promise<void> | undefined;
  /** Marks the real implementation (vs. the loader stub). */
  loaded: true;
}

/**
 * Replaces the loader stub `host.replaya` with the real function and replays
 * the stub's queue (`replaya.q`, a list of `arguments` objects) in order.
 * Does nothing if the real one is already installed (script included twice).
 */
export function installGlobal(
  host: Record<string, unknown>,
  api: ReplayaApi,
): void {
  const stub = host.replaya as {
    q?: ArrayLike<ArrayLike<unknown>>;
    loaded?: boolean;
  } | undefined;
  if (stub && stub.loaded === true) return;
  const fn = ((command: string, ...args: unknown[]) => {
    try {
      return dispatch(api, command, args);
    } catch {
      return undefined;
    }
  }) as GlobalReplaya;
  fn.loaded = true;
  host.replaya = fn;
  const queued = stub && stub.q ? Array.prototype.slice.call(stub.q) as ArrayLike<unknown>[] : [];
  for (const args of queued) {
    try {
      dispatch(api, args[0], Array.prototype.slice.call(args, 1));
    } catch {
      // One bad queued call must not stop the rest.
    }
  }
}
