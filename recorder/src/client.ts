/**
 * The one recorder of the page behind both entry points: the ESM functions
 * (`mod.ts`) and the script tag's global `replaya` (`iife.ts`, which takes
 * this object as it is rather than the module's wrappers of it).
 * @module
 */
import { browserEnv } from "./env.ts";
import { createWarnOnce } from "./guard.ts";
import type { ReplayaApi } from "./api.ts";
import { resolveOptions } from "./options.ts";
import { createClient } from "./queue.ts";
import { Recorder } from "./recorder.ts";
import { rrwebRecord } from "./rrweb.ts";

// Captured at load, before the console capture may wrap it.
const nativeWarn = typeof console !== "undefined" ? console.warn : undefined;
/** One warning per page lifetime, whatever goes wrong. */
const warn = createWarnOnce((message) => nativeWarn?.call(console, message));

/** The page's recorder API: calls before `init` are queued. */
export const client: ReplayaApi = createClient((options) => {
  const resolved = resolveOptions(options);
  const env = browserEnv(rrwebRecord, warn);
  if (!env) return undefined;
  const recorder = new Recorder(resolved, env);
  if (resolved.autoStart) recorder.start();
  return recorder;
}, warn);
