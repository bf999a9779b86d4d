/**
 * RePlaya browser recorder: records sessions with rrweb and uploads them to
 * a self-hosted RePlaya server.
 *
 * ```ts
 * import { init, identify, track } from "@replaya/recorder";
 * init({ endpoint: "https://replay.example.com", projectKey: "pk_..." });
 * identify("user-42", { plan: "pro" });
 * track("checkout", { items: 3 });
 * ```
 * @module
 */
import { browserEnv } from "./env.ts";
import { createWarnOnce } from "./guard.ts";
import type { InitOptions, Properties, ReplayaApi } from "./api.ts";
import { resolveOptions } from "./options.ts";
import { createClient } from "./queue.ts";
import { Recorder } from "./recorder.ts";
import { rrwebRecord } from "./rrweb.ts";

export type { ConsoleLevel, InitOptions, Properties, ReplayaApi } from "./api.ts";
export { RECORDER_VERSION } from "./version.ts";

// Captured at load, before the console capture may wrap it.
const nativeWarn = typeof console !== "undefined" ? console.warn : undefined;
/** One warning per page lifetime, whatever goes wrong. */
const warn = createWarnOnce((message) => nativeWarn?.call(console, message));

const client: ReplayaApi = createClient((options) => {
  const resolved = resolveOptions(options);
  const env = browserEnv(rrwebRecord, warn);
  if (!env) return undefined;
  const recorder = new Recorder(resolved, env);
  if (resolved.autoStart) recorder.start();
  return recorder;
}, warn);

/** Configures and starts recording (once per page; later calls are ignored). */
export function init(options: InitOptions): void {
  client.init(options);
}

/** Associates the session with a user id and optional traits. */
export function identify(userId: string, traits?: Properties): void {
  client.identify(userId, traits);
}

/** Records a named custom event with optional properties. */
export function track(name: string, props?: Properties): void {
  client.track(name, props);
}

/** Grants (`true`) or withdraws (`false`) consent to record. */
export function consent(granted: boolean): void {
  client.consent(granted);
}

/** Starts recording: the first session with `autoStart: false`, a new one after `stop()`. */
export function start(): void {
  client.start();
}

/** Sends buffered events now (keepalive requests, so a navigation may follow). */
export function flush(): Promise<void> {
  return client.flush();
}

/** Flushes what is left, ends the session and stops recording until `start()`. */
export function stop(): Promise<void> {
  return client.stop();
}
