/**
 * Init options: their defaults, validation, and the rrweb record options
 * derived from them (privacy classes, masking, disabled plugins).
 * @module
 */
import type { ConsoleLevel, InitOptions } from "./api.ts";
import type { RrwebEvent } from "./wire.ts";
import type { UrlPolicy } from "./url.ts";

export type { ConsoleLevel, InitOptions } from "./api.ts";

/** Options after defaults are applied and values are validated. */
export interface ResolvedOptions {
  endpoint: string;
  projectKey: string;
  source?: string;
  requireConsent: boolean;
  respectGlobalPrivacyControl: boolean;
  sampleRate: number;
  url: UrlPolicy;
  maskAllInputs: boolean;
  captureErrors: boolean;
  consoleLevels: ConsoleLevel[];
  captureNetwork: boolean;
  maxBufferBytes: number;
  inactivityTimeoutMs: number;
  autoStart: boolean;
}

/** Every console level, used for `captureConsole: true`. */
export const ALL_CONSOLE_LEVELS: readonly ConsoleLevel[] = [
  "log",
  "info",
  "warn",
  "error",
  "debug",
];

/** Privacy class and selector names understood by the recorder. */
export const PRIVACY = {
  blockClass: "replaya-block",
  blockSelector: "[data-replaya-block]",
  ignoreClass: "replaya-ignore",
  ignoreSelector: "[data-replaya-ignore]",
  maskTextClass: "replaya-mask",
  maskTextSelector: "[data-replaya-mask]",
} as const;

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === "boolean" ? value : fallback;
}

function positive(value: unknown, fallback: number): number {
  return typeof value === "number" && value > 0 && Number.isFinite(value) ? value : fallback;
}

/**
 * Applies defaults and validates `input`.
 * @throws TypeError when `endpoint` or `projectKey` is missing or malformed.
 */
export function resolveOptions(input: InitOptions): ResolvedOptions {
  const o = (input ?? {}) as Partial<InitOptions>;
  if (typeof o.endpoint !== "string" || !/^https?:\/\//i.test(o.endpoint)) {
    throw new TypeError("replaya: `endpoint` must be an http(s) URL");
  }
  if (typeof o.projectKey !== "string" || o.projectKey === "") {
    throw new TypeError("replaya: `projectKey` is required");
  }
  const rate = typeof o.sampleRate === "number" && !Number.isNaN(o.sampleRate)
    ? Math.min(1, Math.max(0, o.sampleRate))
    : 1;
  const levels = o.captureConsole === true
    ? [...ALL_CONSOLE_LEVELS]
    : Array.isArray(o.captureConsole)
    ? o.captureConsole.filter((l) => ALL_CONSOLE_LEVELS.includes(l))
    : [];
  return {
    endpoint: o.endpoint.replace(/\/+$/, ""),
    projectKey: o.projectKey,
    source: typeof o.source === "string" ? o.source : undefined,
    requireConsent: bool(o.requireConsent, false),
    respectGlobalPrivacyControl: bool(o.respectGlobalPrivacyControl, true),
    sampleRate: rate,
    url: {
      query: bool(o.allowUrlQuery, false),
      hash: bool(o.allowUrlHash, false),
    },
    maskAllInputs: bool(o.maskAllInputs, true),
    captureErrors: bool(o.captureErrors, true),
    consoleLevels: [...new Set(levels)],
    captureNetwork: bool(o.captureNetwork, false),
    maxBufferBytes: positive(o.maxBufferBytes, 5_000_000),
    inactivityTimeoutMs: positive(o.inactivityTimeoutMs, 30 * 60 * 1000),
    autoStart: bool(o.autoStart, true),
  };
}

/** Input types masked when `maskAllInputs` is on: values typed, not choices (checkboxes and radios stay visible). */
const ALL_INPUT_TYPES = [
  "color",
  "date",
  "datetime-local",
  "email",
  "month",
  "number",
  "range",
  "search",
  "tel",
  "text",
  "time",
  "url",
  "week",
  "textarea",
  "select",
  "password",
] as const;

/** The subset of rrweb's `recordOptions` the recorder sets. */
export interface RrwebRecordOptions {
  emit: (event: RrwebEvent, isCheckout?: boolean) => void;
  blockClass: string;
  blockSelector: string;
  ignoreClass: string;
  ignoreSelector: string;
  maskTextClass: string;
  maskTextSelector: string;
  /** The whole masking policy: rrweb's own `maskAllInputs` list is not passed (its lists differ between builds). */
  maskInputOptions: Record<string, boolean>;
  inlineStylesheet: boolean;
  recordCanvas: boolean;
  recordCrossOriginIframes: boolean;
  collectFonts: boolean;
  inlineImages: boolean;
  slimDOMOptions: Record<string, boolean>;
  sampling: { mousemove: number; scroll: number; input: "all" };
  plugins: unknown[];
}

/** Builds the options passed to rrweb's `record()`. */
export function buildRecordOptions(
  options: Pick<ResolvedOptions, "maskAllInputs">,
  emit: RrwebRecordOptions["emit"],
): RrwebRecordOptions {
  const maskInputOptions: Record<string, boolean> = { password: true };
  if (options.maskAllInputs) {
    for (const t of ALL_INPUT_TYPES) maskInputOptions[t] = true;
  }
  return {
    emit,
    ...PRIVACY,
    maskInputOptions,
    inlineStylesheet: true,
    // Heavy or cross-origin features stay off: they cost bytes and CPU and
    // can leak content the privacy classes would not cover.
    recordCanvas: false,
    recordCrossOriginIframes: false,
    collectFonts: false,
    inlineImages: false,
    slimDOMOptions: {
      script: true,
      comment: true,
      headFavicon: true,
      headWhitespace: true,
      headMetaSocial: true,
      headMetaRobots: true,
      headMetaHttpEquiv: true,
      headMetaVerification: true,
      headMetaAuthorship: true,
    },
    // Mouse moves batched every 50 ms, scrolls throttled; every input as it is typed (masked
    // by default), so a field that never loses focus is recorded and live viewers see typing.
    sampling: { mousemove: 50, scroll: 150, input: "all" },
    plugins: [],
  };
}
