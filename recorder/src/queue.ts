/**
 * The public command surface shared by the ESM API and the script tag:
 * calls made before `init` (or before the script loaded) are kept and
 * replayed in order once the recorder exists.
 * @module
 */
import type { InitOptions, ReplayaApi } from "./api.ts";

export type { ReplayaApi } from "./api.ts";

/** What `init` builds: the running recorder, minus `init`. */
export type Core = Omit<ReplayaApi, "init">;

/** Calls kept before `init`; beyond this they are dropped (bounded memory). */
export const MAX_EARLY_CALLS = 100;

/** The commands besides `init`, as `replaya(command, ...args)` names them. */
const COMMANDS: readonly (keyof Core)[] = ["identify", "track", "consent", "start", "flush", "stop"];

type Call = [keyof Core, unknown[]];

/** Calls `api[name](...args)`: one place that knows the commands take their arguments as given. */
function invoke(api: Core, [name, args]: Call): Promise<void> | void {
  return (api[name] as (...a: unknown[]) => Promise<void> | void)(...args);
}

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
      // flush and stop resolve even when the core rejects.
      if (core) return invoke(core, call)?.catch(() => {});
    } catch (error) {
      warn(`replaya: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const call = (c: Call): Promise<void> => {
    if (initialised) return Promise.resolve(run(c));
    if (early.length < MAX_EARLY_CALLS) early.push(c);
    return Promise.resolve();
  };

  return {
    init(options) {
      if (initialised) return;
      initialised = true;
      try {
        core = makeCore(options);
      } catch (error) {
        warn(error instanceof Error ? error.message : `replaya: ${String(error)}`);
      }
      for (const c of early.splice(0)) run(c);
    },
    identify: (...args) => void call(["identify", args]),
    track: (...args) => void call(["track", args]),
    consent: (...args) => void call(["consent", args]),
    start: () => void call(["start", []]),
    flush: () => call(["flush", []]),
    stop: () => call(["stop", []]),
  };
}

/** Runs one `replaya(command, ...args)` call; unknown commands are ignored. */
export function dispatch(
  api: ReplayaApi,
  command: unknown,
  args: ArrayLike<unknown>,
): Promise<void> | undefined {
  const a = Array.from(args);
  if (command === "init") return void api.init(a[0] as InitOptions);
  const name = COMMANDS.find((c) => c === command);
  if (name) return invoke(api, [name, a]) || undefined;
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
  const queued = stub && stub.q ? Array.from(stub.q) : [];
  for (const args of queued) {
    try {
      dispatch(api, args[0], Array.from(args).slice(1));
    } catch {
      // One bad queued call must not stop the rest.
    }
  }
}
