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
import type { InitOptions, Properties } from "./api.ts";
import { client } from "./client.ts";

export type { ConsoleLevel, InitOptions, Properties, ReplayaApi } from "./api.ts";
export { RECORDER_VERSION } from "./version.ts";

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
