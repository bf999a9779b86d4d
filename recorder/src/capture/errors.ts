/**
 * Uncaught errors and unhandled promise rejections, recorded as
 * `replaya.error` payloads (message, stack, source URL). A short list of
 * benign browser messages is recorded as a console warning instead, so it
 * never counts as an error.
 * @module
 */
import { stripUrl, stripUrlsInText, type UrlPolicy } from "../url.ts";
import { describeError, truncate } from "./format.ts";

/** Event target the error listeners attach to (the window). */
export interface ErrorTarget {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

const MAX_MESSAGE = 1000;

/**
 * Error events browsers fire for things that are not the page's bugs:
 * ResizeObserver giving up on a layout loop within one frame (it delivers the
 * rest next frame; Chromium and Firefox word it differently).
 */
export const BENIGN_ERRORS: readonly RegExp[] = [
  /^ResizeObserver loop completed with undelivered notifications\.?$/,
  /^ResizeObserver loop limit exceeded\.?$/,
];
const MAX_STACK = 5000;

/** Listens for `error` and `unhandledrejection`; returns the uninstaller. */
export function installErrorCapture(
  target: ErrorTarget,
  record: (payload: Record<string, unknown>) => void,
  recordConsole: (payload: Record<string, unknown>) => void,
  policy: UrlPolicy,
): () => void {
  const clean = (text: string, max: number) => truncate(stripUrlsInText(text, policy), max);
  const onError = (event: Event) => {
    try {
      const e = event as ErrorEvent;
      const described = describeError(e.error ?? e.message);
      const message = clean(e.message || described.message, MAX_MESSAGE);
      if (BENIGN_ERRORS.some((benign) => benign.test(message.replace(/^Uncaught /, "")))) {
        return recordConsole({ level: "warn", message, benign: true });
      }
      record({
        kind: "error",
        message,
        stack: described.stack ? clean(described.stack, MAX_STACK) : undefined,
        source: e.filename ? stripUrl(e.filename, policy) : undefined,
        line: e.lineno || undefined,
        column: e.colno || undefined,
      });
    } catch {
      // Never let recording an error raise another one.
    }
  };
  const onRejection = (event: Event) => {
    try {
      const described = describeError((event as PromiseRejectionEvent).reason);
      record({
        kind: "unhandledrejection",
        message: clean(described.message, MAX_MESSAGE),
        stack: described.stack ? clean(described.stack, MAX_STACK) : undefined,
      });
    } catch {
      // Same as above.
    }
  };
  target.addEventListener("error", onError);
  target.addEventListener("unhandledrejection", onRejection);
  return () => {
    target.removeEventListener("error", onError);
    target.removeEventListener("unhandledrejection", onRejection);
  };
}
