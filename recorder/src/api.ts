/**
 * The public types of `@replaya/recorder`. This file imports nothing so the
 * bundled `index.d.ts` is exactly the public surface.
 * @module
 */

/** Free-form properties attached to identify/track calls. */
export type Properties = Record<string, unknown>;

/** Console levels that can be captured. */
export type ConsoleLevel = "log" | "info" | "warn" | "error" | "debug";

/** Options accepted by `init`. Only `endpoint` and `projectKey` are required. */
export interface InitOptions {
  /** Base URL of the RePlaya server, e.g. `https://replay.example.com`. */
  endpoint: string;
  /** Public project key (`pk_...`). */
  projectKey: string;
  /** Free-form name of the recording app, stored with the session. */
  source?: string;
  /** When true, nothing is recorded or sent before `consent(true)`. Default false. */
  requireConsent?: boolean;
  /** When true and `navigator.globalPrivacyControl` is set, never record. Default true. */
  respectGlobalPrivacyControl?: boolean;
  /** Fraction of sessions recorded, 0..1, decided once per tab. Default 1. */
  sampleRate?: number;
  /** Keep query strings in recorded page and error URLs. Default false. */
  allowUrlQuery?: boolean;
  /** Keep fragments in recorded page and error URLs. Default false. */
  allowUrlHash?: boolean;
  /** Mask the value of every input, select and textarea. Default true. */
  maskAllInputs?: boolean;
  /** Record uncaught errors and unhandled rejections. Default true. */
  captureErrors?: boolean;
  /** Record console messages: true for all levels or a list of levels. Default false. */
  captureConsole?: boolean | ConsoleLevel[];
  /** Record fetch/XHR metadata (method, URL without query, status, duration). Default false. */
  captureNetwork?: boolean;
  /** Memory bound for unsent events, in bytes of JSON. Default 5 000 000. */
  maxBufferBytes?: number;
  /** A session ends after this long without user activity. Default 30 minutes. */
  inactivityTimeoutMs?: number;
  /** When false, `init` only configures: nothing is recorded before `start()`. Default true. */
  autoStart?: boolean;
}

/** The recorder's public API. Every method is safe to call at any time. */
export interface ReplayaApi {
  /** Configures and starts the recorder; later calls are ignored. */
  init(options: InitOptions): void;
  /** Associates the session with a user id and optional traits. */
  identify(userId: string, traits?: Properties): void;
  /** Records a named custom event. */
  track(name: string, props?: Properties): void;
  /** Grants (`true`) or withdraws (`false`) consent to record. */
  consent(granted: boolean): void;
  /** Starts recording (a new session after `stop()`; with `autoStart: false`, the first). */
  start(): void;
  /** Sends buffered events now, with keepalive requests (they survive a navigation); resolves once they are sent off, not delivered. */
  flush(): Promise<void>;
  /** Flushes, ends the session and stops recording until `start()`. */
  stop(): Promise<void>;
}
